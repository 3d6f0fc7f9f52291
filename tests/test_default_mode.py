"""The default mode of a collection, measured after ``ingest load`` on its own labels."""

from __future__ import annotations

import csv

import pytest

from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search.eval import MEASURE_SAMPLE, EvalOptions, evaluate
from patentsim.search.session import Session
from patentsim.store import StoreSettings, open_store

from .conftest import KO_XLSX, slice_xlsx
from .fakes import FakeEmbedder


def _search_spec(settings: StoreSettings, name: str) -> dict:
    store = open_store(settings)
    try:
        search = store.open(name).read_manifest().search
        assert search is not None
        return search.to_dict()
    finally:
        store.close()


def test_load_measures_the_modes_on_the_labels_and_keeps_the_best(tmp_path):
    settings = StoreSettings(path=str(tmp_path / "store"))
    emb = FakeEmbedder()
    summary = load(KO_XLSX, LoadSettings(store_settings=settings, collection="ko"), embedder=emb)
    spec = _search_spec(settings, "ko")
    why = str(summary.mode_reason)
    head = f"P@10 (subclass and group, averaged) of 'ipc' on {MEASURE_SAMPLE} sampled"
    assert why.startswith(f"{summary.default_mode} ({head}")
    assert spec["chosen_by"] == f"ingest (measured defaults): {why}"
    assert summary.default_mode_seconds > 0
    assert emb.texts == summary.embedded  # the measurement embedded nothing: stored vectors
    # The same figures as search eval on the same seeded sample.
    with Session(settings, "ko", model=emb) as session:
        report = evaluate(EvalOptions("ipc", sample=MEASURE_SAMPLE, seed=0), session)
    shown = {
        m: float(v)
        for m, v in (
            x.split() for x in why.split("sampled documents: ")[1].split(";")[0].split(", ")
        )
    }
    scores = {}
    for mode in ("dense", "keyword", "hybrid"):
        rows = [r.precision for r in report.rows if r.mode == mode]
        scores[mode] = round(sum(rows) / len(rows), 4)
        # Hybrid: documents tied on the fused score come back in the engine's order.
        assert shown[mode] == pytest.approx(scores[mode], abs=0.005 if mode == "hybrid" else 5e-4)
    best = max(shown, key=lambda m: (shown[m], -("dense", "keyword", "hybrid").index(m)))
    assert spec["default_mode"] == summary.default_mode == best


def test_later_loads_keep_the_default(tmp_path):
    settings = StoreSettings(path=str(tmp_path / "store"))
    emb = FakeEmbedder()
    load(KO_XLSX, LoadSettings(store_settings=settings, collection="ko"), embedder=emb)
    measured = _search_spec(settings, "ko")
    assert measured["chosen_by"].startswith("ingest (measured defaults): ")
    again = load(KO_XLSX, LoadSettings(store_settings=settings, collection="ko"), embedder=emb)
    assert _search_spec(settings, "ko") == measured and again.mode_reason is None
    with Session(settings, "ko", model=emb) as session:
        evaluate(EvalOptions("ipc", sample=40, k=5, tune=True), session)
    tuned = _search_spec(settings, "ko")
    assert tuned["chosen_by"].startswith("search eval --tune")
    load(KO_XLSX, LoadSettings(store_settings=settings, collection="ko"), embedder=emb)
    assert _search_spec(settings, "ko") == tuned


def test_without_labels_the_tokenizer_decides(tmp_path):
    settings = StoreSettings(path=str(tmp_path / "store"))
    few = slice_xlsx(KO_XLSX, tmp_path / "few.xlsx", 30)
    summary = load(
        few, LoadSettings(store_settings=settings, collection="few"), embedder=FakeEmbedder()
    )
    assert summary.default_mode == "dense"  # the fake embedder has no tokenizer to judge
    assert str(summary.mode_reason).endswith(
        "; not measured on labels: 30 labelled documents: too few)"
    )
    plain = tmp_path / "plain.csv"
    with open(plain, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["title", "abstract", "status"])
        for i in range(60):
            w.writerow([f"title {i}", f"an abstract about topic {i % 7} number {i}", "granted"])
    summary = load(
        plain, LoadSettings(store_settings=settings, collection="plain"), embedder=FakeEmbedder()
    )
    assert summary.default_mode == "dense" and _search_spec(settings, "plain")["measured"] == (
        summary.mode_reason
    )
    assert str(summary.mode_reason).endswith(
        "; not measured on labels: no label field (IPC/CPC codes))"
    )


def test_cli_summary_says_why(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from patentsim.ingest import pipeline
    from patentsim.ingest.cli import cli

    original = pipeline._Model.__init__

    def fake_model(self, config, embedder, *args, **kwargs):
        original(self, None, FakeEmbedder(), *args, **kwargs)

    monkeypatch.setattr(pipeline._Model, "__init__", fake_model)
    part = slice_xlsx(KO_XLSX, tmp_path / "part.xlsx", 60)
    res = CliRunner().invoke(cli, ["load", str(part), "-c", "p", "--model", "minilm", "-q"])
    assert res.exit_code == 0, res.output
    said = [x for x in res.output.splitlines() if "default mode" in x or "default search" in x]
    assert len(said) == 1, res.output  # once: the measured line, not a short one before it
    line = said[0]
    assert line.startswith("  chose the default mode ")
    assert "P@10 (subclass and group, averaged) of 'ipc' on 60 sampled documents" in line
    assert "(labels measured in " in line
    # Loaded again, the stored default stands and nothing is measured: the short line, once.
    res = CliRunner().invoke(cli, ["load", str(part), "-c", "p", "--model", "minilm", "-q"])
    assert res.exit_code == 0, res.output
    said = [x for x in res.output.splitlines() if "default mode" in x or "default search" in x]
    mode = line.split()[4]
    assert said == [f"  default search mode: {mode} (search --mode dense|keyword|hybrid)"]
