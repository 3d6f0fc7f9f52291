"""Long texts: does ``--long-text chunk`` change how related the neighbours are?

Measure on patents_nvidia.xlsx: for every document, its 10 nearest neighbours
(exact cosine, itself left out), and the share of them that have at least one
CPC subclass (e.g. G06F) in common with it.  Once with ``truncate`` and once
with ``chunk``, at the offline model's own 256-token window (few abstracts are
longer) and at a 128-token window, the length the default Korean model reads
(most abstracts are longer).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .common import OUT, cpc_subclasses, log, text_key
from .embeddings import model


def _embed(texts: list[str], mode: str, window: int, cache: str) -> np.ndarray:
    path = OUT / cache
    keys = np.array([text_key(t) for t in texts])
    if path.is_file():
        data = np.load(path, allow_pickle=False)
        if data["keys"].shape == keys.shape and (data["keys"] == keys).all():
            return np.asarray(data["vectors"])
    emb = model("torch", mode)
    saved = emb.model.max_seq_length, emb.max_seq_length
    emb.model.max_seq_length = window
    emb.max_seq_length = window
    try:
        log(f"long texts: embedding {len(texts):,} abstracts, {mode}, {window}-token window")
        vectors = emb.encode(texts, batch_size=32)
    finally:
        emb.model.max_seq_length, emb.max_seq_length = saved
    np.savez(path, keys=keys, vectors=vectors)
    return np.asarray(vectors)


def cpc_share(
    vectors: np.ndarray, labels: list[set[str]], queries: np.ndarray
) -> tuple[float, np.ndarray]:
    """Mean share of top-10 neighbours sharing a CPC subclass; and the neighbours."""
    sims = vectors[queries] @ vectors.T
    sims[np.arange(len(queries)), queries] = -np.inf
    top = np.argsort(-sims, axis=1)[:, :10]
    shares = [np.mean([bool(labels[q] & labels[j]) for j in row]) for q, row in zip(queries, top)]
    return float(np.mean(shares)), top


def compare(
    docs: list[dict[str, Any]],
    truncated: np.ndarray,
    chunked: np.ndarray,
    tokens: list[int],
    window: int,
) -> dict[str, Any]:
    labels = [cpc_subclasses(d.get("cpc")) for d in docs]
    everyone = np.arange(len(docs))
    long = np.array([i for i, n in enumerate(tokens) if n > window])
    t_all, t_top = cpc_share(truncated, labels, everyone)
    c_all, c_top = cpc_share(chunked, labels, everyone)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(t_top, c_top)])
    out: dict[str, Any] = {
        "documents": len(docs),
        "longer_than_window": int(long.size),
        "cpc_share_truncate": round(t_all, 4),
        "cpc_share_chunk": round(c_all, 4),
        "top10_overlap_truncate_vs_chunk": round(float(overlap), 4),
    }
    if long.size:
        t_long, _ = cpc_share(truncated, labels, long)
        c_long, _ = cpc_share(chunked, labels, long)
        out["cpc_share_truncate_long_queries"] = round(t_long, 4)
        out["cpc_share_chunk_long_queries"] = round(c_long, 4)
    return out


def figure(
    docs: list[dict[str, Any]], vectors: np.ndarray, tokens: list[int], subset: int
) -> dict[str, Any]:
    started = time.perf_counter()
    texts = [d["abstract"] for d in docs]
    result: dict[str, Any] = {
        "data": "patents_nvidia.xlsx abstracts; CPC subclass = first 4 characters of each "
        "'|'-separated CPC group",
        "metric": "share of each document's 10 nearest neighbours (exact cosine) that share at "
        "least one CPC subclass with it, averaged over documents",
        "chunking": "windows of the model's length cut on token boundaries; window embeddings "
        "averaged weighted by tokens, renormalised",
    }
    # The model's own 256-token window: only the long abstracts need chunk embeddings.
    long = [i for i, n in enumerate(tokens) if n > 256]
    chunked = vectors.copy()
    if long:
        part = _embed([texts[i] for i in long], "chunk", 256, "longtext_chunk256.npz")
        chunked[long] = part
    result["window_256"] = compare(docs, vectors, chunked, tokens, 256)
    # A 128-token window (like jhgan/ko-sroberta-multitask) on the first `subset` abstracts.
    sub_docs = docs[:subset]
    sub_texts = texts[:subset]
    trunc128 = _embed(sub_texts, "truncate", 128, f"longtext_trunc128_{subset}.npz")
    chunk128 = _embed(sub_texts, "chunk", 128, f"longtext_chunk128_{subset}.npz")
    result["window_128"] = compare(sub_docs, trunc128, chunk128, tokens[:subset], 128)
    result["window_128"]["note"] = f"first {subset:,} abstracts as the whole corpus"
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result
