"""The embedding model: devices, work sharing, backends, long texts, fingerprints.

Nothing here needs a GPU: device lists and the sharing of work are plain
logic, and the one-process-per-device embedder runs with a fake in workers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from patentsim.embed.devices import (
    BadDevice,
    MultiDeviceEmbedder,
    length_batches,
    parse_devices,
    split_work,
)
from patentsim.embed.embedder import EmbedderConfig
from patentsim.embed.model import (
    BadOption,
    ModelSpec,
    check_options,
    embedding_fingerprint,
    engine_for,
    split_windows,
)
from patentsim.errors import UserInputError
from patentsim.store.manifest import Manifest, ModelRecord

from .fakes import FakeEmbedder


def fake_factory(device: str) -> FakeEmbedder:
    """Builds the worker's embedder (runs in a spawned process)."""
    emb = FakeEmbedder(dimension=16)
    emb.name = f"fake on {device}"
    return emb


# -- devices ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("auto", ["auto"]),
        ("cpu", ["cpu"]),
        ("CUDA", ["cuda"]),
        ("cuda:1", ["cuda:1"]),
        ("cuda:0,cuda:1", ["cuda:0", "cuda:1"]),
        (" cuda:0 , cuda:1 ,cuda:0", ["cuda:0", "cuda:1"]),
        ("0,2", ["cuda:0", "cuda:2"]),
        ("mps", ["mps"]),
    ],
)
def test_parse_devices(spec, expected):
    assert parse_devices(spec, count=lambda: pytest.fail("count asked")) == expected


def test_parse_devices_all_asks_for_the_count():
    assert parse_devices("all", count=lambda: 3) == ["cuda:0", "cuda:1", "cuda:2"]


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cuda:0,cpu", "cpu,mps", "tpu:0"])
def test_parse_devices_refuses_what_names_no_device(spec):
    with pytest.raises(BadDevice) as err:
        parse_devices(spec, count=lambda: 2)
    assert isinstance(err.value, UserInputError)  # exit 2 in the CLI
    assert err.value.hint


def test_all_without_a_gpu_says_what_to_do():
    with pytest.raises(BadDevice, match="no CUDA GPU") as err:
        parse_devices("all", count=lambda: 0)
    assert "--device auto" in (err.value.hint or "")


def test_split_work_balances_total_length_and_keeps_every_index():
    rng = np.random.default_rng(0)
    lengths = [int(x) for x in rng.integers(10, 400, size=101)]
    shares = split_work(lengths, 3)
    assert sorted(i for s in shares for i in s) == list(range(101))
    loads = [sum(lengths[i] for i in s) for s in shares]
    assert max(loads) - min(loads) <= max(lengths)
    assert all(s == sorted(s) for s in shares)


def test_split_work_edge_cases():
    assert split_work([], 2) == [[], []]
    assert split_work([5], 3) == [[0], [], []]
    assert split_work([1, 1, 1, 1], 1) == [[0, 1, 2, 3]]
    with pytest.raises(ValueError):
        split_work([1], 0)


def test_length_batches_group_similar_lengths_longest_first():
    lengths = [3, 50, 7, 49, 4, 48]
    assert length_batches(lengths, 2) == [[1, 3], [5, 2], [4, 0]]
    assert sorted(i for b in length_batches(lengths, 4) for i in b) == list(range(6))
    with pytest.raises(ValueError):
        length_batches(lengths, 0)


def test_multi_device_embedder_puts_rows_back_in_input_order():
    texts = [f"text {i} " + "word " * (i % 7) for i in range(23)]
    multi = MultiDeviceEmbedder(["cpu", "cpu"], fake_factory)
    try:
        got = multi.encode(texts, batch_size=4)
        assert multi.dimension == 16
        assert multi.info().devices == ("cpu", "cpu")
        assert multi.token_counts(["a b"]) == [4]
        assert multi.encode([]).shape == (0, 16)
    finally:
        multi.close()
    np.testing.assert_allclose(got, FakeEmbedder(dimension=16).encode(texts), atol=1e-6)


# -- options and fingerprints ----------------------------------------------------------------


