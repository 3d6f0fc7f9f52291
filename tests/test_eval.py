"""search eval: P@k against an independent numpy computation, MRR, --tune, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from patentsim.errors import UserInputError
from patentsim.ingest.pipeline import load
from patentsim.ingest.records import clean_text
from patentsim.ingest.settings import LoadSettings
from patentsim.search import Session
from patentsim.search.cli import cli as search_cli
from patentsim.search.eval import EvalOptions, evaluate, label_codes
from patentsim.store import StoreSettings, open_store

from .conftest import NVIDIA_XLSX, slice_xlsx
from .fakes import FakeEmbedder

SAMPLE = Path(__file__).resolve().parent / "data" / "keyword_sample.csv"


def test_label_codes_levels():
    value = ["B24B 3/34", "b24b 49/12", "G01N21/88"]
    assert label_codes(value, "subclass") == {"B24B", "G01N"}
    assert label_codes(value, "group") == {"B24B3", "B24B49", "G01N21"}
    assert label_codes("G06F9/30189|G06F11/3024", "full") == {"G06F9/30189", "G06F11/3024"}
    assert label_codes(None, "subclass") == frozenset()


@pytest.fixture
def small(tmp_path):
    settings = StoreSettings(path=str(tmp_path / "store"))
    emb = FakeEmbedder()
    load(
        SAMPLE,
        LoadSettings(store_settings=settings, collection="s", id_column="doc_id"),
        embedder=emb,
    )
    return settings, emb


def test_eval_rows_and_tune_store_the_winner(small):
    settings, emb = small
    with Session(settings, model=emb) as session:
        report = evaluate(EvalOptions("ipc", sample=12, k=3, tune=True), session)
    assert [(r.mode, r.level) for r in report.rows] == [
        (m, lvl) for m in ("dense", "keyword", "hybrid") for lvl in ("subclass", "group")
    ]
    assert all(r.queries == 12 and r.k == 3 and 0 <= r.precision <= 1 for r in report.rows)
    # Every title is its document's best keyword match here: MRR 1.0.
    assert {r.mrr for r in report.rows if r.mode == "keyword"} == {1.0}
    t = report.tuning
    assert t is not None and t.tune_queries == 6
    best = max(score for _, score in t.tried)
    assert dict(t.tried)[t.after[0].detail] == best
    store = open_store(settings)
    try:
        search = store.open("s").read_manifest().search
    finally:
        store.close()
    assert search is not None and search.chosen_by is not None
    assert search.default_mode == t.winner["default_mode"] == t.after[0].mode
    assert search.chosen_by.startswith("search eval --tune")


def test_eval_refuses_bad_input(small):
    settings, emb = small
    with Session(settings, model=emb) as session:
        with pytest.raises(UserInputError, match="`level` must be one of"):
            evaluate(EvalOptions("ipc", levels=("class",)), session)
        with pytest.raises(UserInputError, match="`label`: unknown field 'ipcc'"):
            evaluate(EvalOptions("ipcc"), session)
        with pytest.raises(UserInputError, match="codes"):
            evaluate(EvalOptions("application_date"), session)
        with pytest.raises(UserInputError, match="-k must be at least 1"):
            evaluate(EvalOptions("ipc", k=0), session)
        with pytest.raises(UserInputError, match=r"`mode` must be one of .* or all"):
            evaluate(EvalOptions("ipc", modes=("fuzzy",)), session)


def test_eval_cli_json_keyword(small):
    settings, _ = small
    runner = CliRunner()
    res = runner.invoke(
        search_cli,
        [
            "eval",
            "--label",
            "ipc",
            "--mode",
            "keyword",
            "--level",
            "subclass",
            "-k",
            "2",
            "--sample",
            "12",
            "--format",
            "json",
            "--path",
            settings.path,
        ],
    )
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == 1
    assert set(rows[0]) == {"mode", "level", "k", "queries", "precision", "mrr"}
    assert rows[0]["mode"] == "keyword" and rows[0]["level"] == "subclass"
    assert rows[0]["k"] == 2 and rows[0]["queries"] == 12 and rows[0]["mrr"] == 1.0
    res = runner.invoke(
        search_cli, ["eval", "--label", "nope", "--mode", "keyword", "--path", settings.path]
    )
    assert res.exit_code == 2, res.output
    assert "nope" in res.output


def test_eval_dense_precision_matches_numpy_on_nvidia(tmp_path):
    """search eval's dense P@10 on real rows and labels agrees with a numpy computation."""
    if not NVIDIA_XLSX.is_file():
        pytest.skip(f"{NVIDIA_XLSX} not found (../shared/data)")
    import openpyxl

    source = slice_xlsx(NVIDIA_XLSX, tmp_path / "nv300.xlsx", 300)
    settings = StoreSettings(path=str(tmp_path / "store"))
    emb = FakeEmbedder(dimension=64)
    load(
        source,
        LoadSettings(store_settings=settings, collection="nv", id_column="doc_id"),
        embedder=emb,
    )
    options = EvalOptions(
        "cpc",
        levels=("subclass", "group"),
        sample=1000,  # more than there are: every labelled document is a query
        modes=("dense",),
        title=None,
    )
    with Session(settings, model=emb) as session:
        report = evaluate(options, session)
    wb = openpyxl.load_workbook(source, read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    header, body = list(rows[0]), rows[1:]
    wb.close()
    docs = [dict(zip(header, r)) for r in body]
    docs = [d for d in docs if d.get("abstract") and str(d["abstract"]).strip()]
    vectors = emb.encode([clean_text(str(d["abstract"])).strip() for d in docs])
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = vectors @ vectors.T
    for level, row in zip(("subclass", "group"), report.rows):
        labels = [
            {
                c.replace(" ", "").upper()[:4] if level == "subclass" else c.split("/")[0].strip()
                for c in str(d.get("cpc") or "").split("|")
                if c.strip()
            }
            for d in docs
        ]
        queries = [i for i in range(len(docs)) if labels[i]]
        total = 0.0
        for i in queries:
            order = [j for j in np.argsort(-sims[i], kind="stable") if j != i][:10]
            total += sum(1 for j in order if labels[j] & labels[i]) / 10
        expected = total / len(queries)
        assert row.mode == "dense" and row.level == level
        assert row.queries == len(queries)
        assert row.precision == pytest.approx(expected, abs=0.01)


def test_reciprocal_rank_shares_the_ranks_of_tied_scores():
    """Equal scores come back in the order the engine stored the points: a known item tied
    with another counts the mean of the two ranks' reciprocals, whichever comes first."""
    from types import SimpleNamespace

    from patentsim.search.eval import reciprocal_rank

    def hits(*pairs):
        return [SimpleNamespace(id=i, score=s) for i, s in pairs]

    assert reciprocal_rank(hits(("a", 0.9), ("b", 0.8)), "a") == 1.0
    assert reciprocal_rank(hits(("a", 0.9), ("b", 0.8)), "b") == 0.5
    assert reciprocal_rank(hits(("a", 0.9), ("b", 0.8)), "c") == 0.0
    tied = (0.5 + 1 / 3) / 2  # ranks 2 and 3 shared
    one = hits(("x", 0.9), ("a", 0.7), ("b", 0.7), ("c", 0.1))
    other = hits(("x", 0.9), ("b", 0.7), ("a", 0.7 + 1e-9), ("c", 0.1))
    assert reciprocal_rank(one, "a") == reciprocal_rank(other, "a") == pytest.approx(tied)
    assert reciprocal_rank(one, "b") == pytest.approx(tied)
    assert reciprocal_rank(one, "c") == 0.25
