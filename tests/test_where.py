"""The --where grammar: what each expression becomes, and how bad ones are refused."""

from __future__ import annotations

import pytest

from patentsim.errors import BadFilter, UserInputError
from patentsim.search.where import (
    FieldInfo,
    example,
    fields_of,
    parse_where,
    where_filter,
)
from patentsim.store.filters import Empty, Filter, Match, Range, Text
from patentsim.store.manifest import Manifest

MANIFEST = {
    "fields": {
        "applicant": {"type": "keyword", "list": False, "mixed": False},
        "ipc": {"type": "keyword", "list": True, "mixed": False},
        "title": {"type": "text", "list": False, "mixed": False},
        "application_date": {"type": "datetime", "list": False, "mixed": False},
        "claims": {"type": "integer", "list": False, "mixed": False},
        "score": {"type": "float", "list": False, "mixed": False},
        "granted": {"type": "bool", "list": False, "mixed": False},
        "code": {"type": "keyword", "list": False, "mixed": True},
        "발명의 명칭": {"type": "text", "list": False, "mixed": False},
    }
}
FIELDS = fields_of(Manifest.from_dict(MANIFEST))


def w(expr: str):
    return parse_where(expr, FIELDS)


def test_fields_include_reserved_key_and_row():
    assert FIELDS["_key"] == FieldInfo("_key", "keyword")
    assert FIELDS["_row"] == FieldInfo("_row", "integer")
    assert FIELDS["ipc"].list


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("applicant=삼성전자", Match("applicant", ("삼성전자",))),
        ("applicant = 삼성전자 ", Match("applicant", ("삼성전자",))),
        ("applicant=삼성전자|LG전자", Match("applicant", ("삼성전자", "LG전자"))),
        ('applicant="삼성전자|LG전자"', Match("applicant", ("삼성전자|LG전자",))),
        ("applicant='a|b'|c", Match("applicant", ("a|b", "c"))),
        ('applicant="say \\"hi\\""', Match("applicant", ('say "hi"',))),
        ("applicant=O'Reilly", Match("applicant", ("O'Reilly",))),
        ('title="x>=5 ~ y"', Match("title", ("x>=5 ~ y",))),
        ("ipc=B24B 3/34", Match("ipc", ("B24B 3/34",))),
        ("applicant!=삼성전자", Filter(must_not=(Match("applicant", ("삼성전자",)),))),
        ("ipc!=A|B", Filter(must_not=(Match("ipc", ("A", "B")),))),
        ("claims=3|4", Match("claims", (3, 4))),
        ("claims=1,000", Match("claims", (1000,))),
        ("claims>=10", Range("claims", gte=10.0)),
        ("claims>10", Range("claims", gt=10.0)),
        ("claims<-2.5", Range("claims", lt=-2.5)),
        ("claims<=1e3", Range("claims", lte=1000.0)),
        ("score=0.5", Range("score", gte=0.5, lte=0.5)),
        ("granted=true", Match("granted", (True,))),
        ("granted=No", Match("granted", (False,))),
        ("title~배터리 열관리", Text("title", "배터리 열관리")),
        ("title~배터리|전지", Filter(should=(Text("title", "배터리"), Text("title", "전지")))),
        ("applicant~전자", Text("applicant", "전자")),
        ("registration missing", None),
        ("ipc missing", Empty("ipc")),
        ("ipc exists", Filter(must_not=(Empty("ipc"),))),
        ("ipc EXISTS", Filter(must_not=(Empty("ipc"),))),
        ("발명의 명칭 exists", Filter(must_not=(Empty("발명의 명칭"),))),
        ('"발명의 명칭" missing', Empty("발명의 명칭")),
        ("발명의 명칭~배터리", Text("발명의 명칭", "배터리")),
        ('"발명의 명칭"~배터리', Text("발명의 명칭", "배터리")),
        ("'발명의 명칭' = \"a b\"", Match("발명의 명칭", ("a b",))),
        ("_row<100", Range("_row", lt=100.0)),
        ("_key=1020230003245", Match("_key", ("1020230003245",))),
        ("APPLICANT=x", Match("applicant", ("x",))),
    ],
)
def test_expressions(expr, expected):
    if expected is None:
        with pytest.raises(BadFilter):
            w(expr)
        return
    assert w(expr) == expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # A day, a month, a year: the whole span.
        (
            "application_date=2015-03-01",
            Range(
                "application_date",
                gte="2015-03-01T00:00:00Z",
                lt="2015-03-02T00:00:00Z",
                datetime=True,
            ),
        ),
        (
            "application_date=2015-12",
            Range(
                "application_date",
                gte="2015-12-01T00:00:00Z",
                lt="2016-01-01T00:00:00Z",
                datetime=True,
            ),
        ),
        (
            "application_date=2016-02",
            Range(
                "application_date",
                gte="2016-02-01T00:00:00Z",
                lt="2016-03-01T00:00:00Z",
                datetime=True,
            ),
        ),
        (
            "application_date>=2015",
            Range("application_date", gte="2015-01-01T00:00:00Z", datetime=True),
        ),
        (
            "application_date>2015",
            Range("application_date", gte="2016-01-01T00:00:00Z", datetime=True),
        ),
        (
            "application_date<20150301",
            Range("application_date", lt="2015-03-01T00:00:00Z", datetime=True),
        ),
        (
            "application_date<=2015-03-01",
            Range("application_date", lt="2015-03-02T00:00:00Z", datetime=True),
        ),
        # An instant is compared as it is (offsets turned into UTC).
        (
            "application_date>2015-03-01T09:30:00+09:00",
            Range("application_date", gt="2015-03-01T00:30:00Z", datetime=True),
        ),
        (
            "application_date<=2015-03-01 09:30Z",
            Range("application_date", lte="2015-03-01T09:30:00Z", datetime=True),
        ),
        (
            "application_date=2015-03-01T09:30:00Z",
            Range(
                "application_date",
                gte="2015-03-01T09:30:00Z",
                lte="2015-03-01T09:30:00Z",
                datetime=True,
            ),
        ),
        (
            "application_date!=2015",
            Filter(
                must_not=(
                    Range(
                        "application_date",
                        gte="2015-01-01T00:00:00Z",
                        lt="2016-01-01T00:00:00Z",
                        datetime=True,
                    ),
                )
            ),
        ),
    ],
)
def test_dates(expr, expected):
    assert w(expr) == expected