def test_check_options_refuses_unknown_values():
    check_options("int8", "chunk")
    with pytest.raises(BadOption, match="--backend"):
        check_options("tensorrt", "truncate")
    with pytest.raises(BadOption, match="--long-text"):
        check_options("torch", "summarise")


def test_fingerprints_differ_by_engine_and_long_text_mode():
    base = "0123456789abcdef"
    assert embedding_fingerprint(base) == base  # fp32 torch keeps older collections valid
    prints = {
        embedding_fingerprint(base, engine, mode)
        for engine in ("torch", "onnx", "int8-onnx", "int8-torch")
        for mode in ("truncate", "chunk")
    }
    assert len(prints) == 8


def test_expected_fingerprint_without_loading_the_model(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text('{"a": 1}')
    spec = ModelSpec("m", str(folder), local=True)
    plain = EmbedderConfig(spec).fingerprint()
    assert EmbedderConfig(spec, long_text="chunk").fingerprint() == plain + "+chunk"
    assert EmbedderConfig(spec, "int8-onnx").fingerprint() == plain + "+int8-onnx"
    assert EmbedderConfig(ModelSpec("x/y", "x/y", local=False)).fingerprint() == ""


def test_the_int8_engine_is_the_manifests_not_whatever_is_installed():
    # A new collection: --backend int8 is ONNX Runtime's int8 engine, on every machine.
    assert engine_for("int8") == "int8-onnx"
    assert engine_for("torch") == "torch"
    # A collection keeps the engine its manifest records, even one no longer offered.
    assert engine_for("int8", ModelRecord("m", backend="int8", engine="int8-torch")) == "int8-torch"
    assert engine_for("onnx", ModelRecord("m", backend="onnx", engine="onnx")) == "onnx"
    # Another backend than the stored one starts from that backend's engine.
    assert engine_for("int8", ModelRecord("m", backend="torch", engine="torch")) == "int8-onnx"
    # A collection made before backends were chosen is torch's (the manifest's upgrade says so).
    assert engine_for("torch", Manifest.from_dict({"model": {"name": "m"}}).model) == "torch"


# -- long texts -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from patentsim.embed.model import offline_model_path

    path = offline_model_path()
    if path is None:
        pytest.skip("the offline model is not installed")
    return AutoTokenizer.from_pretrained(str(path))


def test_split_windows_cuts_long_texts_on_token_boundaries(tokenizer):
    long = " ".join(f"graphics processor {i} renders frames" for i in range(60))
    texts = ["a short abstract", long]
    pieces, owner, weight = split_windows(texts, tokenizer, 32)
    assert pieces[0] == "a short abstract" and owner[0] == 0
    assert owner[1:] == [1] * (len(pieces) - 1)
    total = len(tokenizer(long, add_special_tokens=False)["input_ids"])
    assert sum(weight[1:]) == total
    for piece in pieces[1:]:
        assert piece in long
        assert len(tokenizer(piece)["input_ids"]) <= 32 + 1  # re-tokenised edges may shift by one
    assert max(weight[1:]) == 30  # 32 less [CLS] and [SEP]


def test_the_onnx_tokenizer_cuts_the_same_windows(tokenizer):
    """The ONNX engine's tokenizer (tokenizers, no transformers) cuts long texts exactly as
    ``split_windows`` does with the model's own tokenizer: the same pieces and weights."""
    pytest.importorskip("tokenizers")
    from patentsim.embed.engines import FastTokenizer

    long = " ".join(f"배터리 냉각판 {i} graphics processor renders frames" for i in range(40))
    texts = ["a short abstract", long, "", long[:300]]
    special = tokenizer.num_special_tokens_to_add(pair=False)
    fast = FastTokenizer(Path(tokenizer.name_or_path) / "tokenizer.json", 32, 0, special)
    expected = split_windows(texts, tokenizer, 32)
    assert fast.windows(texts) == expected
    pieces, owner, weight = expected
    assert owner.count(1) > 3 and owner.count(3) > 1 and pieces[owner.index(2)] == ""
    assert weight[owner.index(2)] == 1  # an empty text weighs one, not zero


@pytest.mark.slow
def test_chunk_averages_windows_and_leaves_short_texts_alone(offline_embedder):
    chunked = EmbedderConfig(offline_embedder.spec, long_text="chunk", device="cpu").load()
    assert chunked.fingerprint == offline_embedder.fingerprint + "+chunk"
    assert chunked.info().long_text == "chunk"
    short = "A battery pack with a liquid cooling plate."
    long = " ".join(["A graphics processing unit schedules ray tracing work."] * 80)
    got = chunked.encode([short, long])
    np.testing.assert_allclose(got[0], offline_embedder.encode([short])[0], atol=1e-5)
    pieces, _, weight = chunked.windows([long])
    assert len(pieces) >= 3
    parts = offline_embedder.encode(pieces)
    mean = (parts * np.asarray(weight)[:, None]).sum(0)
    np.testing.assert_allclose(got[1], mean / np.linalg.norm(mean), atol=1e-5)
    assert abs(float(np.linalg.norm(got[1])) - 1.0) < 1e-5


# -- backends ---------------------------------------------------------------------------------

TEXTS = [
    "A graphics processing unit with dedicated ray tracing cores accelerates rendering.",
    "A battery management system balances cell voltages during charging.",
    "A neural network accelerator stores weights in on-chip memory to cut bandwidth.",
]


@pytest.mark.slow
def test_int8_without_onnxruntime_is_an_error_not_another_engine(offline_embedder, monkeypatch):
    import patentsim.embed.engines as engines
    from patentsim.errors import ModelUnavailable

    monkeypatch.setattr(engines, "onnxruntime_available", lambda: False)
    config = EmbedderConfig(offline_embedder.spec, "int8-onnx", device="cpu")
    with pytest.raises(ModelUnavailable, match="needs onnxruntime") as err:
        config.load()
    assert "pip install onnxruntime" in (err.value.hint or "")


@pytest.mark.slow
def test_legacy_int8_torch_collections_still_embed(offline_embedder):
    q = EmbedderConfig(offline_embedder.spec, "int8-torch", device="cpu").load()
    assert q.fingerprint == offline_embedder.fingerprint + "+int8-torch"
    assert q.info().engine == "int8-torch" and q.info().backend == "int8"
    cos = (q.encode(TEXTS) * offline_embedder.encode(TEXTS)).sum(1)
    assert cos.min() > 0.95


@pytest.mark.slow
def test_onnx_int8_is_cached_and_agrees_with_fp32(offline_embedder, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from patentsim.embed.engines import onnx_paths

    monkeypatch.setenv("PATENTSIM_CACHE", str(tmp_path / "cache"))
    config = EmbedderConfig.choose("minilm", backend="int8", device="cpu")
    q = config.load()
    assert q.info().engine == "int8-onnx" and q.info().backend == "int8"
    assert q.fingerprint == offline_embedder.fingerprint + "+int8-onnx"
    fp32_graph, int8_graph = onnx_paths(offline_embedder.fingerprint)
    assert fp32_graph.is_file() and int8_graph.is_file()
    ref = offline_embedder.encode(TEXTS)
    assert (q.encode(TEXTS) * ref).sum(1).min() > 0.98
    # Cached: a second load converts nothing (works offline), same vectors.
    stamp = int8_graph.stat().st_mtime_ns
    again = config.load()
    assert int8_graph.stat().st_mtime_ns == stamp
    np.testing.assert_allclose(again.encode(TEXTS), q.encode(TEXTS), atol=1e-6)
    # A legacy fp32 ONNX Runtime collection reads the same export.
    plain = EmbedderConfig(offline_embedder.spec, "onnx", device="cpu").load()
    np.testing.assert_allclose(plain.encode(TEXTS), ref, atol=1e-4)
    assert plain.encode(["query"], query=True).shape == (1, ref.shape[1])


def test_onnx_backend_refuses_a_gpu():
    with pytest.raises(BadOption, match="runs on the CPU"):
        EmbedderConfig.choose("minilm", backend="int8", device="cuda:0")


# -- start-up -----------------------------------------------------------------------------------


def test_ingest_info_imports_neither_torch_nor_pandas(tmp_path):
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings

    src = tmp_path / "p.csv"
    src.write_text("doc_id,abstract\n1,graphics processor\n2,battery cell\n", encoding="utf-8")
    store = tmp_path / "store"
    from patentsim.store import StoreSettings

    load(src, LoadSettings(store_settings=StoreSettings(path=str(store))), embedder=FakeEmbedder())
    code = (
        "import sys\n"
        "from patentsim.ingest.cli import cli\n"
        f"cli(['info', '--path', {str(store)!r}, '--format', 'json'], standalone_mode=False)\n"
        "heavy = {'torch', 'pandas', 'sentence_transformers', 'transformers', 'sklearn'}\n"
        "print('HEAVY', sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "HEAVY []" in out.stdout, out.stdout


# -- the pipeline keeps a collection's backend ----------------------------------------------


def test_ingest_refuses_to_mix_backends_and_keeps_the_stored_one(tmp_path):
    from patentsim.errors import ModelMismatch
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings
    from patentsim.store import StoreSettings

    src = tmp_path / "p.csv"
    src.write_text("doc_id,abstract\n1,graphics processor\n2,battery cell\n", encoding="utf-8")
    settings = StoreSettings(path=str(tmp_path / "store"))
    first = load(src, LoadSettings(store_settings=settings), embedder=FakeEmbedder())
    assert first.added == 2
    with pytest.raises(ModelMismatch, match="`backend` torch, not int8") as err:
        load(src, LoadSettings(store_settings=settings, backend="int8"), embedder=FakeEmbedder())
    assert "`recreate`" in (err.value.hint or "")  # the CLI shows --recreate
    with pytest.raises(ModelMismatch, match="`long_text` truncate, not chunk"):
        load(src, LoadSettings(store_settings=settings, long_text="chunk"), embedder=FakeEmbedder())
    again = load(src, LoadSettings(store_settings=settings), embedder=FakeEmbedder())
    assert again.unchanged == 2 and again.embedded == 0


def test_cli_refuses_an_unknown_backend():
    from click.testing import CliRunner

    from patentsim.ingest.cli import cli

    result = CliRunner().invoke(cli, ["load", "x.csv", "--backend", "tensorrt"])
    assert result.exit_code == 2, result.output
    assert "tensorrt" in result.output


def test_store_imports_no_model_library_and_not_embed():
    """The Qdrant core knows no model: no torch, sentence-transformers, ONNX, no ``embed``."""
    import ast
    from pathlib import Path

    import patentsim.store

    banned = {"torch", "sentence_transformers", "transformers", "onnxruntime", "onnx", "tokenizers"}
    root = Path(patentsim.store.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) >= 8
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
                if node.level >= 2 or (node.module or "").startswith("patentsim"):
                    assert "embed" not in (node.module or "").split("."), path
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in banned, f"{path.name} imports {name}"


def test_a_hub_model_in_the_cache_is_found_without_huggingface_hub(tmp_path, monkeypatch):
    from patentsim.embed import model as model_mod

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    repo = tmp_path / "hub" / "models--jhgan--ko-sroberta-multitask"
    assert model_mod._cached("jhgan/ko-sroberta-multitask") is None
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    assert model_mod._cached("jhgan/ko-sroberta-multitask") is None  # no snapshot yet
    snap = repo / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "modules.json").write_text("[]")
    assert model_mod._cached("jhgan/ko-sroberta-multitask") == str(snap)
    spec = model_mod.resolve_model("jhgan/ko-sroberta-multitask")
    assert (spec.name, spec.source, spec.local) == ("jhgan/ko-sroberta-multitask", str(snap), True)
    # The same answer as huggingface_hub's own lookup.
    hub = pytest.importorskip("huggingface_hub")
    found = hub.try_to_load_from_cache(
        "jhgan/ko-sroberta-multitask", "modules.json", cache_dir=str(tmp_path / "hub")
    )
    assert str(Path(found).parent) == str(snap)
