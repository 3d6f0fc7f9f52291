"""Rows into records: the text to embed, the document key and a typed payload.

``plan_columns`` decides, per column, what its cells become, from counters
over every value of the file (``types.ColumnProfile``): dates (RFC 3339
strings, from date cells, ISO, yyyymmdd, dotted, slash and Excel-serial
forms in date-named columns), lists (code columns such as IPC
``B24B 3/34|B24B 49/12``, with the separator found per column), numbers and
booleans (from text formats), or strings; which column is the text (an
abstract, else the title), and, for a known exporter's file, which is the key.
``build_record`` then applies the plan to each row.

Payload keys are the column names as the user wrote them (spaces, slashes,
Korean and all: the store quotes them as Qdrant paths); only ``"`` and ``\\``,
which Qdrant cannot address, become ``'`` and ``/`` (``field_name``).  The
manifest keeps the column → field mapping where the two differ.

Every value becomes something a Qdrant payload can hold: integers within
64 bits (larger ones as text), finite floats (infinities as text), RFC 3339
dates, strings without control characters, lists, JSON objects.  A cell that
cannot be used as asked (a ``--date`` cell that is not a date, an empty id)
is a ``SourceError`` naming its file, sheet, row and column; the pipeline's
validation pass meets it before anything is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..columns import (
    is_codes_name,
    is_date_name,
    is_identifier_name,
    name_kind,
    named,
    text_column,
    text_names,
    title_column,
)
from ..dates import parse_date as _parse_date
from ..errors import SourceError
from ..store.ids import normalize_key
from ..store.payload import BOOL_CELLS, RESERVED
from .exporters import Exporter, detect_exporter, family_column
from .read import Row
from .types import (
    _INT_FLOAT,
    DECIMAL_COMMA,
    DEFAULT_LIST_SEP,
    LIST_MAX_MEAN_CHARS,
    ColumnProfile,
)

LIST_SEP = DEFAULT_LIST_SEP

_INT = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_INT64 = (-(2**63), 2**63 - 1)
# C0 controls and DEL, except tab, newline and carriage return: invisible, and they garble
# terminal output.  They become spaces.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# An id that pandas wrote from a float column ("12.0"): the same document as "12".
_FLOAT_ID = re.compile(r"^([+-]?\d{1,15})\.0+$")


class TableLike(Protocol):
    """What planning and building records need of a table (messages and its columns)."""

    columns: list[str]

    def where(
        self, row: int | None = None, column: str | None = None, *, line: int | None = None
    ) -> str: ...


@dataclass
class ColumnPlan:
    columns: list[str]
    fields: dict[str, str]  # column -> payload field name
    text_columns: list[str]
    id_column: str | None
    date_columns: set[str] = field(default_factory=set)
    list_columns: set[str] = field(default_factory=set)
    number_columns: dict[str, str] = field(default_factory=dict)  # column -> "int"|"float"|"bool"
    title_column: str | None = None
    strict_dates: set[str] = field(default_factory=set)  # --date columns: every cell a date
    list_seps: dict[str, str] = field(default_factory=dict)  # list column -> separator
    date_orders: dict[str, str] = field(default_factory=dict)  # column -> MDY|DMY (slash dates)
    date_formats: dict[str, str] = field(default_factory=dict)  # column -> strptime format
    serial_dates: set[str] = field(default_factory=set)  # columns that read Excel serials
    identifiers: set[str] = field(default_factory=set)  # columns kept as text as written
    decimal_comma: bool = False  # numbers with decimal commas (a European-locale file)
    # Columns of the names of parties (store/names.py): column -> company | person.
    name_columns: dict[str, str] = field(default_factory=dict)
    exporter: str | None = None
    family_column: str | None = None  # the column naming each document's family
    # What was decided and why, for the summary ("text: 'title' (no abstract column)").
    choices: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def parse_date(self, column: str, value: Any) -> str | None:
        return _parse_date(
            value,
            order=self.date_orders.get(column),
            serial=column in self.serial_dates,
            fmt=self.date_formats.get(column),
        )

    def describe(self, column: str) -> str:
        """The column's planned type, for the summary."""
        if column in self.text_columns:
            return "text (embedded)"
        if column == self.id_column:
            return "key"
        if column in self.date_columns:
            how = self.date_formats.get(column) or {"MDY": "M/D/Y", "DMY": "D/M/Y"}.get(
                self.date_orders.get(column, ""), ""
            )
            sep = self.list_seps.get(column)
            kind = f"list of dates (separator '{_shown_sep(sep)}')" if sep else "date"
            return kind + (f" ({how})" if how else "")
        if column in self.list_columns:
            return f"list (separator '{_shown_sep(self.list_seps.get(column, LIST_SEP))}')"
        if column in self.identifiers:
            return "identifier (text as written)"
        return {
            "int": "integer",
            "float": "float",
            "bool": "bool",
            "decimal": "float (decimal comma)",
        }.get(self.number_columns.get(column, ""), "as read")


