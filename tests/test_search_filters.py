"""Every --where operator selects exactly what pandas selects from the source file.

Conditions are generated (seeded random: the same every run) from the values of
tests/data/sample_ko.xlsx (300 KIPRIS-shaped rows), on both backends.  Filters do not
depend on the vectors, so the fake embedder is used, and every query asks for more
results than the collection holds: the returned rows are the selected set.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from patentsim.embed.analyzer import Analyzer
from patentsim.errors import BadFilter
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, Session
from patentsim.store import StoreSettings, open_store
from patentsim.store.names import name_key

from .conftest import BACKENDS, KO_XLSX, slice_xlsx
from .fakes import FakeEmbedder

ROWS = 300
LIMIT = 1000  # more than the collection holds
DATE_FIELDS = ("application_date", "opening_date", "registration_date")
SEED = 20261125


# -- the source, as pandas sees it -------------------------------------------------------------


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return slice_xlsx(KO_XLSX, tmp_path_factory.mktemp("src") / "ko300.xlsx", ROWS)


@pytest.fixture(scope="module")
def frame(source) -> pd.DataFrame:
    """The slice read with pandas, typed the way the tutorial would: dates, IPC lists."""
    df = pd.read_excel(source)
    for col in DATE_FIELDS:
        df[col] = pd.to_datetime(df[col].astype("Int64").astype("string"), format="%Y%m%d")
    df["ipc"] = df["ipc"].map(
        lambda v: [s.strip() for s in v.split("|") if s.strip()] if isinstance(v, str) else []
    )
    for col in ("title", "applicant", "status", "country"):
        df[col] = df[col].map(lambda v: v.strip() if isinstance(v, str) else v)
    return df


@pytest.fixture(scope="module", params=BACKENDS)
def coll(request, source, tmp_path_factory):
    """(store, collection) holding the slice, on each backend; the store stays open."""
    if request.param == "embedded":
        settings = StoreSettings(path=str(tmp_path_factory.mktemp("store")))
    else:
        settings = StoreSettings(url=":memory:")
    name = f"filters_{request.param}"
    load(source, LoadSettings(store_settings=settings, collection=name), embedder=FakeEmbedder())
    # One store kept open for the module's many queries (the API's store= argument).
    store = open_store(settings)
    yield store, name
    store.drop(name)
    store.close()


def selected(coll, where: list[str]) -> set[int]:
    store, name = coll
    results = Session(collection=name, store=store, model=FakeEmbedder()).text(
        "연삭 장치", QueryOptions(where=where, limit=LIMIT)
    )
    rows = [h.row for h in results.hits]
    assert len(rows) == len(set(rows))
    return set(rows)


# -- conditions and their pandas meaning ---------------------------------------------------------


@dataclass
class Cond:
    expr: str
    mask: pd.Series


def _tokens(value: str) -> set[str]:
    return set(re.findall(r"[^\W_]+", value.lower()))


def _script_runs(value: str) -> set[str]:
    """Tokens split also where Hangul, Latin letters and digits meet (the embedded tokenizer)."""
    out: set[str] = set()
    for tok in _tokens(value):
        out.update(re.findall(r"[가-힣]+|[a-z]+|[0-9]+|[^가-힣a-z0-9]+", tok))
    return out


def _words(df: pd.DataFrame, col: str) -> list[str]:
    """Hangul words of a column on which both backends' tokenizers agree for every row."""
    values = [v for v in df[col] if isinstance(v, str)]
    counts: dict[str, int] = {}
    for v in values:
        for t in _tokens(v):
            if re.fullmatch(r"[가-힣]{2,}", t):
                counts[t] = counts.get(t, 0) + 1
    runs = [_script_runs(v) for v in values]
    toks = [_tokens(v) for v in values]
    return sorted(w for w in counts if all((w in t) == (w in r) for t, r in zip(toks, runs)))


def _date_text(rng: random.Random, ts: pd.Timestamp) -> tuple[str, pd.Timestamp, pd.Timestamp]:
    """A date as --where may write it, with the span it means."""
    form = rng.choice(["year", "month", "day", "basic", "instant"])
    if form == "year":
        start = pd.Timestamp(ts.year, 1, 1)
        return str(ts.year), start, start + pd.DateOffset(years=1)
    if form == "month":
        start = pd.Timestamp(ts.year, ts.month, 1)
        return f"{ts:%Y-%m}", start, start + pd.DateOffset(months=1)
    day = ts.normalize()
    if form == "day":
        return f"{day:%Y-%m-%d}", day, day + pd.Timedelta(days=1)
    if form == "basic":
        return f"{day:%Y%m%d}", day, day + pd.Timedelta(days=1)
    return f"{day:%Y-%m-%d}T00:00:00Z", day, day  # an instant: a span of zero length


