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

The tool's own fields (``_key``, ``_row``, ...) and the analyzed terms of keyword search
always have theirs.
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
) -> set[str]:
    """The fields of ``wanted`` (field -> index type) that get an index.

    ``lists``: list fields; ``order``: the fields in the file's column order; ``existing``:
    fields that have an index already."""
    limit = MAX_FIELD_INDEXES if limit is None else limit
    chosen = {k for k in wanted if k in existing}
    position = {name: i for i, name in enumerate(order)}

    def rank(key: str) -> tuple[int, int, str]:
        kind = wanted[key]
        group = _RANK.get(kind, 4)
        if key in lists and group > _RANK["list"]:
            group = _RANK["list"]
        return group, position.get(key, len(position)), key

    for key in sorted((k for k in wanted if k not in chosen), key=rank):
        if len(chosen) >= limit and wanted[key] != "text":
            continue
        chosen.add(key)
    return chosen
