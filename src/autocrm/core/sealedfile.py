"""Files encrypted at rest with the data key (AES-256-GCM, ``core.crypto``), written and read as
streams: uploads waiting to be imported and the dry run's stage hold personal data.

Layout: a magic line, the key id (one length byte, then the id), a random 16-byte file id, then
chunks of ``CHUNK`` plaintext bytes (the last one shorter, possibly empty), each stored as its
random 12-byte nonce, ciphertext and 16-byte tag. Every chunk is bound (associated data) to the
file id, its index and whether it is the last: chunks cannot be reordered, moved to another file
or cut off without the read failing. Fixed-size chunks make the file seekable — :class:`SealedReader`
decrypts only the chunk a read touches — so zip readers (openpyxl) and the stage's skips work.

A file that does not start with the magic line is read as it is: uploads stored before
encryption (``open_read``) stay readable until the sweep removes them.
"""

from __future__ import annotations

import io
import os
import struct
from typing import IO, Any

from .crypto import Key
from .crypto import keys as data_keys

MAGIC = b"autocrm-sealed-1\n"
CHUNK = 1 << 20  # plaintext bytes per chunk
_NONCE, _TAG = 12, 16
_OVERHEAD = _NONCE + _TAG
_INDEX = struct.Struct(">QB")


class SealedFileError(ValueError):
    """The file is not a sealed file of ours, was altered or cut short, or its key is gone."""


def _aad(file_id: bytes, kid: bytes, index: int, last: bool) -> bytes:
    return MAGIC + kid + file_id + _INDEX.pack(index, 1 if last else 0)


def _key(kid: str) -> Key:
    for key in data_keys():
        if key.kid == kid:
            return key
    raise SealedFileError(f"No data key {kid!r} in AUTOCRM_DATA_KEY to read a sealed file")


class SealedWriter(io.RawIOBase):
    """Encrypts what is written to ``raw`` (a binary file opened for writing); :meth:`close`
    writes the last chunk and closes ``raw``. Nothing is readable until then."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        key = data_keys()[0]
        self._raw = raw
        self._aead = key.aead
        self._kid = key.kid.encode()
        self._file_id = os.urandom(16)
        self._buffer = bytearray()
        self._index = 0
        raw.write(MAGIC + bytes([len(self._kid)]) + self._kid + self._file_id)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        # Keep at least one byte back while more may come: the last chunk must be known as the last.
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        nonce = os.urandom(_NONCE)
        aad = _aad(self._file_id, self._kid, self._index, last)
        self._raw.write(nonce + self._aead.encrypt(nonce, plain, aad))
        self._index += 1

    def close(self) -> None:
        if self.closed:
            return
        try:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._raw.close()
        finally:
            super().close()

    def abandon(self) -> None:
        """Close without writing the last chunk (the file is then unreadable: delete it)."""
        self._buffer.clear()
        self._raw.close()
        super().close()


class SealedReader(io.RawIOBase):
    """The plaintext of a sealed file, seekable; decrypts one chunk at a time."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        head = raw.read(len(MAGIC) + 1)
        if len(head) < len(MAGIC) + 1 or head[: len(MAGIC)] != MAGIC:
            raise SealedFileError("not a sealed file")
        self._kid = raw.read(head[-1])
        self._file_id = raw.read(16)
        if len(self._file_id) != 16:
            raise SealedFileError("truncated sealed file")
        self._aead = _key(self._kid.decode()).aead
        self._start = raw.tell()
        stored = raw.seek(0, os.SEEK_END) - self._start
        self._chunks = max(1, -(-stored // (CHUNK + _OVERHEAD)))
        last = stored - (self._chunks - 1) * (CHUNK + _OVERHEAD) - _OVERHEAD
        if last < 0:
            raise SealedFileError("truncated sealed file")
        self._size = (self._chunks - 1) * CHUNK + last
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def _chunk(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        last = index == self._chunks - 1
        self._raw.seek(self._start + index * (CHUNK + _OVERHEAD))
        stored = self._raw.read(CHUNK + _OVERHEAD)
        try:
            plain = self._aead.decrypt(stored[:_NONCE], stored[_NONCE:], _aad(self._file_id, self._kid, index, last))
        except Exception as exc:  # cryptography's InvalidTag: altered, reordered or cut short
            raise SealedFileError("sealed file altered or cut short") from exc
        self._cached = (index, plain)
        return plain

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            index, offset = divmod(self._pos, CHUNK)
            plain = self._chunk(index)
            piece = plain[offset : offset + len(view) - done]
            view[done : done + len(piece)] = piece
            done += len(piece)
            self._pos += len(piece)
        return done

    def readall(self) -> bytes:
        parts = []
        while self._pos < self._size:
            index, offset = divmod(self._pos, CHUNK)
            piece = self._chunk(index)[offset:]
            parts.append(piece)
            self._pos += len(piece)
        return b"".join(parts)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def is_sealed(path: str | os.PathLike[str]) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def open_write(path: str | os.PathLike[str]) -> SealedWriter:
    return SealedWriter(open(path, "wb"))


def open_read(path: str | os.PathLike[str]) -> IO[bytes]:
    """The plaintext of ``path``, buffered and seekable: decrypted when sealed, as it is otherwise."""
    raw = open(path, "rb")  # noqa: SIM115 - the returned reader owns and closes it
    if raw.read(len(MAGIC)) != MAGIC:
        raw.seek(0)
        return raw
    raw.seek(0)
    try:
        return io.BufferedReader(SealedReader(raw), buffer_size=64 * 1024)
    except BaseException:
        raw.close()
        raise


def seal_chunks(chunks: Any) -> Any:
    """The sealed form of a stream given as an iterable of byte strings, as byte strings (for
    storages that write ``content.chunks()``)."""
    out = _Collector()
    writer = SealedWriter(out)  # type: ignore[arg-type]
    for chunk in chunks:
        writer.write(chunk.encode() if isinstance(chunk, str) else chunk)
        if out.parts:
            yield from out.drain()
    writer.close()
    yield from out.drain()


class _Collector:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def drain(self) -> list[bytes]:
        parts, self.parts = self.parts, []
        return parts

    def close(self) -> None:
        pass