def _any_element(series: pd.Series, values: set[str]) -> pd.Series:
    return series.map(lambda items: any(x in values for x in items))


def generate(df: pd.DataFrame, rng: random.Random) -> list[Cond]:
    out: list[Cond] = []
    applicants = sorted(df["applicant"].dropna().unique())
    ipcs = sorted({x for items in df["ipc"] for x in items})
    numbers = sorted(df["application_number"])

    # keyword =, any-of, != (values present and absent)
    for _ in range(8):
        k = rng.choice([1, 1, 2, 3])
        values = rng.sample(applicants, k) + (["없는 출원인"] if rng.random() < 0.2 else [])
        expr_values = "|".join(f'"{v}"' if "|" in v else v for v in values)
        mask = df["applicant"].isin(values)
        out.append(Cond(f"applicant={expr_values}", mask))
        out.append(Cond(f"applicant!={expr_values}", ~mask))
    for col in ("status", "country"):
        uniq = sorted(df[col].dropna().unique())
        values = rng.sample(uniq, min(2, len(uniq)))
        out.append(Cond(f"{col}={values[0]}", df[col] == values[0]))
        out.append(Cond(f"{col}={'|'.join(values)}", df[col].isin(values)))
        out.append(Cond(f"{col}!={values[-1]}", df[col] != values[-1]))
    # list field: any element / no element
    for _ in range(6):
        values = set(rng.sample(ipcs, rng.choice([1, 2, 3])))
        expr_values = "|".join(sorted(values))
        mask = _any_element(df["ipc"], values)
        out.append(Cond(f"ipc={expr_values}", mask))
        out.append(Cond(f"ipc!={expr_values}", ~mask))
    # text field equality (exact title)
    title = rng.choice(sorted(df["title"].dropna()))
    out.append(Cond(f'title="{title}"', df["title"] == title))
    # an identifier (application numbers are stored as keywords): =, any-of, !=
    for _ in range(3):
        n = rng.choice(numbers)
        out.append(Cond(f"application_number={n}", df["application_number"] == n))
    pick = rng.sample(numbers, 3)
    out.append(
        Cond("application_number=" + "|".join(map(str, pick)), df["application_number"].isin(pick))
    )
    out.append(Cond(f"application_number!={pick[0]}", df["application_number"] != pick[0]))
    # integers: every comparison, at and between stored values, on the reserved row number
    rows = pd.Series(df.index, index=df.index)
    for op, fn in ((">=", "ge"), (">", "gt"), ("<=", "le"), ("<", "lt")):
        for _ in range(2):
            r = rng.randrange(ROWS) + rng.choice([0, 0, 1, -1])
            out.append(Cond(f"_row{op}{r}", getattr(rows, fn)(r)))
    some = rng.sample(range(ROWS), 3)
    out.append(Cond("_row=" + "|".join(map(str, some)), rows.isin(some)))
    out.append(Cond(f"_row!={some[0]}", rows != some[0]))
    # dates: =, any-of, !=, comparisons, in every written form
    for col in DATE_FIELDS:
        stamps = sorted(df[col].dropna())
        for _ in range(2):
            txt, start, end = _date_text(rng, rng.choice(stamps))
            span = (df[col] >= start) & ((df[col] < end) if end > start else (df[col] == start))
            out.append(Cond(f"{col}={txt}", span))
            out.append(Cond(f"{col}!={txt}", ~span))
        for op in (">=", ">", "<=", "<"):
            txt, start, end = _date_text(rng, rng.choice(stamps))
            s = df[col]
            mask = {
                ">=": s >= start,
                "<": s < start,
                ">": (s >= end) if end > start else (s > start),
                "<=": (s < end) if end > start else (s <= start),
            }[op]
            out.append(Cond(f"{col}{op}{txt}", mask))
        (t1, s1, e1), (t2, s2, e2) = (_date_text(rng, rng.choice(stamps)) for _ in range(2))
        if e1 > s1 and e2 > s2:
            mask = ((df[col] >= s1) & (df[col] < e1)) | ((df[col] >= s2) & (df[col] < e2))
            out.append(Cond(f"{col}={t1}|{t2}", mask))
    # exists / missing
    for col in ("registration_date", "opening_date", "ipc", "applicant"):
        present = df[col].map(lambda v: len(v) > 0) if col == "ipc" else df[col].notna()
        out.append(Cond(f"{col} exists", present))
        out.append(Cond(f"{col} missing", ~present))
    # full text on text fields: the words analyzed like the documents (Korean content
    # morphemes), every query term among the document's terms; one word, several (all),
    # alternatives (any)
    analyzer = Analyzer()
    for col in ("title", "abstract"):
        words = [w for w in _words(df, col) if analyzer.terms(w)]
        toks = df[col].map(lambda v: set(analyzer.terms(v)) if isinstance(v, str) else set())

        def holds(t: set[str], text: str) -> bool:
            return set(analyzer.terms(text)) <= t

        for k in (1, 1, 2):
            chosen = rng.sample(words, k)
            query = " ".join(chosen)
            out.append(Cond(f"{col}~{query}", toks.map(lambda t, q=query: holds(t, q))))
        a, b = rng.sample(words, 2)
        out.append(
            Cond(f'{col}~{a}|"{b}"', toks.map(lambda t, a=a, b=b: holds(t, a) or holds(t, b)))
        )
    return out


