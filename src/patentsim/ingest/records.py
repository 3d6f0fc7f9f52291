"""Rows into records: the text to embed, the document key and a typed payload.

``plan_columns`` looks at a sample of rows once and decides, per column, what
its cells become: dates (RFC 3339 strings, also from yyyymmdd integers and
strings in date-named columns), lists (code columns such as IPC
``B24B 3/34|B24B 49/12``), numbers and booleans (from text formats), or
strings.  ``build_record`` then applies the plan to each row.

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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..store.errors import SourceError
from ..store.ids import normalize_key
from .read import Row, Table

RESERVED = ("_key", "_row", "_hash")
TEXT_NAMES = ("abstract", "요약", "요약문", "초록", "summary", "description", "text", "content")
TITLE_NAMES = ("title", "발명의명칭", "발명의 명칭", "명칭", "제목", "invention_title", "name")
LIST_NAMES = re.compile(
    r"(^|_)(ipc|cpc|fi|f_term|classification|classifications|codes?)($|_)|분류", re.I
)
DATE_NAMES = re.compile(r"date|(^|_)dt$|day|일자|날짜|일$", re.I)
LIST_SEP = "|"

_INT = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_BOOL = {"true": True, "false": False, "TRUE": True, "FALSE": False, "True": True, "False": False}
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%Y.%m.%d", "%Y/%m/%d", "%Y. %m. %d", "%Y.%m.%d.")
_INT64 = (-(2**63), 2**63 - 1)
# C0 controls and DEL, except tab, newline and carriage return: invisible, and they garble
# terminal output.  They become spaces.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# An id that pandas wrote from a float column ("12.0"): the same document as "12".
_FLOAT_ID = re.compile(r"^([+-]?\d{1,15})\.0+$")


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


@dataclass
class Record:
    row: int
    key: str
    text: str
    payload: dict[str, Any]


def field_name(column: str) -> str:
    """The payload field of a column: dots would read as nested paths in Qdrant filters."""
    return column.strip().replace(".", "_")


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _looks_like_date(value: Any) -> bool:
    return parse_date(value) is not None


def plan_columns(
    table: Table,
    sample: Sequence[Row],
    *,
    text: Sequence[str] = (),
    id_column: str | None = None,
    lists: Sequence[str] = (),
    dates: Sequence[str] = (),
) -> ColumnPlan:
    columns = table.columns
    for option, names in (("--text", text), ("--list", lists), ("--date", dates)):
        for name in names:
            _require_column(table, name, option)
    if id_column is not None:
        _require_column(table, id_column, "--id")
    fields = {c: field_name(c) for c in columns}
    reserved = [c for c, f in fields.items() if f in RESERVED]
    if reserved:
        raise SourceError(
            f"{table.where(column=reserved[0])}: the name '{fields[reserved[0]]}' is reserved "
            "for the tool's own fields (_key, _row, _hash)",
            "rename that column",
        )
    clash = _first_clash(fields)
    if clash:
        raise SourceError(
            f"{table.where()}: columns {clash[0]!r} and {clash[1]!r} both become field "
            f"'{fields[clash[0]]}' (dots are stored as '_')",
            "rename one of them",
        )
    values: dict[str, list[Any]] = {c: [] for c in columns}
    for row in sample:
        for c, v in row.items():
            if c in values and not _blank(v):
                values[c].append(v)
    text_columns = list(dict.fromkeys(text)) or _detect_text(table, values)
    plan = ColumnPlan(columns, fields, text_columns, id_column)
    plan.strict_dates = {c for c in dates if c not in text_columns}
    plan.title_column = next(
        (c for c in columns if {c.lower(), c.lower().replace("_", " ")} & set(TITLE_NAMES)),
        None,
    )
    for c in columns:
        if c in text_columns:
            continue
        vals = values[c]
        if c in dates:
            plan.date_columns.add(c)
        elif c in lists:
            plan.list_columns.add(c)
        elif c == id_column:
            continue
        elif _is_date_column(c, vals[:200]):
            plan.date_columns.add(c)
        elif _is_list_column(c, vals):
            plan.list_columns.add(c)
        elif vals and all(_is_text(v) for v in vals):
            kind = _number_kind(vals)
            if kind:
                plan.number_columns[c] = kind
    return plan


def _is_date_column(column: str, vals: list[Any]) -> bool:
    """Dates by name and value, cells that are dates, or ISO 8601 date strings."""
    if not vals:
        return False
    if DATE_NAMES.search(column):
        # A date-named column stays a date column despite a few odd cells (kept as text and
        # reported as a mixed field), so one typo does not turn off its date filters.
        dates = sum(1 for v in vals if _looks_like_date(v))
        if dates >= max(1, 0.9 * len(vals)) or (len(vals) < 10 and dates >= len(vals) - 1 > 0):
            return True
    if all(isinstance(v, (dt.date, dt.datetime)) for v in vals):
        return True
    return all(_is_text(v) and _ISO.match(v) for v in vals) and all(
        _looks_like_date(v) for v in vals
    )


_YYYYMMDD_FLOAT = re.compile(r"^\d{8}\.0*$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?.*)?$")


def _require_column(table: Table, name: str, option: str) -> None:
    if name not in table.columns:
        raise SourceError(
            f"{table.where()}: {option} names column '{name}', which is not there",
            "columns: " + ", ".join(table.columns),
        )


def _first_clash(fields: dict[str, str]) -> tuple[str, str] | None:
    seen: dict[str, str] = {}
    for col, f in fields.items():
        if f in seen:
            return seen[f], col
        seen[f] = col
    return None


def _detect_text(table: Table, values: dict[str, list[Any]]) -> list[str]:
    lowered = {c.lower().strip(): c for c in table.columns}
    for name in TEXT_NAMES:
        if name in lowered:
            return [lowered[name]]
    best, best_len = None, 0.0
    for c, vals in values.items():
        texts = [v for v in vals if isinstance(v, str)]
        if not texts or len(texts) < len(vals) / 2:
            continue
        mean = sum(len(t) for t in texts) / len(texts)
        if mean > best_len:
            best, best_len = c, mean
    if best is None:
        raise SourceError(
            f"{table.where()}: no text column found (no column named like "
            f"{', '.join(TEXT_NAMES[:4])}, and no column of text)",
            "name the text column with --text COLUMN",
        )
    return [best]


def _is_list_column(column: str, vals: list[Any]) -> bool:
    texts = [v for v in vals if isinstance(v, str)]
    if not texts or len(texts) < len(vals):
        return False
    if LIST_NAMES.search(column):
        return True
    with_sep = sum(1 for t in texts if LIST_SEP in t)
    return with_sep >= max(1, len(texts) // 5)


def _number_kind(vals: list[str]) -> str | None:
    stripped = [v.strip() for v in vals]
    if all(s in _BOOL for s in stripped):
        return "bool"
    if all(_INT.match(s) for s in stripped):
        return "int"
    if all(_FLOAT.match(s) for s in stripped):
        return "float"
    return None


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_date(value: Any) -> str | None:
    """An RFC 3339 UTC timestamp for a date-like value, or None.

    Accepts datetimes, dates, yyyymmdd integers (and integer-valued floats) and
    strings in ISO 8601, yyyymmdd, yyyy.mm.dd and yyyy/mm/dd forms.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            try:
                value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
            except (OverflowError, ValueError):  # year 1 or 9999 shifted out of range
                return None
        return value.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat() + "T00:00:00Z"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if not 10_000_000 <= value <= 99_999_999:
            return None
        value = str(value)
    if not isinstance(value, str):
        return None
    s = value.strip()
    if _YYYYMMDD_FLOAT.match(s):
        s = s.split(".", 1)[0]  # 20230110.0: pandas writes yyyymmdd this way when a column has gaps
    if len(s) > 40:
        return None
    for fmt in _DATE_FORMATS:
        try:
            d = dt.datetime.strptime(s, fmt)
        except ValueError:
            continue
        if 1700 <= d.year <= 2200:
            return d.isoformat() + "Z"
    if _ISO.match(s):
        try:
            d = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parse_date(d)
    return None


