"""Search quality (figure "quality"): P@10 and known-item MRR@10 per mode, on real labels.

Both real files are ingested through the real pipeline into an embedded store
under ``bench/out/quality/`` with the offline model (``minilm``; its vectors come
from a cache so a rerun embeds nothing), then measured with ``search eval``'s
own code: P@10 at IPC/CPC subclass and main group for dense, keyword and hybrid,
known-item MRR@10 (each sampled document's title as a ``search text`` query),
and ``--tune`` (modes and fusion weights tried on half the sample, reported on
the other half).  "Before" is what the tool answered before keyword search: the
dense vectors alone.

Cost: the analyzer and BM25 vectors' share of an ingest (analyzing every text of
the file, against embedding it), and query latency per mode on the collections and
on 100,000 points (``latency_at_scale``).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from patentsim.store.manifest import ModelRecord

from .common import DATA, OUT, log, read_xlsx, summary_ms, text_key

KO_XLSX = DATA / "patents_ko.xlsx"
NVIDIA_XLSX = DATA / "patents_nvidia.xlsx"
SETS = {
    # name: (file, label field, id column, text of the documents)
    "patents_ko": (KO_XLSX, "ipc", "application_number"),
    "patents_nvidia": (NVIDIA_XLSX, "cpc", "doc_id"),
}
SAMPLE = 500
SEED = 0


def _texts(path: Path, column: str) -> list[str]:
    from patentsim.ingest.records import clean_text

    out = []
    for row in read_xlsx(path):
        value = row.get(column)
        if value is not None and str(value).strip():
            out.append(clean_text(str(value)).strip())
    return out


def cached_vectors(name: str, texts: list[str], what: str) -> tuple[np.ndarray, float]:
    """Offline-model embeddings of ``texts`` (cached in bench/out), and the seconds they took."""
    from .embeddings import model

    cache = OUT / f"{name}_{what}_minilm.npz"
    keys = [text_key(t) for t in texts]
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        if list(data["keys"]) == keys:
            return data["vectors"], float(data["seconds"])
    log(f"embedding {len(texts):,} {what} of {name} once (cached in {cache.name})")
    started = time.perf_counter()
    vectors = model().encode(texts, batch_size=16).astype(np.float32)
    seconds = time.perf_counter() - started
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(cache, keys=np.array(keys), vectors=vectors, seconds=np.array(seconds))
    return vectors, seconds


class LookupEmbedder:
    """The offline model's identity, vectors from the cache (the real model for a miss)."""

    def __init__(self, texts: list[str], vectors: np.ndarray) -> None:
        from patentsim.embed.model import OFFLINE_MODEL, fingerprint, offline_model_path

        path = offline_model_path()
        assert path is not None, "the offline model is not installed"
        self.name = OFFLINE_MODEL
        self.fingerprint = fingerprint(path)
        self.dimension = int(vectors.shape[1])
        self.max_seq_length = 256
        self._vectors = dict(zip(texts, vectors))

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
        missing = [t for t in texts if t not in self._vectors]
        if missing:
            from .embeddings import model

            for t, v in zip(missing, model().encode(missing, batch_size=16)):
                self._vectors[t] = v
        return np.stack([self._vectors[t] for t in texts])

    def token_counts(self, texts: list[str]) -> list[int]:
        return [0 for _ in texts]


def embed_all() -> dict[str, Any]:
    """Embed (or load) abstracts and titles of both sets; returns per-set embedders."""
    out = {}
    for name, (path, _, _) in SETS.items():
        abstracts = _texts(path, "abstract")
        titles = _texts(path, "title")
        a_vec, a_s = cached_vectors(name, abstracts, "abstracts")
        t_vec, _ = cached_vectors(name, titles, "titles")
        emb = LookupEmbedder([*abstracts, *titles], np.concatenate([a_vec, t_vec]))
        out[name] = (emb, len(abstracts), a_s)
    return out


