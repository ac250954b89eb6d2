"""Uploaded files kept as evidence, photos or recordings (a signed contract, a licence photo, a
trade-in's pictures, a call recording), shared by every module that attaches files to its records.

Core holds the checking and storing only; the row that says which record a file belongs to
lives in the app that owns the record (``sales.DealDocument``), and the page that serves a file
is that app's view, which checks the record's permission first and then calls :func:`response`.

* **Type by content, never by name**: the first bytes must be those of one of the kind's
  formats (PDF, JPEG, PNG, HEIC/HEIF, WebP); a ``.pdf`` that is a script is refused, a photo
  named ``scan.txt`` is kept as the image it is. The content type served is the sniffed one.
* **Size limit per kind**, counted while reading (a huge upload stops at the limit, it is never
  read whole into memory).
* **Stored encrypted** with the data key (``core.sealedfile``: licence photos and contracts are
  personal data) under ``AUTOCRM_DATA_DIR/uploads/<store>/<yyyy>/<mm>/<uuid>``; the name the
  client sent is kept for display only (cleaned), never used as a path.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import sealedfile
from .errors import ValidationError

PDF, JPEG, PNG, HEIC, WEBP = "application/pdf", "image/jpeg", "image/png", "image/heic", "image/webp"
IMAGES = (JPEG, PNG, HEIC, WEBP)
MB = 1024 * 1024
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
# Call recordings (a call-centre system's or a phone's): MP3, WAV, M4A/AAC, AMR, Ogg/Opus.
MP3, WAV, M4A, AMR, OGG = "audio/mpeg", "audio/wav", "audio/mp4", "audio/amr", "audio/ogg"
AUDIO = (MP3, WAV, M4A, AMR, OGG)
_M4A_BRANDS = {b"M4A ", b"M4B ", b"mp42", b"isom", b"3gp4", b"3gp5", b"dash"}
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png", HEIC: "heic", WEBP: "webp",
              MP3: "mp3", WAV: "wav", M4A: "m4a", AMR: "amr", OGG: "ogg"}  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """What one kind of upload may be: its formats and its largest size in bytes."""

    types: tuple[str, ...]
    max_bytes: int


KINDS: dict[str, Kind] = {
    # a scanned or photographed signed document
    "document": Kind((PDF, *IMAGES), 20 * MB),
    # a photo taken with a phone (licence, car condition)
    "photo": Kind(IMAGES, 12 * MB),
    # a call recording (an hour of 64 kbit/s MP3 is about 29 MB)
    "audio": Kind(AUDIO, 40 * MB),
}


def sniff(head: bytes) -> str | None:
    """The content type the first bytes of a file show, or None when none of ours."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return HEIC
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _M4A_BRANDS:
        return M4A
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE6 in (0xE2, 0xE4, 0xE6)):
        return MP3  # an ID3 tag, or an MPEG audio frame header (sync bits, layer I-III)
    if head.startswith(b"#!AMR"):
        return AMR
    if head.startswith(b"OggS"):
        return OGG
    return None


@dataclass(frozen=True)
class StoredFile:
    """A file written by :func:`store`: the path relative to the uploads root, the sniffed type,
    the plaintext size and SHA-256, and the cleaned name the client gave."""

    path: str
    content_type: str
    size: int
    sha256: str
    name: str


def root() -> Path:
    return Path(settings.DATA_DIR) / "uploads"


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def clean_name(name: Any, content_type: str) -> str:
    """A display name: control characters and path separators removed, 120 characters at most,
    the extension that matches the content (a lying one is replaced)."""
    text = _UNSAFE_NAME.sub("_", str(name or "")).strip(" .") or "file"
    stem = text.rsplit(".", 1)[0] if "." in text else text
    return f"{stem[:110]}.{EXTENSIONS[content_type]}"


def _chunks(upload: Any) -> Iterator[bytes]:
    if hasattr(upload, "chunks"):
        yield from upload.chunks()
    elif isinstance(upload, (bytes, bytearray)):
        yield bytes(upload)
    else:
        while chunk := upload.read(64 * 1024):
            yield chunk


