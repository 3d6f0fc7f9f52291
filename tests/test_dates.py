"""The one home of dates (patentsim.dates): every spelling, in a cell and in a filter.

One table: each spelling, the stored form a cell of it becomes (None: not a date in a
cell), and the bounds a ``--where`` value of it means (or the words of its one-line error).
The page's JavaScript mirror of ``shown_date`` is run over ``STORED`` in Chromium
(tests/test_web_browser.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patentsim.dates import (
    DAY_SPELLINGS,
    DateSpellingError,
    box_day,
    date_form,
    parse_date,
    parse_when,
    shown_date,
    year_of,
)
from patentsim.errors import BadFilter
from patentsim.search.where import FieldInfo, parse_where, where_filter
from patentsim.store.filters import Range

DAY = "2019-01-31T00:00:00Z"
NEXT = "2019-02-01T00:00:00Z"
SPAN = (DAY, NEXT)

# (text, the stored form of a cell, the bounds of a filter value or the words of its error)
TABLE: list[tuple[str, str | None, tuple[str, str | None] | str]] = [
    # ISO 8601
    ("2019-01-31", DAY, SPAN),
    ("2019-1-31", DAY, SPAN),
    (" 2019-01-31 ", DAY, SPAN),
    ("2019-01-31T09:30:00Z", "2019-01-31T09:30:00Z", ("2019-01-31T09:30:00Z", None)),
    ("2019-01-31T09:30:00z", "2019-01-31T09:30:00Z", ("2019-01-31T09:30:00Z", None)),
    ("2019-01-31 09:30", "2019-01-31T09:30:00Z", ("2019-01-31T09:30:00Z", None)),
    ("2019-01-31T09:30:00+09:00", "2019-01-31T00:30:00Z", ("2019-01-31T00:30:00Z", None)),
    (DAY, DAY, (DAY, None)),
    # compact, dotted, slashed year first, dotted day first
    ("20190131", DAY, SPAN),
    ("20190131.0", DAY, SPAN),
    ("2019.01.31", DAY, SPAN),
    ("2019.1.31", DAY, SPAN),
    ("2019. 01. 31.", DAY, SPAN),
    ("2019/01/31", DAY, SPAN),
    ("31.01.2019", DAY, SPAN),
    # Korean units (년 year, 월 month, 일 day), with or without spaces and the closing 일
    ("2019년 1월 31일", DAY, SPAN),
    ("2019년 01월 31일", DAY, SPAN),
    ("2019년1월31일", DAY, SPAN),
    ("2019 년 1 월 31", DAY, SPAN),
    ("2019년 2월 30일", None, "is not an ISO 8601 date"),
    ("1650년 1월 31일", None, ("1650-01-31T00:00:00Z", "1650-02-01T00:00:00Z")),
    # spans: filters only
    ("2019", None, ("2019-01-01T00:00:00Z", "2020-01-01T00:00:00Z")),
    ("2019-01", None, ("2019-01-01T00:00:00Z", NEXT)),
    ("2019-12", None, ("2019-12-01T00:00:00Z", "2020-01-01T00:00:00Z")),
    ("2016-02-28", "2016-02-28T00:00:00Z", ("2016-02-28T00:00:00Z", "2016-02-29T00:00:00Z")),
    ("9999-12-31", "9999-12-31T00:00:00Z", ("9999-12-31T00:00:00Z", "9999-12-31T23:59:59Z")),
    ("9999", None, ("9999-01-01T00:00:00Z", "9999-12-31T23:59:59Z")),
    ("2019년", None, ("2019-01-01T00:00:00Z", "2020-01-01T00:00:00Z")),
    ("2019년 1월", None, ("2019-01-01T00:00:00Z", NEXT)),
    ("2019년12월", None, ("2019-12-01T00:00:00Z", "2020-01-01T00:00:00Z")),
    ("2019년 13월", None, "is not an ISO 8601 date"),
    # cells are dates within 1700..2200 (a number is not taken for a date of long ago);
    # a filter value is written as a date on purpose
    ("1650.01.31", None, ("1650-01-31T00:00:00Z", "1650-02-01T00:00:00Z")),
    ("16500131", None, ("1650-01-31T00:00:00Z", "1650-02-01T00:00:00Z")),
    ("1650-01-31", "1650-01-31T00:00:00Z", ("1650-01-31T00:00:00Z", "1650-02-01T00:00:00Z")),
    # slash dates with the year last: in a cell by the column's order, in a filter refused
    ("10/20/2008", None, "'10/20/2008' puts the year last|write 2008-10-20"),
    ("20/10/2008", None, "'20/10/2008' puts the year last|write 2008-10-20"),
    ("03/04/2008", None, "month/day and day/month|2008-03-04 (month/day) or 2008-04-03"),
    ("13/13/2008", None, "'13/13/2008' is not a date|dates look like"),
    # Excel serial numbers: cells of date-named columns only
    ("44936", None, "is not an ISO 8601 date|dates look like"),
    # not dates
    ("2019-02-30", None, "is not an ISO 8601 date|dates look like 2015, 2015-03"),
    ("31.02.2019", None, "is not an ISO 8601 date"),
    ("2019-1", None, "is not an ISO 8601 date"),
    ("19-01-31", None, "is not an ISO 8601 date"),
    ("yesterday", None, "'yesterday' is not an ISO 8601 date"),
    ("March 2019", None, "is not an ISO 8601 date"),
    ("19", None, "is not an ISO 8601 date"),
    ("1월 31일", None, "is not an ISO 8601 date"),
    ("", None, "is not an ISO 8601 date"),
    ("0001-01-01T00:00+05:00", None, "is beyond the calendar in UTC|between years 0001 and 9999"),
]

# Stored forms and how people are shown them (also run through the page's JavaScript).
STORED = [
    (DAY, "2019-01-31"),
    ("2019-01-31T09:30:00Z", "2019-01-31T09:30:00Z"),
    ("1650-01-31T00:00:00Z", "1650-01-31"),
    ("2019-01-31T00:00:00", "2019-01-31T00:00:00"),
    ("not a date", "not a date"),
]


@pytest.mark.parametrize(("text", "cell", "when"), TABLE, ids=[repr(r[0]) for r in TABLE])
def test_every_spelling_in_a_cell_and_in_a_filter(text, cell, when):
    assert parse_date(text) == cell
    if cell is not None:
        assert date_form(text) is not None
    if isinstance(when, tuple):
        assert parse_when(text) == when
    else:
        with pytest.raises(DateSpellingError) as caught:
            parse_when(text)
        message, hint = when.split("|") if "|" in when else (when, "")
        assert message in f"{caught.value}; {caught.value.hint}"
        assert hint in caught.value.hint
        assert "\n" not in str(caught.value) + caught.value.hint


@pytest.mark.parametrize(
    ("value", "kwargs", "stored"),
    [
        ("10/20/2008", {"order": "MDY"}, "2008-10-20T00:00:00Z"),
        ("20/10/2008", {"order": "DMY"}, "2008-10-20T00:00:00Z"),
        ("10/20/2008", {"order": "DMY"}, None),  # no 20th month
        ("03/04/2008", {}, None),  # no order, no guess
        ("44936", {"serial": True}, "2023-01-10T00:00:00Z"),
        ("44936.5", {"serial": True}, "2023-01-10T12:00:00Z"),
        (44936, {"serial": True}, "2023-01-10T00:00:00Z"),
        (44936, {}, None),
        ("31-01-2019", {"fmt": "%d-%m-%Y"}, DAY),
        ("31-01-1650", {"fmt": "%d-%m-%Y"}, None),
        (20190131, {}, DAY),
        (20190131.0, {}, DAY),
        (20190231, {}, None),
        (10**400, {}, None),
        (float("nan"), {}, None),
        (True, {}, None),
        (dt.date(2019, 1, 31), {}, DAY),
        (
            dt.datetime(2019, 1, 31, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))),
            {},
            "2019-01-31T00:30:00Z",
        ),
    ],
)
def test_cells_by_the_columns_order_serials_and_formats(value, kwargs, stored):
    assert parse_date(value, **kwargs) == stored


@pytest.mark.parametrize(("stored", "shown"), STORED)
def test_stored_dates_are_shown_without_a_midnight(stored, shown):
    assert shown_date(stored) == shown


def test_the_year_of_a_stored_date():
    assert year_of(DAY) == "2019"
    assert year_of("n/a") is None


def test_every_day_spelling_the_docs_name_is_read_in_cells_and_filters():
    for text in DAY_SPELLINGS:
        assert parse_date(text) == DAY, text
        assert parse_when(text) == SPAN, text


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1700, 1, 1), max_value=dt.date(2200, 12, 31)))
def test_a_day_a_cell_holds_is_a_day_a_filter_finds(d):
    """Whatever spelling a file's cell had, the same text typed in a filter means that day."""
    stored = f"{d.isoformat()}T00:00:00Z"
    for text in (
        d.isoformat(),
        f"{d.year}-{d.month}-{d.day}",
        d.strftime("%Y%m%d"),
        d.strftime("%Y.%m.%d"),
        f"{d.year}. {d.month}. {d.day}.",
        d.strftime("%Y/%m/%d"),
        d.strftime("%d.%m.") + str(d.year),
        f"{d.year}년 {d.month}월 {d.day}일",
    ):
        assert parse_date(text) == stored, text
        start, end = parse_when(text)
        assert start == stored, text
        assert end == f"{(d + dt.timedelta(days=1)).isoformat()}T00:00:00Z", text


