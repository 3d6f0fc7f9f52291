"""The collection a web page serves: held open between requests, lent to other processes.

A query on an open collection costs milliseconds; opening an embedded one costs 0.1-0.7 s.
So the server keeps its store open and answers every request with the library's own
functions (``patentsim.search``), the same calls the ``search`` commands make.

Requests read the open store side by side (a first map computation takes seconds, and
the list must not wait for it); only opening and closing the store wait until no request
reads it.  Nothing a request does writes to the collection, so answers never depend on
what else runs at the same moment.

The embedded store lets one process hold a collection (``store/lockfile.py``).  This server
announces itself as a holder that lets go when asked: a process that wants the collection
(``ingest load``, another ``search``) writes a request beside the lock and waits; a watcher
thread sees it within ``POLL_S``, waits for the request being answered, and closes the store.
The next request reopens it, once the other process is done; until then requests get
``StoreLocked`` (the page shows "in use by process N (ingest load)" and tries again), and
the first one after it sees the new documents.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from ..store import StoreSettings, open_store, pick_collection
from ..store.backend import Store
from ..store.lockfile import asked

T = TypeVar("T")
POLL_S = 0.2  # how often the watcher looks for another process's request


@dataclass
class Answer:
    """A library result."""

    value: Any


class ReadWriteLock:
    """Many readers at once, or one writer; a waiting writer lets no new reader in."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class ServedCollection:
    """One collection of one store, opened on the first request and kept open."""

    def __init__(
        self,
        settings: StoreSettings,
        collection: str | None = None,
        *,
        embedder: Any = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder  # a loaded query model to use (tests); else the library loads
        self._lock = ReadWriteLock()
        self._store: Store | None = None
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self.handoffs = 0  # how many times another process was let in
        with self._lock.writing():
            store = self._store = open_store(settings)
            self.name = pick_collection(store, collection)

    # -- the store ------------------------------------------------------------------------
    @contextmanager
    def using(self) -> Iterator[Store]:
        """The open store with the collection open, read side by side with other requests."""
        while True:
            with self._lock.reading():
                if self._store is not None and self._opened:
                    yield self._store
                    return
            self._open()

    def _open(self) -> None:
        """Open the store and the collection (alone: the embedded store's lock is taken)."""
        with self._lock.writing():
            if self._store is None:
                self._store = open_store(self.settings)
            if not self._opened:
                self._store.open(self.name)
                self._opened = True

    _opened = False

    def ask(self, question: Callable[[Store], T]) -> Answer:
        """``question(store)`` on the open store."""
        with self.using() as store:
            return Answer(question(store))

    def release(self) -> None:
        """Close the store (and drop the embedded collection's lock) until the next request."""
        with self._lock.writing():
            store, self._store = self._store, None
            self._opened = False
            if store is not None:
                store.close()

    # -- lending the collection ------------------------------------------------------------
    def watch(self) -> None:
        """Start the thread that lets go of the collection when another process asks."""
        if self._watcher is not None:
            return
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="lend-collection", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            if asked():
                self.release()
                self.handoffs += 1

    def close(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None
        self.release()