def test_generated_conditions_cover_every_operator(frame):
    exprs = [c.expr for c in generate(frame, random.Random(SEED))]
    for op in ("!=", ">=", "<=", "~", " exists", " missing", "|"):
        assert any(op in e for e in exprs), op
    assert any(re.search(r"[^<>!]=[^=]", e) for e in exprs)
    assert any(re.search(r"\w>\d", e) for e in exprs)
    assert any(re.search(r"\w<\d", e) for e in exprs)


def test_every_operator_selects_what_pandas_selects(coll, frame):
    conds = generate(frame, random.Random(SEED))
    wrong = []
    for c in conds:
        expected = set(frame.index[c.mask.fillna(False).astype(bool)])
        got = selected(coll, [c.expr])
        if got != expected:
            wrong.append((c.expr, len(got), len(expected), sorted(got ^ expected)[:5]))
    assert not wrong, wrong
    # The generated conditions select something, and not always everything.
    sizes = [int(c.mask.fillna(False).astype(bool).sum()) for c in conds]
    assert sum(0 < s < ROWS for s in sizes) > len(sizes) * 0.6


def test_several_conditions_are_anded(coll, frame):
    rng = random.Random(SEED + 1)
    conds = generate(frame, rng)
    for _ in range(12):
        picked = rng.sample(conds, rng.choice([2, 3]))
        mask = pd.Series(True, index=frame.index)
        for c in picked:
            mask &= c.mask.fillna(False).astype(bool)
        assert selected(coll, [c.expr for c in picked]) == set(frame.index[mask]), [
            c.expr for c in picked
        ]


def test_filter_json_is_anded_with_where(coll, frame):
    store, name = coll
    raw = '{"must": [{"key": "status", "match": {"any": ["등록", "소멸"]}}]}'
    results = Session(collection=name, store=store, model=FakeEmbedder()).text(
        "장치", QueryOptions(where=("application_date>=2010",), filter_json=raw, limit=LIMIT)
    )
    mask = frame["status"].isin(["등록", "소멸"]) & (frame["application_date"] >= "2010-01-01")
    assert {h.row for h in results.hits} == set(frame.index[mask])
    with pytest.raises(BadFilter, match="unknown field 'nope'"):
        Session(collection=name, store=store, model=FakeEmbedder()).text(
            "장치", QueryOptions(filter_json='{"must": [{"key": "nope", "match": {"value": 1}}]}')
        )
    with pytest.raises(BadFilter, match="not valid JSON"):
        Session(collection=name, store=store, model=FakeEmbedder()).text(
            "장치", QueryOptions(filter_json="{must")
        )


@pytest.mark.parametrize("field", ["status", "applicant", "ipc", "country"])
def test_facets_count_what_pandas_counts(coll, frame, field):
    store, name = coll

    def counted(rows: pd.DataFrame) -> pd.Series:
        """What pandas counts: list elements one by one; a party's spellings as one name
        (store/names.py's key, the one the facets count by)."""
        column = rows[field].explode() if field == "ipc" else rows[field]
        column = column.dropna()
        if field == "applicant":
            column = column.map(name_key)
        return column.value_counts()

    def value(count) -> object:
        return count.key if field == "applicant" else count.value

    got = Session(collection=name, store=store).facets(field, QueryOptions(limit=1000))
    expected = counted(frame)
    assert {value(c): c.count for c in got.counts} == expected.to_dict()
    assert [c.count for c in got.counts] == sorted(expected.to_list(), reverse=True)
    assert got.total == ROWS
    # With a filter, and a limit: the most frequent values first.
    got = Session(collection=name, store=store).facets(
        field, QueryOptions(where=("application_date>=2015",), limit=3)
    )
    sub = frame[frame["application_date"] >= "2015-01-01"]
    expected = counted(sub)
    assert [c.count for c in got.counts] == expected.to_list()[:3]
    assert all(expected[value(c)] == c.count for c in got.counts)
    assert got.total == len(sub)
