"""Property tests (hypothesis): reading, payload typing and the ``--where`` parser.

- Arbitrary bytes as a source file, arbitrary cell values, arbitrary ``--where`` text and
  ``--filter-json`` never raise anything but the library's named errors.
- Typing round-trips: a date in any accepted spelling becomes one RFC 3339 string, which
  parses to itself; keys are stable; every payload is JSON a Qdrant server accepts.
- The write side and the read side agree: documents loaded with dates and numbers are
  found by exactly the ``--where`` ranges that should find them, on the embedded engine.
- ``--where`` and ``--filter-json`` filters (Qdrant's JSON syntax, read from real dicts) count
  on the engine exactly what a plain-Python reading of the same filter selects.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from patentsim.embed.analyzer import Analyzer
from patentsim.errors import BadFilter, SourceError
from patentsim.ingest.read import open_table
from patentsim.ingest.records import RESERVED, build_record, parse_date, plan_columns
from patentsim.search.query_filter import raw_filter
from patentsim.search.where import fields_of, where_filter
from patentsim.store.filters import Empty, Filter, HasId, Match, Range, Text, filter_from_json
from patentsim.store.ids import normalize_key, point_id

FAST = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- dates -----------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1700, 1, 1), max_value=dt.date(2200, 12, 31))


@FAST
@given(dates)
def test_a_date_in_every_accepted_spelling_is_one_rfc3339_string(d):
    want = f"{d.isoformat()}T00:00:00Z"
    spellings = [
        d,
        dt.datetime(d.year, d.month, d.day),
        d.isoformat(),
        d.strftime("%Y%m%d"),
        d.strftime("%Y.%m.%d"),
        d.strftime("%Y/%m/%d"),
        f" {d.isoformat()} ",
        want,
        f"{d.isoformat()}T00:00:00+00:00",
    ]
    if d.year >= 1000:
        spellings.append(int(d.strftime("%Y%m%d")))
        spellings.append(float(d.strftime("%Y%m%d")))
    for value in spellings:
        assert parse_date(value) == want, value
    assert parse_date(want) == want  # the stored form parses to itself


@FAST
@given(
    st.datetimes(
        min_value=dt.datetime(1700, 1, 2),
        max_value=dt.datetime(2200, 12, 30),
        timezones=st.timezones(),
    )
)
def test_aware_datetimes_become_utc(value):
    got = parse_date(value)
    assert got is not None and got.endswith("Z")
    back = dt.datetime.fromisoformat(got.replace("Z", "+00:00"))
    assert abs((back - value).total_seconds()) < 1
    assert parse_date(got) == got


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.dates(),
    st.datetimes(timezones=st.none() | st.timezones()),
    st.times(),
    st.binary(max_size=8),
)


@FAST
@given(scalars)
@example(dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))))
@example("0001-01-01T00:00+05:00")
@example("9999-12-31T23:59:59-05:00")
@example(float("inf"))
def test_parse_date_never_raises(value):
    got = parse_date(value)
    assert got is None or (isinstance(got, str) and got.endswith("Z"))
    if got is not None:
        assert parse_date(got) == got


# -- keys ----------------------------------------------------------------------------------


@FAST
@given(scalars)
def test_normalize_key_never_raises_and_is_stable(value):
    key = normalize_key(value)
    assert key is None or (isinstance(key, str) and key == key.strip() and key)
    if key is not None:
        assert normalize_key(key) == key


@FAST
@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_integer_keys_do_not_depend_on_how_the_number_was_read(n):
    assert normalize_key(n) == normalize_key(float(n)) == normalize_key(str(n)) == str(n)


# -- payload typing ------------------------------------------------------------------------

cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "2020-01-02",
            "20200102",
            "2020.01.02",
            "1e5",
            "12",
            "-3.5",
            "true",
            "B24B 3/34|G01N 21/88",
            "",
            "  ",
            "n/a",
            "\x07bell",
            "🚀",
        ]
    ),
    st.dates(),
    st.datetimes(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
COLUMNS = ["id", "abstract", "application_date", "ipc", "claims", "note"]


class _Table:
    """What ``plan_columns``/``build_record`` need of a table."""

    path = Path("generated.jsonl")
    sheet = None
    columns = COLUMNS

    def where(self, row=None, column=None, *, line=None):
        return f"generated, row {row}, column {column}"


def _json_ok(value) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**63
    if isinstance(value, str):
        return not any(ord(c) < 32 and c not in "\t\n\r" for c in value)
    if isinstance(value, list):
        return all(_json_ok(v) for v in value)
    return isinstance(value, bool) or value is None


@FAST
@given(
    st.lists(st.fixed_dictionaries({c: cells for c in COLUMNS}), min_size=1, max_size=8),
    st.sampled_from([(), ("application_date",)]),
    st.sampled_from([(), ("ipc",)]),
)
def test_any_cells_become_a_payload_or_a_named_error(rows, dates_opt, lists_opt):
    table = _Table()
    try:
        plan = plan_columns(
            table, rows, text=("abstract",), id_column="id", dates=dates_opt, lists=lists_opt
        )
        for i, row in enumerate(rows):
            record = build_record(i, row, plan, table)
            assert all(_json_ok(v) for v in record.payload.values()), record.payload
            json.dumps(record.payload, allow_nan=False)
            assert record.payload["_key"] == record.key and record.payload["_row"] == i
            assert not set(record.payload) - set(COLUMNS) - set(RESERVED)
            for field in dates_opt:
                if field in record.payload:
                    assert parse_date(record.payload[field]) == record.payload[field]
    except SourceError:
        pass


@FAST
@given(
    st.lists(
        st.tuples(st.integers(-(2**62), 2**62), st.floats(-1e300, 1e300), dates, st.booleans()),
        min_size=1,
        max_size=10,
    )
)
def test_text_cells_are_typed_back_to_what_was_written(values):
    """Numbers, dates and booleans written to a CSV come back as the same values."""
    table = _Table()
    table.columns = ["abstract", "n", "x", "application_date", "flag"]
    rows = [
        {
            "abstract": f"text {i}",
            "n": str(n),
            "x": repr(x),
            "application_date": d.isoformat(),
            "flag": str(b).lower(),
        }
        for i, (n, x, d, b) in enumerate(values)
    ]
    plan = plan_columns(table, rows)
    for i, (row, (n, x, d, b)) in enumerate(zip(rows, values)):
        payload = build_record(i, row, plan, table).payload
        assert payload["n"] == n
        assert payload["x"] == x or (x == int(x) and payload["x"] == int(x))
        assert payload["application_date"] == f"{d.isoformat()}T00:00:00Z"
        assert payload["flag"] is b


# -- reading -------------------------------------------------------------------------------


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=400),
    st.sampled_from([".csv", ".tsv", ".jsonl", ".xlsx", ".parquet"]),
    st.sampled_from([None, "utf-8", "cp949"]),
)
@example(b"\xff\xfea\x00,\x00b\x00\n\x00", ".csv", None)
@example(b'a,b\n1,"x', ".csv", None)
@example(b"[[[[[[[[[[" * 40, ".jsonl", None)
@example(b"PK\x03\x04" + b"\x00" * 60, ".xlsx", None)
def test_arbitrary_bytes_are_read_or_refused_by_name(tmp_path, data, suffix, encoding):
    path = tmp_path / f"any{suffix}"
    path.write_bytes(data)
    try:
        table = open_table(path, encoding=encoding)
        for _row_no, row in table.rows():
            assert set(row) <= set(table.columns) or table.format == "jsonl"
    except SourceError as exc:
        assert str(path) in str(exc)


safe_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.lists(safe_text, min_size=3, max_size=3), min_size=1, max_size=6),
    st.sampled_from(["utf-8", "utf-8-sig", "cp949", "utf-16"]),
)
def test_csv_cells_come_back_as_written(tmp_path, rows, encoding):
    rows = [r for r in rows if not (r[0] == r[1] == r[2] == "")]
    assume(rows)
    if encoding == "cp949":
        try:
            "".join("".join(r) for r in rows).encode("cp949")
        except UnicodeEncodeError:
            assume(False)
    buf = io.StringIO()
    csv.writer(buf).writerows([["a", "b", "c"], *rows])
    path = tmp_path / "t.csv"
    path.write_bytes(buf.getvalue().encode(encoding))
    table = open_table(path)
    got = [row for _, row in table.rows()]
    want = [
        {c: v for c, v in zip("abc", r) if v != ""}
        for r in rows
        if not (len(r) == 1 and not r[0].strip())
    ]
    assert got == want


# -- the --where parser ----------------------------------------------------------------------

FIELDS = [
    "applicant",
    "abstract",
    "ipc",
    "claims",
    "score",
    "application_date",
    "granted",
    "id",
    "_key",
    "_row",
]


def _fields(coll):
    """The collection's fields as its manifest types them (what ``search`` uses)."""
    return fields_of(coll.read_manifest())


