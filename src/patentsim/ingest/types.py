"""What each column holds, learnt from every value of the file.

The pipeline's validation pass feeds every non-blank cell to a
``ColumnProfile`` (cheap counters, no values kept); ``plan_columns`` then
decides each column's type from the whole file, so a column that is empty in
the first thousand rows is typed by the rest.

Dates come in many forms; ``date_form`` names the form of one value and
``parse_date`` reads it:

- real date cells (Excel), ISO 8601 (``2023-01-10``, ``2023-01-10T09:30:00Z``);
- ``20230110`` (text or number, also ``20230110.0`` as pandas writes it);
- ``2023.01.10``, ``2023. 01. 10``, ``2023/01/10``; ``10.01.2023`` (day first, as Europe
  writes dotted dates);
- slash dates with the year last (``10/20/2008``): month/day or day/month, an
  order proven by the column's own values (a first part above 12 proves
  day/month, a second part above 12 month/day), known for an exporter, or given
  with ``--date-format``;
- Excel serial numbers (``44936`` = 2023-01-10) in date-named columns of text files.

List columns split on a separator found per column: ``;;`` (Lens), ``|``
(KIPRIS-style), ``;``; or one given with ``--list COL:SEP``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..store.payload import BOOL_CELLS, day_rfc3339, parse_rfc3339, rfc3339

# Separators looked for in list columns, most specific first (";;" before ";").
LIST_SEPARATORS = (";;", "|", ";")
DEFAULT_LIST_SEP = "|"
# A separator found in at least this share of a column's values makes it a list column.
LIST_SHARE = 0.2
# Columns whose values are longer than this on average are prose, not lists of codes or names.
LIST_MAX_MEAN_CHARS = 200

DATE_ORDERS = ("MDY", "DMY")
_SLASH = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?.*)?$")
_ISO_LOOSE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_YYYYMMDD = re.compile(r"^(\d{8})(\.0*)?$")
_DOTTED = re.compile(r"^(\d{4})\.\s?(\d{1,2})\.\s?(\d{1,2})\.?$")
_YMD_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_SERIAL = re.compile(r"^(\d{5})(\.\d+)?$")
# Excel serial numbers taken as dates: 1954-10-03 .. 2119-01-08, so that small counts
# ("30 days") in a date-named column are not read as dates of 1900.
SERIAL_RANGE = (20_000, 80_000)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_YEARS = (1700, 2200)

_INT = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_INT_FLOAT = re.compile(r"^[+-]?(0|[1-9]\d{0,17})\.0+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
# A number written with leading zeros (0490308): an identifier, kept as written.
_LEADING_ZERO = re.compile(r"^0\d+$")
# A decimal comma, with dots between thousands (1.234,56): numbers of a European-locale file.
DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_DMY_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


@dataclass
class ColumnProfile:
    """Counters over every non-blank value of one column."""

    values: int = 0
    strings: int = 0
    string_chars: int = 0
    ints: int = 0  # strings that read as integers
    int_floats: int = 0  # strings such as "12.0" (pandas writes integers of a column with gaps so)
    floats: int = 0  # strings that read as numbers (integers included)
    bools: int = 0  # strings true/false
    leading_zeros: int = 0  # strings of digits that start with 0 (identifiers)
    decimal_commas: int = 0  # strings such as 1,5 or 1.234,56
    huge: int = 0  # strings that read as numbers beyond a float's range (1e400)
    date_lists: Counter[str] = field(default_factory=Counter)  # 'd1 | d2': separator -> values
    not_dates: int = 0  # values that read as no date
    not_date_example: Any = None  # the first of them
    native_numbers: int = 0  # cells that are numbers (xlsx, parquet, jsonl)
    native_dates: int = 0  # cells that are dates
    date_forms: Counter[str] = field(default_factory=Counter)
    slash_day_first: int = 0  # slash dates whose first part is above 12 (day/month)
    slash_month_first: int = 0  # ... whose second part is above 12 (month/day)
    separators: Counter[str] = field(default_factory=Counter)
    first_row: int | None = None
    example: Any = None

    def add(self, value: Any, row: int) -> None:
        self.values += 1
        if self.first_row is None:
            self.first_row, self.example = row, value
        if isinstance(value, str):
            s = value.strip()
            self.strings += 1
            self.string_chars += len(s)
            if _INT.match(s):
                self.ints += 1
            elif _INT_FLOAT.match(s):
                self.int_floats += 1
            elif _LEADING_ZERO.match(s):
                self.leading_zeros += 1
            if _FLOAT.match(s):
                if math.isfinite(float(s)):
                    self.floats += 1
                else:
                    self.huge += 1
            elif s in BOOL_CELLS:
                self.bools += 1
            elif DECIMAL_COMMA.match(s):
                self.decimal_commas += 1
            if ";;" in s:
                self.separators[";;"] += 1
            elif ";" in s:
                self.separators[";"] += 1
            if "|" in s:
                self.separators["|"] += 1
        elif isinstance(value, bool):
            pass
        elif isinstance(value, (int, float)):
            self.native_numbers += 1
        elif isinstance(value, (dt.date, dt.datetime)):
            self.native_dates += 1
        form = date_form(value)
        if form is None and isinstance(value, str) and (sep := _date_list(value)):
            self.date_lists[sep] += 1
        elif form is None:
            self.not_dates += 1
            if self.not_date_example is None:
                self.not_date_example = value
        else:
            self.date_forms[form] += 1
            if form == "slash":
                m = _SLASH.match(value.strip())
                assert m is not None
                a, b = int(m.group(1)), int(m.group(2))
                self.slash_day_first += a > 12
                self.slash_month_first += b > 12

    def merge(self, other: ColumnProfile) -> None:
        """Add another file's counters (several files into one collection)."""
        for name in (
            "values",
            "strings",
            "string_chars",
            "ints",
            "int_floats",
            "floats",
            "bools",
            "native_numbers",
            "native_dates",
            "leading_zeros",
            "decimal_commas",
            "huge",
            "not_dates",
            "slash_day_first",
            "slash_month_first",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.date_forms.update(other.date_forms)
        self.date_lists.update(other.date_lists)
        self.separators.update(other.separators)
        if self.first_row is None:
            self.first_row, self.example = other.first_row, other.example
        if self.not_date_example is None:
            self.not_date_example = other.not_date_example

    # -- decisions -------------------------------------------------------------------
    def dates(self, *, serial: bool) -> int:
        """How many values read as dates or lists of dates (Excel serial numbers only where
        ``serial``)."""
        single = sum(n for form, n in self.date_forms.items() if serial or form != "serial")
        return single + sum(self.date_lists.values())

    def date_list_separator(self) -> str | None:
        """The separator of the values that are lists of dates ('2018.05.11 | 2018.06.20')."""
        return self.date_lists.most_common(1)[0][0] if self.date_lists else None

    def slash_order(self) -> str | None:
        """The order the column's slash dates prove: MDY, DMY, or None (none proven or both)."""
        if self.slash_month_first and not self.slash_day_first:
            return "MDY"
        if self.slash_day_first and not self.slash_month_first:
            return "DMY"
        return None

    def slash_conflict(self) -> bool:
        return bool(self.slash_day_first and self.slash_month_first)

    def list_separator(self) -> str | None:
        """The separator in at least a fifth of the values, for a column of short strings."""
        if not self.strings or self.strings < self.values:
            return None
        if self.string_chars / self.strings > LIST_MAX_MEAN_CHARS:
            return None
        for sep in LIST_SEPARATORS:
            if self.separators[sep] >= max(1, LIST_SHARE * self.strings):
                return sep
        return None

    def common_separator(self) -> str:
        """The separator seen most in the column ('|' when none is)."""
        seen = [(self.separators[s], -i, s) for i, s in enumerate(LIST_SEPARATORS)]
        count, _, sep = max(seen)
        return sep if count else DEFAULT_LIST_SEP

    def number_kind(self, *, decimal_comma: bool = False) -> str | None:
        """int, float or bool when every value is text of that kind; ``decimal_comma``
        (a European-locale file): "decimal" when every value is an integer or a number with
        a decimal comma.  None for numbers with leading zeros (identifiers) or beyond a
        float's range (kept as text)."""
        if not self.strings or self.strings < self.values or self.leading_zeros or self.huge:
            return None
        if self.bools == self.strings:
            return "bool"
        if self.ints + self.int_floats == self.strings:
            return "int"
        if self.floats == self.strings:
            return "float"
        decimals = self.ints + self.decimal_commas
        if decimal_comma and self.decimal_commas and decimals == self.strings:
            return "decimal"
        return None


def _date_list(value: str) -> str | None:
    """The separator of a cell that holds several dates, or None."""
    for sep in LIST_SEPARATORS:
        if sep in value:
            parts = [p.strip() for p in value.split(sep) if p.strip()]
            if len(parts) > 1 and all(date_form(p) not in (None, "serial") for p in parts):
                return sep
            return None
    return None


def date_form(value: Any) -> str | None:
    """The form of a date-like value (``cell``, ``iso``, ``yyyymmdd``, ``dotted``,
    ``ymd``, ``slash``, ``serial``), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return "cell"
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer() and 10_000_000 <= value <= 99_999_999:
            return "yyyymmdd" if _ymd(str(int(value))) else None
        return "serial" if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1] else None
    if isinstance(value, int):
        if 10_000_000 <= value <= 99_999_999:
            return "yyyymmdd" if _ymd(str(value)) else None
        return "serial" if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1] else None
    if not isinstance(value, str):
        return None
    s = value.strip()
    if len(s) > 40 or not s or not s[0].isdigit():
        return None
    if _ISO.match(s) or _ISO_LOOSE.match(s):
        return "iso" if _iso(s) is not None else None
    if m := _YYYYMMDD.match(s):
        return "yyyymmdd" if _ymd(m.group(1)) else None
    if m := _DOTTED.match(s):
        return "dotted" if _valid(*m.groups()) else None
    if m := _YMD_SLASH.match(s):
        return "ymd" if _valid(*m.groups()) else None
    if m := _DMY_DOTTED.match(s):
        day, month, year = m.groups()
        return "dmy_dotted" if _valid(year, month, day) else None
    if m := _SLASH.match(s):
        a, b, y = (int(g) for g in m.groups())
        ok = any(_valid(y, mo, d) for mo, d in ((a, b), (b, a)))
        return "slash" if ok else None
    if (m := _SERIAL.match(s)) and SERIAL_RANGE[0] <= float(s) <= SERIAL_RANGE[1]:
        return "serial"
    return None


def _iso(s: str) -> dt.datetime | None:
    """An ISO 8601 date or time stamp within the years taken, or None."""
    try:
        if m := _ISO_LOOSE.match(s):
            y, mo, da = (int(g) for g in m.groups())
            d = dt.datetime(y, mo, da)
        else:
            d = parse_rfc3339(s)
    except ValueError:
        return None
    return d


def _ymd(s: str) -> bool:
    return _valid(s[:4], s[4:6], s[6:8])


def _valid(y: Any, m: Any, d: Any) -> bool:
    try:
        date = dt.date(int(y), int(m), int(d))
    except ValueError:
        return False
    return _YEARS[0] <= date.year <= _YEARS[1]


def parse_date(
    value: Any, *, order: str | None = None, serial: bool = False, fmt: str | None = None
) -> str | None:
    """An RFC 3339 UTC timestamp for a date-like value, or None.

    ``order`` (MDY or DMY) reads slash dates with the year last; ``serial`` reads
    Excel serial numbers; ``fmt`` is a ``strptime`` format tried first.
    """
    if isinstance(value, bool):
        return None
    if fmt is not None and isinstance(value, str):
        try:
            return _in_years(dt.datetime.strptime(value.strip(), fmt))
        except ValueError:
            pass
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            try:
                value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
            except (OverflowError, ValueError):  # year 1 or 9999 shifted out of range
                return None
        return rfc3339(value)
    if isinstance(value, dt.date):
        return day_rfc3339(value)
    form = date_form(value)
    if form is None:
        return None
    if form == "serial":
        if not serial:
            return None
        days = float(value)
        return rfc3339(_EXCEL_EPOCH + dt.timedelta(days=days))
    if isinstance(value, (int, float)):
        value = str(int(value))
    s = str(value).strip()
    if form == "iso":
        d = _iso(s)
        return parse_date(d) if d is not None else None
    if form == "yyyymmdd":
        s = s.split(".", 1)[0]
        return _in_years(dt.datetime(int(s[:4]), int(s[4:6]), int(s[6:8])))
    if form == "dmy_dotted":
        m = _DMY_DOTTED.match(s)
        assert m is not None
        da, mo, y = (int(g) for g in m.groups())
        return _in_years(dt.datetime(y, mo, da))
    if form in ("dotted", "ymd"):
        m = (_DOTTED if form == "dotted" else _YMD_SLASH).match(s)
        assert m is not None
        y, mo, da = (int(g) for g in m.groups())
        return _in_years(dt.datetime(y, mo, da))
    if form == "slash":
        if order not in DATE_ORDERS:
            return None
        m = _SLASH.match(s)
        assert m is not None
        a, b, y = (int(g) for g in m.groups())
        month, day = (a, b) if order == "MDY" else (b, a)
        try:
            return _in_years(dt.datetime(y, month, day))
        except ValueError:
            return None
    return None


def _in_years(d: dt.datetime) -> str | None:
    return rfc3339(d) if _YEARS[0] <= d.year <= _YEARS[1] else None


def date_format_option(text: str) -> tuple[str | None, str | None, str | None]:
    """``--date-format [COL:]FMT`` as (column or None, order MDY/DMY or None, strptime format).

    FMT is MDY or DMY (slash dates with the year last), or a ``strptime`` format such as
    ``%d.%m.%Y``.
    """
    column, sep, fmt = text.rpartition(":") if ":" in text else ("", "", text)
    if sep and "%" in column:  # a format holding ':' (%H:%M) without a column
        column, fmt = "", text
    column = column.strip()
    fmt = fmt.strip()
    key = fmt.upper().replace("/", "").replace("-", "").replace(".", "")
    aliases = {"MDY": "MDY", "MMDDYYYY": "MDY", "DMY": "DMY", "DDMMYYYY": "DMY"}
    if key in aliases:
        return column or None, aliases[key], None
    if "%" not in fmt:
        return column or None, None, None
    return column or None, None, fmt
