"""Dates: how a date is written in a cell or a filter, and the one form it is stored in.

The one home of date spellings: ingest reads cells with ``parse_date``, ``--where`` reads
values with ``parse_when``, the JSON filter's range bounds go through ``json_bound``, and
output shows stored dates with ``shown_date``.  A code-health test keeps date parsing out
of every other module (the web page sends what the user typed to the server).

Stored form: RFC 3339 in UTC to the second (``2019-01-31T00:00:00Z``), so that Qdrant's
datetime ranges work; a day is its midnight.

Spellings read in cells and in filters alike (``DAY_SPELLINGS``):

- ISO 8601: ``2019-01-31``, ``2019-1-31``, ``2019-01-31T09:30:00Z``, ``2019-01-31 09:30``
  (a time without a zone is UTC);
- compact: ``20190131`` (in cells also the number, and ``20190131.0`` as pandas writes it);
- year first with dots or slashes: ``2019.01.31``, ``2019. 1. 31.`` (Korean documents),
  ``2019/01/31``;
- day first with dots: ``31.01.2019`` (as Europe writes dotted dates);
- with Korean units: ``2019년 1월 31일``, ``2019년01월31일`` (spaces and the closing ``일``
  optional).

Only in cells: slash dates with the year last (``10/20/2008``), read month/day or day/month
by an order the column's values prove or the user gives (``order``); Excel serial numbers
(``44936`` = 2023-01-10) in date-named columns of text files (``serial``); a ``strptime``
format the user gives (``fmt``).  Cells are read as dates only within ``CELL_YEARS``, so
that numbers are not taken for dates of long ago.

Only in filters: a year (``2019``, ``2019년``) or a month (``2019-01``, ``2019년 1월``),
meaning that whole span; a slash date with the year last is refused there (no column proves
its order) with the year-first spelling to write instead.

The page's date boxes hold a day; ``box_day`` is the day a box shows for a ``>=`` or ``<=``
filter in any spelling (``2019`` → 2019-01-01 and 2019-12-31), so that the page reads no date
itself.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

MIDNIGHT = "T00:00:00Z"  # a stored day: its midnight, UTC
_LAST_INSTANT = "9999-12-31T23:59:59Z"

DATE_ORDERS = ("MDY", "DMY")
# Excel serial numbers taken as dates: 1954-10-03 .. 2119-01-08, so that small counts
# ("30 days") in a date-named column are not read as dates of 1900.
SERIAL_RANGE = (20_000, 80_000)
EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # serial 0 (Excel's 1900 date system)
EXCEL_1904_EPOCH = dt.datetime(1904, 1, 1)  # serial 0 of the 1904 date system (old Mac)
CELL_YEARS = (1700, 2200)

# The spellings of one day, for messages and the docs.
DAY_SPELLINGS = (
    "2019-01-31",
    "2019-1-31",
    "20190131",
    "2019.01.31",
    "2019/01/31",
    "31.01.2019",
    "2019년 1월 31일",
)
WHEN_EXAMPLES = "2015, 2015-03, 2015-03-01, 20150301 or 2015-03-01T09:30:00Z"

_SLASH = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?.*)?$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*$")
_ISO_LOOSE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_YYYYMMDD = re.compile(r"^(\d{4})(\d{2})(\d{2})(\.0*)?$")
_DOTTED = re.compile(r"^(\d{4})\.\s?(\d{1,2})\.\s?(\d{1,2})\.?$")
_YMD_SLASH = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_DMY_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
# Korean units: 년 year, 월 month, 일 day.
_UNITS = re.compile(r"^(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일?$")
_UNITS_MONTH = re.compile(r"^(\d{4})\s*년\s*(\d{1,2})\s*월$")
_UNITS_YEAR = re.compile(r"^(\d{4})\s*년$")
_SERIAL = re.compile(r"^(\d{5})(\.\d+)?$")
_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_START = re.compile(r"^\d{4}")


class DateSpellingError(ValueError):
    """A filter value that is no date, or not one without a guess; ``hint`` says what to
    write instead."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


# -- the stored form -----------------------------------------------------------------------


def rfc3339(value: dt.datetime) -> str:
    """A naive (UTC) time stamp as stored: to the second, with ``Z``."""
    return value.isoformat(timespec="seconds") + "Z"


def day_rfc3339(day: dt.date) -> str:
    """A day (no time) as stored: its midnight, UTC."""
    return rfc3339(dt.datetime.combine(day, dt.time()))


def now_rfc3339() -> str:
    """This moment as stored."""
    return rfc3339(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0))