def _ingest(name: str, emb: Any, store_dir: Path) -> dict[str, Any]:
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings
    from patentsim.store import StoreSettings

    path, _, id_column = SETS[name]
    settings = StoreSettings(path=str(store_dir))
    started = time.perf_counter()
    summary = load(
        path,
        LoadSettings(store_settings=settings, collection=name, id_column=id_column),
        embedder=emb,
    )
    return {
        "points": summary.points,
        "seconds": round(time.perf_counter() - started, 2),
        "default_mode": summary.default_mode,
        "warnings": summary.warnings,
    }


def _analyze_cost(name: str, embed_seconds: float, documents: int) -> dict[str, Any]:
    """Seconds to analyze every text and build its BM25 vector, against embedding them."""
    from patentsim.embed.analyzer import Analyzer
    from patentsim.embed.sparse import Bm25

    path, _, _ = SETS[name]
    texts = _texts(path, "abstract")
    analyzer = Analyzer()
    started = time.perf_counter()
    terms = [analyzer.terms(t) for t in texts]
    bm25 = Bm25(avg_len=sum(map(len, terms)) / max(len(terms), 1))
    for t in terms:
        bm25.document(t)
    seconds = time.perf_counter() - started
    return {
        "documents": documents,
        "analyze_seconds": round(seconds, 2),
        "embed_seconds": round(embed_seconds, 1),
        "ratio": round((embed_seconds + seconds) / embed_seconds, 4) if embed_seconds else None,
        "target": 1.05,
    }


def _latency(name: str, store_dir: Path, emb: Any) -> dict[str, Any]:
    """like/text latency per mode on the collection (50 queries each, after one warm-up)."""
    from patentsim.search import QueryOptions, Session
    from patentsim.store import StoreSettings, open_store

    store = open_store(StoreSettings(path=str(store_dir)))
    out: dict[str, Any] = {}
    try:
        titles = [t for t in _texts(SETS[name][0], "title")][:50]
        session = Session(collection=name, store=store, model=emb)
        for mode in ("dense", "keyword", "hybrid"):
            options = QueryOptions(mode=mode)
            session.like(0, options)  # warm-up
            like_s: list[float] = []
            text_s: list[float] = []
            for i in range(50):
                began = time.perf_counter()
                session.like(i, options)
                like_s.append(time.perf_counter() - began)
            for t in titles:
                began = time.perf_counter()
                session.text(t, options)
                text_s.append(time.perf_counter() - began)
            out[mode] = {"like": summary_ms(like_s), "text": summary_ms(text_s)}
    finally:
        store.close()
    return out


def figure(sample: int = SAMPLE) -> dict[str, Any]:
    from dataclasses import replace

    from patentsim.search import Session
    from patentsim.search.eval import EvalOptions, evaluate
    from patentsim.store import StoreSettings

    embedders = embed_all()
    store_dir = OUT / "quality"
    shutil.rmtree(store_dir, ignore_errors=True)
    result: dict[str, Any] = {"sample": sample, "seed": SEED, "model": "minilm", "sets": {}}
    for name, (emb, documents, embed_seconds) in embedders.items():
        _, label, _ = SETS[name]
        log(f"quality: {name}")
        entry: dict[str, Any] = {"label": label}
        entry["ingest"] = _ingest(name, emb, store_dir)
        settings = StoreSettings(path=str(store_dir))
        options = EvalOptions(label, levels=("subclass", "group"), sample=sample, seed=SEED)
        with Session(settings, name, model=emb) as session:
            report = evaluate(replace(options, tune=True), session)
        entry["modes"] = [dict(r.to_dict(), setting=r.detail) for r in report.rows]
        t = report.tuning
        assert t is not None
        entry["tune"] = {
            "tried": [{"setting": s, "precision": p} for s, p in t.tried],
            "before": [dict(r.to_dict(), setting=r.detail) for r in t.before],
            "after": [dict(r.to_dict(), setting=r.detail) for r in t.after],
            "winner": t.winner,
            "tune_queries": t.tune_queries,
        }
        # The tuned default on the whole sample, both levels (as a user would now get it).
        with Session(settings, name, model=emb) as session:
            tuned = evaluate(replace(options, modes=(t.winner["default_mode"],)), session)
        entry["tuned_default"] = [dict(r.to_dict(), setting=r.detail) for r in tuned.rows]
        entry["cost"] = _analyze_cost(name, embed_seconds, documents)
        entry["latency_ms"] = _latency(name, store_dir, emb)
        result["sets"][name] = entry
    log("quality: like/text latency per mode at 100,000 points")
    result["scale_latency"] = latency_at_scale()
    return result


