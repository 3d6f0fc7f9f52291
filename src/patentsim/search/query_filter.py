"""The filter of a query: its ``--where`` conditions and its raw ``--filter-json``, ANDed."""

from __future__ import annotations

import re
from typing import Any

from ..errors import BadFilter, setting
from ..store.filters import Filter, all_of, filter_from_json, filter_json_text, keys_in
from .collection import OpenCollection
from .options import QueryOptions
from .results import is_terms
from .where import FieldInfo, where_filter


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
    return all_of(flt, raw_filter(options.filter_json, opened.fields))


def raw_filter(
    raw: str | dict[str, Any] | Filter | None, fields: dict[str, FieldInfo]
) -> Filter | None:
    """A Qdrant filter from JSON text, ``@FILE``, a dict or a ``Filter``; every field it names
    must be one of the collection's."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, Filter):
        return raw
    obj: Any = filter_json_text(raw) if isinstance(raw, str) else raw
    flt = filter_from_json(obj)
    for key in keys_in(flt):
        top = re.split(r"[.\[]", key, maxsplit=1)[0]
        if top not in fields and top != "_hash" and not is_terms(key):
            listing = ", ".join(f for f in fields if not f.startswith("_"))
            raise BadFilter(
                f"{setting('filter_json')}: unknown field '{key}'", f"fields: {listing}"
            )
    return flt