def test_mixed_field_matches_text_and_numbers():
    assert w("code=12") == Filter(should=(Match("code", ("12",)), Match("code", (12,))))
    assert w("code=A1") == Match("code", ("A1",))


def test_several_are_anded():
    flt = where_filter(["applicant=x", "claims>=3"], FIELDS)
    assert flt == Filter(must=(Match("applicant", ("x",)), Range("claims", gte=3.0)))
    assert where_filter([], FIELDS) is None


def test_bad_filter_is_user_input_error():
    assert issubclass(BadFilter, UserInputError)


@pytest.mark.parametrize(
    ("expr", "in_message", "in_hint"),
    [
        # Unknown field: the nearest field, its type, a working example.
        ("aplicant=x", "unknown field 'aplicant'", "did you mean 'applicant' (keyword)"),
        ("nothing_like_it=1", "unknown field 'nothing_like_it'", "fields: applicant (keyword)"),
        ("=x", "no field name", "e.g. --where"),
        # Bad operators.
        ("claims=>5", "unknown operator '=>'", "did you mean claims>=...?"),
        ("claims==5", "unknown operator '=='", "did you mean claims=...?"),
        ("claims<>5", "unknown operator '<>'", "claims>=100"),
        ("applicant!~x", "unknown operator '!~'", "operators: = != > >= < <= ~"),
        ("applicant", "no operator", "FIELD=VALUE"),
        ("applicant maybe", "unknown operator 'maybe'", "exists missing"),
        # Unparsable values.
        ("claims>=many", "'many' is not a number", "'claims' is an integer field"),
        ("claims=1.5", "never equals a fraction", 'e.g. --where "claims>=100"'),
        ("score<abc", "'abc' is not a number", "'score' is a float field"),
        (
            "application_date>=yesterday",
            "'yesterday' is not an ISO 8601 date",
            "application_date>=2015-01-01",
        ),
        (
            "application_date>=2015-13-01",
            "not an ISO 8601 date",
            "'application_date' is a datetime",
        ),
        ("granted=maybe", "'maybe' is not true or false", "granted=true"),
        ("applicant=", "empty value", '"applicant missing"'),
        ('applicant="open', "not closed", "applicant=VALUE"),
        ('applicant="a" b', "unexpected text after a quoted value", "applicant=VALUE"),
        # Type mismatches: the operator the type does not take.
        ("applicant>=5", ">= compares numbers and dates, not keyword", "applicant=VALUE"),
        ("title<x", "< compares numbers and dates, not text", "title~battery"),
        (
            "claims~three",
            "~ (full-text match) works on text and keyword fields, not integer",
            "claims>=100",
        ),
        ("application_date~2015", "not datetime", "(ISO 8601 dates)"),
        ("claims>=1|2", ">= takes one value", "claims>=100"),
        ("ipc>=A", "not keyword values", "(a list)"),
    ],
)
def test_refusals_name_field_type_and_example(expr, in_message, in_hint):
    with pytest.raises(BadFilter) as err:
        w(expr)
    assert repr(expr) in err.value.message
    assert in_message in err.value.message
    assert in_hint in (err.value.hint or "")


