"""Which payload fields get an index.

Creating one payload index costs the embedded engine a write-ahead-log entry and a flush
of the segment's files, whatever the number of points (BENCHMARKS.md): a file of 300
columns and 3 rows took minutes to load when every column got one.  A filter on a field
without an index is still answered exactly (the engine checks each candidate's payload;
tests/test_wide_files.py compares every kind of filter with pandas), so indexes are kept
for what they buy: fast filters on large collections, and facet counts.

A collection's columns get at most ``MAX_FIELD_INDEXES`` indexes, chosen once and kept:

1. every field indexed already (an index, once made, stays);
2. the embedded text and the title (their word index serves ``~`` filters);
3. dates, then list fields (IPC, CPC codes), then booleans;
4. then the other fields in the order of the file's columns.

A name field's keys (``_name_applicant``: store/names.py) count in the budget too, ranked
with the list fields (before their own field): facets and ``=`` filters on a name field
read its keys, not the field.  The tool's own fields (``_key``, ``_row``, ...) and the
analyzed terms of keyword search always have theirs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

MAX_FIELD_INDEXES = 32

_RANK = {"text": 0, "datetime": 1, "list": 2, "bool": 3}


def choose_indexes(
    wanted: Mapping[str, str],
    lists: set[str],
    order: Sequence[str],
    existing: set[str],
    limit: int | None = None,
    keys_of: Mapping[str, str] | None = None,
) -> set[str]:
    """The fields of ``wanted`` (field -> index type) that get an index.

    ``lists``: list fields; ``order``: the fields in the file's column order; ``existing``:
    fields that have an index already; ``keys_of``: the payload path of a name field's keys
    -> that field (the keys rank as a list field, before their field)."""
    limit = MAX_FIELD_INDEXES if limit is None else limit
    keys_of = keys_of or {}
    chosen = {k for k in wanted if k in existing}
    position = {name: i for i, name in enumerate(order)}

    def rank(key: str) -> tuple[int, int, int, str]:
        field = keys_of.get(key, key)
        kind = wanted.get(field, wanted[key])
        group = _RANK.get(kind, 4)
        if (field in lists or key in keys_of) and group > _RANK["list"]:
            group = _RANK["list"]
        return group, position.get(field, len(position)), 0 if key in keys_of else 1, key

    for key in sorted((k for k in wanted if k not in chosen), key=rank):
        if len(chosen) >= limit and wanted[key] != "text":
            continue
        chosen.add(key)
    return chosen
