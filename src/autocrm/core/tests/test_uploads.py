import io

import pytest

from autocrm.core import uploads
from autocrm.core.errors import ValidationError

HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
PDF = b"%PDF-1.7\n" + b"x" * 100


@pytest.mark.parametrize(
    ("head", "kind"),
    [(PDF, uploads.PDF), (b"\xff\xd8\xff\xdb" + b"\x00" * 20, uploads.JPEG), (b"\x89PNG\r\n\x1a\n" + b"\x00" * 8,
     uploads.PNG), (HEIC, uploads.HEIC), (WEBP, uploads.WEBP), (b"GIF89a" + b"\x00" * 10, None),
     (b"<html><script>", None), (b"PK\x03\x04", None), (b"RIFF\x00\x00\x00\x00AVI ", None)],
)  # fmt: skip
def test_sniff_by_content(head, kind):
    assert uploads.sniff(head) == kind


def test_store_round_trip_encrypted_at_rest(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    stored = uploads.store(io.BytesIO(PDF), store_id=7, kind="document", name="合同 v2.exe")
    assert stored.content_type == uploads.PDF and stored.size == len(PDF) and stored.name == "合同 v2.pdf"
    assert stored.path.startswith("7/") and len(stored.path.split("/")) == 4
    on_disk = (tmp_path / "uploads" / stored.path).read_bytes()
    assert PDF not in on_disk  # sealed with the data key
    with uploads.open_stored(stored.path) as handle:
        assert handle.read() == PDF


def test_size_limit_counted_while_reading_and_nothing_left(settings, tmp_path):
    settings.DATA_DIR = tmp_path

    def chunks():
        yield b"\xff\xd8\xff\xe0" + b"\x00" * 1024
        while True:  # a stream that never ends: refused at the limit, never read whole
            yield b"\x00" * (1024 * 1024)

    class Endless:
        def chunks(self):
            return chunks()

    with pytest.raises(ValidationError) as exc:
        uploads.store(Endless(), store_id=1, kind="photo", field="photo")
    assert "photo" in exc.value.fields
    assert not [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]


def test_tiny_and_lying_files(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    for content in (b"", b"%PD", b"#!/bin/sh\n", b"\x00" * 64):
        with pytest.raises(ValidationError):
            uploads.store(content, store_id=1, kind="document", name="ok.pdf")
    with pytest.raises(ValidationError):
        uploads.store(PDF, store_id=1, kind="photo", name="photo.jpg")  # a PDF is no photo


def test_paths_cannot_leave_the_root(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    with pytest.raises(ValueError):
        uploads.path_of("../../etc/passwd")
