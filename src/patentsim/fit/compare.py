"""``ingest models compare``: several models on the same seeded sample of the user's documents.

Each candidate (a sentence-transformers name or folder, or a loaded embedder) embeds the
same sample; ``measure`` gives P@k per level and MRR@10 per mode on it (every sampled
document a query, the other sampled documents the candidates), with the seconds it took to
load the model and to embed the sample.  Keyword search does not depend on the model: it is
measured once, on the first candidate's collection.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..embed.retrieval import MODES
from ..errors import UserInputError, setting
from ..search.eval import DEFAULT_K, EvalRow
from ..store import StoreSettings
from ..store.backend import Store
from .card import trained_keys
from .documents import Corpus, Document, Reading, check_level, read_corpus
from .measure import Lookup, measure

DEFAULT_SAMPLE = 500
LogFn = Callable[[str], None]


@dataclass
class CompareRow:
    model: str | None  # None: keyword search (BM25), which uses no model
    mode: str
    k: int
    queries: int
    precision: dict[str, float]  # level -> P@k
    mrr: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "mode": self.mode,
            "k": self.k,
            "queries": self.queries,
            "precision": dict(self.precision),
            "mrr": self.mrr,
        }


@dataclass
class ModelCost:
    model: str
    dimension: int
    max_seq_length: int
    load_seconds: float
    embed_seconds: float  # the sample's texts and titles
    docs_per_second: float
    measure_seconds: float
    trained_on: int = 0  # sampled documents this model was tuned on (its figures flatter it)


@dataclass
class Comparison:
    source: str
    label: str
    documents: int  # labelled documents in the source
    sample: int
    seed: int
    k: int
    levels: list[str]
    rows: list[CompareRow] = field(default_factory=list)
    costs: list[ModelCost] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "label": self.label,
            "documents": self.documents,
            "sample": self.sample,
            "seed": self.seed,
            "k": self.k,
            "levels": list(self.levels),
            "rows": [r.to_dict() for r in self.rows],
            "costs": [vars(c) for c in self.costs],
        }

    def cost(self, model: str | None) -> ModelCost | None:
        return next((c for c in self.costs if c.model == model), None)


def sample_documents(corpus: Corpus, sample: int, seed: int) -> list[Document]:
    """The seeded sample every candidate embeds (documents sorted by key first)."""
    if sample < 2:
        raise UserInputError(f"{setting('sample')} must be at least 2, not {sample}")
    docs = corpus.documents
    return random.Random(seed).sample(docs, min(sample, len(docs)))


def compare_models(
    label: str,
    models: Sequence[Any],
    *,
    source: str | Path | Sequence[str | Path] | None = None,
    collection: str | None = None,
    sample: int = DEFAULT_SAMPLE,
    seed: int = 0,
    levels: Sequence[str] = ("subclass", "group"),
    k: int = DEFAULT_K,
    modes: Sequence[str] | None = None,
    reading: Reading | None = None,
    device: str = "auto",
    batch_size: int = 16,
    settings: StoreSettings | None = None,
    store: Store | None = None,
    log: LogFn | None = None,
    corpus: Corpus | None = None,
) -> Comparison:
    """P@k by level and MRR@10 of each model and mode on one seeded sample of ``source``
    (files) or of the collection (or of ``corpus``, documents read already).  ``models``:
    names, folders, or loaded embedders."""
    if not models:
        raise UserInputError(f"name at least one {setting('model')} to compare")
    levels = list(dict.fromkeys(levels)) or ["subclass"]
    for level in levels:
        check_level(level)
    if k < 1:
        raise UserInputError(f"{setting('k')} must be at least 1, not {k}")
    chosen = list(modes or MODES)
    for mode in chosen:
        if mode not in MODES:
            raise UserInputError(
                f"{setting('mode')} must be one of {', '.join(MODES)}, not {mode!r}"
            )
    say = log or (lambda _msg: None)
    if corpus is None:
        corpus = read_corpus(
            label,
            source=source,
            collection=collection,
            reading=reading,
            settings=settings,
            store=store,
        )
    docs = sample_documents(corpus, sample, seed)
    if len(docs) <= k:
        raise UserInputError(
            f"a sample of {len(docs)} documents cannot judge {k} neighbours",
            f"use a larger {setting('sample')} or a smaller {setting('k')}",
        )
    report = Comparison(
        corpus.source, corpus.label, len(corpus.documents), len(docs), seed, k, levels
    )
    say(f"sample: {len(docs):,} of {len(corpus.documents):,} labelled documents (seed {seed})")
    keyword_done = "keyword" not in chosen
    for candidate in models:
        began = time.perf_counter()
        emb = _load(candidate, device)
        loaded = time.perf_counter() - began
        name = str(emb.name)
        say(f"{name}: loaded in {loaded:.1f} s, embedding {len(docs):,} documents")
        began = time.perf_counter()
        texts = [d.text for d in docs]
        titles = [d.title for d in docs if d.title]
        vectors = emb.encode(texts, batch_size=batch_size)
        queries = emb.encode(titles, batch_size=batch_size, query=True) if titles else []
        embedded = time.perf_counter() - began
        info = _info(emb)
        lookup = Lookup(info, dict(zip(texts, vectors)), dict(zip(titles, queries)))
        wanted = [m for m in chosen if m != "keyword" or not keyword_done]
        began = time.perf_counter()
        rows = measure(docs, lookup, levels=levels, k=k, modes=wanted) if wanted else []
        measured = time.perf_counter() - began
        for mode in wanted:
            report.rows.append(_row(None if mode == "keyword" else name, mode, rows))
        keyword_done = True
        report.costs.append(
            ModelCost(
                name,
                int(info["dimension"]),
                int(info.get("max_seq_length") or 0),
                round(loaded, 2),
                round(embedded, 2),
                round(len(texts) / max(embedded, 1e-9), 2),
                round(measured, 2),
            )
        )
        say(f"{name}: embedded in {embedded:.1f} s, measured in {measured:.1f} s")
        trained = trained_keys(candidate) if isinstance(candidate, (str, Path)) else None
        report.costs[-1].trained_on = sum(1 for d in docs if d.key in trained) if trained else 0
        if report.costs[-1].trained_on:
            say(
                f"warning: {name} was tuned on {report.costs[-1].trained_on:,} of the sampled "
                "documents, so its figures flatter it: compare on documents it was not "
                "trained on (its model card's held-out figures)"
            )
    report.rows.sort(key=lambda r: (r.model is None, chosen.index(r.mode)))
    return report


def _load(candidate: Any, device: str) -> Any:
    if not isinstance(candidate, (str, Path)):
        return candidate  # a loaded embedder
    from ..embed.embedder import EmbedderConfig

    config = EmbedderConfig.choose(str(candidate), device=device, allow_fallback=False)
    return config.load()


def _info(emb: Any) -> dict[str, Any]:
    info = emb.info().to_dict() if hasattr(emb, "info") else {}
    info.setdefault("name", emb.name)
    info.setdefault("fingerprint", emb.fingerprint)
    info.setdefault("dimension", emb.dimension)
    info.setdefault("max_seq_length", getattr(emb, "max_seq_length", 0))
    return info


def _row(model: str | None, mode: str, rows: list[EvalRow]) -> CompareRow:
    mine = [r for r in rows if r.mode == mode]
    return CompareRow(
        model,
        mode,
        mine[0].k,
        mine[0].queries,
        {r.level: r.precision for r in mine},
        mine[0].mrr,
    )
