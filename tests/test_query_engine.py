"""The torch-free query encoder: ONNX Runtime + the model's fast tokenizer, from its export.

Agreement with sentence-transformers (cosine and top-10) for the offline model
(mean pooling) and for a tiny CLS-pooling model built here; ``search text`` in
a fresh process without torch once the export exists; the torch path when
onnxruntime is missing or the export fails; ``ingest load`` with nothing to
embed stays free of torch and says which engine embedded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from patentsim.embed.embedder import (
    EmbedderConfig,
    OnnxEmbedder,
    SlowQueryWarning,
    TorchEmbedder,
)
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, Session, text
from patentsim.store import StoreSettings, open_store

from .conftest import EXAMPLE_XLSX, NVIDIA_XLSX

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")
pytestmark = pytest.mark.slow

QUERIES = [
    "battery thermal management system",
    "a grinding wheel that measures how much it removed",
    "camera that inspects solder joints on a circuit board",
    "lidar and radar fusion for self-driving cars",
    "배터리 열관리 시스템",
    "연삭량을 측정하는 연삭 장치",
    "반도체 패키지 방열 구조",
    "무선 통신 안테나 빔포밍",
    "의료 영상 노이즈 제거",
    "로봇 그리퍼",
]
HEAVY = ("torch", "sentence_transformers", "transformers")


def _example_rows(n: int | None = None) -> list[dict]:
    import openpyxl

    book = openpyxl.load_workbook(EXAMPLE_XLSX, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, r)) for r in rows[1 : None if n is None else n + 1]]


def _agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float((a * b).sum(1).min())


def _top10_keys(query: str, emb, store, collection: str) -> list[str]:
    """The dense top-10 (the Korean example makes keyword search the default mode with the
    English offline model, and keyword search never runs the encoder)."""
    hits = Session(collection=collection, store=store, model=emb).text(
        query, QueryOptions(limit=10, mode="dense")
    )
    keys = [h.key for h in hits.hits]
    assert len(keys) == 10, keys
    return keys


def _assert_same_top10(torch_emb, onnx_emb, tmp_path: Path) -> None:
    settings = StoreSettings(path=str(tmp_path / "store"))
    load(
        EXAMPLE_XLSX,
        LoadSettings(store_settings=settings, collection="ex", id_column="application_number"),
        embedder=torch_emb,
    )
    store = open_store(settings)
    try:
        for q in QUERIES:
            assert _top10_keys(q, onnx_emb, store, "ex") == _top10_keys(
                q, torch_emb, store, "ex"
            ), q
    finally:
        store.close()


# -- the offline model (mean pooling, a Normalize module) -------------------------------------


@pytest.fixture(scope="module")
def minilm_pair(offline_embedder, model_cache):
    os.environ["PATENTSIM_CACHE"] = str(model_cache)  # the autouse fixture sets the same
    offline_embedder.write_export()
    onnx = EmbedderConfig.choose("minilm", device="cpu").load_for_queries()
    assert isinstance(onnx, OnnxEmbedder)
    return offline_embedder, onnx


def test_minilm_vectors_agree_with_sentence_transformers(minilm_pair):
    torch_emb, onnx = minilm_pair
    assert onnx.fingerprint == torch_emb.fingerprint
    assert onnx.export.meta["pooling"]["pooling_mode"] == "mean"
    abstracts = [str(r["abstract"]) for r in _example_rows(120)]
    texts = QUERIES + abstracts
    assert _agreement(onnx.encode(texts, query=True), torch_emb.encode(texts, query=True)) >= 0.9999
    assert onnx.token_counts(abstracts) == torch_emb.token_counts(abstracts)


def test_minilm_agrees_on_english_patent_abstracts(minilm_pair):
    if not NVIDIA_XLSX.is_file():
        pytest.skip(f"{NVIDIA_XLSX} not found (../shared/data)")
    import openpyxl

    torch_emb, onnx = minilm_pair
    rows = openpyxl.load_workbook(NVIDIA_XLSX, read_only=True).active.iter_rows(values_only=True)
    header = [str(h).lower() for h in next(rows)]
    col = next(i for i, h in enumerate(header) if "abstract" in h)
    abstracts = [str(r[col]) for r, _ in zip(rows, range(150)) if r[col]]
    assert _agreement(onnx.encode(abstracts), torch_emb.encode(abstracts)) >= 0.9999


def test_minilm_top10_of_search_text_is_unchanged(minilm_pair, tmp_path):
    _assert_same_top10(*minilm_pair, tmp_path)


# -- a small CLS-pooling model with a query prompt, built here -------------------------------


@pytest.fixture(scope="module")
def cls_model(tmp_path_factory) -> dict[str, Path]:
    """A tiny random BERT saved with sentence-transformers: CLS pooling, and mean for contrast."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    from patentsim.embed.model import offline_model_path

    root = tmp_path_factory.mktemp("cls_model")
    tokenizer = AutoTokenizer.from_pretrained(str(offline_model_path()))  # local files only
    torch.manual_seed(12)
    bert = BertModel(
        BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=128,
            max_position_embeddings=128,
            initializer_range=0.5,  # at the usual 0.02 every text gets nearly the same vector
        )
    )
    bert.save_pretrained(root / "raw")
    tokenizer.save_pretrained(root / "raw")
    out = {}
    for mode in ("cls", "mean"):
        body = Transformer(str(root / "raw"), max_seq_length=64)
        pooling = Pooling(bert.config.hidden_size, pooling_mode=mode)
        model = SentenceTransformer(modules=[body, pooling], prompts={"query": "query: "})
        model.save(str(root / mode))
        out[mode] = root / mode
    return out