def latency_at_scale(points: int = 100_000, queries: int = 50) -> dict[str, Any]:
    """like/text latency per mode on ``points`` points: the nvidia abstracts' real vectors,
    then mixtures of two of them (bench/queries.py ``synthesize``), each carrying the keyword
    vector of its first document.  The store is cached in bench/out."""
    from patentsim.embed.analyzer import Analyzer
    from patentsim.embed.sparse import Bm25, average_length
    from patentsim.ingest.keyword import Keywords
    from patentsim.search import QueryOptions, Session
    from patentsim.store import StoreSettings, open_store
    from patentsim.store.backend import CreateOptions, PointData
    from patentsim.store.ids import point_id
    from patentsim.store.manifest import Manifest, SearchDefaults

    from .queries import synthesize

    path, _, _ = SETS["patents_nvidia"]
    abstracts = _texts(path, "abstract")
    titles = _texts(path, "title")
    a_vec, _ = cached_vectors("patents_nvidia", abstracts, "abstracts")
    t_vec, _ = cached_vectors("patents_nvidia", titles, "titles")
    emb = LookupEmbedder([*abstracts, *titles], np.concatenate([a_vec, t_vec]))
    store_dir = OUT / f"quality_{points}"
    name = "scale"
    settings = StoreSettings(path=str(store_dir))
    build_s = None
    store = open_store(settings)
    try:
        if not store.exists(name):
            analyzer = Analyzer()
            terms = [analyzer.terms(t) for t in abstracts]
            bm25 = Bm25(avg_len=average_length(terms))
            sparse = [bm25.document(t) for t in terms]
            vectors, source = synthesize(a_vec, points)
            manifest = Manifest.new(
                name=name, model=emb.info(), text_columns=["abstract"], id_column=None
            )
            keywords = Keywords(analyzer, bm25, ["abstract"])
            manifest.keyword, manifest.state = keywords.info(), "ready"
            manifest.search = SearchDefaults("dense", "rrf", (1.0, 1.0))
            began = time.perf_counter()
            coll = store.create(name, emb.dimension, manifest, CreateOptions())
            coll.ensure_index("_row", "integer")
            coll.ensure_index("_key", "keyword")
            batch = []
            for i, (vec, src) in enumerate(zip(vectors, source)):
                batch.append(
                    PointData(
                        point_id(str(i)),
                        vec.tolist(),
                        {"_row": i, "_key": str(i), "title": titles[int(src)][:200]},
                        sparse[int(src)],
                    )
                )
                if len(batch) >= 1000:
                    coll.upsert(batch)
                    batch = []
            if batch:
                coll.upsert(batch)
            coll.optimize()
            build_s = round(time.perf_counter() - began, 1)
            log(f"built the {points:,}-point store in {build_s} s")
        out: dict[str, Any] = {"points": points, "build_seconds": build_s}
        rng = np.random.default_rng(7)
        refs = [int(r) for r in rng.integers(0, points, queries)]
        qtexts = [titles[int(r)] for r in rng.integers(0, len(titles), queries)]
        session = Session(collection=name, store=store, model=emb)
        for mode in ("dense", "keyword", "hybrid"):
            options = QueryOptions(mode=mode)
            session.like(refs[0], options)  # warm-up
            like_s: list[float] = []
            for r in refs:
                began = time.perf_counter()
                session.like(r, options)
                like_s.append(time.perf_counter() - began)
            text_s: list[float] = []
            for t in qtexts:
                began = time.perf_counter()
                session.text(t, options)
                text_s.append(time.perf_counter() - began)
            out[mode] = {"like": summary_ms(like_s), "text": summary_ms(text_s)}
        return out
    finally:
        store.close()
