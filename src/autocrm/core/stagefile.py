"""A file of bulk writes made ready ahead of time (``core.bulk.Prepared`` COPY payloads), kept
between a dry run and the commit that follows it, so the commit only re-checks what may have
changed since and ships bytes.

Layout: a magic line, then length-prefixed frames — the header (JSON), and per batch its
metadata (JSON) and the number and bodies of its payloads (each: table, columns, COPY text).
The file is written under a temporary name and renamed when complete, so a reader never sees
half a stage. It holds what the database will hold (personal data already encrypted, blind
indexes, names), so it is itself encrypted with the data key as it is written
(``core.sealedfile``: streamed, seekable, a chunk decrypted at a time), and lives beside the
upload it came from, with the same lifetime.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from . import sealedfile
from .bulk import Prepared

MAGIC = b"autocrm-stage-1\n"
_LEN = struct.Struct(">Q")


class Payload(NamedTuple):
    """One staged COPY: the table, its columns and the rows in COPY's text format."""

    table: str
    columns: list[str]
    body: bytes


class StageWriter:
    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.temp = path.with_name(path.name + ".part")
        self.handle: sealedfile.SealedWriter = sealedfile.open_write(self.temp)
        self.handle.write(MAGIC)
        self._frame(json.dumps(header).encode())

    def _frame(self, data: bytes) -> None:
        self.handle.write(_LEN.pack(len(data)))
        self.handle.write(data)

    def add(self, meta: dict[str, Any], payloads: list[Prepared]) -> None:
        self._frame(json.dumps(meta).encode())
        self._frame(_LEN.pack(len(payloads)))
        for prepared in payloads:
            self._frame(json.dumps([prepared.model._meta.db_table, prepared.columns]).encode())
            self._frame(prepared.payload)

    def close(self) -> None:
        self.handle.close()
        os.replace(self.temp, self.path)

    def abort(self) -> None:
        self.handle.abandon()
        self.temp.unlink(missing_ok=True)


class StageReader:
    """``header``, then :meth:`batches` (payloads read) or :meth:`metas` (payloads skipped)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with sealedfile.open_read(path) as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                raise ValueError("not a stage file")
            self.header: dict[str, Any] = json.loads(self._read(handle))
            self._start = handle.tell()

    @staticmethod
    def _read(handle: IO[bytes], *, skip: bool = False) -> bytes:
        head = handle.read(_LEN.size)
        if len(head) < _LEN.size:
            raise EOFError
        (size,) = _LEN.unpack(head)
        if skip:
            handle.seek(size, os.SEEK_CUR)
            return b""
        data = handle.read(size)
        if len(data) != size:
            raise ValueError("truncated stage file")
        return data

    def _walk(self, *, payloads: bool) -> Iterator[tuple[dict[str, Any], list[Payload]]]:
        with sealedfile.open_read(self.path) as handle:
            handle.seek(self._start)
            while True:
                try:
                    meta = json.loads(self._read(handle))
                except EOFError:
                    return
                (count,) = _LEN.unpack(self._read(handle))
                bodies: list[Payload] = []
                for _n in range(count):
                    table, columns = json.loads(self._read(handle, skip=not payloads) or b"[null, null]")
                    body = self._read(handle, skip=not payloads)
                    if payloads:
                        bodies.append(Payload(table, columns, body))
                yield meta, bodies

    def metas(self) -> Iterator[dict[str, Any]]:
        for meta, _bodies in self._walk(payloads=False):
            yield meta

    def batches(self) -> Iterator[tuple[dict[str, Any], list[Payload]]]:
        return self._walk(payloads=True)