names = st.sampled_from([*FIELDS, "inventor", "", "Applicant", "app.date"])
operators = st.sampled_from(
    [
        "=",
        "!=",
        ">",
        ">=",
        "<",
        "<=",
        "~",
        "==",
        "=>",
        "<>",
        "!",
        " exists",
        " missing",
        " between ",
        "",
    ]
)
values = st.one_of(
    st.text(max_size=20),
    st.integers().map(str),
    st.floats().map(repr),
    dates.map(str),
    st.sampled_from(
        [
            "2015",
            "2015-03",
            "20150301",
            "2015-03-01T09:30:00Z",
            "9999-12-31",
            "0001-01-01",
            "1e400",
            "-1e400",
            "nan",
            "inf",
            "true",
            "'quoted|x'",
            '"a b"|c',
            "a|b|",
            "|",
            "'",
            "99999999999999999999999",
        ]
    ),
)
expressions = st.one_of(
    st.text(max_size=40), st.builds(lambda n, o, v: f"{n}{o}{v}", names, operators, values)
)


@pytest.fixture(scope="module")
def edge_collection(tmp_path_factory):
    """A small collection on the embedded engine whose fields have every type."""
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings
    from patentsim.store import StoreSettings, open_store

    from .fakes import FakeEmbedder

    root = tmp_path_factory.mktemp("props")
    path = root / "docs.jsonl"
    docs = [
        {
            "id": i,
            "abstract": f"battery cooling loop number {i}",
            "applicant": ["LG", "SK"][i % 2],
            "ipc": f"B60L {i}/00|H01M {i % 3}/6",
            "claims": i,
            "score": i / 4,
            "application_date": (dt.date(1990, 1, 1) + dt.timedelta(days=400 * i)).isoformat(),
            "granted": bool(i % 2),
        }
        for i in range(40)
    ]
    for i in range(3, 40, 7):  # some documents without an applicant, some without `granted`
        del docs[i]["applicant"]
    for i in range(4, 40, 9):
        del docs[i]["granted"]
    path.write_text("\n".join(json.dumps(d) for d in docs), encoding="utf-8")
    settings_ = StoreSettings(path=str(root / "store"))
    load(
        path,
        LoadSettings(store_settings=settings_, collection="p", id_column="id", lists=("ipc",)),
        embedder=FakeEmbedder(),
    )
    store = open_store(settings_)
    coll = store.open("p")
    payloads = [
        p.payload for p in sorted(coll.scroll(with_payload=True), key=lambda p: p.payload["_row"])
    ]
    assert len(payloads) == len(docs)
    yield coll, docs, payloads
    store.close()


