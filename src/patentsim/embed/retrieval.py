"""Retrieval modes and a collection's default one.

``dense``: the model's vectors (cosine).  ``keyword``: BM25 over the analyzer's
terms.  ``hybrid``: both, fused by Qdrant (RRF with weights, or DBSF).  A
collection's default mode lives in its manifest under ``search``; ``ingest load``
sets it from what was measured (see docs/quality.md), and ``search
eval --tune`` replaces it with the winner on the collection's own labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store.manifest import SearchDefaults

MODES = ("dense", "keyword", "hybrid")
FUSIONS = ("rrf", "dbsf")

# Share of the sample's letters in words the model's tokenizer reads poorly (unknown pieces,
# pieces smaller than letters, a piece per letter: ``embed.coverage``) from which a new
# collection answers by keyword.  Measured with the offline English model: on Korean text
# 0.9 and more, on English text a few percent (docs/quality.md).
POOR_SHARE = 0.3


@dataclass(frozen=True)
class Retrieval:
    """How a query is answered: the mode, and for hybrid the fusion and its weights."""

    mode: str = "dense"
    fusion: str = "rrf"
    weights: tuple[float, float] = (1.0, 1.0)  # dense, keyword (RRF only)

    @classmethod
    def from_manifest(cls, search: SearchDefaults | None) -> Retrieval:
        """A collection's default (``Manifest.search``; None: dense)."""
        if search is None:
            return cls()
        mode = search.default_mode if search.default_mode in MODES else "dense"
        return cls(mode=mode, fusion=search.fusion, weights=search.weights)

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

    def to_manifest(self, chosen_by: str) -> SearchDefaults:
        return SearchDefaults(self.mode, self.fusion, self.weights, chosen_by)


@dataclass(frozen=True)
class ModeEvidence:
    """What a new collection's default mode is decided from: the model's name (for messages
    only), the sample's size and share of Hangul letters, and the share of its letters the
    model's tokenizer reads poorly (None: not measured; a model without a tokenizer, or no
    model at all: ``dense`` False)."""

    model: str | None
    texts: int
    hangul_share: float
    poor_share: float | None
    dense: bool = True

    def describe(self) -> str:
        """What was measured, for the summary."""
        text = f"{self.texts:,} sampled texts, {self.hangul_share:.0%} of their letters Hangul"
        if self.poor_share is not None:
            text += (
                f"; the model's tokenizer reads {self.poor_share:.0%} of the letters poorly "
                "(unknown pieces, or broken into single letters)"
            )
        return text


@dataclass(frozen=True)
class Measured:
    """P@k of each mode on a sample of a collection's labelled documents (levels averaged),
    from its stored vectors right after a load (``search.eval.measure_modes``)."""

    label: str | None
    queries: int
    k: int
    levels: tuple[str, ...]
    scores: dict[str, float]  # mode -> mean P@k over the levels
    skipped: str = ""  # why nothing was measured

    def describe(self) -> str:
        shown = ", ".join(f"{m} {v:.3f}" for m, v in self.scores.items())
        return (
            f"P@{self.k} ({' and '.join(self.levels)}, averaged) of '{self.label}' on "
            f"{self.queries} sampled documents: {shown}"
        )


def default_mode(
    evidence: ModeEvidence, measured: Measured | None = None
) -> tuple[Retrieval, str, str | None]:
    """The default mode of a collection, why (a sentence), and a warning where the model
    does not read the collection's text.  One place decides: where the collection's own
    labels were measured (``measured``: P@10 of each mode), the best mode wins; otherwise
    what the model's tokenizer makes of the texts decides (keyword where it reads them
    poorly, else dense)."""
    if not evidence.dense:
        return KEYWORD_DEFAULT, "keyword (the collection has no dense vectors)", None
    about = evidence.describe()
    warning = None
    if evidence.poor_share is not None and evidence.poor_share >= POOR_SHARE:
        warning = (
            f"the model '{evidence.model}' reads {evidence.poor_share:.0%} of the letters of "
            "these texts poorly (unknown pieces, or single letters): its vectors barely tell "
            "the documents apart, so dense search is weak here; a model trained on the "
            "collection's language (for Korean: --model jhgan/ko-sroberta-multitask) makes "
            "dense and hybrid search useful"
        )
    if measured is not None and measured.scores:
        best = max(measured.scores, key=lambda m: (measured.scores[m], -MODES.index(m)))
        return Retrieval(best), f"{best} ({measured.describe()}; {about})", warning
    unmeasured = f"; not measured on labels: {measured.skipped}" if measured else ""
    if warning:
        return KEYWORD_DEFAULT, f"keyword ({about}{unmeasured})", warning
    return DENSE_DEFAULT, f"dense ({about}{unmeasured})", None


KEYWORD_DEFAULT = Retrieval("keyword")
# Where the model covers the language the default stays the model's own ranking (cosine
# scores, as before keyword search); `search eval --tune` switches a collection to hybrid
# where its labels say so.
DENSE_DEFAULT = Retrieval("dense")