def _shown_sep(sep: str | None) -> str:
    return (sep or LIST_SEP).replace("\n", "\\n").replace("\t", "\\t")


@dataclass
class Record:
    row: int
    key: str
    text: str
    payload: dict[str, Any]


def field_name(column: str) -> str:
    """The payload field of a column: its name, but for the characters Qdrant cannot
    address in a path (``"`` becomes ``'``, ``\\`` becomes ``/``; controls become spaces)."""
    return _CONTROL.sub(" ", column.strip().replace('"', "'").replace("\\", "/"))


def profile_rows(rows: Iterable[Row]) -> dict[str, ColumnProfile]:
    """Counters over every non-blank value of some rows (see ``types.ColumnProfile``)."""
    profiles: dict[str, ColumnProfile] = {}
    for i, row in enumerate(rows):
        for c, v in row.items():
            if not _blank(v):
                profiles.setdefault(c, ColumnProfile()).add(v, i)
    return profiles


def parse_list_option(text: str, columns: Sequence[str]) -> tuple[str, str | None]:
    """``--list COL`` or ``--list COL:SEP`` as (column, separator or None).

    A column whose own name holds ':' (``Unnamed: 0``) is taken whole."""
    if text in columns or ":" not in text:
        return text, None
    column, _, sep = text.rpartition(":")
    if column in columns and sep:
        return column, sep
    return text, None


