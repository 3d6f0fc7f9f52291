"""Measuring a model's vectors of some documents with ``search eval``'s own code.

The documents go into a private embedded collection through the real ingest pipeline
(the same keyword analyzer and BM25 vectors as any collection), carrying the vectors
already computed (``Lookup``: nothing is embedded again), and ``search eval`` measures
P@k per level and known-item MRR@10 per mode there, every document a query and every
other document a candidate.  ``models compare`` measures each candidate's vectors of
one sample this way; ``tune`` measures the held-out documents before and after.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..search.eval import DEFAULT_K, EvalRow, label_codes
from ..store.manifest import ModelRecord
from .documents import Document

LABEL = "label"


class Lookup:
    """An embedder that answers with vectors computed before (documents, and titles as
    queries), under the identity of the model that computed them."""

    def __init__(
        self,
        info: dict[str, Any],
        documents: dict[str, Any],
        queries: dict[str, Any] | None = None,
    ) -> None:
        self._info = dict(info)
        self.name = str(info["name"])
        self.fingerprint = str(info["fingerprint"])
        self.dimension = int(info["dimension"])
        self.max_seq_length = int(info.get("max_seq_length") or 0)
        self._documents = {_norm(k): v for k, v in documents.items()}
        self._queries = {_norm(k): v for k, v in (queries or {}).items()}

    def info(self) -> ModelRecord:
        return ModelRecord.from_dict(self._info)

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> Any:
        import numpy as np

        table = self._queries if query else self._documents
        missing = [t for t in texts if _norm(t) not in table]
        if missing:
            raise KeyError(f"no vector computed for {missing[0][:60]!r}")
        return np.stack([np.asarray(table[_norm(t)], dtype=np.float32) for t in texts])

    def token_counts(self, texts: list[str]) -> list[int]:
        return [0 for _ in texts]


def _norm(text: str) -> str:
    return " ".join(text.split())


def measure(
    documents: Sequence[Document],
    embedder: Lookup,
    *,
    levels: Sequence[str] = ("subclass", "group"),
    k: int = DEFAULT_K,
    modes: Sequence[str] | None = None,
    workdir: str | Path | None = None,
) -> list[EvalRow]:
    """P@k per mode and level and MRR@10 per mode, every document a query among the others."""
    from ..ingest.pipeline import load
    from ..ingest.settings import LoadSettings
    from ..search.eval import EvalOptions, evaluate
    from ..search.session import Session
    from ..store import StoreSettings

    with tempfile.TemporaryDirectory(prefix="patentsim-measure-", dir=workdir) as tmp:
        path = Path(tmp) / "documents.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for d in documents:
                row = {"key": d.key, "text": d.text, LABEL: _joined(d.label)}
                if d.title:
                    row["title"] = d.title
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        settings = StoreSettings(path=str(Path(tmp) / "store"))
        load(
            path,
            LoadSettings(
                store_settings=settings,
                collection="measure",
                text=("text",),
                id_column="key",
                lists=(f"{LABEL}:|",),
            ),
            embedder=embedder,
        )
        # Without titles the collection would take another short field (the key) as one.
        options = EvalOptions(LABEL, levels=tuple(levels), sample=len(documents), k=k,
                              modes=tuple(modes or ()),
                              known_items=any(d.title for d in documents))  # fmt: skip
        with Session(settings, "measure", model=embedder) as session:
            report = evaluate(options, session)
    return report.rows


def _joined(value: Any) -> str:
    """The label's codes, normalised as ``label_codes`` compares them, one list."""
    return "|".join(sorted(label_codes(value, "full")))
