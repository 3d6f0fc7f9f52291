"""Retrieval modes and a collection's default one.

``dense``: the model's vectors (cosine).  ``keyword``: BM25 over the analyzer's
terms.  ``hybrid``: both, fused by Qdrant (RRF with weights, or DBSF).  A
collection's default mode lives in its manifest under ``search``; ``ingest load``
sets it from what was measured (see docs/quality.md), and ``search
eval --tune`` replaces it with the winner on the collection's own labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MODES = ("dense", "keyword", "hybrid")
FUSIONS = ("rrf", "dbsf")

# Models known to be trained on English only (their vectors of Korean text are noise:
# the offline all-MiniLM-L6-v2 gives P@10 0.138 on patents_ko.xlsx, random gives 0.059).
_ENGLISH_ONLY = re.compile(
    r"(^|/)(all-minilm|all-mpnet|all-distilroberta|paraphrase-minilm|paraphrase-mpnet|"
    r"multi-qa-|msmarco-|bge-(small|base|large)-en|gte-(small|base|large)$|e5-(small|base|large)"
    r"(-v2)?$|nomic-embed-text)",
    re.IGNORECASE,
)
# Share of Hangul among letters above which a collection counts as Korean.
KOREAN_SHARE = 0.3


@dataclass(frozen=True)
class Retrieval:
    """How a query is answered: the mode, and for hybrid the fusion and its weights."""

    mode: str = "dense"
    fusion: str = "rrf"
    weights: tuple[float, float] = (1.0, 1.0)  # dense, keyword (RRF only)

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Retrieval:
        spec = manifest.get("search") or {}
        weights = spec.get("weights") or (1.0, 1.0)
        mode = str(spec.get("default_mode") or "dense")
        if mode not in MODES:
            mode = "dense"
        return cls(
            mode=mode,
            fusion=str(spec.get("fusion") or "rrf"),
            weights=(float(weights[0]), float(weights[1])),
        )

    def with_mode(self, mode: str | None) -> Retrieval:
        return (
            self
            if mode is None or mode == self.mode
            else Retrieval(mode, self.fusion, self.weights)
        )

    def describe(self) -> str:
        if self.mode != "hybrid":
            return self.mode
        if self.fusion == "dbsf":
            return "hybrid (DBSF)"
        dense, keyword = self.weights
        return f"hybrid (RRF, weights dense {dense:g} / keyword {keyword:g})"

    def to_manifest(self, chosen_by: str) -> dict[str, Any]:
        return {
            "default_mode": self.mode,
            "fusion": self.fusion,
            "weights": list(self.weights),
            "chosen_by": chosen_by,
        }


def covers_korean(model_name: str) -> bool:
    """False for models known to be English-only; True otherwise (Korean or multilingual,
    or unknown: then nothing is assumed)."""
    return not _ENGLISH_ONLY.search(model_name.strip())


def default_for(model_name: str, hangul_share: float) -> tuple[Retrieval, str | None]:
    """The default mode for a new collection, and a warning when the model does not cover
    the collection's language.

    Measured with the offline English model (docs/quality.md): on Korean
    patents keyword search triples dense search's P@10.
    """
    if hangul_share >= KOREAN_SHARE and not covers_korean(model_name):
        warning = (
            f"the model '{model_name}' is trained on English, but {hangul_share:.0%} of the "
            "letters in these texts are Hangul: its vectors barely tell Korean documents "
            "apart, so this collection answers by keyword (BM25 over Korean morphemes) unless "
            "you ask for --mode dense|hybrid; a Korean or multilingual model "
            "(--model jhgan/ko-sroberta-multitask) makes dense and hybrid search useful"
        )
        return KEYWORD_DEFAULT, warning
    return DENSE_DEFAULT, None


KEYWORD_DEFAULT = Retrieval("keyword")
# Where the model covers the language the default stays the model's own ranking (cosine
# scores, as before keyword search); `search eval --tune` switches a collection to hybrid
# where its labels say so.
DENSE_DEFAULT = Retrieval("dense")