# -- a plain-Python reading of a filter, to check the engine's counts against ------------------


def _values(payload: dict, key: str) -> list:
    value = payload.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _same(stored, wanted) -> bool:
    if isinstance(stored, bool) or isinstance(wanted, bool):
        return type(stored) is type(wanted) and stored == wanted
    if isinstance(stored, str) != isinstance(wanted, str):
        return False
    return bool(stored == wanted)


def _instant(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _in_range(value, cond: Range) -> bool:
    if cond.datetime:
        if not isinstance(value, str):
            return False
        value, convert = _instant(value), _instant
    else:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        convert = float
    checks = [
        (cond.gt, lambda b: value > b),
        (cond.gte, lambda b: value >= b),
        (cond.lt, lambda b: value < b),
        (cond.lte, lambda b: value <= b),
    ]
    return all(check(convert(bound)) for bound, check in checks if bound is not None)


# A full-text query of plain ASCII words, numbers among them ("7", "loop 7"): read here as
# "every word occurs in the value" (words: letters and digits, case aside).  Other queries
# (punctuation, other scripts) are segmented by the engine's multilingual tokenizer, which
# this reading does not copy: for them the engine's own answer to the one condition stands
# in (``text_keys``), so that the filter around it (must, should, must_not, nesting) is
# still checked exactly.
_PLAIN_WORDS = re.compile(r"[A-Za-z0-9]+(?: +[A-Za-z0-9]+)*")


def _words(value) -> set[str]:
    return set(re.findall(r"[^\W_]+", str(value).lower()))


def _text_holds(cond: Text, payload: dict, text_keys: dict) -> bool:
    if _PLAIN_WORDS.fullmatch(cond.text.strip()):
        wanted = _words(cond.text)
        return any(wanted <= _words(v) for v in _values(payload, cond.key))
    return payload["_key"] in text_keys[cond]


def engine_text_keys(coll, flt) -> dict:
    """The keys of the documents the engine finds for each full-text condition in ``flt``."""
    out = {}
    for cond in _conditions(flt):
        if isinstance(cond, Text) and cond not in out:
            found = coll.scroll(flt=Filter(must=(cond,)), with_payload=["_key"])
            out[cond] = {p.payload["_key"] for p in found}
    return out


def _conditions(flt):
    if isinstance(flt, Filter):
        for c in (*flt.must, *flt.should, *flt.must_not):
            yield from _conditions(c)
    else:
        yield flt


def holds(cond, payload: dict, text_keys: dict | None = None) -> bool:
    """Whether ``payload`` passes ``cond``, read the way Qdrant documents its filters."""
    if isinstance(cond, Filter):
        return (
            all(holds(c, payload, text_keys) for c in cond.must)
            and (not cond.should or any(holds(c, payload, text_keys) for c in cond.should))
            and not any(holds(c, payload, text_keys) for c in cond.must_not)
        )
    if isinstance(cond, Text):
        return _text_holds(cond, payload, text_keys or {})
    if isinstance(cond, Match):
        return any(_same(v, w) for v in _values(payload, cond.key) for w in cond.values)
    if isinstance(cond, Range):
        return any(_in_range(v, cond) for v in _values(payload, cond.key))
    if isinstance(cond, Empty):
        return not _values(payload, cond.key)
    if isinstance(cond, HasId):
        return str(point_id(payload["_key"])) in cond.ids
    raise AssertionError(f"no plain reading of {cond!r}")


def expected_count(flt, payloads: list[dict], text_keys: dict | None = None) -> int:
    return sum(holds(flt, p, text_keys) for p in payloads)


@FAST
@given(expressions)
@example("application_date>=0001-01-01")
@example("claims>=-1e400")
@example("score<1e400")
@example("claims=1|2|99")
@example("application_date<=9999-12-31")
@example("claims=99999999999999999999999")
@example("granted=true")
@example("ipc!=H01M 1/6")
@example("applicant missing")
@example("abstract~BATTERY loop")
@example("abstract~battery zzz")
@example("abstract~cool")
@example("applicant~lg")
@example("abstract~7")
@example("abstract~number 7")
@example("applicant~7")
def test_where_counts_what_a_plain_reading_selects(edge_collection, expression):
    """Parsed, translated for the engine and run: exactly the documents the filter names,
    or a refusal naming what it refuses (``BadFilter``); nothing parses to no filter but an
    expression with nothing in it."""
    coll, _, payloads = edge_collection
    try:
        flt = where_filter([expression], _fields(coll))
    except BadFilter as exc:
        assert exc.message and str(exc), expression
        return
    if flt is None:
        assert not expression.strip(), expression
        return
    count = coll.count(flt)
    assert count == expected_count(flt, payloads, engine_text_keys(coll, flt)), flt


def test_where_dates_at_the_ends_of_the_calendar(edge_collection):
    coll, docs, _ = edge_collection
    fields = _fields(coll)
    assert coll.count(where_filter(["application_date<=9999-12-31"], fields)) == len(docs)
    assert coll.count(where_filter(["application_date>=0001-01-01"], fields)) == len(docs)
    assert coll.count(where_filter(["application_date<0001-01-02"], fields)) == 0


def test_where_integer_beyond_64_bits_is_a_named_error(edge_collection):
    coll, _, _ = edge_collection
    with pytest.raises(BadFilter, match="beyond the 64-bit integers"):
        where_filter(["claims=99999999999999999999999"], _fields(coll))


# -- --filter-json: Qdrant's JSON filter syntax, as dicts ---------------------------------------

KEYWORDS = st.sampled_from(["LG", "SK", "Samsung", "lg"])
IPC_CODES = st.sampled_from(["B60L 3/00", "H01M 0/6", "H01M 1/6", "H01M 2/6", "X99 9/99"])
DAYS = st.dates(min_value=dt.date(1985, 1, 1), max_value=dt.date(2040, 12, 31))


def _match(key: str, value: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        value.map(lambda v: {"key": key, "match": {"value": v}}),
        st.lists(value, min_size=1, max_size=3).map(lambda vs: {"key": key, "match": {"any": vs}}),
        st.lists(value, min_size=1, max_size=2).map(
            lambda vs: {"key": key, "match": {"except": vs}}
        ),
    )


def _range(key: str, bound: st.SearchStrategy) -> st.SearchStrategy:
    return st.dictionaries(
        st.sampled_from(["gt", "gte", "lt", "lte"]), bound, min_size=1, max_size=2
    ).map(lambda r: {"key": key, "range": r})


def _ids(docs_count: int) -> st.SearchStrategy:
    real = st.integers(0, docs_count - 1).map(lambda i: str(point_id(str(i))))
    other = st.uuids().map(str)
    return st.lists(st.one_of(real, other), min_size=1, max_size=4)


field_conditions = st.one_of(
    _match("applicant", KEYWORDS),
    _match("ipc", IPC_CODES),
    _match("claims", st.integers(-2, 45)),
    _match("granted", st.booleans()),
    _match("_key", st.integers(0, 45).map(str)),
    _range("claims", st.integers(-5, 45)),
    _range("score", st.floats(-1, 12, allow_nan=False)),
    _range("_row", st.integers(-1, 41)),
    _range("application_date", DAYS.map(lambda d: f"{d.isoformat()}T00:00:00Z")),
    st.sampled_from(["applicant", "ipc", "nope", "granted"]).map(
        lambda k: {"is_empty": {"key": k}}
    ),
    st.sampled_from(["nope", "claims"]).map(lambda k: {"is_null": {"key": k}}),
    _ids(40).map(lambda ids: {"has_id": ids}),
    st.sampled_from(["7", "39", "number 7", "loop 12", "loop 99", "1.5", "Loop", "cooling 3"]).map(
        lambda t: {"key": "abstract", "match": {"text": t}}
    ),
)
json_filters = st.recursive(
    field_conditions,
    lambda inner: st.fixed_dictionaries(
        {},
        optional={
            "must": st.lists(inner, max_size=3),
            "should": st.lists(inner, max_size=3),
            "must_not": st.lists(inner, max_size=2),
        },
    ).map(lambda f: f or {"should": []}),
    max_leaves=8,
).map(lambda f: f if {"must", "should", "must_not"} & set(f) or not f else {"must": [f]})
json_filters = json_filters.map(lambda f: f or {"must": []})


@FAST
@given(json_filters)
@example({"must": [{"key": "ipc", "match": {"any": ["H01M 1/6", "B60L 3/00"]}}]})
@example(
    {
        "should": [
            {"key": "claims", "range": {"gte": 30}},
            {"key": "granted", "match": {"value": True}},
        ]
    }
)
@example({"must_not": [{"is_empty": {"key": "nope"}}]})
@example({"must": [{"key": "applicant", "match": {"except": ["LG"]}}]})
@example(
    {
        "must": [
            {
                "key": "application_date",
                "range": {"lt": "2001-01-01T00:00:00Z", "lte": "2000-01-01T00:00:00Z"},
            }
        ]
    }
)
@example({"must": [{"key": "claims", "range": {"gt": 30, "gte": 20}}]})
@example({"must_not": [{"key": "abstract", "match": {"text": "Loop zzz"}}]})
@example(
    {
        "should": [
            {"key": "abstract", "match": {"text": "number 7"}},
            {"key": "applicant", "match": {"value": "SK"}},
        ],
        "must_not": [{"key": "abstract", "match": {"text": "cooling battery"}}],
    }
)
@example({"must": [{"key": "abstract", "match": {"text": "7"}}]})
@example({"must_not": [{"key": "abstract", "match": {"text": "loop 12"}}]})
def test_filter_json_counts_what_a_plain_reading_selects(edge_collection, obj):
    """Read as ``search`` reads it (a full-text match's numbers in the analyzed terms)."""
    coll, _, payloads = edge_collection
    analyzer = Analyzer.from_info(coll.read_manifest().keyword.analyzer)
    flt = raw_filter(filter_from_json(obj), _fields(coll), analyzer.terms)
    assert isinstance(flt, Filter)
    assert coll.count(flt) == expected_count(flt, payloads, engine_text_keys(coll, flt)), obj


def test_filter_json_reads_each_condition():
    some = str(uuid.uuid4())
    flt = filter_from_json({
        "must": [{"key": "ipc", "match": {"any": ["A", "B"]}},
                 {"key": "application_date", "range": {"gte": "2015-01-01T00:00:00Z"}}],
        "should": [{"key": "claims", "range": {"gt": 3, "lte": 9}},
                   {"key": "abstract", "match": {"text": "battery"}}],
        "must_not": [{"is_empty": {"key": "x"}}, {"has_id": [some]},
                     {"key": "applicant", "match": {"except": ["LG"]}}],
    })  # fmt: skip
    assert flt == Filter(
        must=(Match("ipc", ("A", "B")),
              Range("application_date", gte="2015-01-01T00:00:00Z", datetime=True)),
        should=(Range("claims", gt=3, lte=9), Text("abstract", "battery")),
        must_not=(Empty("x"), HasId((some,)), Filter(must_not=(Match("applicant", ("LG",)),))),
    )  # fmt: skip


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "must",
                    "should",
                    "must_not",
                    "key",
                    "match",
                    "value",
                    "any",
                    "except",
                    "range",
                    "gte",
                    "lt",
                    "is_empty",
                    "is_null",
                    "has_id",
                    "text",
                    "x",
                ]
            ),
            inner,
            max_size=3,
        )
    ),
    max_leaves=12,
)
junk_conditions = st.fixed_dictionaries(
    {"key": st.sampled_from(["claims", "applicant", "granted", "score", "nope"])},
    optional={"match": junk, "range": junk},
) | st.dictionaries(
    st.sampled_from(["is_empty", "is_null", "has_id"]), junk, min_size=1, max_size=1
)


