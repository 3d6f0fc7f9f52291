"""Property tests (hypothesis): reading, payload typing and the ``--where`` parser.

- Arbitrary bytes as a source file, arbitrary cell values, arbitrary ``--where`` text and
  ``--filter-json`` never raise anything but the library's named errors.
- Typing round-trips: a date in any accepted spelling becomes one RFC 3339 string, which
  parses to itself; keys are stable; every payload is JSON a Qdrant server accepts.
- The write side and the read side agree: documents loaded with dates and numbers are
  found by exactly the ``--where`` ranges that should find them, on the embedded engine.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import importlib.util
import io
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from patentsim.ingest.read import open_table
from patentsim.ingest.records import RESERVED, build_record, parse_date, plan_columns
from patentsim.store.errors import PatentSimError, SourceError
from patentsim.store.ids import normalize_key

HAS_WHERE = importlib.util.find_spec("patentsim.search.where") is not None
needs_where = pytest.mark.skipif(not HAS_WHERE, reason="patentsim.search.where does not exist yet")

FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# -- dates -----------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1700, 1, 1), max_value=dt.date(2200, 12, 31))


@FAST
@given(dates)
def test_a_date_in_every_accepted_spelling_is_one_rfc3339_string(d):
    want = f"{d.isoformat()}T00:00:00Z"
    spellings = [d, dt.datetime(d.year, d.month, d.day), d.isoformat(),
                 d.strftime("%Y%m%d"), d.strftime("%Y.%m.%d"), d.strftime("%Y/%m/%d"),
                 f" {d.isoformat()} ", want, f"{d.isoformat()}T00:00:00+00:00"]
    if d.year >= 1000:
        spellings.append(int(d.strftime("%Y%m%d")))
        spellings.append(float(d.strftime("%Y%m%d")))
    for value in spellings:
        assert parse_date(value) == want, value
    assert parse_date(want) == want  # the stored form parses to itself


@FAST
@given(st.datetimes(min_value=dt.datetime(1700, 1, 2), max_value=dt.datetime(2200, 12, 30),
                    timezones=st.timezones()))
def test_aware_datetimes_become_utc(value):
    got = parse_date(value)
    assert got is not None and got.endswith("Z")
    back = dt.datetime.fromisoformat(got.replace("Z", "+00:00"))
    assert abs((back - value).total_seconds()) < 1
    assert parse_date(got) == got


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40), st.dates(), st.datetimes(timezones=st.none() | st.timezones()),
    st.times(), st.binary(max_size=8),
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
    st.none(), st.booleans(), st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["2020-01-02", "20200102", "2020.01.02", "1e5", "12", "-3.5", "true",
                     "B24B 3/34|G01N 21/88", "", "  ", "n/a", "\x07bell", "🚀"]),
    st.dates(), st.datetimes(), st.lists(st.text(max_size=5), max_size=3),
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
@given(st.lists(st.fixed_dictionaries({c: cells for c in COLUMNS}), min_size=1, max_size=8),
       st.sampled_from([(), ("application_date",)]), st.sampled_from([(), ("ipc",)]))
def test_any_cells_become_a_payload_or_a_named_error(rows, dates_opt, lists_opt):
    table = _Table()
    try:
        plan = plan_columns(table, rows, text=("abstract",), id_column="id",
                            dates=dates_opt, lists=lists_opt)
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
@given(st.lists(st.tuples(st.integers(-(2**62), 2**62), st.floats(-1e300, 1e300),
                          dates, st.booleans()), min_size=1, max_size=10))
def test_text_cells_are_typed_back_to_what_was_written(values):
    """Numbers, dates and booleans written to a CSV come back as the same values."""
    table = _Table()
    table.columns = ["abstract", "n", "x", "application_date", "flag"]
    rows = [{"abstract": f"text {i}", "n": str(n), "x": repr(x), "application_date": d.isoformat(),
             "flag": str(b).lower()} for i, (n, x, d, b) in enumerate(values)]
    plan = plan_columns(table, rows)
    for i, (row, (n, x, d, b)) in enumerate(zip(rows, values)):
        payload = build_record(i, row, plan, table).payload
        assert payload["n"] == n
        assert payload["x"] == x or (x == int(x) and payload["x"] == int(x))
        assert payload["application_date"] == f"{d.isoformat()}T00:00:00Z"
        assert payload["flag"] is b


# -- reading -------------------------------------------------------------------------------


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400), st.sampled_from([".csv", ".tsv", ".jsonl", ".xlsx", ".parquet"]),
       st.sampled_from([None, "utf-8", "cp949"]))
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


safe_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                    max_size=30)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(safe_text, min_size=3, max_size=3), min_size=1, max_size=6),
       st.sampled_from(["utf-8", "utf-8-sig", "cp949", "utf-16"]))
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
    want = [{c: v for c, v in zip("abc", r) if v != ""} for r in rows
            if not (len(r) == 1 and not r[0].strip())]
    assert got == want


# -- the --where parser ----------------------------------------------------------------------

FIELDS = ["applicant", "abstract", "ipc", "claims", "score", "application_date", "granted",
          "id", "_key", "_row"]


def _fields(coll):
    """The collection's fields as its manifest types them (what ``search`` uses)."""
    from patentsim.search.where import fields_of

    return fields_of(coll.read_manifest())


names = st.sampled_from([*FIELDS, "inventor", "", "Applicant", "app.date"])
operators = st.sampled_from(["=", "!=", ">", ">=", "<", "<=", "~", "==", "=>", "<>", "!", " exists",
                             " missing", " between ", ""])
