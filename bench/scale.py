"""``python -m bench --scale 100k|300k|1m``: one machine, many points, fp32 vs int8 vs binary.

Data: the 5,157 real all-MiniLM-L6-v2 embeddings of the nvidia abstracts, extended with
mixtures of two of them plus noise (``queries.synthesize``, as figure 4 does) up to the size;
each point carries the payload of its main source document (title, assignee, CPC groups,
grant date) plus ``_key`` and ``_row``, so ``search like N`` works on it.

For each layout (none, int8, binary; int8-large: int8 as the large collection that
``ingest load`` makes of a big file, written with checkpoints; int8-large-sorted: the same
with the points written in the order of their source document, as a file sorted by topic
comes) an embedded collection is built
through the platform's store layer (``EdgeStore.create`` with ``CreateOptions``) in a child
process, measured from outside: upsert rate, HNSW build time (``optimize``), peak RSS of
the build, store size on disk.  Then, in this process with the collection open: ``like``
queries (retrieve the stored vector, query, drop the document), text queries (200 patent
titles embedded with the same model, with the free-text beam and with ``like``'s beam), and
filtered queries of
0.1%–50% selectivity through the platform's policy (``store/plan.py``), timed and checked
against exact numpy search over the same float32 vectors (recall@10, ties counted as hits);
the filter applied during the HNSW walk (hnsw_ef 128 and 256, with ACORN) and exact search are
shown for reference on fp32 and int8.  Last, the
peak RSS of a ``search like`` process and of a process that serves 200 ``like`` queries.

Builds are cached under ``bench/out/scale/`` (by size and quantization): a second run only
queries.  The machine is shared: timings are the best of ``REPEATS`` runs of each query.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    BIN,
    OUT,
    MemoryCgroup,
    bench_env,
    log,
    run_measured,
    save_json,
    summary_ms,
)

SIZES = {"10k": 10_000, "100k": 100_000, "300k": 300_000, "1m": 1_000_000}
QUANTIZATIONS = ("none", "int8", "binary")
# What can be built: a quantization, or int8 as a large collection (what `ingest load` makes of
# a file of 100,000 rows or more: indexes on disk, written 20,000 points a checkpoint, merged
# up to 100,000 at the end); "-sorted": the points written in the order of their source
# document, as a file sorted by topic or applicant comes (the neighbours of a point then sit in
# one segment), instead of in random order.
LAYOUTS = (*QUANTIZATIONS, "int8-large", "int8-large-sorted")


def layout_of(name: str) -> tuple[str, bool]:
    """The quantization of a layout, and whether it is a large collection."""
    name = name.removesuffix("-sorted")
    if name.endswith("-large"):
        return name[: -len("-large")], True
    return name, False


NAME = "scale"
BATCH = 2_000
LIKE_QUERIES = 200
TEXT_QUERIES = 200  # patent titles, embedded with the same model: `search text`
FILTER_QUERIES = 40
REFERENCE_QUERIES = 20
REPEATS = 2
SCALE_DIR = OUT / "scale"
ACORN_MAX_SELECTIVITY = 0.4  # Qdrant's default: ACORN is not used for broader filters


# -- data -------------------------------------------------------------------------------------


def data_files(n: int) -> dict[str, Path]:
    folder = SCALE_DIR / f"data_{n}"
    return {
        "folder": folder,
        "vectors": folder / "vectors.f32",
        "src": folder / "src.npy",
        "docs": folder / "docs.json",
    }


def prepare(n: int) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """The ``n`` vectors (float32, normalised), their source documents, the documents."""
    from . import embeddings
    from .queries import synthesize

    embeddings.use_bench_cache()
    docs, base, _ = embeddings.nvidia_embeddings_limited(None)
    x, src = synthesize(base, n)
    files = data_files(n)
    if not files["vectors"].is_file():
        files["folder"].mkdir(parents=True, exist_ok=True)
        tmp = files["vectors"].with_suffix(".tmp")
        x.tofile(tmp)
        os.replace(tmp, files["vectors"])
        np.save(files["src"], src)
        save_json(files["docs"], [_doc_payload(d) for d in docs])
    return x, src, docs


def _doc_payload(doc: dict[str, Any]) -> dict[str, Any]:
    from .queries import payload

    out = payload(doc, 0)
    out.pop("_row", None)
    return out


def store_folder(n: int, quantization: str) -> Path:
    return SCALE_DIR / f"store_{n}_{quantization}"


# -- the build (a child process) -----------------------------------------------------------


def build_child(n: int, quantization: str, dim: int) -> dict[str, Any]:
    """Create the collection and fill it in batches read from disk; its HNSW index."""
    from patentsim.store.backend import CreateOptions, PointData
    from patentsim.store.edge import EdgeStore
    from patentsim.store.ids import point_id
    from patentsim.store.manifest import FieldSpec, Manifest
    from patentsim.store.tuning import LARGE_SEGMENT_POINTS

    from .embeddings import CachedEmbedder

    files = data_files(n)
    src = np.load(files["src"])
    docs = json.loads(files["docs"].read_text(encoding="utf-8"))
    folder = store_folder(n, quantization)
    shutil.rmtree(folder, ignore_errors=True)
    store = EdgeStore(folder)
    model = CachedEmbedder([], np.zeros((0, dim), dtype=np.float32), []).info()
    manifest = Manifest.new(name=NAME, model=model, text_columns=["abstract"], id_column=None)
    manifest.fields = {
        "title": FieldSpec("keyword", index="text"),
        "assignee": FieldSpec("keyword", index="keyword"),
        "cpc": FieldSpec("keyword", list=True, index="keyword"),
        "grant_date": FieldSpec("date", index="datetime"),
    }
    manifest.date_field, manifest.title_field = "grant_date", "title"
    kind, large = layout_of(quantization)
    # the order the rows are written in: their own, or sorted by source document
    order = np.argsort(src, kind="stable") if quantization.endswith("-sorted") else None
    coll = store.create(NAME, dim, manifest, CreateOptions(quantization=kind, large=large))
    for key, kind in (
        ("_key", "keyword"),
        ("_row", "integer"),
        ("assignee", "keyword"),
        ("cpc", "keyword"),
        ("grant_date", "datetime"),
    ):
        coll.ensure_index(key, kind)
    started = time.perf_counter()
    vectors = np.memmap(files["vectors"], dtype=np.float32, mode="r", shape=(n, dim))
    for lo in range(0, n, BATCH):
        hi = min(lo + BATCH, n)
        rows = np.arange(lo, hi) if order is None else np.sort(order[lo:hi])
        block = np.asarray(vectors[rows])
        coll.upsert(
            [
                PointData(
                    point_id(str(k)),
                    block[j].tolist(),
                    dict(docs[int(src[k])], _row=int(k), _key=str(k)),
                )
                for j, k in enumerate(rows.tolist())
            ]
        )
        if large and hi % LARGE_SEGMENT_POINTS == 0:
            coll.checkpoint()  # as ingest load does: index the segment, reopen
    coll.shard.flush()  # the upsert rate counts writing to disk
    upsert_s = time.perf_counter() - started
    started = time.perf_counter()
    coll.optimize()
    build_s = time.perf_counter() - started
    manifest = coll.read_manifest()
    manifest.state, manifest.points = "ready", coll.count()
    coll.write_manifest(manifest)
    store.close()
    return {
        "points": n,
        "upsert_seconds": round(upsert_s, 1),
        "upsert_points_per_s": round(n / upsert_s),
        "index_build_seconds": round(build_s, 1),
    }


def build(n: int, quantization: str, dim: int, *, reuse: bool) -> dict[str, Any]:
    """The collection of ``n`` points with ``quantization``, built in a measured child."""
    folder = store_folder(n, quantization)
    meta_path = folder / "bench_build.json"
    if reuse and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        meta["cached"] = True
        return meta
    log(f"scale: building {n:,} points, quantization {quantization}")
    cmd = [sys.executable, "-m", "bench.scale", "build", str(n), quantization, str(dim)]
    run = run_measured(
        cmd, env=bench_env(), cwd=Path(__file__).resolve().parent.parent, timeout=6 * 3600
    )
    if run.returncode != 0:
        raise RuntimeError(f"build {n} {quantization} failed: {run.stderr[-2000:]}")
    meta = json.loads(run.stdout.strip().splitlines()[-1])
    meta.update(
        build_peak_rss_mib=run.max_rss_mib,
        build_cpu_seconds=run.cpu_seconds,
        build_wall_seconds=round(run.seconds, 1),
        store_mib=round(_du(folder) / 2**20, 1),
        store_files_mib=_sizes(folder),
        cached=False,
    )
    save_json(meta_path, meta)
    return meta


def _du(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _sizes(folder: Path) -> dict[str, float]:
    """Disk use by kind: original vectors, quantized vectors, HNSW graph, payload, the rest."""
    kinds = {"vectors": 0, "quantized": 0, "hnsw": 0, "payload": 0, "other": 0}
    for p in folder.rglob("*"):
        if not p.is_file():
            continue
        parts = str(p.relative_to(folder))
        size = p.stat().st_size
        if "quantized" in p.name:
            kinds["quantized"] += size
        elif "vector_storage" in parts:
            kinds["vectors"] += size
        elif "vector_index" in parts or "graph" in p.name or "links" in p.name:
            kinds["hnsw"] += size
        elif "payload" in parts:
            kinds["payload"] += size
        else:
            kinds["other"] += size
    return {k: round(v / 2**20, 1) for k, v in kinds.items()}


# -- queries (this process) ------------------------------------------------------------------


def exact_top(
    x: np.ndarray, v: np.ndarray, k: int, mask: np.ndarray | None = None, exclude: int | None = None
) -> np.ndarray:
    scores = x @ v
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    if exclude is not None:
        scores[exclude] = -np.inf
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top])]
    return top[np.isfinite(scores[top])]


def recall(found: list[int], truth: np.ndarray, x: np.ndarray, v: np.ndarray) -> float:
    """Share of the true top-k found; a hit scoring as high as the k-th true one counts."""
    if len(truth) == 0:
        return 1.0 if not found else 0.0
    threshold = float(x[int(truth[-1])] @ v) - 1e-5
    good = sum(1 for f in found[: len(truth)] if float(x[f] @ v) >= threshold)
    return min(good, len(truth)) / len(truth)


def timed(picks: list[int], fn: Any, repeats: int = REPEATS) -> tuple[list[float], dict[int, Any]]:
    best = [float("inf")] * len(picks)
    answers: dict[int, Any] = {}
    for _ in range(repeats):
        for k, i in enumerate(picks):
            started = time.perf_counter()
            answers[i] = fn(i)
            best[k] = min(best[k], time.perf_counter() - started)
    return best, answers


def scale_filters(docs: list[dict[str, Any]], src: np.ndarray) -> list[dict[str, Any]]:
    """Keyword, date-range and list filters from about 0.1% to about 50% of the points."""
    from collections import Counter

    from patentsim.store.filters import Filter, Match, Range

    n_docs = len(docs)
    weight = np.bincount(src, minlength=n_docs) / len(src)  # share of points per document

    def share(pred: Any) -> float:
        return float(sum(weight[i] for i, d in enumerate(docs) if pred(d)))

    def cpcs(d: dict[str, Any]) -> set[str]:
        return {c.strip() for c in str(d.get("cpc") or "").split("|") if c.strip()}

    def date(d: dict[str, Any]) -> str:
        return str(d.get("grant_date") or "")[:10]

    out = []
    # keyword: the assignees other than the main one, from rare to all of them
    assignees = Counter(str(d.get("assignee")) for d in docs)
    ranked = [a for a, _ in assignees.most_common()]
    for target in (0.001, 0.01):
        chosen: list[str] = []
        for a in reversed(ranked[1:]):
            chosen.append(a)
            if share(lambda d, c=set(chosen): str(d.get("assignee")) in c) >= target:
                break
        out.append(
            {
                "kind": "keyword any-of (assignee)",
                "filter": Filter(must=(Match("assignee", tuple(chosen)),)),
                "pred": lambda d, c=set(chosen): str(d.get("assignee")) in c,
            }
        )
    # date ranges: the latest grants, cut at 0.1%, 1%, 10%, 50%
    dates = sorted((date(d) for d in docs if date(d)), reverse=True)
    for target in (0.001, 0.01, 0.1, 0.5):
        cut = dates[0]
        for dt in dates:
            cut = dt
            if share(lambda d, c=dt: date(d) >= c) >= target:
                break
        out.append(
            {
                "kind": f"date range (grant_date >= {cut})",
                "filter": Filter(
                    must=(Range("grant_date", gte=f"{cut}T00:00:00Z", datetime=True),)
                ),
                "pred": lambda d, c=cut: bool(date(d)) and date(d) >= c,
            }
        )
    # list any-of on CPC groups: a rare group, then sets of frequent ones
    groups = Counter(c for d in docs for c in cpcs(d))
    by_freq = [g for g, _ in groups.most_common()]
    for target in (0.001, 0.01, 0.15, 0.5):
        chosen = []
        pool = by_freq if target >= 0.1 else list(reversed(by_freq))
        for g in pool:
            chosen.append(g)
            if share(lambda d, c=set(chosen): bool(cpcs(d) & c)) >= target:
                break
        out.append(
            {
                "kind": f"list any-of (cpc, {len(chosen)} group{'s' if len(chosen) > 1 else ''})",
                "filter": Filter(must=(Match("cpc", tuple(chosen)),)),
                "pred": lambda d, c=set(chosen): bool(cpcs(d) & c),
            }
        )
    for f in out:
        doc_ok = np.array([f["pred"](d) for d in docs])
        f["mask"] = doc_ok[src]
        f["matching"] = int(f["mask"].sum())
    return out


def title_vectors(docs: list[dict[str, Any]]) -> np.ndarray:
    """``TEXT_QUERIES`` patent titles (a seeded sample) embedded as `search text` embeds a
    query, with the model the points come from; cached beside the data."""
    titles = [str(d.get("title") or "") for d in docs]
    pick = random.Random(7).sample([t for t in titles if t], TEXT_QUERIES)
    from . import embeddings

    cache = SCALE_DIR / "titles.npz"
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        same_model = "model" in data.files and str(data["model"]) == embeddings.MODEL
        if same_model and list(data["titles"]) == pick:
            return np.asarray(data["vectors"], dtype=np.float32)
    v = np.asarray(embeddings.model().encode(pick, query=True), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    SCALE_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(cache, titles=np.asarray(pick), vectors=v, model=np.asarray(embeddings.MODEL))
    return v


def text_queries(coll: Any, x: np.ndarray, vectors: np.ndarray, truth: list[np.ndarray]) -> Any:
    """Embedded titles through ``Collection.query`` as `search text` sends them (free text: the
    wider beam), and side by side with the beam of a stored point (``like``'s)."""
    picks = list(range(len(vectors)))
    out: dict[str, Any] = {}
    for label, free in (("text", True), ("like_beam", False)):

        def run(k: int, free: bool = free) -> list[str]:
            return [h.id for h in coll.query(vectors[k], limit=10, free_text=free)]

        for k in picks[:20]:  # warm-up
            run(k)
        times, found = timed(picks, run)
        rows = {k: [_row_of(coll, pid) for pid in found[k]] for k in picks}
        out[label] = {
            "hnsw_ef": coll.plan(None, limit=10, free_text=free).hnsw_ef,
            **summary_ms(times),
            "recall_at_10": round(
                float(np.mean([recall(rows[k], truth[k], x, vectors[k]) for k in picks])), 4
            ),
        }
    return {**out.pop("text"), **out}


def _raw_query(
    coll: Any, vector: np.ndarray, flt: Any, *, ef: int, acorn: bool, quantization: str
) -> list[str]:
    """A filtered HNSW query with explicit parameters (the reference paths)."""
    import qdrant_edge as qe

    from patentsim.store import tuning
    from patentsim.store.edge import to_edge

    qparams = (
        qe.QuantizationSearchParams(
            rescore=True, oversampling=tuning.OVERSAMPLING[layout_of(quantization)[0]]
        )
        if layout_of(quantization)[0] != "none"
        else None
    )
    request = qe.QueryRequest(
        limit=10,
        query=qe.Query.Nearest([float(t) for t in vector]),
        filter=to_edge(flt),
        params=qe.SearchParams(
            hnsw_ef=ef,
            exact=False,
            quantization=qparams,
            acorn=qe.AcornSearchParams(enable=True, max_selectivity=ACORN_MAX_SELECTIVITY)
            if acorn
            else None,
        ),
        with_payload=False,
    )
    return [str(p.id) for p in coll.shard.query(request)]


def query_variant(
    n: int,
    quantization: str,
    x: np.ndarray,
    filters: list[dict[str, Any]],
    like_picks: list[int],
    like_truth: dict[int, np.ndarray],
    filter_picks: list[int],
    filter_truth: dict[tuple[int, int], np.ndarray],
    reference: bool,
    texts: tuple[np.ndarray, list[np.ndarray]] | None = None,
) -> dict[str, Any]:
    from patentsim.store.edge import EdgeStore
    from patentsim.store.ids import point_id

    store = EdgeStore(store_folder(n, quantization))
    coll = store.open(NAME)
    out: dict[str, Any] = {}
    try:

        def index_of(pid: str) -> int:
            return ids_index[pid]

        ids_index = {point_id(str(k)): k for k in set(like_picks) | set(filter_picks)}

        def like(i: int) -> list[str]:
            vec = coll.retrieve([point_id(str(i))], with_vectors=True, with_payload=False)[0].vector
            return [h.id for h in coll.query(vec, limit=11) if h.id != point_id(str(i))][:10]

        for i in like_picks[:20]:  # warm-up
            like(i)
        times, found = timed(like_picks, like)
        rows = {}
        for i in like_picks:
            rows[i] = [_row_of(coll, h) for h in found[i]]
        out["like"] = {
            **summary_ms(times),
            "recall_at_10": round(
                float(np.mean([recall(rows[i], like_truth[i], x, x[i]) for i in like_picks])), 4
            ),
        }
        if texts is not None:
            out["text"] = text_queries(coll, x, *texts)
            log(f"scale {n:,} {quantization}: text {out['text']}")
        out["filtered"] = []
        for fi, f in enumerate(filters):
            flt = f["filter"]
            paths: dict[str, int] = {}

            def policy(i: int, flt: Any = flt, paths: dict[str, int] = paths) -> list[str]:
                hits = coll.query(x[i], limit=10, flt=flt)
                paths[coll.last_plan.path] = paths.get(coll.last_plan.path, 0) + 1
                return [h.id for h in hits]

            for i in filter_picks[:5]:
                policy(i)
            t_policy, got = timed(filter_picks, policy)
            plan = coll.plan(flt, limit=10)
            row: dict[str, Any] = {
                "filter": f["kind"],
                "matching": f["matching"],
                "selectivity": round(f["matching"] / n, 4),
                "estimate": plan.matching,
                "path": plan.path,
                **summary_ms(t_policy),
                "recall_at_10": _mean_recall(coll, got, filter_picks, filter_truth, fi, x),
            }
            if reference:
                refs = {}
                picks = filter_picks[:REFERENCE_QUERIES]
                for label, ef, acorn in (
                    ("filtered hnsw ef128", 128, False),
                    ("filtered hnsw ef256", 256, False),
                    ("filtered hnsw ef256 + acorn", 256, True),
                ):
                    t_ref, got_ref = timed(
                        picks,
                        lambda i, flt=flt, ef=ef, acorn=acorn: _raw_query(
                            coll, x[i], flt, ef=ef, acorn=acorn, quantization=quantization
                        ),
                        repeats=1,
                    )
                    refs[label] = {
                        "median_ms": summary_ms(t_ref)["median_ms"],
                        "recall_at_10": _mean_recall(coll, got_ref, picks, filter_truth, fi, x),
                    }
                t_exact, got_exact = timed(
                    picks,
                    lambda i, flt=flt: [
                        h.id for h in coll.query(x[i], limit=10, flt=flt, exact=True)
                    ],
                    repeats=1,
                )
                refs["exact"] = {
                    "median_ms": summary_ms(t_exact)["median_ms"],
                    "recall_at_10": _mean_recall(coll, got_exact, picks, filter_truth, fi, x),
                }
                row["reference"] = refs
            out["filtered"].append(row)
            log(
                f"scale {n:,} {quantization}: {f['kind']} ({f['matching']:,}): {row['path']} "
                f"{row['median_ms']} ms, recall {row['recall_at_10']}"
            )
    finally:
        store.close()
    return out


_ROW_CACHE: dict[str, int] = {}


def _row_of(coll: Any, pid: str) -> int:
    """The row (index into x) of a point id (the id is the UUID of str(row))."""
    if pid not in _ROW_CACHE:
        rec = coll.retrieve([pid], with_payload=True)[0]
        _ROW_CACHE[pid] = int(rec.payload["_row"])
    return _ROW_CACHE[pid]


def _mean_recall(
    coll: Any,
    got: dict[int, list[str]],
    picks: list[int],
    truth: dict[tuple[int, int], np.ndarray],
    fi: int,
    x: np.ndarray,
) -> float:
    values = []
    for i in picks:
        rows = [_row_of(coll, pid) for pid in got[i]]
        values.append(recall(rows, truth[(fi, i)], x, x[i]))
    return round(float(np.mean(values)), 4)


# -- processes: search like, and a process serving queries -------------------------------------


def resident_mib() -> dict[str, float]:
    """This process's resident memory now (Linux): all of it, the anonymous part (the heap and
    what the engine loads into RAM) and the file-backed part (memory-mapped files: the page
    cache the kernel reclaims under pressure and reads back on use).  Empty elsewhere."""
    fields = {"VmRSS": "rss_mib", "RssAnon": "anon_mib", "RssFile": "file_mib"}
    out: dict[str, float] = {}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in fields:
                    out[fields[key]] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        return {}
    return out


def serve_child(n: int, quantization: str, queries: int) -> dict[str, Any]:
    """Open the collection, answer ``queries`` like queries; its own peak RSS is measured from
    outside, its resident memory split here after the first query and after the last."""
    from patentsim.search import QueryOptions, Session
    from patentsim.store.edge import EdgeStore

    store = EdgeStore(store_folder(n, quantization))
    rng = random.Random(11)
    started = time.perf_counter()
    latencies = []
    try:
        session = Session(collection=NAME, store=store)
        options = QueryOptions(limit=10)
        session.like(rng.randrange(n), options)
        opened = resident_mib()
        for _ in range(queries - 1):
            t0 = time.perf_counter()
            session.like(rng.randrange(n), options)
            latencies.append(time.perf_counter() - t0)
        served = resident_mib()
    finally:
        store.close()
    return {
        "queries": queries,
        "seconds": round(time.perf_counter() - started, 2),
        "after_first_query": opened,
        "after_last_query": served,
        # `search like` as a program calls it: read the stored vector, query, fetch payloads
        "like_after_the_first": summary_ms(latencies) if latencies else None,
    }


def _child_env() -> dict[str, str]:
    """The environment of the bench's child processes: they import ``bench`` from here."""
    env = bench_env()
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH")) if p
    )
    return env