FIELDS = {"filed": FieldInfo("filed", "datetime")}


@pytest.mark.parametrize(
    ("op", "text", "day"),
    [
        (">=", "2019", "2019-01-01"),
        ("<=", "2019", "2019-12-31"),
        (">=", "2019-03", "2019-03-01"),
        ("<=", "2019-03", "2019-03-31"),
        ("<=", "2016-02", "2016-02-29"),
        ("<=", "2019년 1월", "2019-01-31"),
        (">=", "2019년 1월 31일", "2019-01-31"),
        ("<=", "2019. 1. 31.", "2019-01-31"),
        (">=", "2019-01-31", "2019-01-31"),
        ("<=", "20190131", "2019-01-31"),
        (">=", DAY, "2019-01-31"),  # from that midnight on: the box's day says the same
        ("<=", DAY, None),  # up to a midnight, not through that day
        (">=", "2019-01-31T09:30:00Z", None),
        ("<=", "2019-01-31T09:30:00Z", None),
        ("<=", "9999", "9999-12-31"),
        (">=", "10/20/2008", None),
        (">=", "yesterday", None),
        (">", "2019", None),
        ("=", "2019", None),
    ],
)
def test_the_day_a_date_box_shows_for_a_filter(op, text, day):
    assert box_day(op, text) == day


