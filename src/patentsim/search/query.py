"""The Python API of the ``search`` commands: one question, one session.

The three functions are the Python twins of ``search like``, ``search text`` and ``search
facets``; their options travel in one ``QueryOptions`` with the same words as the command's
options::

    like(ref, options=None, *, key=False, file=None, collection=None, settings=None)
    text(query, options=None, *, model=None, device="auto", collection=None, settings=None)
    facets(field, options=None, *, collection=None, settings=None)

    like(0, QueryOptions(limit=10, where=("applicant=삼성전자",), prior_art=True))

Each opens the collection, asks one question and closes it again at once (the embedded
store lets one process use a collection at a time).  A program that asks many questions
holds a ``Session`` instead (``patentsim.search.session``): opening an embedded collection
takes a noticeable part of a second.  ``like`` uses the stored vector of the query document:
no model is loaded, and nothing heavier than the embedded engine is imported.  ``text``
embeds the query with the collection's own model, refusing any other (``ModelMismatch``).
"""

from __future__ import annotations

from ..store import StoreSettings
from .options import QueryOptions
from .query_model import QueryEmbedder
from .results import FacetField, Facets, Results
from .session import Session


def like(
    ref: int | str,
    options: QueryOptions | None = None,
    *,
    key: bool = False,
    file: str | None = None,
    collection: str | None = None,
    settings: StoreSettings | None = None,
) -> Results:
    """The documents most similar to one of the collection's documents, itself left out.

    ``ref`` is a row number (0-based, as pandas numbers rows), ``FILE:ROW``, or a document
    key; a number that is no row is tried as a key.  ``key=True`` reads it as a key only;
    ``file``: the file whose row ``ref`` is (a bare row that several files hold is an
    ``AmbiguousReference``).  ``options.mode``: dense, keyword or hybrid (default: the
    collection's default mode); the document's own stored vectors are the query either way.
    """
    with Session(settings, collection) as session:
        return session.like(ref, options, key=key, file=file)


def text(
    query: str,
    options: QueryOptions | None = None,
    *,
    model: str | QueryEmbedder | None = None,
    device: str = "auto",
    collection: str | None = None,
    settings: StoreSettings | None = None,
) -> Results:
    """The documents most similar to a text, embedded with the collection's own model.

    ``model`` names where to load that model from (a folder, a hub name) when the
    manifest's name does not resolve here, or passes one already loaded; either way it must
    be the collection's model.  Keyword mode needs no model: the text's analyzed terms are
    the query.
    """
    with Session(settings, collection, model=model, device=device) as session:
        return session.text(query, options)


def facets(
    field: str,
    options: QueryOptions | None = None,
    *,
    collection: str | None = None,
    settings: StoreSettings | None = None,
) -> Facets:
    """How many documents hold each value of a field (list fields: each element), most
    first: ``options.limit`` values among the documents ``where``/``filter_json`` select."""
    with Session(settings, collection) as session:
        return session.facets(field, options)


def facet_fields(
    *, collection: str | None = None, settings: StoreSettings | None = None
) -> list[FacetField]:
    """The fields ``facets`` can count (``search facets`` without a field), in the
    collection's column order: type, distinct values, documents that hold the field."""
    with Session(settings, collection) as session:
        return session.facet_fields()