def processes(n: int, quantization: str) -> dict[str, Any]:
    folder = store_folder(n, quantization)
    env = _child_env()
    cli = run_measured(
        [
            str(BIN / "search"),
            "like",
            "0",
            "--path",
            str(folder),
            "--collection",
            NAME,
            "--limit",
            "10",
            "--format",
            "json",
        ],
        env=env,
    )
    if cli.returncode != 0:
        raise RuntimeError(f"search like failed: {cli.stderr[-1000:]}")
    served = serving(n, quantization)
    if served["returncode"] != 0:
        raise RuntimeError(f"serving queries failed: {served['stderr']}")
    del served["returncode"], served["stderr"]
    return {
        "search_like_process": {"wall_s": round(cli.seconds, 3), "peak_rss_mib": cli.max_rss_mib},
        "serving_process": served,
    }


def serving(n: int, quantization: str, cgroup: MemoryCgroup | None = None) -> dict[str, Any]:
    """A process that opens the collection and answers LIKE_QUERIES ``like`` queries (inside
    ``cgroup`` if given): its peak memory, measured from outside, and what it reported."""
    served = run_measured(
        [sys.executable, "-m", "bench.scale", "serve", str(n), quantization, str(LIKE_QUERIES)],
        env=_child_env(),
        cwd=Path(__file__).resolve().parent.parent,
        cgroup=cgroup,
    )
    return {
        "queries": LIKE_QUERIES,
        "wall_s": round(served.seconds, 2),
        "peak_rss_mib": served.max_rss_mib,
        "peak_anon_mib": served.peak_anon_mib,
        "peak_file_mib": served.peak_file_mib,
        **_child_memory(served.stdout),
        "returncode": served.returncode,
        "stderr": served.stderr[-1000:],
    }