@FAST
@given(
    st.one_of(
        junk,
        st.lists(junk_conditions | junk, max_size=3).map(lambda c: {"must": c}),
        junk_conditions.map(lambda c: {"should": [c], "must_not": c}),
    )
)
@example({"must": [{"is_empty": 1}]})
@example({"must": [{"has_id": 5}]})
@example({"must": [{"key": "claims", "match": {"any": 5}}]})
@example({"must": [{"key": "claims", "match": {"value": [1, 2]}}]})
@example({"must": [{"key": "claims", "range": {"gte": "soon"}}]})
@example({"must": [{"key": "claims", "range": {"gte": [1]}}]})
@example({"must": [{"key": "claims", "range": {"gte": "2015-01-01", "lt": 3}}]})
@example({"must": [{"key": "claims", "match": {"value": 2**70}}]})
@example({"must": [{"key": "claims", "match": {"any": [1, "1", True]}}]})
@example({"must": [{"has_id": ["not-a-uuid"]}]})
@example({"must": [{"has_id": [-1, 2**70]}]})
@example({"should": [{"has_id": [0]}]})
@example({"should": [{"key": "claims", "match": {"any": [0, ""]}}]})
@example({"must": [{"key": "score", "range": {"gt": 2**80}}]})
def test_filter_json_of_any_shape_is_read_or_refused_by_name(edge_collection, obj):
    """Any JSON value: a filter the engine runs without error, or ``BadFilter``."""
    coll, _, payloads = edge_collection
    try:
        flt = filter_from_json(obj)
    except BadFilter:
        return
    count = coll.count(flt)
    assert count == expected_count(flt, payloads, engine_text_keys(coll, flt)), obj


