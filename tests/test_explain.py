"""Why similar: shared terms, their weights and spans, and ``--explain`` in every format."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from patentsim.embed.analyzer import Analyzer
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, Session
from patentsim.search.explain import shared_terms
from patentsim.store import StoreSettings, open_store

from .conftest import KO_XLSX, slice_xlsx
from .fakes import FakeEmbedder

# Three documents whose analyzed terms are counted by hand below.
DOCS = [
    ("D0", "냉각 장치", "배터리를 냉각하는 장치. Cooling batteries with a pump."),
    ("D1", "온도 센서", "배터리의 온도를 측정하는 센서와 battery pump battery"),
    ("D2", "낚시", "낚싯대와 릴 fishing reel"),
]
# Terms of abstract + title (what each keyword vector is made of), by hand:
TERMS = {
    "D0": ["배터리", "냉각", "장치", "cool", "batteri", "pump", "냉각", "장치"],
    "D1": ["배터리", "온도", "측정", "센서", "batteri", "pump", "batteri", "온도", "센서"],
    "D2": ["낚싯", "대", "릴", "fish", "reel", "낚시"],  # MeCab: 낚싯대 = 낚싯 + 대
}


def _write(path: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "title", "abstract"])
    for row in DOCS:
        ws.append(list(row))
    wb.save(path)
    return path


@pytest.fixture
def three(settings, tmp_path) -> StoreSettings:
    """The three documents on each backend (the conftest ``settings`` drop them after)."""
    store = open_store(settings)
    load(
        _write(tmp_path / "three.xlsx"),
        LoadSettings(collection="three", id_column="id"),
        store=store,
        embedder=FakeEmbedder(),
    )
    yield settings, store
    # The in-memory stand-in is one per process: a collection left there shows in other tests.
    store.drop("three")
    store.close()


def _bm25(tf: int, length: int, avg: float, k1: float = 2.0, b: float = 0.75) -> float:
    return tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg))


def test_the_hand_counted_terms_are_the_analyzers():
    analyzer = Analyzer()
    for key, title, abstract in DOCS:
        assert analyzer.terms(abstract) + analyzer.terms(title) == TERMS[key]


def test_shared_terms_of_two_documents_by_hand(three):
    _, store = three
    why = shared_terms("D1", "D0", key=True, collection="three", store=store)
    # ingest's average length: of the first chunk (here all three), kept to 2 decimals
    avg = round(sum(len(t) for t in TERMS.values()) / 3, 2)
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # N = 3 documents, each term in 2
    q, h = len(TERMS["D0"]), len(TERMS["D1"])
    expected = [
        ("batteri", idf * _bm25(1, q, avg) * _bm25(2, h, avg)),
        ("pump", idf * _bm25(1, q, avg) * _bm25(1, h, avg)),
        ("배터리", idf * _bm25(1, q, avg) * _bm25(1, h, avg)),
    ]
    assert [t.term for t in why.terms] == [t for t, _ in expected]
    for got, (_, weight) in zip(why.terms, expected):
        assert got.weight == pytest.approx(weight, rel=1e-4)
        assert got.idf == pytest.approx(idf) and got.documents == 2
    assert why.terms[0].query_words == ["batteries"]
    assert why.terms[0].hit_words == ["battery"]
    assert why.key == "D1" and why.query_key == "D0"


def test_spans_highlight_the_surface_forms_without_particles(three):
    _, store = three
    why = shared_terms("D1", "D0", key=True, collection="three", store=store)
    query = DOCS[0][2]
    hit = DOCS[1][2]
    assert [query[s.start : s.end] for s in why.query_spans["abstract"]] == [
        "배터리",  # not 배터리를
        "batteries",
        "pump",
    ]
    assert [hit[s.start : s.end] for s in why.hit_spans["abstract"]] == [
        "배터리",  # not 배터리의
        "battery",
        "pump",
        "battery",
    ]
    assert why.hit_spans["title"] == []  # 온도 센서 shares nothing with D0


def test_the_weights_add_up_to_the_keyword_score(three):
    _, store = three
    results = Session(collection="three", store=store).like(
        "D0", QueryOptions(mode="keyword", explain=True), key=True
    )
    assert [h.key for h in results.hits] == ["D1"]  # D2 shares no term
    hit = results.hits[0]
    assert sum(t.weight for t in hit.shared_terms) == pytest.approx(hit.score, rel=1e-4)


def test_text_query_shares_its_terms(three):
    _, store = three
    why = shared_terms(
        "D0", text="배터리를 냉각하는 방법", key=True, collection="three", store=store
    )
    assert sorted(t.term for t in why.terms) == ["냉각", "배터리"]
    assert all(t.query_weight == 1.0 for t in why.terms)
    query = "배터리를 냉각하는 방법"
    assert [query[s.start : s.end] for s in why.query_spans["text"]] == ["배터리", "냉각"]
    found = Session(collection="three", store=store).text(
        "배터리를 냉각하는 방법", QueryOptions(mode="keyword", explain=True)
    )
    top = found.hits[0]
    assert top.key == "D0"
    assert sum(t.weight for t in top.shared_terms) == pytest.approx(top.score, rel=1e-4)


def test_shared_terms_need_a_query():
    from patentsim.errors import UserInputError

    with pytest.raises(UserInputError):
        shared_terms("D0")


# -- the analyzer's spans -----------------------------------------------------------------------


WORDS = st.sampled_from(
    [
        "배터리를",
        "냉각하는",
        "장치의",
        "위한",
        "연삭량을",
        "LED칩을",
        "batteries",
        "Cooling",
        "ＬＥＤ",
        "ﬁlters",
        "㈜삼성",
        "a",
        "the",
        "2019",
        "x-ray",
        "e\u0301clair",
        "ㄱㅏ",
        "센서와",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(WORDS, st.sampled_from([" ", ", ", "\n", "", "("])), max_size=12))
def test_spans_give_the_analyzers_terms_in_order(parts):
    analyzer = Analyzer()
    text_ = "".join(w + sep for w, sep in parts)
    spans = analyzer.spans(text_)
    assert [s.term for s in spans] == analyzer.terms(text_)
    for s in spans:
        assert 0 <= s.start < s.end <= len(text_)


def test_spans_on_the_korean_sample_match_terms():
    import openpyxl

    analyzer = Analyzer()
    wb = openpyxl.load_workbook(KO_XLSX, read_only=True)
    texts = [c for row in wb.active.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    wb.close()
    assert len(texts) > 300
    for t in texts:
        assert [s.term for s in analyzer.spans(t)] == analyzer.terms(t)


# -- --explain in the commands -----------------------------------------------------------------


@pytest.fixture(scope="module")
def ko_store(tmp_path_factory) -> str:
    src = slice_xlsx(KO_XLSX, tmp_path_factory.mktemp("src") / "ko60.xlsx", 60)
    path = str(tmp_path_factory.mktemp("store"))
    load(
        src,
        LoadSettings(store_settings=StoreSettings(path=path), collection="patents"),
        embedder=FakeEmbedder(),
    )
    return path


@pytest.fixture
def search(ko_store):
    from patentsim.search.cli import cli

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), env={"QDRANT_PATH": ko_store})

    return run


def test_like_explain_json(search):
    result = search("like", "0", "--explain", "--mode", "keyword", "--format", "json", "-n", "3")
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(hits) == 3
    for hit in hits:
        terms = hit["shared_terms"]
        assert terms and set(terms[0]) == {"term", "word", "weight"}
        weights = [t["weight"] for t in terms]
        assert weights == sorted(weights, reverse=True)
        # up to the ten shown, the weights add up to no more than the BM25 score
        assert sum(weights) <= hit["score"] + 1e-6
    plain = search("like", "0", "--mode", "keyword", "--format", "json", "-n", "3")
    assert all("shared_terms" not in json.loads(line) for line in plain.stdout.splitlines())


def test_like_explain_csv_and_table(search):
    result = search("like", "0", "--explain", "--format", "csv", "-n", "2")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2
    assert all(r["shared_terms"] for r in rows)
    assert all("를" not in r["shared_terms"].split("|") for r in rows)
    table = search("like", "0", "--explain", "-n", "2")
    assert table.exit_code == 0, table.output
    assert "shared terms" in table.stdout.splitlines()[0]


def test_text_explain_csv(search):
    result = search(
        "text", "연삭량을 측정하는 장치", "--mode", "keyword", "--explain", "--format", "csv"
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and all(
        set(r["shared_terms"].split("|")) <= {"연삭", "량", "측정", "장치"} for r in rows
    )
    assert "연삭" in rows[0]["shared_terms"].split("|")


def test_like_explain_xlsx_file(search, tmp_path):
    import openpyxl

    out = tmp_path / "hits.xlsx"
    result = search("like", "0", "--explain", "-n", "4", "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0][-1] == "shared_terms"
    assert len(rows) == 5 and all(r[-1] for r in rows[1:])