values = st.one_of(
    st.text(max_size=20), st.integers().map(str), st.floats().map(repr), dates.map(str),
    st.sampled_from(["2015", "2015-03", "20150301", "2015-03-01T09:30:00Z", "9999-12-31",
                     "0001-01-01", "1e400", "-1e400", "nan", "inf", "true", "'quoted|x'",
                     '"a b"|c', "a|b|", "|", "'", "99999999999999999999999"]),
)
expressions = st.one_of(st.text(max_size=40), st.builds(lambda n, o, v: f"{n}{o}{v}",
                                                        names, operators, values))


@pytest.fixture(scope="module")
def edge_collection(tmp_path_factory):
    """A small collection on the embedded engine whose fields have every type."""
    from patentsim.ingest.pipeline import load
    from patentsim.store import StoreSettings, open_store

    from .fakes import FakeEmbedder

    root = tmp_path_factory.mktemp("props")
    path = root / "docs.jsonl"
    docs = [
        {"id": i, "abstract": f"battery cooling loop number {i}", "applicant": ["LG", "SK"][i % 2],
         "ipc": f"B60L {i}/00|H01M {i % 3}/6", "claims": i, "score": i / 4,
         "application_date": (dt.date(1990, 1, 1) + dt.timedelta(days=400 * i)).isoformat(),
         "granted": bool(i % 2)}
        for i in range(40)
    ]
    path.write_text("\n".join(json.dumps(d) for d in docs), encoding="utf-8")
    settings_ = StoreSettings(path=str(root / "store"))
    load(path, settings=settings_, collection="p", embedder=FakeEmbedder(), id_column="id",
         lists=("ipc",))
    store = open_store(settings_)
    coll = store.open("p")
    yield coll, docs
    store.close()


@needs_where
@FAST
@given(expressions)
@example("application_date>=0001-01-01")
@example("claims>=-1e400")
@example("score<1e400")
@example("claims=1|2|99")
@example("application_date<=9999-12-31")
@example("claims=99999999999999999999999")
def test_where_never_raises_anything_but_named_errors(edge_collection, expression):
    """Parsed, translated for the engine and run: a result or a named error, nothing else."""
    from patentsim.search.where import where_filter

    coll, _ = edge_collection
    try:
        flt = where_filter([expression], _fields(coll))
        if flt is not None:
            assert coll.count(flt) >= 0
    except PatentSimError:
        pass


@needs_where
def test_where_date_at_the_end_of_the_calendar(edge_collection):
    from patentsim.search.where import where_filter

    coll, _ = edge_collection
    with contextlib.suppress(PatentSimError):
        coll.count(where_filter(["application_date<=9999-12-31"], _fields(coll)))


@needs_where
def test_where_integer_beyond_64_bits(edge_collection):
    from patentsim.search.where import where_filter

    coll, _ = edge_collection
    with contextlib.suppress(PatentSimError):
        coll.count(where_filter(["claims=99999999999999999999999"], _fields(coll)))


@needs_where
@FAST
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["must", "should", "must_not", "key", "match", "value", "any",
                         "range", "gte", "lt", "is_empty", "has_id", "text", "x"]),
        inner, max_size=3),
    max_leaves=12))
def test_filter_json_never_raises_anything_but_named_errors(edge_collection, obj):
    from patentsim.store.filters import filter_from_json

    coll, _ = edge_collection
    try:
        flt = filter_from_json(json.dumps(obj))
        if flt:
            assert coll.count(flt) >= 0
    except PatentSimError:
        pass


@needs_where
@FAST
@given(dates, st.sampled_from([">=", ">", "<=", "<", "="]))
def test_loaded_dates_are_found_by_exactly_the_right_ranges(edge_collection, day, op):
    """Typing (write side) and --where (read side) agree on dates, on the engine."""
    from patentsim.search.where import where_filter

    coll, docs = edge_collection
    flt = where_filter([f"application_date{op}{day.isoformat()}"], _fields(coll))
    stored = [dt.date.fromisoformat(d["application_date"]) for d in docs]
    want = sum({">=": s >= day, ">": s > day, "<=": s <= day, "<": s < day, "=": s == day}[op]
               for s in stored)
    assert coll.count(flt) == want


@needs_where
@FAST
@given(st.integers(-5, 45), st.sampled_from([">=", ">", "<=", "<", "=", "!="]))
def test_loaded_integers_are_found_by_exactly_the_right_ranges(edge_collection, n, op):
    from patentsim.search.where import where_filter

    coll, docs = edge_collection
    flt = where_filter([f"claims{op}{n}"], _fields(coll))
    ops = {">=": int.__ge__, ">": int.__gt__, "<=": int.__le__, "<": int.__lt__,
           "=": int.__eq__, "!=": int.__ne__}
    assert coll.count(flt) == sum(ops[op](d["claims"], n) for d in docs)


@needs_where
@FAST
@given(st.lists(st.sampled_from(["B60L 3/00", "H01M 0/6", "H01M 1/6", "X99 9/99"]),
                min_size=1, max_size=3, unique=True))
def test_list_fields_match_any_element(edge_collection, codes):
    from patentsim.search.where import where_filter

    coll, docs = edge_collection
    flt = where_filter(["ipc=" + "|".join(f'"{c}"' for c in codes)], _fields(coll))
    want = sum(bool(set(d["ipc"].split("|")) & set(codes)) for d in docs)
    assert coll.count(flt) == want
