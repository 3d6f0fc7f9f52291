"""Figure 4: in-process query latency and recall@10 at 10k and 100k points.

Vectors with the structure of real embeddings: the 5,157 real MiniLM
embeddings of the nvidia abstracts, then mixtures of two of them (weight
0.6–0.95 on the first) plus a little noise, renormalised, up to the size
needed.  Each synthetic point carries the payload of its main source
document, so filters select realistic shares.  (Uniform random vectors make
every HNSW index look broken: recall@10 0.15 at 100k; they are not used.)

The store side is the platform's own embedded collection (``EdgeCollection``,
HNSW parameters from ``store/backend.py``); the baseline is exact numpy brute
force over the same float32 matrix, in the same process.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from .common import OUT, log, ratio, save_json, summary_ms

DIM = 384
LIKE_QUERIES = 200
REPEATS = 3  # each query timed this often, the best kept, on both sides alike
FILTER_QUERIES = 60
TEXT_QUERIES = 100
EF_SWEEP = (16, 32, 64, 128, 256)


def synthesize(base: np.ndarray, n: int, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """``n`` vectors: the real ones first, then mixtures of two real ones plus noise."""
    m = base.shape[0]
    if n <= m:
        return np.ascontiguousarray(base[:n]), np.arange(n)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, m, n - m)
    j = rng.integers(0, m, n - m)
    w = rng.uniform(0.6, 0.95, (n - m, 1)).astype(np.float32)
    extra = w * base[i] + (1 - w) * base[j]
    extra += rng.normal(0, 0.01, extra.shape).astype(np.float32)
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    x = np.concatenate([base, extra.astype(np.float32)])
    return np.ascontiguousarray(x, dtype=np.float32), np.concatenate([np.arange(m), i])


def payload(doc: dict[str, Any], index: int) -> dict[str, Any]:
    date = str(doc.get("grant_date") or "")[:10]
    out: dict[str, Any] = {
        "_row": index,
        "title": str(doc.get("title") or ""),
        "assignee": str(doc.get("assignee") or ""),
        "cpc": [c.strip() for c in str(doc.get("cpc") or "").split("|") if c.strip()],
    }
    if date:
        out["grant_date"] = f"{date}T00:00:00Z"
    return out


@contextlib.contextmanager
def hnsw_params(
    m: int | None = None, ef_construct: int | None = None, ef_search: int | None = None
) -> Iterator[None]:
    """Temporarily other HNSW parameters than the platform's (store/backend.py)."""
    from patentsim.store import plan as planning
    from patentsim.store import tuning

    saved = (
        tuning.HNSW_M,
        tuning.HNSW_EF_CONSTRUCT,
        tuning.HNSW_EF_SEARCH,
        planning.SMALL_COLLECTION_EF,
    )
    tuning.HNSW_M = m or tuning.HNSW_M
    tuning.HNSW_EF_CONSTRUCT = ef_construct or tuning.HNSW_EF_CONSTRUCT
    if ef_search:  # the beam of every size of collection
        tuning.HNSW_EF_SEARCH = planning.SMALL_COLLECTION_EF = ef_search
    try:
        yield
    finally:
        (
            tuning.HNSW_M,
            tuning.HNSW_EF_CONSTRUCT,
            tuning.HNSW_EF_SEARCH,
            planning.SMALL_COLLECTION_EF,
        ) = saved


def build(
    x: np.ndarray,
    src: np.ndarray,
    docs: list[dict[str, Any]],
    *,
    m: int,
    ef_construct: int,
    reuse: bool = True,
) -> tuple[Any, Any, dict[str, Any]]:
    """An embedded collection of ``x`` (cached on disk by size and HNSW parameters)."""
    from patentsim.store.backend import CreateOptions, PointData
    from patentsim.store.edge import EdgeStore
    from patentsim.store.ids import point_id
    from patentsim.store.manifest import Manifest, ModelRecord

    n = x.shape[0]
    folder = OUT / f"store_q{n}_m{m}_efc{ef_construct}"
    meta_path = folder / "bench_meta.json"
    store = EdgeStore(folder)
    if reuse and meta_path.is_file() and store.exists("q"):
        import json

        meta = json.loads(meta_path.read_text())
        if meta.get("points") == n:
            meta["cached"] = True
            return store, store.open("q"), meta
    shutil.rmtree(folder, ignore_errors=True)
    store = EdgeStore(folder)
    with hnsw_params(m, ef_construct):
        manifest = Manifest.new(name="q", model=ModelRecord(""), text_columns=[], id_column=None)
        coll = store.create("q", DIM, manifest, CreateOptions())
    started = time.perf_counter()
    for lo in range(0, n, 2000):
        coll.upsert(
            [
                PointData(point_id(str(k)), x[k].tolist(), payload(docs[int(src[k])], k))
                for k in range(lo, min(lo + 2000, n))
            ]
        )
    upsert_s = time.perf_counter() - started
    for key, kind in (("assignee", "keyword"), ("cpc", "keyword"), ("grant_date", "datetime")):
        coll.ensure_index(key, kind)
    log(f"figure 4: building HNSW over {n:,} points (m={m}, ef_construct={ef_construct})")
    started = time.perf_counter()
    coll.optimize()
    meta = {
        "points": n,
        "m": m,
        "ef_construct": ef_construct,
        "upsert_seconds": round(upsert_s, 2),
        "index_build_seconds": round(time.perf_counter() - started, 2),
        "cached": False,
    }
    save_json(meta_path, meta)
    return store, coll, meta