def clean_text(value: str) -> str:
    """A string without control characters (tab, newline and carriage return stay)."""
    return _CONTROL.sub(" ", value)


def _typed(value: Any, column: str, plan: ColumnPlan) -> Any:
    if column in plan.date_columns:
        parsed = parse_date(value)
        if parsed is not None:
            return parsed
    if column in plan.list_columns:
        if isinstance(value, str):
            items = [clean_text(s).strip() for s in value.split(LIST_SEP)]
            return [s for s in items if s]
        if isinstance(value, (list, tuple)):
            return [clean_text(str(x)).strip() for x in value if not _blank(x)]
    kind = plan.number_columns.get(column)
    if kind and isinstance(value, str):
        s = value.strip()
        if kind == "int" and _INT.match(s):
            n = int(s)
            return n if _INT64[0] <= n <= _INT64[1] else s
        if kind == "float" and _FLOAT.match(s):
            return float(s)
        if kind == "bool" and s in _BOOL:
            return _BOOL[s]
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


def row_key(row_no: int, row: Row, plan: ColumnPlan, table: Table) -> str:
    if plan.id_column is None:
        return str(row_no)
    key = normalize_key(row.get(plan.id_column))
    if key is not None:
        key = clean_text(key).strip() or None
    if key is None:
        raise SourceError(
            f"{table.where(row_no, plan.id_column)}: the id is empty",
            "give every row an id, or leave out --id to key rows by their number",
        )
    whole = _FLOAT_ID.match(key)
    return whole.group(1).lstrip("+") if whole else key


def build_record(row_no: int, row: Row, plan: ColumnPlan, table: Table) -> Record:
    payload: dict[str, Any] = {}
    for c in plan.columns:
        v = row.get(c)
        if _blank(v):
            continue
        if c in plan.strict_dates and parse_date(v) is None:
            shown = str(v) if len(str(v)) <= 40 else str(v)[:40] + "..."
            raise SourceError(
                f"{table.where(row_no, c)}: {shown!r} is not a date",
                "write dates as 2024-01-31 (or 20240131, 2024.01.31, 2024/01/31), or leave "
                f"'{c}' out of --date to store it as text",
            )
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
    return Record(row_no, key, join_text(row, plan), payload)


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
    if is_date and isinstance(value, str) and value.endswith("Z") and parse_date(value[:10]):
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
