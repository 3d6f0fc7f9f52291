"""The collection a web page serves: held open between requests, lent to other processes.

A query on an open collection costs milliseconds; opening an embedded one costs 0.1-0.7 s.
So the server keeps its store open and answers every request with the library's own
functions (``patentsim.search``), the same calls the ``search`` commands make.

Requests take turns on the store (one lock): answers never depend on what else runs at the
same moment, and the embedded engine is only ever used by one thread at a time.

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
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..store import StoreSettings, open_store, pick_collection
from ..store.backend import Store
from ..store.lockfile import asked

T = TypeVar("T")
POLL_S = 0.2  # how often the watcher looks for another process's request


@dataclass
class Answer:
    """A library result, with the warnings it raised (an unfinished ingest, ...)."""

    value: Any
    notes: list[str] = field(default_factory=list)


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
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self.handoffs = 0  # how many times another process was let in
        with self.using() as store:
            self.name = pick_collection(store, collection)

    # -- the store ------------------------------------------------------------------------
    @contextmanager
    def using(self) -> Iterator[Store]:
        """The open store, for one request at a time."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.settings)
            yield self._store

    def ask(self, question: Callable[[Store], T]) -> Answer:
        """``question(store)`` on the open store, with the warnings it raised as notes."""
        with self.using() as store, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = question(store)
        return Answer(value, [str(w.message) for w in caught])

    def release(self) -> None:
        """Close the store (and drop the embedded collection's lock) until the next request."""
        with self._lock:
            store, self._store = self._store, None
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
