"""How a query is answered: through the HNSW index, or exactly over the matching points.

An unfiltered query walks the HNSW graph (recall@10 1.0 at 300k points, measured).  A
filtered one is planned per query from the number of points the filter matches, which the
payload indexes estimate without touching a vector:

- **few matches** (at most ``EXACT_MAX_POINTS``, or a collection that small): exact search
  over the matching points only.  Its cost grows with the matches, not the collection, and
  its answer is complete by construction.
- **many matches**: the unfiltered HNSW search for the nearest ``candidates`` points (about
  ``OVERFETCH`` x limit / selectivity), then exact search restricted to those candidates that
  pass the filter.  When at least ``limit`` of them pass, they are the answer: every point
  outside the candidates is farther than all of them, so the answer is as complete as the
  unfiltered search (whose recall is what the benchmark measures).  Too few pass: four times
  the candidates, up to ``MAX_CANDIDATES``; then exact search over every matching point.

Why not the filtered HNSW search (the filter applied during the walk): on vectors shaped like
real patent embeddings, where documents with the same payload sit together, the walk misses
matches whatever the beam — recall@10 0.66–0.89 for filters of 10–50% of 300k points with
hnsw_ef 128–256 — and ACORN (the walk also looks at neighbours' neighbours), which reached
0.96–0.99 at 15%, took 120–190 ms, slower than exact search over the 46,000 matches (19 ms).
``python -m bench --scale`` measures all of these side by side.

Quantized collections search their quantized vectors and rescore ``OVERSAMPLING`` x limit
candidates with the original vectors on every path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from . import backend as b

# Exact search over at most this many matching points: under 2 ms for 3,000 matches and
# 7-17 ms for 30,000-46,000 (384-d, 300k points, 2 busy cores), measured; the candidate
# search below missed matches there (recall@10 0.94-0.99 with its beam as wide as the
# candidates).
EXACT_MAX_POINTS = 60_000
# Candidates of the unfiltered search per expected match, at most this many; its beam
# (hnsw_ef) is CANDIDATE_EF x the candidates, since finding the nearest n needs a wider beam
# than n.  The unfiltered search misses more near the end of its list than at its head, so
# the candidates are many times the matches needed (measured at 300k, filters of 15-50%:
# recall@10 0.94-0.99 with 4x and a beam as wide as the candidates, 0.97-0.99 with 10x and
# a beam 4x as wide, 0.98-0.99 for 50% with 10x and 8x).
OVERFETCH = 10.0
MAX_CANDIDATES = 2_048
CANDIDATE_EF = 8

Hit = TypeVar("Hit")


@dataclass(frozen=True)
class SearchPlan:
    exact: bool
    hnsw_ef: int
    candidates: int = 0  # > 0: unfiltered search for this many, the filter checked on them
    matching: int | None = None  # points the filter matches (the payload index's estimate)
    total: int | None = None  # points in the collection

    @property
    def path(self) -> str:
        """``exact``, ``hnsw`` or ``hnsw+check``: what answers the query."""
        if self.exact:
            return "exact"
        return "hnsw+check" if self.candidates else "hnsw"


def plan_search(
    *, filtered: bool, limit: int, matching: int | None = None, total: int | None = None
) -> SearchPlan:
    """The plan for one query; ``matching`` and ``total`` are needed only when ``filtered``."""
    if not filtered:
        return SearchPlan(exact=False, hnsw_ef=max(b.HNSW_EF_SEARCH, limit))
    if matching is None or total is None or min(matching, total) <= EXACT_MAX_POINTS:
        return SearchPlan(exact=True, hnsw_ef=b.HNSW_EF_SEARCH, matching=matching, total=total)
    selectivity = matching / total if total else 1.0
    candidates = math.ceil(OVERFETCH * limit / max(selectivity, 1e-9))
    candidates = min(MAX_CANDIDATES, max(candidates, 4 * limit))
    return SearchPlan(
        exact=False,
        hnsw_ef=max(b.HNSW_EF_SEARCH, CANDIDATE_EF * candidates),
        candidates=candidates,
        matching=matching,
        total=total,
    )


def checked_search(
    plan: SearchPlan,
    want: int,
    nearest: Callable[[int], Sequence[tuple[str, float]]],
    within: Callable[[Sequence[str]], list[Hit]],
    exact: Callable[[], list[Hit]],
    score_threshold: float | None = None,
) -> list[Hit]:
    """The ``hnsw+check`` path: ``want`` best matching points, complete as argued above.

    ``nearest(n)``: ids and scores of the ``n`` nearest points, unfiltered; ``within(ids)``:
    the points among ``ids`` that pass the filter, best first (exact scores);
    ``exact()``: exact search over every matching point.
    """
    n = plan.candidates
    while True:
        found = nearest(n)
        hits = within([pid for pid, _ in found]) if found else []
        if len(hits) >= want or len(found) < n:
            return hits  # enough, or the whole collection was seen
        if score_threshold is not None and found[-1][1] < score_threshold:
            return hits  # everything farther scores below the threshold too
        if n >= MAX_CANDIDATES:
            return exact()
        n = min(MAX_CANDIDATES, n * 4)
