"""The filter of a query: its ``--where`` conditions and its raw ``--filter-json``, ANDed."""

from __future__ import annotations

import re
from typing import Any

from ..errors import BadFilter, setting
from ..store.filters import (
    Condition,
    Filter,
    Text,
    all_of,
    filter_from_json,
    filter_json_text,
    keys_in,
)
from .collection import OpenCollection
from .options import QueryOptions
from .results import is_terms
from .where import AnalyzeFn, FieldInfo, text_condition, unmatched_numbers, where_filter


def build_filter(opened: OpenCollection, options: QueryOptions) -> Filter | None:
    """The options' ``where`` conditions and ``filter_json``, ANDed (None: no filter)."""
    analyze = opened.analyze if opened.has_keyword() else None
    flt = where_filter(
        options.where,
        opened.fields,
        sample=opened.sample,
        analyze=analyze,
        name_key=opened.names.key,
    )
    return all_of(flt, raw_filter(options.filter_json, opened.fields, analyze))


def raw_filter(
    raw: str | dict[str, Any] | Filter | None,
    fields: dict[str, FieldInfo],
    analyze: AnalyzeFn | None = None,
) -> Filter | None:
    """A Qdrant filter from JSON text, ``@FILE``, a dict or a ``Filter``; every field it names
    must be one of the collection's.  A full-text match's words without a letter are matched
    in the field's analyzed terms (``analyze``: the collection's analyzer), the engine's
    full-text index having none of them."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, Filter):
        return _fit_text(raw, fields, analyze)
    obj: Any = filter_json_text(raw) if isinstance(raw, str) else raw
    flt = filter_from_json(obj)
    for key in keys_in(flt):
        top = re.split(r"[.\[]", key, maxsplit=1)[0]
        if top not in fields and top != "_hash" and not is_terms(key):
            listing = ", ".join(f for f in fields if not f.startswith("_"))
            raise BadFilter(
                f"{setting('filter_json')}: unknown field '{key}'", f"fields: {listing}"
            )
    return _fit_text(flt, fields, analyze)


def _fit_text(flt: Filter, fields: dict[str, FieldInfo], analyze: AnalyzeFn | None) -> Filter:
    """``flt`` with each full-text match made one the engine answers as written."""

    def fit(cond: Condition) -> Condition:
        if isinstance(cond, Filter):
            return _fit_text(cond, fields, analyze)
        if not isinstance(cond, Text) or cond.key not in fields:
            return cond
        fitted = text_condition(fields[cond.key], cond.text, analyze)
        if fitted is None:
            raise BadFilter(
                f"{setting('filter_json')}: match.text {cond.text!r} on '{cond.key}': "
                + unmatched_numbers(fields[cond.key], cond.text)
            )
        return fitted

    return Filter(
        must=tuple(map(fit, flt.must)),
        should=tuple(map(fit, flt.should)),
        must_not=tuple(map(fit, flt.must_not)),
    )
