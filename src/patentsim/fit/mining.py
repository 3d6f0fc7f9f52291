"""Training examples from labels: positives that share a label, semi-hard negatives that share none.

A *positive* of an anchor shares at least one code with it at the tuning level (main group,
say).  A *negative* shares no code at the negative level (subclass for IPC/CPC labels:
nothing in common at all) and no text.  Among the negatives, the miner takes a
**semi-hard** one, mined from the current vectors as the lecture says: farther from the
anchor than the positive, but within ``margin`` of it (cosine distance ``d = 1 - cos``)::

    d(a, p) < d(a, n) < d(a, p) + margin

and of those the closest to the anchor (the one the loss learns most from).  Not the
hardest negative (closer than the positive: too similar, its label is probably wrong) and
not an easy one (beyond the margin: the loss is zero, nothing is learned).  Where an anchor
has no semi-hard negative but has hard ones, the least hard of those stands in; where it has
only easy ones, it gives no triplet this epoch.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

MINING_ROWS = 1024  # anchors whose similarities are computed at once


@dataclass
class Mined:
    """One epoch's triplets (indices into the training documents), and how they were found."""

    anchors: list[int] = field(default_factory=list)
    positives: list[int] = field(default_factory=list)
    negatives: list[int] = field(default_factory=list)
    semi_hard: int = 0  # negatives in the semi-hard band
    hard: int = 0  # no semi-hard one: the least hard negative closer than the positive
    easy_only: int = 0  # anchors left out: every negative beyond the margin
    no_positive: int = 0  # anchors left out: no other document shares a label
    no_negative: int = 0  # anchors left out: every document shares a label with it

    def counts(self) -> dict[str, int]:
        return {
            "triplets": len(self.anchors),
            "semi_hard": self.semi_hard,
            "hard": self.hard,
            "easy_only": self.easy_only,
            "no_positive": self.no_positive,
            "no_negative": self.no_negative,
        }


class LabelIndex:
    """Which documents share a code with which, at one level (an inverted index)."""

    def __init__(self, codes: Sequence[frozenset[str]]) -> None:
        self.codes = list(codes)
        postings: dict[str, list[int]] = defaultdict(list)
        for i, cs in enumerate(self.codes):
            for c in cs:
                postings[c].append(i)
        self.postings = {c: sorted(set(v)) for c, v in postings.items()}

    def sharing(self, i: int) -> list[int]:
        """Documents sharing at least one code with document ``i`` (``i`` itself included)."""
        out: set[int] = set()
        for c in self.codes[i]:
            out.update(self.postings[c])
        return sorted(out)

    def share(self, i: int, j: int) -> bool:
        return bool(self.codes[i] & self.codes[j])


def semi_hard_negative(
    similarities: Any, positive: float, allowed: Any, margin: float
) -> tuple[int | None, str]:
    """The negative for one anchor: ``similarities`` (cosine to every document), the
    positive's cosine, ``allowed`` (a boolean mask of the documents that may be negatives).

    Returns (index, kind): kind ``semi-hard`` (in the band), ``hard`` (none in the band:
    the least hard of those closer than the positive) or ``easy`` (index None: every
    allowed document is beyond the margin, or none is allowed).
    """
    import numpy as np

    sims = np.asarray(similarities, dtype=np.float64)
    ok = np.asarray(allowed, dtype=bool)
    # d(a,p) < d(a,n) < d(a,p) + margin, with d = 1 - cos:  positive - margin < cos < positive.
    band = ok & (sims < positive) & (sims > positive - margin)
    if band.any():
        idx = np.flatnonzero(band)
        return int(idx[np.argmax(sims[idx])]), "semi-hard"
    hard = ok & (sims >= positive)
    if hard.any():
        idx = np.flatnonzero(hard)
        return int(idx[np.argmin(sims[idx])]), "hard"
    return None, "easy"


def pick_positives(
    positives: LabelIndex, text_groups: Sequence[int], rng: random.Random
) -> list[int | None]:
    """A seeded random positive per document (None where no other text shares a label)."""
    out: list[int | None] = []
    for i in range(len(positives.codes)):
        pool = [j for j in positives.sharing(i) if text_groups[j] != text_groups[i]]
        out.append(rng.choice(pool) if pool else None)
    return out


def mine_triplets(
    vectors: Any,
    positives: LabelIndex,
    negatives: LabelIndex,
    text_groups: Sequence[int],
    *,
    margin: float,
    rng: random.Random,
) -> Mined:
    """One semi-hard triplet per anchor that has a positive, from the current ``vectors``
    (normalised, one row per training document)."""
    import numpy as np

    vecs = np.asarray(vectors, dtype=np.float32)
    n = len(vecs)
    groups = np.asarray(text_groups)
    chosen = pick_positives(positives, text_groups, rng)
    mined = Mined()
    for start in range(0, n, MINING_ROWS):
        rows = range(start, min(start + MINING_ROWS, n))
        sims = vecs[list(rows)] @ vecs.T
        for r, i in enumerate(rows):
            p = chosen[i]
            if p is None:
                mined.no_positive += 1
                continue
            allowed = groups != groups[i]
            allowed[negatives.sharing(i)] = False
            if not allowed.any():
                mined.no_negative += 1
                continue
            neg, kind = semi_hard_negative(sims[r], float(sims[r, p]), allowed, margin)
            if neg is None:
                mined.easy_only += 1
                continue
            if kind == "semi-hard":
                mined.semi_hard += 1
            else:
                mined.hard += 1
            mined.anchors.append(i)
            mined.positives.append(p)
            mined.negatives.append(neg)
    return mined


def pairs(
    positives: LabelIndex, text_groups: Sequence[int], rng: random.Random
) -> tuple[list[int], list[int]]:
    """(anchor, positive) pairs for in-batch negatives: every document that has a positive."""
    chosen = pick_positives(positives, text_groups, rng)
    anchors = [i for i, p in enumerate(chosen) if p is not None]
    return anchors, [p for p in chosen if p is not None]


def in_batch_mask(
    anchors: Sequence[int],
    candidates: Sequence[int],
    negatives: LabelIndex,
    text_groups: Sequence[int],
) -> list[list[bool]]:
    """For in-batch negatives: ``mask[i][j]`` is True where candidate ``j`` (the batch's
    positives, then any negatives) may not count as a negative of anchor ``i``: it shares a
    label or the text with it.  Each anchor's own positive (``j == i``) stays.
    """
    out = []
    for i, a in enumerate(anchors):
        row = []
        for j, c in enumerate(candidates):
            same = text_groups[a] == text_groups[c] or negatives.share(a, c)
            row.append(bool(same) and j != i)
        out.append(row)
    return out


def batch_relations(
    batch: Sequence[int],
    levels: Sequence[LabelIndex],
    text_groups: Sequence[int],
) -> tuple[list[list[bool]], list[list[list[bool]]]]:
    """For the supervised contrastive loss over one batch of documents (indices):
    ``exclude[i][k]`` is True where ``k`` is ``i`` itself or has its text (neither positive
    nor negative), and ``positives[l][i][k]`` where ``k`` shares a code with ``i`` at the
    ``l``-th level (and is not excluded); every other document of the batch is a negative.
    """
    exclude = [[text_groups[a] == text_groups[b] for b in batch] for a in batch]
    positives = [
        [
            [not exclude[i][k] and index.share(a, b) for k, b in enumerate(batch)]
            for i, a in enumerate(batch)
        ]
        for index in levels
    ]
    return exclude, positives
