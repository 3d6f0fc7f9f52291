"""The questions a session answers on its open collection: like, text, facets, document.

Each takes the ``OpenCollection`` and the ``QueryOptions`` (already validated by the
session) and returns result dataclasses; opening, closing and loading models is the
session's business (``session.py``).
"""

from __future__ import annotations

from itertools import islice

from ..embed.retrieval import Retrieval
from ..errors import (
    BadFilter,
    DocumentNotFound,
    PatentSimError,
    UserInputError,
    setting,
)
from ..store.backend import ScoredHit, SparseVector
from ..store.filters import Empty, Filter, Match, Range, all_of
from ..store.names import display_name
from ..store.payload import DUP_FIELD
from .collapse import collapse_hits, collapse_rule
from .collection import OpenCollection
from .documents import describe, document_of, find_point, prior_art_field
from .modes import Runner, choose_retrieval, runner, text_runner
from .options import QueryOptions
from .paging import group_field, top_hits
from .query_filter import build_filter
from .query_model import QueryEmbedder
from .results import Document, FacetCount, FacetField, Facets, Hit, Results, public
from .where import FieldInfo, resolve_field

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
    results = _ranked(opened, run, flt, options, retrieval, group, exclude=point.id)
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
    collapse_rule(opened, options.collapse)
    return retrieval


def _ranked(
    opened: OpenCollection,
    run: Runner,
    flt: Filter | None,
    options: QueryOptions,
    retrieval: Retrieval,
    group: FieldInfo | None,
    *,
    exclude: str | None,
) -> Results:
    """The page of hits as ``Results``: one per group, or one per family, if asked."""
    rule = collapse_rule(opened, options.collapse)
    if rule is None:
        hits = top_hits(run, flt, options, group=group, exclude=exclude)
        return results_of(opened, hits, options, retrieval, filtered=flt is not None)
    kept = collapse_hits(opened, run, flt, options, rule, exclude)
    results = results_of(opened, [h for h, _ in kept], options, retrieval, filtered=flt is not None)
    for hit, (_, family) in zip(results.hits, kept):
        hit.family = family
    results.collapse = rule.describe()
    return results


def answer_text(
    opened: OpenCollection, query: str, options: QueryOptions, emb: QueryEmbedder | None
) -> Results:
    """The documents most similar to a text: ``emb`` embeds it (None in keyword mode)."""
    retrieval = choose_retrieval(opened, options.mode)
    flt = build_filter(opened, options)
    group = group_field(opened, options.group_by)
    run = text_runner(opened, retrieval, emb, query)
    results = _ranked(opened, run, flt, options, retrieval, group, exclude=None)
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
    # _file counts documents per source file, _dup_group per group of near-duplicates; the
    # other reserved fields are one per document.
    if info.type not in FACET_TYPES or (
        info.name.startswith("_") and info.name not in ("_file", DUP_FIELD)
    ):
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
    if info.names:
        counts = name_counts(opened, info, flt, options.limit)
    else:
        # The embedded engine's index may still list a value whose last point lost it.
        counts = [
            FacetCount(v, int(n))
            for v, n in opened.coll.facet(info.name, flt=flt, limit=options.limit)
            if n
        ]
    return Facets(
        collection=opened.name,
        field=info.name,
        counts=counts,
        total=opened.coll.count(flt),
        filtered=flt is not None,
        distinct=distinct_values(opened, info.names or info.name, flt),
    )


DISTINCT_MAX = 100_000  # distinct values counted per field; beyond: "more than"
SPELLINGS_SAMPLE = 200  # documents read per name to find its spellings


def distinct_values(opened: OpenCollection, key: str, flt: Filter | None) -> int | None:
    """How many distinct values ``key`` holds under a filter (None: more than DISTINCT_MAX)."""
    n = len(opened.coll.facet(key, flt=flt, limit=DISTINCT_MAX))
    return None if n >= DISTINCT_MAX else n


def name_counts(
    opened: OpenCollection, info: FieldInfo, flt: Filter | None, limit: int
) -> list[FacetCount]:
    """Counts per party of a name field: one entry per key, shown by the alias table's name,
    else by its most frequent spelling without legal forms; ``spellings`` lists the
    spellings its documents use."""
    assert info.names is not None
    spec = opened.names
    kind = spec.fields.get(info.name, "company")
    out = []
    for key, n in opened.coll.facet(info.names, flt=flt, limit=limit):
        seen: dict[str, int] = {}
        holding = all_of(flt, Match(info.names, (key,)))
        points = opened.coll.scroll(flt=holding, with_payload=[info.name], batch=64)
        for point in islice(points, SPELLINGS_SAMPLE):
            value = point.payload.get(info.name)
            for name in value if isinstance(value, list) else [value]:
                if isinstance(name, str) and spec.aliases.key(name, kind) == key:
                    seen[name.strip()] = seen.get(name.strip(), 0) + 1
        spellings = sorted(seen, key=lambda k: (-seen[k], k))
        shown = spec.aliases.display(str(key), kind) or (
            display_name(spellings[0], kind) if spellings else key
        )
        out.append(FacetCount(shown, int(n), key=str(key), spellings=spellings))
    return out


def answer_facet_fields(opened: OpenCollection) -> list[FacetField]:
    """The fields ``facets`` can count (keyword, integer and boolean fields, and ``_file``
    where the collection holds several files), with their distinct values, in the
    collection's column order."""
    out = []
    several = len(opened.manifest.sources) > 1
    for name, info in opened.fields.items():
        usable = info.type in FACET_TYPES and not name.startswith("_")
        if not usable and not (name == "_file" and several):
            continue
        documents = opened.coll.count(Filter(must_not=(Empty(name),)))
        distinct = distinct_values(opened, info.names or name, None)
        out.append(
            FacetField(name, info.type, info.list, distinct, documents, names=bool(info.names))
        )
    return out


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
