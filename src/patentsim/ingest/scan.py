"""The validation pass: every row of every file read once, before anything is written.

``scan_tables`` reads the files and keeps, per row, only what deciding needs
(its key, which columns hold text), and per column counters over all its
values (``types.ColumnProfile``), from which ``records.plan_columns`` types
the columns.  ``resolve_rows`` then says which rows load under which key,
which are skipped (empty text) and which repeat a key, across all the files;
a bad id or a ``--date`` cell that is not a date fails here, naming file, row
and column.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import SourceError
from .read import Table
from .records import _CONTROL, ColumnPlan, _blank, clean_text, not_a_date, raw_key
from .types import ColumnProfile

ScanProgress = Callable[[int], None]
# --date cells that are not dates kept per column (the first one not skipped is reported).
_BAD_DATES_KEPT = 1000


@dataclass
class FileScan:
    table: Table
    rows: list[int] = field(default_factory=list)  # row numbers, in order
    keys: list[str | None] = field(default_factory=list)  # id cell as key (None: empty)
    text_bits: list[int] = field(default_factory=list)  # bit i: column i holds text
    digests: list[int] = field(default_factory=list)  # hash of the row's cells
    bad_dates: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)


@dataclass
class Scan:
    files: list[FileScan]
    columns: list[str]  # every file's columns, in order of first appearance
    profiles: dict[str, ColumnProfile]

    @property
    def total(self) -> int:
        return sum(len(f.rows) for f in self.files)


@dataclass
class Resolved:
    """Which rows load, per file (row -> key), and which do not."""

    winners: list[dict[int, str]]
    skipped: list[list[int]]
    dropped: list[list[int]]


def scan_tables(
    tables: Sequence[Table],
    id_column: str | None,
    strict_dates: Sequence[str] = (),
    progress: ScanProgress | None = None,
) -> Scan:
    columns = list(dict.fromkeys(c for t in tables for c in t.columns))
    bit = {c: 1 << i for i, c in enumerate(columns)}
    profiles: dict[str, ColumnProfile] = {c: ColumnProfile() for c in columns}
    strict = set(strict_dates)
    from ..dates import date_form

    files = []
    done = 0
    for table in tables:
        fs = FileScan(table)
        for row_no, row in table.rows():
            bits = 0
            for c, v in row.items():
                if _blank(v):
                    continue
                profiles[c].add(v, row_no)
                if not isinstance(v, str) or not _CONTROL.search(v) or clean_text(v).strip():
                    bits |= bit[c]
                if c in strict and date_form(v) is None:
                    bad = fs.bad_dates.setdefault(c, [])
                    if len(bad) < _BAD_DATES_KEPT:
                        bad.append((row_no, v))
            fs.rows.append(row_no)
            fs.text_bits.append(bits)
            fs.digests.append(hash(repr(row)))
            if id_column is not None:
                fs.keys.append(raw_key(row.get(id_column)))
            done += 1
            if progress and done % 1000 == 0:
                progress(done)
        files.append(fs)
    return Scan(files, columns, profiles)


def _index(fs: FileScan, row_no: int) -> int:
    """The position of a row among a file's rows (rows are numbered 0, 1, ... in order)."""
    if row_no < len(fs.rows) and fs.rows[row_no] == row_no:
        return row_no
    return fs.rows.index(row_no)


def resolve_rows(scan: Scan, plan: ColumnPlan, on_duplicate: str) -> Resolved:
    """Rows → keys across all files; ``SourceError`` for empty ids, bad --date cells,
    repeated keys (unless ``on_duplicate`` keeps one) and files with nothing to load."""
    text_mask = 0
    for i, c in enumerate(scan.columns):
        if c in plan.text_columns:
            text_mask |= 1 << i
    first: dict[str, tuple[int, int]] = {}  # key -> (file index, row)
    res = Resolved([{} for _ in scan.files], [[] for _ in scan.files], [[] for _ in scan.files])
    clashes: list[tuple[str, tuple[int, int], tuple[int, int]]] = []
    several = len(scan.files) > 1
    for fi, fs in enumerate(scan.files):
        table = fs.table
        if not fs.rows:
            raise SourceError(
                f"{table.where()}: no data rows below the header"
                + (f" (row {table.header_row})" if table.header_index else ""),
                "add rows to the file"
                + (", or name the header with --header-row" if table.header_index else ""),
            )
        skipped_rows = set()
        for i, row_no in enumerate(fs.rows):
            if not fs.text_bits[i] & text_mask:
                res.skipped[fi].append(row_no)
                skipped_rows.add(row_no)
                continue
            if plan.id_column is None:
                key = str(row_no)
            else:
                key_or_none = fs.keys[i] if fs.keys else None
                if key_or_none is None:
                    raise SourceError(
                        f"{table.where(row_no, plan.id_column)}: the id is empty",
                        "give every row an id, or leave out --id to key rows by their number",
                    )
                key = key_or_none
            if key in first:
                ofi, orow = first[key]
                if scan.files[ofi].digests[_index(scan.files[ofi], orow)] == fs.digests[i]:
                    # The same row again (exports in parts overlap): nothing to choose.
                    res.dropped[fi].append(row_no)
                    continue
                if on_duplicate == "error":
                    clashes.append((key, first[key], (fi, row_no)))
                    continue
                if on_duplicate == "first":
                    res.dropped[fi].append(row_no)
                    continue
                ofi, orow = first[key]
                res.winners[ofi].pop(orow, None)
                res.dropped[ofi].append(orow)
            first[key] = (fi, row_no)
            res.winners[fi][row_no] = key
        for column, bad in fs.bad_dates.items():
            for row_no, value in bad:
                if row_no not in skipped_rows and plan.parse_date(column, value) is None:
                    raise not_a_date(table, row_no, column, value)
    if clashes:

        def at(loc: tuple[int, int]) -> str:
            name = scan.files[loc[0]].table.path.name
            return f"{name} row {loc[1]}" if several else f"{loc[1]}"

        shown = "; ".join(
            f"'{k}' in {'' if several else 'rows '}{at(a)} and {at(b)}" for k, a, b in clashes[:5]
        )
        more = f" (and {len(clashes) - 5} more)" if len(clashes) > 5 else ""
        where = scan.files[0].table.where(column=plan.id_column)
        if several:
            where = f"column '{plan.id_column}'"
        raise SourceError(
            f"{where}: duplicate ids: {shown}{more}",
            "make the ids unique, or pass --on-duplicate first|last",
        )
    if not any(res.winners):
        raise SourceError(
            f"{scan.files[0].table.where() if not several else 'the files'}: every cell of the "
            f"text column(s) {', '.join(repr(c) for c in plan.text_columns)} is empty",
            "name the column that holds the abstracts with --text COLUMN",
        )
    for lst in res.dropped:
        lst.sort()
    return res