def plan_columns(
    table: TableLike,
    rows: Iterable[Row] | Mapping[str, ColumnProfile],
    *,
    text: Sequence[str] = (),
    id_column: str | None = None,
    lists: Sequence[str] = (),
    dates: Sequence[str] = (),
    date_formats: Sequence[str] = (),
    detect_id: bool = False,
    known_fields: Mapping[str, str] | None = None,
    columns: Sequence[str] | None = None,
    decimal_comma: bool = False,
) -> ColumnPlan:
    """Decide what each column becomes, from counters over all its values.

    ``rows`` are the rows themselves or their profiles (``profile_rows``; the pipeline
    builds them in its validation pass).  ``detect_id`` lets a known exporter's key
    column be the id when ``id_column`` is None.  ``known_fields`` maps columns to the
    field names a collection already uses for them.
    """
    from ..dates import date_format_option

    columns = list(columns or table.columns)
    profiles = rows if isinstance(rows, Mapping) else profile_rows(rows)
    empty = ColumnProfile()
    prof = {c: profiles.get(c, empty) for c in columns}
    list_opts = dict(parse_list_option(x, columns) for x in lists)
    for option, names in (("--text", text), ("--list", list(list_opts)), ("--date", dates)):
        for name in names:
            _require_column(table, columns, name, option)
    if id_column is not None:
        _require_column(table, columns, id_column, "--id")
    exporter = detect_exporter(columns)
    plan = ColumnPlan(columns, {}, [], id_column, decimal_comma=decimal_comma)
    if exporter:
        plan.exporter = exporter.name
    if id_column is None and detect_id and exporter and exporter.id_column:
        plan.id_column = exporter.id_column
        note = f": {exporter.key_note}" if exporter.key_note else ""
        plan.choices.append(f"key: '{exporter.id_column}' ({exporter.name}{note})")
    plan.fields = {c: (known_fields or {}).get(c) or field_name(c) for c in columns}
    _check_fields(table, plan.fields)
    plan.text_columns = list(dict.fromkeys(text)) or _detect_text(table, columns, prof, plan)
    plan.strict_dates = {c for c in dates if c not in plan.text_columns}
    plan.title_column = title_column(columns)
    plan.family_column = family_column(columns, exporter)
    if plan.family_column:
        plan.choices.append(
            f"family: '{plan.family_column}' (documents sharing a value are one family: "
            "search --collapse family)"
        )
    formats = [date_format_option(f) for f in date_formats]
    for f, (col, order, fmt) in zip(date_formats, formats):
        if col is not None:
            _require_column(table, columns, col, "--date-format")
        if order is None and fmt is None:
            raise SourceError(
                f"--date-format {f}: not a date format",
                "use MDY or DMY (slash dates such as 10/20/2008), or a strptime format "
                "such as %d.%m.%Y; COL:FORMAT for one column",
            )
    for c in columns:
        if c in plan.text_columns or (c == plan.id_column and c not in dates):
            continue
        p = prof[c]
        declared = bool(exporter and c in exporter.dates)
        if c in dates or declared or _is_date_column(c, p):
            _plan_date(plan, c, p, exporter, formats, explicit=c in dates or declared)
            sep = (exporter.lists.get(c) if exporter else None) or p.date_list_separator()
            if sep:  # a list of dates: a range matches when any of them is in it
                plan.list_columns.add(c)
                plan.list_seps[c] = sep
                plan.choices.append(f"'{c}': lists of dates, split on '{sep}'")
            continue
        _warn_odd_dates(plan, c, p)
        named = is_identifier_name(c) or p.leading_zeros
        listed = (
            (exporter and c in exporter.lists)
            or (exporter and exporter.list_any and _holds(p, exporter.list_any))
            or p.list_separator()
        )
        if c not in list_opts and named and not listed:
            plan.identifiers.add(c)
            continue
        if p.huge and not p.strings - p.huge - p.floats:
            plan.warnings.append(
                f"column '{c}' holds {p.huge:,} number(s) beyond the range of numbers "
                "(such as 1e400): the column is stored as text"
            )
        if c in list_opts:
            plan.list_columns.add(c)
            plan.list_seps[c] = list_opts[c] or p.common_separator()
        elif exporter and c in exporter.lists and p.strings == p.values:
            plan.list_columns.add(c)
            plan.list_seps[c] = exporter.lists[c]
        elif exporter and exporter.list_any and _holds(p, exporter.list_any):
            plan.list_columns.add(c)
            plan.list_seps[c] = exporter.list_any
        elif p.strings and p.strings == p.values and (is_codes_name(c) or p.list_separator()):
            plan.list_columns.add(c)
            plan.list_seps[c] = p.list_separator() or p.common_separator()
        else:
            kind = p.number_kind(decimal_comma=decimal_comma)
            if kind:
                plan.number_columns[c] = kind
    _apply_file_order(plan, prof, formats, exporter)
    _plan_names(plan, prof)
    return plan


def _plan_names(plan: ColumnPlan, prof: Mapping[str, ColumnProfile]) -> None:
    """Columns of applicants, assignees, owners and inventors (by their names: one rule for
    every file, ``store.names.name_kind``) that hold text: matched by one key per name."""
    typed = plan.date_columns | set(plan.number_columns) | plan.identifiers
    for c in plan.columns:
        kind = name_kind(c)
        if kind is None or c in plan.text_columns or c == plan.id_column or c in typed:
            continue
        if not prof[c].strings:
            continue
        plan.name_columns[c] = kind
    if plan.name_columns:
        shown = ", ".join(f"'{c}'" for c in plan.name_columns)
        plan.choices.append(
            f"names in {shown}: matched, counted and grouped as one name per party (legal "
            "forms, case, punctuation and spacing aside; 'ingest aliases' adds other names)"
        )