@FAST
@given(dates, st.sampled_from([">=", ">", "<=", "<", "="]))
def test_loaded_dates_are_found_by_exactly_the_right_ranges(edge_collection, day, op):
    """Typing (write side) and --where (read side) agree on dates, on the engine."""
    coll, docs, _ = edge_collection
    flt = where_filter([f"application_date{op}{day.isoformat()}"], _fields(coll))
    stored = [dt.date.fromisoformat(d["application_date"]) for d in docs]
    want = sum(
        {">=": s >= day, ">": s > day, "<=": s <= day, "<": s < day, "=": s == day}[op]
        for s in stored
    )
    assert coll.count(flt) == want


@FAST
@given(st.integers(-5, 45), st.sampled_from([">=", ">", "<=", "<", "=", "!="]))
def test_loaded_integers_are_found_by_exactly_the_right_ranges(edge_collection, n, op):
    coll, docs, _ = edge_collection
    flt = where_filter([f"claims{op}{n}"], _fields(coll))
    ops = {
        ">=": int.__ge__,
        ">": int.__gt__,
        "<=": int.__le__,
        "<": int.__lt__,
        "=": int.__eq__,
        "!=": int.__ne__,
    }
    assert coll.count(flt) == sum(ops[op](d["claims"], n) for d in docs)


@FAST
@given(
    st.lists(
        st.sampled_from(["B60L 3/00", "H01M 0/6", "H01M 1/6", "X99 9/99"]),
        min_size=1,
        max_size=3,
        unique=True,
    )
)
def test_list_fields_match_any_element(edge_collection, codes):
    coll, docs, _ = edge_collection
    flt = where_filter(["ipc=" + "|".join(f'"{c}"' for c in codes)], _fields(coll))
    want = sum(bool(set(d["ipc"].split("|")) & set(codes)) for d in docs)
    assert coll.count(flt) == want