def exact_top(x: np.ndarray, v: np.ndarray, k: int, exclude: int | None = None) -> np.ndarray:
    """Exact top-k by dot product (normalised vectors: cosine), best first."""
    scores = x @ v
    kk = k + (1 if exclude is not None else 0)
    top = np.argpartition(-scores, kk - 1)[:kk]
    top = top[np.argsort(-scores[top])]
    if exclude is not None:
        top = top[top != exclude][:k]
    return top[:k]


def _recall(
    found: list[int], truth: np.ndarray, x: np.ndarray | None = None, v: np.ndarray | None = None
) -> float:
    """Share of the true top-k found.  With ``x`` and ``v``, ties count: a hit scoring as
    high as the k-th true neighbour is right (the data holds duplicate abstracts, whose
    identical vectors make any order among them correct)."""
    if len(truth) == 0:
        return 0.0 if found else 1.0
    if x is None or v is None:
        return len(set(found) & {int(t) for t in truth}) / len(truth)
    threshold = float(x[int(truth[-1])] @ v) - 1e-5
    good = sum(1 for f in found[: len(truth)] if float(x[f] @ v) >= threshold)
    return min(good, len(truth)) / len(truth)


def best_of(picks: list[int], run: Any) -> tuple[list[float], dict[int, Any]]:
    """Each pick timed ``REPEATS`` times, in whole passes over the picks; the best kept.

    Passes, not back-to-back repeats: the two sides of a comparison run in
    separate passes, so neither runs right after the other (numpy's BLAS
    threads keep spinning for a while after a call and would slow whatever
    comes next on 2 cores).
    """
    best = [float("inf")] * len(picks)
    answers: dict[int, Any] = {}
    for _ in range(REPEATS):
        for k, i in enumerate(picks):
            started = time.perf_counter()
            answers[i] = run(i)
            best[k] = min(best[k], time.perf_counter() - started)
    return best, answers


def like_queries(
    coll: Any, x: np.ndarray, index_of: dict[str, int], ids: list[str], picks: list[int]
) -> dict[str, Any]:
    """search like: retrieve the stored vector, query, drop the document itself."""

    def store(i: int) -> list[int]:
        vec = coll.retrieve([ids[i]], with_vectors=True, with_payload=False)[0].vector
        return [index_of[h.id] for h in coll.query(vec, limit=11) if index_of[h.id] != i][:10]

    for i in picks:  # warm-up: a long-running process has the index and payload paged in
        store(i)
    store_t, found = best_of(picks, store)
    numpy_t, truth = best_of(picks, lambda i: exact_top(x, x[i], 10, exclude=i))
    recalls = [_recall(found[i], truth[i], x, x[i]) for i in picks]
    return {
        "store": summary_ms(store_t),
        "numpy": summary_ms(numpy_t),
        "recall_at_10": round(float(np.mean(recalls)), 4),
        "speedup_median": ratio(
            summary_ms(numpy_t)["median_ms"], summary_ms(store_t)["median_ms"], 2
        ),
    }


def filters(docs: list[dict[str, Any]]) -> dict[str, tuple[Any, Any]]:
    """Three filters of different kinds and selectivity, with a numpy mask for each."""
    from patentsim.store.filters import Filter, Match, Range

    small = (
        "NVIDIA International, Inc.",
        "Nvidia Technology UK Limited",
        "NVIDIA U.S. Investment Company",
    )
    groups = ("G06T15/005", "G06N3/045")
    return {
        "keyword any-of (assignee, ~0.7%)": (
            Filter(must=(Match("assignee", small),)),
            lambda d: str(d.get("assignee")) in small,
        ),
        "date range (grant_date >= 2023, ~15%)": (
            Filter(must=(Range("grant_date", gte="2023-01-01T00:00:00Z", datetime=True),)),
            lambda d: str(d.get("grant_date") or "") >= "2023-01-01",
        ),
        "list any-of (cpc, ~16%)": (
            Filter(must=(Match("cpc", groups),)),
            lambda d: bool({c.strip() for c in str(d.get("cpc") or "").split("|")} & set(groups)),
        ),
    }