def _holds(p: ColumnProfile, sep: str) -> bool:
    """A column of short texts with ``sep`` in at least one of them."""
    short = p.strings and p.string_chars / p.strings <= LIST_MAX_MEAN_CHARS
    return bool(short and p.strings == p.values and p.separators[sep])


def _warn_odd_dates(plan: ColumnPlan, c: str, p: ColumnProfile) -> None:
    """A date-named column that did not become a date column although some of its values are
    dates: say so (it is stored as text, and takes no range filters)."""
    n = p.dates(serial=True)
    if not is_date_name(c) or not n or not p.not_dates:
        return
    plan.warnings.append(
        f"column '{c}' is named like a date, but {p.not_dates:,} of its {p.values:,} values "
        f"read as no date (such as {p.not_date_example!r}): it is stored as text and takes no "
        f"date ranges; fix those cells, or name it with --date '{c}' to see each one"
    )


def _check_fields(table: TableLike, fields: dict[str, str]) -> None:
    reserved = [c for c, f in fields.items() if f in RESERVED]
    if reserved:
        raise SourceError(
            f"{table.where(column=reserved[0])}: the name '{fields[reserved[0]]}' is reserved "
            "for the tool's own fields (" + ", ".join(RESERVED) + ")",
            "rename that column",
        )
    seen: dict[str, str] = {}
    for col, f in fields.items():
        if f in seen:
            raise SourceError(
                f"{table.where()}: columns {seen[f]!r} and {col!r} both become field {f!r}",
                "rename one of them",
            )
        seen[f] = col


def _plan_date(
    plan: ColumnPlan,
    c: str,
    p: ColumnProfile,
    exporter: Exporter | None,
    formats: list[tuple[str | None, str | None, str | None]],
    *,
    explicit: bool,
) -> None:
    plan.date_columns.add(c)
    if is_date_name(c) or explicit:
        plan.serial_dates.add(c)
    own = [(o, f) for col, o, f in formats if col == c]
    every = [(o, f) for col, o, f in formats if col is None]
    for order, fmt in own or every:
        if fmt:
            plan.date_formats[c] = fmt
        if order:
            plan.date_orders[c] = order
    if not p.date_forms["slash"] or c in plan.date_orders:
        return
    proven = p.slash_order()
    if proven:
        plan.date_orders[c] = proven
        plan.choices.append(
            f"dates in '{c}': {'month/day' if proven == 'MDY' else 'day/month'} "
            "(proven by its values)"
        )
    elif p.slash_conflict():
        plan.warnings.append(
            f"column '{c}' holds slash dates in both orders (a first part above 12 and a "
            "second part above 12): those are stored as text; give --date-format "
            f"'{c}:MDY' or '{c}:DMY' to read them one way"
        )
    # else: the order the file's other columns prove, else the exporter's (_apply_file_order)


def _apply_file_order(
    plan: ColumnPlan,
    prof: Mapping[str, ColumnProfile],
    formats: list[tuple[str | None, str | None, str | None]],
    exporter: Exporter | None = None,
) -> None:
    """Slash-date columns no value decides take the order the file's other columns prove."""
    undecided = [
        c
        for c in plan.date_columns
        if prof[c].date_forms["slash"]
        and c not in plan.date_orders
        and not prof[c].slash_conflict()
    ]
    if not undecided:
        return
    proofs = {o for c in plan.date_columns if (o := prof[c].slash_order())}
    if len(proofs) == 1:
        order = proofs.pop()
        for c in undecided:
            plan.date_orders[c] = order
            plan.choices.append(
                f"dates in '{c}': {order} (proven by the file's other date columns)"
            )
        return
    if exporter and exporter.date_order:
        # Only where no value in the file proves an order: a European re-save of an export
        # writes its dates day first, and its own values say so.
        for c in undecided:
            plan.date_orders[c] = exporter.date_order
            plan.choices.append(f"dates in '{c}': {exporter.date_order} ({exporter.name})")
        return
    for c in undecided:
        example = prof[c].example
        plan.date_columns.discard(c)
        plan.serial_dates.discard(c)
        plan.warnings.append(
            f"column '{c}' holds slash dates such as {example!r} whose order (month/day or "
            f"day/month) no value proves: stored as text; give --date-format '{c}:MDY' "
            "(or DMY) to store them as dates"
        )


