"""What each column holds, learnt from every value of the file.

The pipeline's validation pass feeds every non-blank cell to a
``ColumnProfile`` (cheap counters, no values kept); ``plan_columns`` then
decides each column's type from the whole file, so a column that is empty in
the first thousand rows is typed by the rest.

Dates are read by ``patentsim.dates`` (the one home of date spellings); a profile counts
the form of each value (``date_form``) and the order its slash dates prove.

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

from ..dates import date_form, slash_parts
from ..store.payload import BOOL_CELLS

# Separators looked for in list columns, most specific first (";;" before ";").
LIST_SEPARATORS = (";;", "|", ";")
DEFAULT_LIST_SEP = "|"
# A separator found in at least this share of a column's values makes it a list column.
LIST_SHARE = 0.2
# Columns whose values are longer than this on average are prose, not lists of codes or names.
LIST_MAX_MEAN_CHARS = 200


_INT = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_INT_FLOAT = re.compile(r"^[+-]?(0|[1-9]\d{0,17})\.0+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
# A number written with leading zeros (0490308): an identifier, kept as written.
_LEADING_ZERO = re.compile(r"^0\d+$")
# A decimal comma, with dots between thousands (1.234,56): numbers of a European-locale file.
DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")


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
                parts = slash_parts(value)
                assert parts is not None
                a, b, _ = parts
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