def filtered_queries(
    coll: Any,
    x: np.ndarray,
    src: np.ndarray,
    docs: list[dict[str, Any]],
    index_of: dict[str, int],
    picks: list[int],
) -> dict[str, Any]:
    out = {}
    for label, (flt, pred) in filters(docs).items():
        doc_ok = np.array([pred(d) for d in docs])
        rows = np.flatnonzero(doc_ok[src])
        sub = np.ascontiguousarray(x[rows])  # the baseline gets its subset for free
        for i in picks:  # warm-up
            coll.query(x[i], limit=10, flt=flt)
        store_t, found = best_of(
            picks, lambda i, flt=flt: [index_of[h.id] for h in coll.query(x[i], limit=10, flt=flt)]
        )
        numpy_t, truth = best_of(
            picks, lambda i, rows=rows, sub=sub: rows[exact_top(sub, x[i], 10)]
        )
        hnsw_t, approx = best_of(
            picks, lambda i, flt=flt: [index_of[h] for h in _hnsw_filtered(coll, x[i], flt)]
        )
        recalls = [_recall(found[i], truth[i], x, x[i]) for i in picks]
        hnsw_recalls = [_recall(approx[i], truth[i], x, x[i]) for i in picks]
        out[label] = {
            "matching_points": int(rows.size),
            "store_exact": summary_ms(store_t),
            "numpy": summary_ms(numpy_t),
            "recall_at_10": round(float(np.mean(recalls)), 4),
            "speedup_median": ratio(
                summary_ms(numpy_t)["median_ms"], summary_ms(store_t)["median_ms"], 2
            ),
            "if_hnsw_were_used": {
                "latency": summary_ms(hnsw_t),
                "recall_at_10": round(float(np.mean(hnsw_recalls)), 4),
            },
        }
    return out


def _hnsw_filtered(coll: Any, vector: np.ndarray, flt: Any) -> list[str]:
    """The same filtered query through HNSW (what the platform deliberately does not do)."""
    import qdrant_edge as qe

    from patentsim.store import tuning
    from patentsim.store.edge import to_edge

    request = qe.QueryRequest(
        limit=10,
        query=qe.Query.Nearest([float(t) for t in vector]),
        filter=to_edge(flt),
        params=qe.SearchParams(hnsw_ef=tuning.HNSW_EF_SEARCH, exact=False),
        with_payload=False,
    )
    return [str(p.id) for p in coll.shard.query(request)]


def text_queries(
    coll: Any, x: np.ndarray, index_of: dict[str, int], queries: list[str], embedder: Any
) -> dict[str, Any]:
    """search text: embed the query (the loaded model), then search; both sides embed alike."""
    embed_t, vectors = [], []
    for q in queries:
        started = time.perf_counter()
        vectors.append(embedder.encode([q], query=True)[0])
        embed_t.append(time.perf_counter() - started)
    picks = list(range(len(queries)))

    def store(k: int, free_text: bool = True) -> list[int]:
        # as `search text` sends it: free text, the wider beam (store/plan.py)
        hits = coll.query(vectors[k], limit=10, free_text=free_text)
        return [index_of[h.id] for h in hits]

    for k in picks:  # warm-up
        store(k)
    search_t, found = best_of(picks, store)
    numpy_t, truth = best_of(picks, lambda k: exact_top(x, vectors[k], 10))
    recalls = [_recall(found[k], truth[k], x, vectors[k]) for k in picks]
    store_t = [e + t for e, t in zip(embed_t, search_t)]
    brute_t = [e + t for e, t in zip(embed_t, numpy_t)]
    sweep = []
    for ef in EF_SWEEP:
        with hnsw_params(ef_search=ef):  # the beam as listed: not widened for free text
            times, got = best_of(picks, lambda k: store(k, free_text=False))
        sweep.append(
            {
                "hnsw_ef": ef,
                "median_ms": summary_ms(times)["median_ms"],
                "recall_at_10": round(
                    float(np.mean([_recall(got[k], truth[k], x, vectors[k]) for k in picks])), 4
                ),
            }
        )
    return {
        "store": summary_ms(store_t),
        "numpy": summary_ms(brute_t),
        "embedding_only": summary_ms(embed_t),
        "search_only": summary_ms(search_t),
        "numpy_search_only": summary_ms(numpy_t),
        "recall_at_10": round(float(np.mean(recalls)), 4),
        "speedup_median": ratio(
            summary_ms(brute_t)["median_ms"], summary_ms(store_t)["median_ms"], 2
        ),
        "search_speedup_median": ratio(
            summary_ms(numpy_t)["median_ms"], summary_ms(search_t)["median_ms"], 2
        ),
        "ef_sweep": sweep,
    }