def _is_date_column(column: str, p: ColumnProfile) -> bool:
    """Dates by name and value, cells that are dates, or ISO 8601 date strings."""
    if not p.values:
        return False
    if is_date_name(column):
        # A date-named column stays a date column despite a few odd cells (kept as text and
        # reported as a mixed field), so one typo does not turn off its date filters.
        n = p.dates(serial=True)
        if n >= max(1, 0.9 * p.values) or (p.values < 10 and n >= p.values - 1 > 0):
            return True
    if p.native_dates == p.values:
        return True
    return p.strings == p.values and p.date_forms["iso"] == p.values


def _require_column(table: TableLike, columns: Sequence[str], name: str, option: str) -> None:
    if name not in columns:
        raise SourceError(
            f"{table.where()}: {option} names column '{name}', which is not there",
            "columns: " + ", ".join(columns),
        )


def _detect_text(
    table: TableLike, columns: Sequence[str], prof: Mapping[str, ColumnProfile], plan: ColumnPlan
) -> list[str]:
    """An abstract-named column with text; else the title; else the longest texts."""

    def has_text(c: str) -> bool:
        return bool(prof[c].strings)

    found = text_column(columns, has_text)
    if found:
        return [found]
    title = title_column(columns, has_text)
    if title:
        plan.choices.append(f"text: '{title}' (no abstract column with text)")
        return [title]
    empty = named(columns, "text", loose=False)
    if empty:
        return [empty]  # an abstract column with no text: the error says so
    best, best_len = None, 0.0
    for c in columns:
        p = prof[c]
        if c == plan.id_column or not p.strings or p.strings < p.values / 2:
            continue
        mean = p.string_chars / p.strings
        if mean > best_len:
            best, best_len = c, mean
    if best is None:
        raise SourceError(
            f"{table.where()}: no text column found (no column named like "
            f"{', '.join(text_names(4))} or title, and no column of text)",
            "name the text column with --text COLUMN",
        )
    plan.choices.append(f"text: '{best}' (the column with the longest texts)")
    return [best]


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_date(value: Any) -> str | None:
    """An RFC 3339 UTC timestamp for a date-like value in an unambiguous form, or None
    (see ``types.parse_date`` for slash dates and Excel serial numbers)."""
    return _parse_date(value)


def clean_text(value: str) -> str:
    """A string without control characters (tab, newline and carriage return stay)."""
    return _CONTROL.sub(" ", value)


def _typed(value: Any, column: str, plan: ColumnPlan) -> Any:
    if column in plan.date_columns:
        parsed = plan.parse_date(column, value)
        if parsed is not None:
            return [parsed] if column in plan.list_columns else parsed
        if column in plan.list_columns and isinstance(value, str):
            parts = [clean_text(s).strip() for s in value.split(plan.list_seps[column])]
            return [plan.parse_date(column, s) or s for s in parts if s]
    if column in plan.list_columns:
        if isinstance(value, str):
            sep = plan.list_seps.get(column, LIST_SEP)
            items = [clean_text(s).strip() for s in value.split(sep)]
            return [s for s in items if s]
        if isinstance(value, (list, tuple)):
            return [clean_text(str(x)).strip() for x in value if not _blank(x)]
    if column in plan.identifiers:
        return _identifier(value)
    kind = plan.number_columns.get(column)
    if kind and isinstance(value, str):
        s = value.strip()
        if kind == "decimal" and (DECIMAL_COMMA.match(s) or _INT.match(s)):
            return float(s.replace(".", "").replace(",", "."))
        if kind == "int" and (_INT.match(s) or _INT_FLOAT.match(s)):
            n = int(s.split(".", 1)[0])
            return n if _INT64[0] <= n <= _INT64[1] else s
        if kind == "float" and _FLOAT.match(s) and math.isfinite(float(s)):
            return float(s)
        if kind == "bool" and s in BOOL_CELLS:
            return BOOL_CELLS[s]
    if isinstance(value, (dt.datetime, dt.date)):
        return parse_date(value)
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value if not _blank(v)]
    return _plain(value)


