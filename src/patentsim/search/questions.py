"""The questions a session answers on its open collection: like, text, facets, document.

Each takes the ``OpenCollection`` and the ``QueryOptions`` (already validated by the
session) and returns result dataclasses; opening, closing and loading models is the
session's business (``session.py``).
"""

from __future__ import annotations

from ..embed.retrieval import Retrieval
from ..store.backend import ScoredHit, SparseVector
from ..store.errors import (
    BadFilter,
    DocumentNotFound,
    PatentSimError,
    UserInputError,
    setting,
)
from ..store.filters import Range, all_of
from .collection import OpenCollection
from .documents import describe, document_of, find_point, prior_art_field
from .modes import choose_retrieval, runner, text_runner
from .options import QueryOptions
from .paging import group_field, top_hits
from .query_filter import build_filter
from .query_model import QueryEmbedder
from .results import Document, FacetCount, Facets, Hit, Results, public
from .where import resolve_field

FACET_TYPES = ("keyword", "integer", "bool")


def answer_like(
    opened: OpenCollection,
    ref: int | str,
    options: QueryOptions,
    *,
    key: bool = False,
    file: str | None = None,
) -> Results:
    """The documents most similar to one of the collection's documents, itself left out; its
    own stored vectors are the query in every mode."""
    retrieval = choose_retrieval(opened, options.mode)
    group = group_field(opened, options.group_by)
    flt = build_filter(opened, options)
    point = find_point(opened, ref, key_only=key, file=file)
    if point.vector is None and retrieval.mode != "keyword":
        raise PatentSimError(f"document '{ref}' in '{opened.name}' has no stored vector")
    query = document_of(opened, point)
    before = dfield = None
    if options.prior_art:
        dfield = prior_art_field(opened, options.date_field)
        before = point.payload.get(dfield)
        if not isinstance(before, str):
            raise DocumentNotFound(
                f"document {describe(query)} has no '{dfield}', so it has no prior art",
                f"choose another date field with {setting('date_field')}, or leave out "
                f"{setting('prior_art')}",
            )
        flt = all_of(flt, Range(dfield, lt=before, datetime=True))
    run = runner(opened, retrieval, point.vector, point.sparse or SparseVector((), ()))
    hits = top_hits(run, flt, options, group=group, exclude=point.id)
    results = results_of(opened, hits, options, retrieval, filtered=flt is not None)
    results.query = query
    results.prior_art_field, results.prior_art_before = dfield, before
    if options.explain:
        from .explain import attach

        attach(opened, results, query=point)
    return results


def check_text(query: str, options: QueryOptions) -> None:
    """Refuse what no collection could answer: an empty text, prior art of a text."""
    if not query.strip():
        raise UserInputError(
            "the query text is empty", 'e.g. search text "battery thermal management"'
        )
    if options.prior_art:
        raise UserInputError(
            f"{setting('prior_art')} needs a query document with a date: ask 'like' with a "
            "document instead of a text"
        )


def check_text_options(opened: OpenCollection, options: QueryOptions) -> Retrieval:
    """The retrieval of a text question, its filter and grouping checked (before a model
    loads, so that a bad filter fails at once)."""
    retrieval = choose_retrieval(opened, options.mode)
    build_filter(opened, options)
    group_field(opened, options.group_by)
    return retrieval


def answer_text(
    opened: OpenCollection, query: str, options: QueryOptions, emb: QueryEmbedder | None
) -> Results:
    """The documents most similar to a text: ``emb`` embeds it (None in keyword mode)."""
    retrieval = choose_retrieval(opened, options.mode)
    flt = build_filter(opened, options)
    group = group_field(opened, options.group_by)
    run = text_runner(opened, retrieval, emb, query)
    hits = top_hits(run, flt, options, group=group, exclude=None)
    results = results_of(opened, hits, options, retrieval, filtered=flt is not None)
    if options.explain:
        from .explain import attach

        attach(opened, results, text=query)
    return results


def answer_facets(opened: OpenCollection, field: str, options: QueryOptions) -> Facets:
    """How many documents of the options' filter hold each value of a field (list fields:
    each element), most first; ``options.limit`` values."""
    try:
        info = resolve_field(field, opened.fields)
    except BadFilter as exc:
        raise UserInputError(f"facets: {exc.message}", exc.hint) from None
    # _file counts documents per source file; the other reserved fields are one per document.
    if info.type not in FACET_TYPES or (info.name.startswith("_") and info.name != "_file"):
        usable = [
            f for f, i in opened.fields.items() if i.type in FACET_TYPES and not f.startswith("_")
        ]
        raise UserInputError(
            f"facets count the values of keyword, integer and boolean fields; "
            f"'{info.name}' is a {info.type} field",
            "fields to count: "
            + (", ".join(usable) if usable else "none in this collection")
            + (
                f"; for ranges of '{info.name}' use {setting('where')}"
                if info.type != "text"
                else ""
            ),
        )
    flt = build_filter(opened, options)
    counts = opened.coll.facet(info.name, flt=flt, limit=options.limit)
    total = opened.coll.count(flt)
    return Facets(
        collection=opened.name,
        field=info.name,
        counts=[FacetCount(v, int(n)) for v, n in counts],
        total=total,
        filtered=flt is not None,
    )


def answer_document(
    opened: OpenCollection, ref: int | str, *, key: bool = False, file: str | None = None
) -> Document:
    """One document: its key, row (and file), title, date and public payload."""
    return document_of(opened, find_point(opened, ref, key_only=key, file=file))


def results_of(
    opened: OpenCollection,
    hits: list[ScoredHit],
    options: QueryOptions,
    retrieval: Retrieval,
    *,
    filtered: bool,
) -> Results:
    """The page of hits as ``Results``, ranked from the options' offset."""
    out = []
    for i, h in enumerate(hits):
        row = h.payload.get("_row")
        out.append(
            Hit(
                rank=options.offset + i + 1,
                score=float(h.score),
                key=str(h.payload.get("_key", h.id)),
                row=row if isinstance(row, int) else None,
                payload=public(h.payload),
            )
        )
    return Results(
        collection=opened.name,
        hits=out,
        title_field=opened.title_field,
        date_field=opened.date_field,
        fields=opened.public_fields(),
        types=opened.types(),
        filtered=filtered,
        mode=retrieval.mode,
        mode_detail=retrieval.describe(),
    )