# The memory the target allows a quantized collection's serving process: this share of the
# fp32 one's peak RSS.
SERVING_CAP = 0.4


def serving_capped(n: int, quantization: str, fp32_peak_mib: float) -> dict[str, Any]:
    """The serving process again, inside a memory cgroup limited to SERVING_CAP x the fp32
    process's peak RSS.  The collection's files are first evicted from the page cache, so
    that the pages the process reads are charged to its cgroup (a page is charged to the
    cgroup that first reads it): the limit then holds its heap and its page cache together.
    For comparison, the same process without the limit from the same cold start."""
    why = MemoryCgroup.available()
    if why:
        return {"not_run": why}
    limit = round(SERVING_CAP * fp32_peak_mib, 1)
    # The same process without the limit, from the same cold start, for its latency.
    evict_page_cache(store_folder(n, quantization))
    free = serving(n, quantization)
    evicted = evict_page_cache(store_folder(n, quantization))
    with MemoryCgroup(limit) as cgroup:
        out = serving(n, quantization, cgroup)
        out.update(cgroup.stats(), limit_mib=limit, limit_multiple=SERVING_CAP, evicted_mib=evicted)
    out["completed"] = out.pop("returncode") == 0
    if out["completed"]:
        del out["stderr"]
    out["unlimited"] = {
        k: free.get(k) for k in ("peak_rss_mib", "like_after_the_first", "wall_s", "returncode")
    }
    return out