def _identifier(value: Any) -> Any:
    """An identifier's cell as text as written (a number cell without a trailing '.0')."""
    if isinstance(value, str):
        return clean_text(value).strip()
    if isinstance(value, (bool, dt.date, dt.datetime, dt.time)):
        return _plain(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return _plain(value)


def _plain(value: Any) -> Any:
    """A value a Qdrant payload can hold (JSON, integers within 64 bits)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return parse_date(value)
    if isinstance(value, dict):
        return clean_text(json.dumps(value, ensure_ascii=False, default=str))
    if hasattr(value, "item"):  # numpy scalars from parquet
        try:
            return _plain(value.item())
        except (TypeError, ValueError):
            return clean_text(str(value))
    return clean_text(str(value))


def join_text(row: Row, plan: ColumnPlan) -> str:
    parts = []
    for c in plan.text_columns:
        v = row.get(c)
        if not _blank(v):
            text = clean_text(str(v)).strip()
            if text:
                parts.append(text)
    return "\n".join(parts)


def raw_key(value: Any) -> str | None:
    """A document key from an id cell (None when it is empty)."""
    key = normalize_key(value)
    if key is not None:
        key = clean_text(key).strip() or None
    if key is None:
        return None
    whole = _FLOAT_ID.match(key)
    return whole.group(1).lstrip("+") if whole else key


def row_key(row_no: int, row: Row, plan: ColumnPlan, table: TableLike) -> str:
    if plan.id_column is None:
        return str(row_no)
    key = raw_key(row.get(plan.id_column))
    if key is None:
        raise SourceError(
            f"{table.where(row_no, plan.id_column)}: the id is empty",
            "give every row an id, or leave out --id to key rows by their number",
        )
    return key


def build_record(
    row_no: int, row: Row, plan: ColumnPlan, table: TableLike, source: str | None = None
) -> Record:
    """The record of one row; ``source`` (the file's name) is stored as ``_file``."""
    payload: dict[str, Any] = {}
    for c in plan.columns:
        v = row.get(c)
        if _blank(v):
            continue
        if c in plan.strict_dates and plan.parse_date(c, v) is None:
            raise not_a_date(table, row_no, c, v)
        typed = _typed(v, c, plan)
        if typed is None or typed == []:
            continue
        if isinstance(typed, str):
            typed = typed.strip() if c not in plan.text_columns else typed
            if not typed.strip():  # only control characters
                continue
        payload[plan.fields[c]] = typed
    key = row_key(row_no, row, plan, table)
    payload["_key"] = key
    payload["_row"] = row_no
    if source is not None:
        payload["_file"] = source
    return Record(row_no, key, join_text(row, plan), payload)


def not_a_date(table: TableLike, row_no: int, column: str, value: Any) -> SourceError:
    shown = str(value) if len(str(value)) <= 40 else str(value)[:40] + "..."
    return SourceError(
        f"{table.where(row_no, column)}: {shown!r} is not a date",
        "write dates as 2024-01-31 (or 20240131, 2024.01.31, 10/20/2024 with --date-format "
        f"MDY), or leave '{column}' out of --date to store it as text",
    )


def text_hash(fingerprint: str, text: str) -> str:
    """Content hash of model + text: equal hashes mean equal embeddings."""
    return hashlib.sha256(f"{fingerprint}\0{text}".encode()).hexdigest()[:24]


def field_type(value: Any, *, is_date: bool) -> str:
    """The index type of one stored value (for lists: of their elements)."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if is_date and isinstance(value, str) and value.endswith("Z") and _parse_date(value[:10]):
        return "datetime"
    return "keyword"


def merge_types(types: Iterable[str]) -> str:
    """One type for a field from the types of its values."""
    kinds = set(types)
    if not kinds:
        return "keyword"
    if len(kinds) == 1:
        return kinds.pop()
    if kinds <= {"integer", "float"}:
        return "float"
    return "keyword"
