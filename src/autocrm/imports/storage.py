"""Where uploads wait to be imported: the media directory, encrypted with the data key
(``core.sealedfile``). ``job.file.open()`` gives the plaintext back as a seekable stream;
``job.file.path`` is the sealed file (the dry run's stage lives beside it, sealed too)."""

from __future__ import annotations

from typing import Any

from django.core.files import File
from django.core.files.storage import FileSystemStorage

from autocrm.core import sealedfile


class _Sealing:
    """What FileSystemStorage._save writes: the upload's chunks, encrypted. (No
    ``temporary_file_path``: a plain temporary upload must be copied through, never moved.)"""

    def __init__(self, content: Any) -> None:
        self.content = content

    def chunks(self, chunk_size: int | None = None) -> Any:
        self.content.seek(0)
        return sealedfile.seal_chunks(self.content.chunks())


class _SealedFile(File):
    """An opened sealed file; re-opening (``FieldFile.open`` after a close) decrypts again."""

    def __init__(self, path: str, name: str) -> None:
        super().__init__(sealedfile.open_read(path), name)
        self.path = path

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> _SealedFile:
        # File.open's signature (Django passes the other arguments on to the builtin open(); a
        # sealed file is always decrypted for reading as bytes, so they do not apply, like mode).
        if not self.closed:
            self.seek(0)
        else:
            self.file = sealedfile.open_read(self.path)
        return self


class SealedStorage(FileSystemStorage):
    """FileSystemStorage whose files are encrypted at rest; reads decrypt as they go."""

    def _save(self, name: str, content: Any) -> str:
        return super()._save(name, _Sealing(content))  # type: ignore[misc]  # Django's; not in django-stubs

    def _open(self, name: str, mode: str = "rb") -> File:
        if any(flag in mode for flag in "wa+"):
            raise ValueError("sealed files are written by save(), not opened for writing")
        return _SealedFile(self.path(name), name)

    def size(self, name: str) -> int:
        with sealedfile.open_read(self.path(name)) as handle:
            return handle.seek(0, 2)


_storage = SealedStorage()


def sealed_storage() -> SealedStorage:
    """The storage of ``ImportJob.file`` (a callable, so migrations name it instead of copying it)."""
    return _storage