@pytest.mark.parametrize("op", [">=", "<="])
def test_a_date_boxs_day_filters_as_the_filter_it_shows(op):
    """Every filter value of the table whose box shows a day: that day, sent back in the
    same filter, finds the same documents (the page's boxes mirror the where semantics)."""
    shown = 0
    for text, _, when in TABLE:
        day = box_day(op, text)
        if day is None:
            continue
        assert isinstance(when, tuple), text
        assert parse_where(f"filed{op}{day}", FIELDS) == parse_where(f"filed{op}{text}", FIELDS)
        shown += 1
    assert shown >= 20


@pytest.mark.parametrize(
    ("expr", "message", "hint"),
    [
        (
            "filed>=10/20/2008",
            "--where 'filed>=10/20/2008': '10/20/2008' puts the year last",
            "write 2008-10-20",
        ),
        (
            "filed=03/04/2008",
            "'03/04/2008' puts the year last: month/day and day/month read it differently",
            "write the year first: 2008-03-04 (month/day) or 2008-04-03 (day/month)",
        ),
        ("filed<someday", "--where 'filed<someday': 'someday' is not an ISO 8601 date", "e.g."),
    ],
)
def test_a_filter_value_that_is_no_date_is_one_line_naming_field_value_and_fix(expr, message, hint):
    with pytest.raises(BadFilter) as caught:
        where_filter([expr], FIELDS)
    text = str(caught.value)
    assert message in text and hint in text and "'filed' is a datetime field" in text
    assert "\n" not in text


def test_a_filter_takes_the_spellings_a_file_had():
    assert parse_where("filed>=2019.01.31", FIELDS) == Range("filed", gte=DAY, datetime=True)
    assert parse_where("filed<=31.01.2019", FIELDS) == Range("filed", lt=NEXT, datetime=True)
    assert parse_where("filed>=2019년 1월 31일", FIELDS) == Range("filed", gte=DAY, datetime=True)
    assert parse_where("filed<=2019년 1월", FIELDS) == Range("filed", lt=NEXT, datetime=True)
    assert parse_where("filed=2019/01/31", FIELDS) == Range(
        "filed", gte=DAY, lt=NEXT, datetime=True
    )


class _Table:
    columns = ("출원번호", "출원일자", "요약")

    def where(self, row=None, column=None, *, line=None):
        return "t.csv"


def test_a_column_of_korean_unit_dates_loads_as_a_date_column():
    """Korean exports write days with units (2019년 1월 31일) or dots and spaces (2019. 1.
    31.): a date-named column of them is a date column, each cell its stored day."""
    from patentsim.ingest.records import build_record, plan_columns

    cells = [
        "2019년 1월 31일",
        "2019년 01월 31일",
        "2019년1월31일",
        "2019. 1. 31.",
        "2019년 1월 31",
    ]
    rows = [
        {"출원번호": f"10201900{i}", "출원일자": c, "요약": f"배터리 냉각 장치 {i}"}
        for i, c in enumerate(cells)
    ]
    plan = plan_columns(_Table(), rows)
    assert plan.date_columns == {"출원일자"}
    assert not plan.warnings
    assert [build_record(i, r, plan, _Table()).payload["출원일자"] for i, r in enumerate(rows)] == [
        DAY
    ] * len(cells)