def test_cls_pooling_model_agrees_and_keeps_its_top10(cls_model, tmp_path):
    config = EmbedderConfig.choose(str(cls_model["cls"]), device="cpu")
    torch_emb = config.load(export_for_queries=True)
    assert isinstance(torch_emb, TorchEmbedder)
    onnx = config.load_for_queries()
    assert isinstance(onnx, OnnxEmbedder)
    meta = onnx.export.meta
    assert meta["pooling"]["pooling_mode"] == "cls"
    assert meta["prompts"] == {"query": "query: "} and meta["max_seq_length"] == 64
    texts = QUERIES + [str(r["abstract"]) for r in _example_rows(60)]
    ours = onnx.encode(texts, query=True)
    assert _agreement(ours, torch_emb.encode(texts, query=True)) >= 0.9999
    assert _agreement(onnx.encode(texts), torch_emb.encode(texts)) >= 0.9999
    # The prompt and the pooling matter here, so agreeing on them is not a given.
    assert _agreement(ours, onnx.encode(texts)) < 0.9999
    mean = EmbedderConfig.choose(str(cls_model["mean"]), device="cpu").load()
    assert _agreement(ours, mean.encode(texts, query=True)) < 0.99
    _assert_same_top10(torch_emb, onnx, tmp_path)


# -- processes: search text without torch, and the torch path when it must -------------------


def _run(code: str, tmp_path: Path, cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATENTSIM_CACHE=str(cache), QDRANT_PATH=str(tmp_path / "store"))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
    )


