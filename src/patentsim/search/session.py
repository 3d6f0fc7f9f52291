"""A session: one collection held open for many questions.

::

    from patentsim.search import QueryOptions, Session

    with Session(settings, "patents") as session:
        page = session.like(0, QueryOptions(limit=20, where=("applicant=삼성전자",)))
        more = session.text("배터리 냉각", QueryOptions(mode="keyword"))
        doc = session.document("1020160074642")

``Session(settings, collection)`` opens the store the settings name when it is first asked
and closes it in ``close()``; ``Session(store=store)`` uses a caller's open store and leaves
closing it to the caller.  ``collection`` None is the store's only collection.

Before each question the session reads the collection's manifest again (a file read on the
embedded store, one request to a server): when another process finished an ingest into it,
or ``search eval --tune`` chose another default mode, the session sees the new fields, mode
and model from then on.  The embedded store lets one process at a time use a collection:
``release()`` lets others in until the next question (the next question opens it again).

``model``: the collection's model for ``text``: None loads the one its manifest names (once
per process), a name or folder loads it from there, a loaded embedder is used as it is; every
one must be the collection's own model (``ModelMismatch``).  ``like`` never loads a model.

Questions may come from several threads; opening, rereading and releasing are serialised.
"""

from __future__ import annotations

import threading
import warnings
from types import TracebackType

from ..errors import PatentSimError
from ..store import StoreSettings, open_store, pick_collection
from ..store.backend import Store
from .collection import OpenCollection
from .options import QueryOptions
from .query_model import QueryEmbedder, cached_embedder, load_embedder
from .questions import (
    answer_document,
    answer_facet_fields,
    answer_facets,
    answer_like,
    answer_text,
    check_text,
    check_text_options,
)
from .results import Document, FacetField, Facets, Results


class IncompleteCollection(UserWarning):
    """The collection's last ingest has not finished (it runs now, or it was killed)."""


class Session:
    """One collection of a store, held open between questions (see the module's doc)."""

    def __init__(
        self,
        settings: StoreSettings | None = None,
        collection: str | None = None,
        *,
        store: Store | None = None,
        model: str | QueryEmbedder | None = None,
        device: str = "auto",
    ) -> None:
        self.settings = settings
        self._name = collection
        self._caller_store = store
        self._store: Store | None = store
        self._opened: OpenCollection | None = None
        self._model = model
        self._device = device
        loaded = model is not None and not isinstance(model, str)
        self._embedder: QueryEmbedder | None = model if loaded else None  # type: ignore[assignment]
        self._lock = threading.RLock()
        self._closed = False

    # -- questions ------------------------------------------------------------------------

    def like(
        self,
        ref: int | str,
        options: QueryOptions | None = None,
        *,
        key: bool = False,
        file: str | None = None,
    ) -> Results:
        """The documents most similar to document ``ref`` (a row number from 0, ``FILE:ROW``
        or a key; ``key=True`` reads it as a key only, ``file`` names the file of a row),
        itself left out."""
        options = (options or QueryOptions()).validate()
        return answer_like(self.open(), ref, options, key=key, file=file)

    def text(self, query: str, options: QueryOptions | None = None) -> Results:
        """The documents most similar to a text, embedded with the collection's own model
        (keyword mode needs no model: the text's analyzed terms are the query)."""
        options = (options or QueryOptions()).validate()
        check_text(query, options)
        opened = self.open()
        if check_text_options(opened, options).mode == "keyword":
            return answer_text(opened, query, options, None)
        emb = self.embedder()
        return answer_text(self.open(), query, options, emb)

    def facets(self, field: str, options: QueryOptions | None = None) -> Facets:
        """How many documents hold each value of ``field`` (list fields: each element), most
        first, among those the options' ``where`` and ``filter_json`` select; ``limit``
        values."""
        options = (options or QueryOptions()).validate()
        return answer_facets(self.open(), field, options)

    def facet_fields(self) -> list[FacetField]:
        """The fields ``facets`` can count, with their types and distinct values."""
        return answer_facet_fields(self.open())

    def document(self, ref: int | str, *, key: bool = False, file: str | None = None) -> Document:
        """One document's key, row (and file), title, date and public payload; ``ref`` as
        ``like`` takes it."""
        return answer_document(self.open(), ref, key=key, file=file)

    # -- the open collection --------------------------------------------------------------

    @property
    def store(self) -> Store:
        """The store the session asks (opened on first use)."""
        self.open()
        assert self._store is not None
        return self._store

    @property
    def name(self) -> str:
        """The collection's name (opening the store to pick it when none was given)."""
        return self.open().name

    def open(self) -> OpenCollection:
        """The collection as it is now: opened on first use, read again when its manifest
        changed since the last question."""
        with self._lock:
            if self._closed:
                raise PatentSimError("the search session is closed")
            opened = self._opened
            if opened is None:
                if self._store is None:
                    self._store = open_store(self.settings or StoreSettings.resolve())
                name = pick_collection(self._store, self._name)
                self._name = name
                opened = OpenCollection.read(name, self._store.open(name))
            else:
                manifest = opened.coll.read_manifest()
                if manifest == opened.manifest:
                    return opened
                opened = OpenCollection.read(opened.name, opened.coll)
                if self._embedder is not self._model:
                    self._embedder = None  # the collection may have a new model
            self._opened = opened
            _warn_if_incomplete(opened)
            return opened

    def release(self) -> None:
        """Close the store this session opened, so that other processes can use the embedded
        collection; the next question opens it again.  A caller's store stays open."""
        with self._lock:
            self._opened = None
            if self._caller_store is None and self._store is not None:
                store, self._store = self._store, None
                store.close()

    def close(self) -> None:
        """Release the store for good: later questions raise."""
        with self._lock:
            self.release()
            self._closed = True

    def __enter__(self) -> Session:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the model of text questions ------------------------------------------------------

    def embedder(self) -> QueryEmbedder:
        """The collection's model for text queries, loaded on first use (see ``model``)."""
        with self._lock:
            if self._embedder is not None:
                return self._embedder
            opened = self.open()
            model = self._model if isinstance(self._model, str) else None
            emb = cached_embedder(opened.model, model, self._device)
            if emb is None:
                # The store this session opened is closed while the model loads (seconds):
                # other processes may use the collection meanwhile.
                self.release()
                emb = load_embedder(opened.model, model, self._device, opened.name)
            self._embedder = emb
            return emb


def _warn_if_incomplete(opened: OpenCollection) -> None:
    if opened.state not in (None, "ready"):
        warnings.warn(
            f"collection '{opened.name}' is not fully loaded (state: {opened.state}): results "
            "may miss documents; run the same 'ingest load' again to finish it",
            IncompleteCollection,
            stacklevel=4,
        )
