"""Produce the next items in a thread while the caller consumes the current one.

A bulk write alternates two kinds of work: Python preparing a batch (parsing, validation,
duplicate lookups) and the database server storing the previous one (COPY and its indexes).
On one thread they take turns and each waits for the other; with the preparation in a second
thread the server's work overlaps it (the thread waiting on the server releases the GIL).

The producing thread has its own database connection (Django's connections are per thread), so
it reads committed data only: never the caller's open transaction. Use it where that is what
the producer needs — an import's duplicate checks look for customers that existed before the
import; duplicates inside the file are tracked in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import Any, TypeVar

from django.db import connections
from django.utils import translation

T = TypeVar("T")

_DONE = object()


def read_ahead(items: Iterable[T], *, depth: int = 2, name: str = "read-ahead") -> Generator[T]:
    """Iterate ``items`` in a worker thread, at most ``depth`` items ahead of the consumer.

    Items come out in order; an exception raised while producing is raised here, at the item it
    would have been; closing this iterator early stops the producer. The active language is
    carried over, so messages produced in the thread are translated as the caller's would be."""
    channel: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                channel.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            with translation.override(language):
                source = iter(items)
                try:
                    for item in source:
                        if not put((item, None)):
                            return
                finally:
                    if isinstance(source, Generator):
                        source.close()  # runs the generator's own clean-up here, in its thread
            put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, who raises it
            put((_DONE, exc))
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=produce, name=f"autocrm-{name}", daemon=True)
    thread.start()
    try:
        while True:
            item, error = channel.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        thread.join()