def shown_date(text: str) -> str:
    """A stored date-time as people read it: the day alone where it is a day's midnight."""
    return text[: -len(MIDNIGHT)] if text.endswith(MIDNIGHT) else text


def year_of(text: str) -> str | None:
    """The year of a stored date ('2019' of '2019-01-31T00:00:00Z'), or None."""
    return text[:4] if _YEAR_START.match(text) else None


def parse_rfc3339(text: str) -> dt.datetime:
    """An ISO 8601 / RFC 3339 time stamp (``Z`` or ``z`` for UTC); ``ValueError`` if it is
    none."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


def json_bound(text: str) -> dt.datetime:
    """A datetime bound of a JSON filter's range, as the engine gets it unchanged (an ISO
    8601 time stamp, ``Z`` for UTC); ``ValueError`` if it is none."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- Excel serial numbers ------------------------------------------------------------------


def from_excel_serial(days: float, base: dt.datetime = EXCEL_EPOCH) -> dt.datetime:
    """The time an Excel serial number stands for; ``OverflowError`` beyond the calendar."""
    return base + dt.timedelta(days=days)


def to_excel_serial(value: dt.datetime) -> int | float:
    """The Excel serial number of a time (an integer for a midnight)."""
    serial = (value - EXCEL_EPOCH).total_seconds() / 86400
    return int(serial) if serial.is_integer() else serial


# -- cells ---------------------------------------------------------------------------------


def _valid(y: Any, m: Any, d: Any, *, years: tuple[int, int] = CELL_YEARS) -> bool:
    try:
        date = dt.date(int(y), int(m), int(d))
    except ValueError:
        return False
    return years[0] <= date.year <= years[1]


def _iso(s: str) -> dt.datetime | None:
    """An ISO 8601 date or time stamp (any year), or None."""
    try:
        if m := _ISO_LOOSE.match(s):
            y, mo, da = (int(g) for g in m.groups())
            return dt.datetime(y, mo, da)
        return parse_rfc3339(s)
    except ValueError:
        return None


def _number_form(value: float) -> str | None:
    if 10_000_000 <= value <= 99_999_999 and float(value).is_integer():
        s = str(int(value))
        return "yyyymmdd" if _valid(s[:4], s[4:6], s[6:8]) else None
    return "serial" if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1] else None


def date_form(value: Any) -> str | None:
    """The form of a date-like cell (``cell``, ``iso``, ``yyyymmdd``, ``dotted``, ``ymd``,
    ``dmy_dotted``, ``units``, ``slash``, ``serial``), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return "cell"
    if isinstance(value, float):
        return _number_form(value) if math.isfinite(value) else None
    if isinstance(value, int):
        return _number_form(value)
    if not isinstance(value, str):
        return None
    s = value.strip()
    if len(s) > 40 or not s or not s[0].isdigit():
        return None
    if _ISO.match(s) or _ISO_LOOSE.match(s):
        return "iso" if _iso(s) is not None else None
    if m := _YYYYMMDD.match(s):
        return "yyyymmdd" if _valid(*m.groups()[:3]) else None
    if m := _DOTTED.match(s):
        return "dotted" if _valid(*m.groups()) else None
    if m := _YMD_SLASH.match(s):
        return "ymd" if _valid(*m.groups()) else None
    if m := _DMY_DOTTED.match(s):
        day, month, year = m.groups()
        return "dmy_dotted" if _valid(year, month, day) else None
    if m := _UNITS.match(s):
        return "units" if _valid(*m.groups()) else None
    if parts := slash_parts(s):
        a, b, y = parts
        return "slash" if any(_valid(y, mo, d) for mo, d in ((a, b), (b, a))) else None
    if _SERIAL.match(s) and SERIAL_RANGE[0] <= float(s) <= SERIAL_RANGE[1]:
        return "serial"
    return None


def slash_parts(text: str) -> tuple[int, int, int] | None:
    """The three numbers of a slash date with the year last (10/20/2008), or None."""
    m = _SLASH.match(text.strip())
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _year_first(s: str, years: tuple[int, int]) -> dt.datetime | None:
    """A day written year first or day first with dots (every spelling but slash dates
    with the year last), within ``years``; None otherwise."""
    if m := _ISO_LOOSE.match(s):
        y, mo, da = m.groups()
    elif m := _YYYYMMDD.match(s):
        y, mo, da = m.groups()[:3]
    elif m := (_DOTTED.match(s) or _YMD_SLASH.match(s) or _UNITS.match(s)):
        y, mo, da = m.groups()
    elif m := _DMY_DOTTED.match(s):
        da, mo, y = m.groups()
    else:
        return None
    return dt.datetime(int(y), int(mo), int(da)) if _valid(y, mo, da, years=years) else None


def parse_date(
    value: Any, *, order: str | None = None, serial: bool = False, fmt: str | None = None
) -> str | None:
    """The stored form of a date-like cell, or None.

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
        return rfc3339(from_excel_serial(float(value))) if serial else None
    if isinstance(value, (int, float)):
        value = str(int(value))
    s = str(value).strip()
    if form == "iso":
        d = _iso(s)
        return parse_date(d) if d is not None else None
    if form == "slash":
        parts = slash_parts(s)
        if order not in DATE_ORDERS or parts is None:
            return None
        a, b, y = parts
        month, day = (a, b) if order == "MDY" else (b, a)
        return rfc3339(dt.datetime(y, month, day)) if _valid(y, month, day) else None
    d = _year_first(s, CELL_YEARS)
    return rfc3339(d) if d is not None else None