def test_examples_use_a_stored_value_when_given_one():
    with pytest.raises(BadFilter) as err:
        parse_where("applicant>=5", FIELDS, sample=lambda f: "삼성전자")
    assert 'e.g. --where "applicant=삼성전자"' in err.value.hint
    with pytest.raises(BadFilter) as err:
        parse_where("application_date>=x", FIELDS, sample=lambda f: "2019-08-26T00:00:00Z")
    assert 'e.g. --where "application_date>=2019-08-26"' in err.value.hint
    # A failing sampler never hides the message.
    with pytest.raises(BadFilter) as err:
        parse_where("claims>=x", FIELDS, sample=lambda f: 1 / 0)
    assert "claims>=100" in err.value.hint


@pytest.mark.parametrize(
    ("info", "value", "expected"),
    [
        (FieldInfo("a", "keyword"), None, "a=VALUE"),
        (FieldInfo("a", "keyword"), "x|y", 'a="x|y"'),
        (FieldInfo("a", "keyword", list=True), ["B24B 3/34"], "a=B24B 3/34"),
        (FieldInfo("a", "integer"), 7, "a>=7"),
        (FieldInfo("a", "float"), 0.25, "a>=0.25"),
        (FieldInfo("a", "datetime"), "2020-01-02T00:00:00Z", "a>=2020-01-02"),
        (FieldInfo("a", "bool"), True, "a=true"),
        (FieldInfo("a", "text"), "배터리 관리 장치", "a~배터리"),
    ],
)
def test_example(info, value, expected):
    assert example(info, value) == expected
    # Every example parses.
    fields = {info.name: info}
    parse_where(expected, fields)


def test_limits_of_numbers_and_dates():
    with pytest.raises(BadFilter, match="beyond the 64-bit integers"):
        w("claims=99999999999999999999999")
    with pytest.raises(BadFilter, match="not a finite number"):
        w("score<1e400")
    assert w("claims=-9223372036854775808") == Match("claims", (-(2**63),))
    # A number too big for the engine still matches as text in a mixed column.
    assert w("code=99999999999999999999999") == Match("code", ("99999999999999999999999",))
    # The calendar's last span ends with it.
    assert w("application_date<=9999-12-31") == Range(
        "application_date", lt="9999-12-31T23:59:59Z", datetime=True
    )
    assert w("application_date=0001-01-01") == Range(
        "application_date", gte="0001-01-01T00:00:00Z", lt="0001-01-02T00:00:00Z", datetime=True
    )