def evict_page_cache(folder: Path) -> float:
    """Ask the kernel to drop the cached pages of every file under ``folder`` (files no
    process maps); the MiB of files it was asked about."""
    total = 0
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            total += os.fstat(fd).st_size
        finally:
            os.close(fd)
    return round(total / 2**20, 1)


def _child_memory(stdout: str) -> dict[str, Any]:
    """The resident memory the serving child reported (its last line of output is JSON)."""
    lines = stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        return {}
    keys = ("after_first_query", "after_last_query", "like_after_the_first")
    return {k: report[k] for k in keys if k in report}


# -- the figure -------------------------------------------------------------------------------


def figure(
    label: str, *, quantizations: tuple[str, ...] = QUANTIZATIONS, reuse: bool = True
) -> dict[str, Any]:
    if label not in SIZES:
        raise ValueError(f"--scale takes {', '.join(SIZES)}, not {label!r}")
    n = SIZES[label]
    began = time.perf_counter()
    log(f"scale: preparing {n:,} points")
    x, src, docs = prepare(n)
    dim = int(x.shape[1])
    result: dict[str, Any] = {
        "label": label,
        "points": n,
        "dimension": dim,
        "data": "the 5,157 real all-MiniLM-L6-v2 embeddings of patents_nvidia.xlsx, extended "
        "with mixtures of two of them (0.6-0.95 weight on the first) plus noise (sigma 0.01), "
        "renormalised; payload of the main source document",
        "variants": {},
    }
    for q in quantizations:
        result["variants"][q] = {"build": build(n, q, dim, reuse=reuse)}
        log(f"scale: {q} build {result['variants'][q]['build']}")
    rng = random.Random(n)
    like_picks = rng.sample(range(n), LIKE_QUERIES)
    filter_picks = rng.sample(range(n), FILTER_QUERIES)
    filters = scale_filters(docs, src)
    log("scale: exact answers (numpy)")
    like_truth = {i: exact_top(x, x[i], 10, exclude=i) for i in like_picks}
    titles = title_vectors(docs)
    texts = (titles, [exact_top(x, v, 10) for v in titles])
    filter_truth = {
        (fi, i): exact_top(x, x[i], 10, mask=f["mask"])
        for fi, f in enumerate(filters)
        for i in filter_picks
    }
    result["filters"] = [
        {"filter": f["kind"], "matching": f["matching"], "selectivity": round(f["matching"] / n, 4)}
        for f in filters
    ]
    for q in quantizations:
        log(f"scale: queries on {q}")
        result["variants"][q]["queries"] = query_variant(
            n,
            q,
            x,
            filters,
            like_picks,
            like_truth,
            filter_picks,
            filter_truth,
            reference=q in ("none", "int8"),
            texts=texts,
        )
        result["variants"][q]["processes"] = processes(n, q)
        save_json(SCALE_DIR / f"result_{label}.json", result)
    if "none" in quantizations:
        fp32_peak = result["variants"]["none"]["processes"]["serving_process"]["peak_rss_mib"]
        for q in quantizations:
            if q != "none":
                log(f"scale: {q} serving under {SERVING_CAP} x the fp32 process's peak RSS")
                procs = result["variants"][q]["processes"]
                procs["serving_capped"] = serving_capped(n, q, fp32_peak)
        save_json(SCALE_DIR / f"result_{label}.json", result)
    result["seconds"] = round(time.perf_counter() - began, 1)
    save_json(SCALE_DIR / f"result_{label}.json", result)
    return result


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scale")
    ap.add_argument("what", choices=["build", "serve"])
    ap.add_argument("points", type=int)
    ap.add_argument("quantization", choices=LAYOUTS)
    ap.add_argument("extra", type=int)
    args = ap.parse_args(argv)
    if args.what == "build":
        print(json.dumps(build_child(args.points, args.quantization, args.extra)))
    else:
        print(json.dumps(serve_child(args.points, args.quantization, args.extra)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
