"""A page of ranked hits, the query document left out, at most one per group if asked.

``group_by``: at most one hit per value of the field, the best-scoring one; documents
without the field form one group.  For a list field (IPC codes) the value is the list's
*first* element, the main classification.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import BadFilter, UserInputError, setting
from ..store.backend import ScoredHit
from ..store.filters import Condition, Empty, Filter, Match, all_of
from .collection import OpenCollection
from .modes import Runner
from .options import QueryOptions
from .where import FieldInfo, resolve_field

# Group-by fields that a filter can exclude by value (see _grouped).
_MATCHABLE = ("keyword", "text", "integer", "bool")
_FIRST_PAGE = 32
_LARGEST_PAGE = 4096


def group_field(opened: OpenCollection, name: str | None) -> FieldInfo | None:
    """The field ``group_by`` names, or None when the options do not group."""
    if name is None:
        return None
    try:
        info = resolve_field(name, opened.fields)
    except BadFilter as exc:
        raise UserInputError(f"{setting('group_by')}: {exc.message}", exc.hint) from None
    if info.names:
        # One group per party, however its name is written.
        return FieldInfo(info.names, "keyword", list=info.list)
    return info


def top_hits(
    run: Runner,
    flt: Filter | None,
    options: QueryOptions,
    *,
    group: FieldInfo | None,
    exclude: str | None,
) -> list[ScoredHit]:
    """The page ``options`` asks for (``limit`` from ``offset``, scores from ``min_score``),
    without the point ``exclude``, at most one hit per value of ``group``."""
    if group is not None:
        return _grouped(run, flt, options, group, exclude)
    # Leaving the query document out by id after the fact keeps an unfiltered query on
    # the (fast) HNSW path; a must_not filter would make it an exact search.  Filtered
    # queries: the embedded backend answers them exactly (its filtered HNSW search missed
    # matches with an any-of filter on a list field: docs/scaling.md); a server plans them
    # with its payload indexes, as it must at millions of points.
    offset, limit = options.offset, options.limit
    extra = 1 if exclude else 0
    hits = run(offset + limit + extra, 0, flt, options.min_score)
    hits = [h for h in hits if h.id != exclude]
    return hits[offset : offset + limit]


def group_value(payload: dict[str, Any], name: str) -> Any:
    """The value a hit is grouped by: the field's value, a list's first element, or None."""
    value = payload.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _grouped(
    run: Runner,
    flt: Filter | None,
    options: QueryOptions,
    group: FieldInfo,
    exclude: str | None,
) -> list[ScoredHit]:
    """At most one hit per group, the best; groups in the order of their best hits.

    For a scalar field each round filters out the groups already seen, so every round
    finds at least one new group.  List fields (grouped by their first element) and
    fields a match cannot select (floats, dates) are paged through instead.
    """
    want = options.offset + options.limit
    kept: list[ScoredHit] = []
    seen: set[Any] = set()
    by_filter = group.type in _MATCHABLE and not group.list and not group.mixed
    page = max(_FIRST_PAGE, 4 * want)
    start = 0
    while len(kept) < want:
        extra: Filter | None = None
        if by_filter and seen:
            values = tuple(v for v in seen if v is not None)
            parts: list[Condition] = [Match(group.name, values)] if values else []
            if None in seen:
                parts.append(Empty(group.name))
            extra = Filter(must_not=tuple(parts))
        round_filter = all_of(flt, extra)
        hits = run(page, start, round_filter, options.min_score)
        for hit in hits:
            if hit.id == exclude:
                continue
            value = _hashable(group_value(hit.payload, group.name))
            if value in seen:
                continue
            seen.add(value)
            kept.append(hit)
            if len(kept) >= want:
                break
        if len(hits) < page:
            break
        if by_filter:
            start = 0
        else:
            start += page
        page = min(page * 2, _LARGEST_PAGE)
    return kept[options.offset : want]


def _hashable(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value