CLI = (
    "import sys\n{pre}\n"
    "from patentsim.{side}.cli import cli\n"
    "try:\n    cli({args!r}, standalone_mode=False)\n"
    "finally:\n"
    "    heavy = {heavy!r}\n"
    "    print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in heavy),\n"
    "          file=sys.stderr)\n"
)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, model_cache):
    """30 example rows ingested with the offline model by ``ingest load`` (which exports it)."""
    root = tmp_path_factory.mktemp("ingested")
    src = root / "ex30.csv"
    import csv

    with open(src, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        rows = _example_rows(30)
        writer.writerow(["application_number", "title", "abstract"])
        for r in rows:
            writer.writerow([r["application_number"], r["title"], r["abstract"]])
    cache = root / "cache"  # a cache of its own: this ingest must write the export
    out = _run(
        CLI.format(
            pre="",
            side="ingest",
            args=[
                "load",
                str(src),
                "-c",
                "ex",
                "--model",
                "minilm",
                "--id",
                "application_number",
                "-q",
                "--format",
                "json",
            ],
            heavy=HEAVY,
        ),
        root,
        cache,
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    return {"root": root, "src": src, "cache": cache, "summary": summary}


def _search_text(ingested, pre: str = "") -> subprocess.CompletedProcess:
    # Dense mode: these tests are about the query encoder (the Korean example rows make
    # keyword search the collection's default with the English offline model).
    args = ["text", "battery cooling plate", "-c", "ex", "--mode", "dense", "--limit", "10"]
    args += ["--format", "json"]
    return _run(
        CLI.format(pre=pre, side="search", args=args, heavy=HEAVY),
        ingested["root"],
        ingested["cache"],
    )


def _keys(out: subprocess.CompletedProcess) -> list[str]:
    assert out.returncode == 0, out.stderr
    return [json.loads(line)["key"] for line in out.stdout.splitlines() if line.strip()]


def test_ingest_load_exports_the_model_and_says_which_engine_embedded(ingested):
    assert ingested["summary"]["embedded"] == 30 and ingested["summary"]["engine"] == "torch"
    exports = list((ingested["cache"] / "onnx").glob("*/export.json"))
    assert len(exports) == 1


def test_search_text_in_a_fresh_process_imports_no_torch(ingested, offline_embedder):
    out = _search_text(ingested)
    keys = _keys(out)
    assert "HEAVY []" in out.stderr, out.stderr
    assert "warning" not in out.stderr
    # The same top-10 as sentence-transformers' own vector gives.
    store = open_store(StoreSettings(path=str(ingested["root"] / "store")))
    try:
        want = _top10_keys("battery cooling plate", offline_embedder, store, "ex")
    finally:
        store.close()
    assert keys == want


def test_search_text_without_onnxruntime_answers_via_torch(ingested):
    fast = _keys(_search_text(ingested))
    out = _search_text(ingested, pre="sys.modules['onnxruntime'] = None")
    assert _keys(out) == fast
    lines = [x for x in out.stderr.splitlines() if x.startswith("warning:")]
    assert len(lines) == 1 and "onnxruntime is not installed" in lines[0], out.stderr
    assert "'torch'" in out.stderr  # it did load torch


def test_ingest_load_with_nothing_to_embed_imports_no_torch(ingested):
    args = [
        "load",
        str(ingested["src"]),
        "-c",
        "ex",
        "--id",
        "application_number",
        "-q",
        "--format",
        "json",
    ]
    out = _run(
        CLI.format(pre="", side="ingest", args=args, heavy=HEAVY),
        ingested["root"],
        ingested["cache"],
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["unchanged"] == 30 and summary["embedded"] == 0 and summary["engine"] is None
    assert "HEAVY []" in out.stderr, out.stderr


def test_a_failed_export_falls_back_to_torch_with_one_warning(
    offline_embedder, tmp_path, monkeypatch
):
    import patentsim.embed.engines as engines

    def broken(*args, **kwargs):
        raise RuntimeError("unsupported operator aten::frobnicate")

    monkeypatch.setenv("PATENTSIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(engines, "_export_graph", broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emb = EmbedderConfig.choose("minilm", device="cpu").load_for_queries()
    assert isinstance(emb, TorchEmbedder)
    slow = [w for w in caught if issubclass(w.category, SlowQueryWarning)]
    assert len(slow) == 1 and "aten::frobnicate" in str(slow[0].message)
    assert not (tmp_path / "cache" / "onnx").is_dir() or not list(
        (tmp_path / "cache" / "onnx").glob("*/export.json")
    )
    np.testing.assert_allclose(
        emb.encode(QUERIES, query=True), offline_embedder.encode(QUERIES, query=True), atol=1e-6
    )


def test_text_in_a_long_lived_process_keeps_its_encoder(ingested, monkeypatch):
    import patentsim.search.query_model as query_mod

    monkeypatch.setenv("PATENTSIM_CACHE", str(ingested["cache"]))
    monkeypatch.setattr(query_mod, "_EMBEDDERS", {})
    loads = []
    real = EmbedderConfig.load_for_queries

    def counting(self):
        loads.append(self)
        return real(self)

    monkeypatch.setattr(EmbedderConfig, "load_for_queries", counting)
    settings = StoreSettings(path=str(ingested["root"] / "store"))
    first = text(
        "battery cooling plate", QueryOptions(mode="dense"), settings=settings, collection="ex"
    )
    second = text("robot gripper", QueryOptions(mode="dense"), settings=settings, collection="ex")
    assert len(loads) == 1
    assert len(first.hits) == 10 and len(second.hits) == 10
    kept = list(query_mod._EMBEDDERS.values())
    assert len({id(e) for e in kept}) == 1 and isinstance(kept[0], OnnxEmbedder)


def test_an_int8_collection_without_onnxruntime_still_answers_via_torch(
    offline_embedder, monkeypatch
):
    import patentsim.embed.engines as engines

    monkeypatch.setattr(engines, "onnxruntime_available", lambda: False)
    config = EmbedderConfig.choose("minilm", backend="int8", device="cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emb = config.load_for_queries()
    assert isinstance(emb, TorchEmbedder)
    assert emb.fingerprint == config.fingerprint() == offline_embedder.fingerprint + "+int8-onnx"
    (slow,) = [w for w in caught if issubclass(w.category, SlowQueryWarning)]
    assert "onnxruntime is not installed" in str(slow.message)
    np.testing.assert_allclose(
        emb.encode(QUERIES, query=True), offline_embedder.encode(QUERIES, query=True), atol=1e-6
    )


def test_ingest_load_with_the_int8_engine_imports_no_torch_once_exported(ingested):
    args = ["load", str(ingested["src"]), "-c", "ex8", "--id", "application_number",
            "--backend", "int8", "-q", "--format", "json"]  # fmt: skip
    out = _run(
        CLI.format(pre="", side="ingest", args=args, heavy=HEAVY),
        ingested["root"],
        ingested["cache"],
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["embedded"] == 30 and summary["engine"] == "int8-onnx"
    assert "HEAVY []" in out.stderr, out.stderr