def ef_sweep(
    coll: Any, x: np.ndarray, index_of: dict[str, int], ids: list[str], picks: list[int]
) -> list[dict[str, Any]]:
    rows = []
    for ef in EF_SWEEP:
        with hnsw_params(ef_search=ef):
            r = like_queries(coll, x, index_of, ids, picks)
        rows.append(
            {
                "hnsw_ef": ef,
                "median_ms": r["store"]["median_ms"],
                "p99_ms": r["store"]["p99_ms"],
                "recall_at_10": r["recall_at_10"],
            }
        )
    return rows


def at_size(
    n: int,
    base: np.ndarray,
    docs: list[dict[str, Any]],
    embedder: Any,
    *,
    configs: list[tuple[int, int]],
    reuse: bool = True,
) -> dict[str, Any]:
    """Every query kind at ``n`` points with the platform's parameters (+ a sweep)."""
    from patentsim.store import tuning
    from patentsim.store.ids import point_id

    x, src = synthesize(base, n)
    ids = [point_id(str(k)) for k in range(n)]
    index_of = {pid: k for k, pid in enumerate(ids)}
    rng = random.Random(n)
    like_picks = rng.sample(range(n), LIKE_QUERIES)
    filter_picks = rng.sample(range(n), FILTER_QUERIES)
    texts = [str(d["title"]) for d in random.Random(3).sample(docs, TEXT_QUERIES)]
    result: dict[str, Any] = {"points": n, "builds": []}
    platform = (tuning.HNSW_M, tuning.HNSW_EF_CONSTRUCT)
    for m, efc in configs:
        if (m, efc) == platform:
            continue
        store, coll, meta = build(x, src, docs, m=m, ef_construct=efc, reuse=reuse)
        try:
            meta["ef_sweep"] = ef_sweep(coll, x, index_of, ids, like_picks[:100])
        finally:
            store.close()
        result["builds"].append(meta)
    store, coll, meta = build(x, src, docs, m=platform[0], ef_construct=platform[1], reuse=reuse)
    try:
        meta["ef_sweep"] = ef_sweep(coll, x, index_of, ids, like_picks[:100])
        result["builds"].append(meta)
        result["platform"] = {
            "m": tuning.HNSW_M,
            "ef_construct": tuning.HNSW_EF_CONSTRUCT,
            "hnsw_ef": coll.plan(None, limit=10).hnsw_ef,  # the beam walked at this size
            "text_hnsw_ef": coll.plan(None, limit=10, free_text=True).hnsw_ef,
        }
        result["like"] = like_queries(coll, x, index_of, ids, like_picks)
        result["filtered"] = filtered_queries(coll, x, src, docs, index_of, filter_picks)
        result["text"] = text_queries(coll, x, index_of, texts, embedder)
    finally:
        store.close()
    return result


def figure4(
    base: np.ndarray,
    docs: list[dict[str, Any]],
    embedder: Any,
    sizes: list[int],
    *,
    tune: bool = False,
    reuse: bool = True,
) -> dict[str, Any]:
    from threadpoolctl import threadpool_info

    from patentsim.store import tuning

    # m / ef_construct tried at the smaller size in every run, and at every size with --tune.
    sweep = {
        min(sizes): [(8, 64), (16, 64), (16, 128), (32, 128)]
        if tune
        else [(16, 64), (16, 128), (32, 128)]
    }
    if tune:
        sweep.update({n: [(16, 64), (16, 128), (32, 128)] for n in sizes if n != min(sizes)})
    out: dict[str, Any] = {
        "data": "the 5,157 real all-MiniLM-L6-v2 embeddings of patents_nvidia.xlsx, extended "
        "with mixtures of two of them (0.6-0.95 weight on the first) plus noise "
        "(sigma 0.01), renormalised; payload of the main source document",
        "baseline": "numpy: x @ v, argpartition, argsort over the same float32 matrix "
        "(filtered: over the matching rows, subset prepared outside the timing)",
        "blas": [
            {k: i.get(k) for k in ("internal_api", "architecture", "num_threads")}
            for i in threadpool_info()
        ],
        "sizes": {},
    }
    for n in sizes:
        configs = sweep.get(n, [(tuning.HNSW_M, tuning.HNSW_EF_CONSTRUCT)])
        log(f"figure 4: {n:,} points")
        out["sizes"][str(n)] = at_size(n, base, docs, embedder, configs=configs, reuse=reuse)
    big = out["sizes"].get(str(max(sizes)), {})
    like = big.get("like", {})
    out["ratio"] = like.get("speedup_median")
    out["recall_at_10"] = like.get("recall_at_10")
    out["target"] = ">= 10x faster than brute force at 100k, recall@10 >= 0.98"
    out["met"] = bool(like) and (like["speedup_median"] or 0) >= 10 and like["recall_at_10"] >= 0.98
    return out
