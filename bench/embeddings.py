"""Embeddings: the cached real embeddings of the nvidia abstracts, and figure 6.

The 5,157 abstracts of ``patents_nvidia.xlsx`` are embedded once with the
offline model (fp32, torch, the model's own 256-token window) and cached in
``bench/out/``; the collection of figure 3, the vectors of figure 4 and the
long-text study start from them.  Figure 6 measures docs/s of every backend on
the same real abstracts, side by side in one process, with their agreement
with fp32, and the seed notebook's way for one query.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

import numpy as np

from patentsim.store.manifest import ModelRecord

from .common import OUT, log, nvidia_docs, save_json, summary_ms, text_key

CACHE = OUT / "nvidia_minilm.npz"
MODEL = "minilm"

_MODELS: dict[tuple[str, str, str], Any] = {}


def use_bench_cache() -> None:
    """Converted (ONNX) models go to bench/out/cache, not the user's cache."""
    os.environ.setdefault("PATENTSIM_CACHE", str(OUT / "cache"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def model(backend: str = "torch", long_text: str = "truncate", engine: str | None = None) -> Any:
    """A loaded embedder of the offline model (kept for the whole run)."""
    use_bench_cache()
    key = (backend, long_text, engine or "")
    if key not in _MODELS:
        from patentsim.embed.embedder import EmbedderConfig
        from patentsim.embed.model import engine_for, resolve_model

        config = EmbedderConfig(
            resolve_model(MODEL), engine or engine_for(backend), long_text, "cpu"
        )
        _MODELS[key] = config.load()
    return _MODELS[key]


def nvidia_embeddings_limited(
    rows: int | None = None,
) -> tuple[list[dict[str, Any]], np.ndarray, dict[str, Any]]:
    """The nvidia abstracts (of the first ``rows`` rows), their fp32 embeddings, timing."""
    docs = [d for d in nvidia_docs() if rows is None or d["_row"] < rows]
    cache = CACHE if rows is None else OUT / f"nvidia_minilm_{rows}.npz"
    texts = [d["abstract"] for d in docs]
    keys = [text_key(t) for t in texts]
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        if list(data["keys"]) == keys:
            meta = {k: data[k].item() for k in ("seconds", "docs_per_s", "measured_at")}
            meta["cached"] = True
            meta["tokens"] = data["tokens"].tolist()
            return docs, data["vectors"], meta
    emb = model()
    log(f"embedding {len(texts):,} nvidia abstracts once (cached in {cache.name})")
    started = time.perf_counter()
    vectors = emb.encode(texts, batch_size=32)
    seconds = time.perf_counter() - started
    tokens = emb.token_counts(texts)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(
        cache,
        keys=np.array(keys),
        vectors=vectors.astype(np.float32),
        tokens=np.array(tokens),
        seconds=np.array(seconds),
        docs_per_s=np.array(len(texts) / seconds),
        measured_at=np.array(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())),
    )
    meta = {
        "seconds": seconds,
        "docs_per_s": len(texts) / seconds,
        "cached": False,
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "tokens": tokens,
    }
    return docs, vectors.astype(np.float32), meta


class CachedEmbedder:
    """The offline model's identity (name, fingerprint, window) with vectors from the cache.

    Lets the benchmark build the 5,169-row collection through the real ingest
    pipeline in seconds instead of minutes; the manifest is the same as a real
    ``ingest load --model minilm`` writes, so ``search`` treats it as such.
    """

    def __init__(self, texts: list[str], vectors: np.ndarray, tokens: list[int]) -> None:
        from patentsim.embed.model import OFFLINE_MODEL, fingerprint, offline_model_path

        path = offline_model_path()
        assert path is not None, "the offline model is not installed"
        self.name = OFFLINE_MODEL
        self.fingerprint = fingerprint(path)
        self.dimension = int(vectors.shape[1])
        self.max_seq_length = 256
        from patentsim.ingest.records import clean_text

        # The pipeline embeds each abstract without control characters and outer spaces (47
        # of the 5,157 differ from the cell that way); both spellings find the vector.
        self._vectors: dict[str, np.ndarray] = {}
        self._tokens: dict[str, int] = {}
        for t, v, n in zip(texts, vectors, tokens):
            for key in (t, clean_text(t).strip()):
                self._vectors[key] = v
                self._tokens[key] = n

    def info(self) -> ModelRecord:
        """The record a real ``ingest load --model minilm`` writes (fp32 torch, truncated)."""
        return ModelRecord(
            self.name,
            self.fingerprint,
            self.dimension,
            requested=self.name,
            max_seq_length=self.max_seq_length,
            engine="torch",
        )

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> Any:
        return np.stack([self._vectors[t] for t in texts])

    def token_counts(self, texts: list[str]) -> list[int]:
        return [self._tokens[t] for t in texts]


# -- figure 6 ------------------------------------------------------------------------------

BACKENDS = [
    ("torch fp32", "torch", None),
    ("ONNX Runtime int8 (per-channel) = --backend int8", "int8", "int8-onnx"),
    ("torch int8 (dynamic, per-channel; no longer offered)", "int8", "int8-torch"),
    ("ONNX Runtime fp32 (no longer offered)", "onnx", "onnx"),
]


def throughput(docs: list[dict[str, Any]], *, sample: int, rounds: int) -> dict[str, Any]:
    """docs/s and CPU time per document of each CPU engine, round-robin, with agreement.

    Every round embeds the same sample with every engine, slice by slice in
    rotating order, so a load change on the shared machine hits all alike.  Each
    round gives one speed-up per engine (wall time, and CPU time, which other
    processes on the machine do not stretch); the table shows their median and range.
    """
    rng = random.Random(6)
    texts = [d["abstract"] for d in rng.sample(docs, min(sample, len(docs)))]
    threads = os.environ.get("PATENTSIM_THREADS")
    if threads:  # ONNX Runtime reads it itself; torch the same, for a like-for-like figure
        import torch

        torch.set_num_threads(int(threads))
    loaded = {}
    load_s = {}
    for label, backend, engine in BACKENDS:
        started = time.perf_counter()
        try:
            loaded[label] = model(backend, engine=engine)
        except Exception as exc:  # e.g. onnxruntime missing: say so, measure the rest
            log(f"{label}: not available ({exc})")
            continue
        load_s[label] = round(time.perf_counter() - started, 2)
        loaded[label].encode(texts[:8])  # warm-up
    labels = list(loaded)
    wall = {label: [0.0] * rounds for label in labels}
    cpu = {label: [0.0] * rounds for label in labels}
    parts: dict[str, list[np.ndarray]] = {label: [] for label in labels}
    step = 0
    for r in range(rounds):
        for lo in range(0, len(texts), 32):
            piece = texts[lo : lo + 32]
            order = labels[step % len(labels) :] + labels[: step % len(labels)]
            step += 1
            for label in order:
                c0, w0 = time.process_time(), time.perf_counter()
                vec = loaded[label].encode(piece, batch_size=32)
                wall[label][r] += time.perf_counter() - w0
                cpu[label][r] += time.process_time() - c0
                if r == 0:
                    parts[label].append(vec)
    vectors = {label: np.concatenate(v) for label, v in parts.items()}
    base = "torch fp32"
    ref = vectors[base]
    n = len(texts)
    rows = []
    for label in labels:
        cos = (vectors[label] * ref).sum(1)
        speed = [wall[base][r] / wall[label][r] for r in range(rounds)]
        cpu_speed = [cpu[base][r] / cpu[label][r] for r in range(rounds)]
        rows.append(
            {
                "backend": label,
                "engine": loaded[label].info().engine,
                "device": "cpu",
                "docs_per_s": round(n * rounds / sum(wall[label]), 2),
                "docs_per_s_range": [
                    round(n / max(wall[label]), 2),
                    round(n / min(wall[label]), 2),
                ],
                "cpu_ms_per_doc": round(1000 * sum(cpu[label]) / (n * rounds), 1),
                "seconds": round(sum(wall[label]), 3),
                "speedup_vs_fp32": round(float(np.median(speed)), 3),
                "speedup_range": [round(min(speed), 3), round(max(speed), 3)],
                "cpu_speedup_vs_fp32": round(float(np.median(cpu_speed)), 3),
                "cpu_speedup_range": [round(min(cpu_speed), 3), round(max(cpu_speed), 3)],
                "mean_cosine_to_fp32": round(float(cos.mean()), 5),
                "min_cosine_to_fp32": round(float(cos.min()), 5),
                "load_seconds": load_s[label],
            }
        )
    mean_tokens = float(np.mean(loaded[base].token_counts(texts)))
    return {
        "texts": n,
        "rounds": rounds,
        "mean_tokens": round(mean_tokens, 1),
        "threads": os.environ.get("PATENTSIM_THREADS") or "default (all cores)",
        "rows": rows,
        "gpu": _gpu_rows(texts),
    }


def _gpu_rows(texts: list[str]) -> list[dict[str, Any]]:
    """fp16 docs/s per CUDA device where there is one (none on this machine)."""
    try:
        import torch
    except ImportError:
        return []
    if not torch.cuda.is_available():
        return []
    from patentsim.embed.embedder import EmbedderConfig
    from patentsim.embed.model import resolve_model

    out = []
    for i in range(torch.cuda.device_count()):
        emb = EmbedderConfig(resolve_model(MODEL), device=f"cuda:{i}").load()
        emb.encode(texts[:32])
        started = time.perf_counter()
        emb.encode(texts * 4, batch_size=128)
        rate = len(texts) * 4 / (time.perf_counter() - started)
        out.append(
            {
                "device": f"cuda:{i}",
                "card": torch.cuda.get_device_name(i),
                "backend": "torch fp16",
                "docs_per_s": round(rate, 1),
            }
        )
    return out


def notebook_query(
    vectors: np.ndarray, encode_all_s: float, big: np.ndarray | None
) -> dict[str, Any]:
    """The seed notebook's way for one query: encode everything, cosine_distances, argsort."""
    from sklearn.metrics.pairwise import cosine_distances

    def one(x: np.ndarray) -> dict[str, float]:
        np.argsort(cosine_distances(x[0:1], x)[0])  # warm-up
        times = []
        for _ in range(7):
            started = time.perf_counter()
            d = cosine_distances(x[0:1], x)
            np.argsort(d[0])[1:11]
            times.append(time.perf_counter() - started)
        return summary_ms(times)

    out: dict[str, Any] = {
        "docs": int(vectors.shape[0]),
        "encode_all_seconds": round(encode_all_s, 2),
        "distances_argsort": one(vectors),
    }
    out["per_query_seconds"] = round(encode_all_s + out["distances_argsort"]["median_ms"] / 1000, 2)
    if big is not None:
        out["distances_argsort_100k"] = one(big)
    return out


def save_meta(path: str, data: dict[str, Any]) -> None:
    save_json(OUT / path, data)