def _in_years(d: dt.datetime) -> str | None:
    return rfc3339(d) if CELL_YEARS[0] <= d.year <= CELL_YEARS[1] else None


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


# -- filters -------------------------------------------------------------------------------

_ANY_YEAR = (dt.MINYEAR, dt.MAXYEAR)


def parse_when(text: str) -> tuple[str, str | None]:
    """The stored-form bounds of a filter's date: (start, end) of the year, month or day
    it names, or (instant, None) for a time; ``DateSpellingError`` for anything else."""
    s = text.strip()
    try:
        if m := (_YEAR.match(s) or _UNITS_YEAR.match(s)):
            start = dt.datetime(int(m.group(1)), 1, 1)
            return _span(start, lambda: start.replace(year=start.year + 1))
        if m := (_MONTH.match(s) or _UNITS_MONTH.match(s)):
            start = dt.datetime(int(m.group(1)), int(m.group(2)), 1)
            return _span(start, lambda: _next_month(start))
        if day := _year_first(s, _ANY_YEAR):
            return _span(day, lambda: day + dt.timedelta(days=1))
        if _INSTANT.match(s):
            instant = parse_rfc3339(s)
            if instant.tzinfo is not None:
                instant = instant.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return rfc3339(instant), None
    except OverflowError:
        raise DateSpellingError(
            f"{text!r} is beyond the calendar in UTC", "write a time between years 0001 and 9999"
        ) from None
    except ValueError:
        pass
    if parts := slash_parts(s):
        raise _ambiguous(text, *parts)
    raise DateSpellingError(f"{text!r} is not an ISO 8601 date", f"dates look like {WHEN_EXAMPLES}")


def _next_month(start: dt.datetime) -> dt.datetime:
    return (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _span(start: dt.datetime, next_start: Callable[[], dt.datetime]) -> tuple[str, str]:
    try:
        end = next_start()
    except (OverflowError, ValueError):
        return rfc3339(start), _LAST_INSTANT  # a span that ends with the calendar
    return rfc3339(start), rfc3339(end)


def _ambiguous(text: str, a: int, b: int, year: int) -> DateSpellingError:
    days = []
    for month, day in ((a, b), (b, a)):
        if _valid(year, month, day, years=_ANY_YEAR):
            days.append(f"{year:04d}-{month:02d}-{day:02d}")
    days = list(dict.fromkeys(days))
    if not days:
        return DateSpellingError(f"{text!r} is not a date", f"dates look like {WHEN_EXAMPLES}")
    if len(days) == 1:
        return DateSpellingError(f"{text!r} puts the year last", f"write {days[0]}")
    return DateSpellingError(
        f"{text!r} puts the year last: month/day and day/month read it differently",
        f"write the year first: {days[0]} (month/day) or {days[1]} (day/month)",
    )


# -- the page's date boxes -----------------------------------------------------------------


def box_day(op: str, text: str) -> str | None:
    """The day (YYYY-MM-DD) a date box shows for the filter ``FIELD>=text`` (``op`` ``>=``:
    the first day it takes) or ``FIELD<=text`` (``<=``: the last day), such that the box's
    day, sent back in the same filter, means what ``text`` meant; None where no day does (a
    time of day, a value that is no date, another operator)."""
    try:
        start, end = parse_when(text)
    except DateSpellingError:
        return None
    if op == ">=":
        # >= takes from the span's start (a day's midnight) or from an instant
        return shown_date(start) if start.endswith(MIDNIGHT) else None
    if op == "<=" and end is not None:
        # <= takes up to the next span's start: the day before it, or the calendar's end
        if end == _LAST_INSTANT:
            return end[:10]
        return (dt.date.fromisoformat(end[:10]) - dt.timedelta(days=1)).isoformat()
    return None  # <= an instant: up to a time of day, which no day says