def _too_big(field: str, kind: Kind) -> ValidationError:
    return ValidationError(fields={field: [_("The file is larger than %(mb)s MB.") % {"mb": kind.max_bytes // MB}]})


def _wrong_type(field: str, kind: Kind) -> ValidationError:
    names = ", ".join(EXTENSIONS[t].upper() for t in kind.types)
    return ValidationError(fields={field: [_("The file must be one of: %(types)s.") % {"types": names}]})


def _sniffed(head: bytes, spec: Kind, field: str) -> str:
    content_type = sniff(head[:16])
    if content_type is None or content_type not in spec.types:
        raise _wrong_type(field, spec)
    return content_type


def check(upload: Any, *, kind: str, field: str = "file") -> None:
    """Refuse (``ValidationError`` on ``field``) an upload whose declared size is over the kind's
    limit before anything is read; :func:`store` checks the real size and content as it reads."""
    spec = KINDS[kind]
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > spec.max_bytes:
        raise _too_big(field, spec)
    if isinstance(size, int) and size == 0:
        raise ValidationError(fields={field: [_("The file is empty.")]})


def store(upload: Any, *, store_id: int, kind: str, name: Any = "", field: str = "file") -> StoredFile:
    """Check and write one upload (a Django ``UploadedFile``, bytes or a binary stream); returns
    what to keep on the attachment row. Bad content or size → ``ValidationError`` naming
    ``field``, and nothing is left on disk. The caller creates its row right after with
    :func:`record` (which removes the file if that fails); a file whose transaction rolled back later is an
    orphan no row points at (never served; a sweep may delete it)."""
    spec = KINDS[kind]
    check(upload, kind=kind, field=field)
    now = timezone.now()
    relative = f"{int(store_id)}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}"
    target = root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    content_type: str | None = None
    pending = b""  # the first bytes, held until there are enough to tell the type
    writer = sealedfile.open_write(target)
    try:
        for chunk in _chunks(upload):
            size += len(chunk)
            if size > spec.max_bytes:
                raise _too_big(field, spec)
            if content_type is None:
                pending += chunk
                if len(pending) < 16:
                    continue
                content_type = _sniffed(pending, spec, field)
                chunk, pending = pending, b""
            digest.update(chunk)
            writer.write(chunk)
        if content_type is None:  # a file shorter than 16 bytes
            if not pending:
                raise ValidationError(fields={field: [_("The file is empty.")]})
            content_type = _sniffed(pending, spec, field)
            digest.update(pending)
            writer.write(pending)
        writer.close()
    except BaseException:
        writer.abandon()
        target.unlink(missing_ok=True)
        raise
    return StoredFile(relative, content_type, size, digest.hexdigest(), clean_name(name, content_type))


def path_of(relative: str) -> Path:
    """The absolute path of a stored file; a path that leaves the uploads root is refused."""
    base = root().resolve()
    target = (base / relative).resolve()
    if base not in target.parents:
        raise ValueError("upload path outside the uploads root")
    return target


def open_stored(relative: str) -> IO[bytes]:
    """The plaintext of a stored file (decrypted as it is read)."""
    return sealedfile.open_read(path_of(relative))


def response(relative: str, *, content_type: str, name: str, inline: bool = True) -> FileResponse:
    """The HTTP response serving a stored file, once the caller has checked the parent record's
    permission. The sniffed type is sent with ``nosniff`` so a browser never reinterprets it."""
    handle = open_stored(relative)
    resp = FileResponse(handle, content_type=content_type, as_attachment=not inline, filename=name)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    resp["Cache-Control"] = "private, no-store"
    return resp


def record(model: Any, stored: StoredFile, *, uploaded_by_id: int | None, **fields: Any) -> Any:
    """The attachment row of a file :func:`store` has just written (``model`` a subclass of
    ``core.models.StoredUpload``), created in a savepoint; if the row cannot be written the file is
    removed and the error raised, so a failed attach leaves no file behind."""
    try:
        with transaction.atomic():
            return model.objects.create(**asdict(stored), uploaded_by_id=uploaded_by_id, **fields)
    except BaseException:
        remove([stored.path])
        raise


def remove(paths: Iterable[str]) -> None:
    for relative in paths:
        try:
            path_of(relative).unlink(missing_ok=True)
        except ValueError:
            continue
