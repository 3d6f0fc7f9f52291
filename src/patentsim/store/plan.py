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

A large collection (``CreateOptions.large``) searches its segments side by side, so exact
search there costs about half as much per match on 2 cores: it answers exactly up to
``LARGE_EXACT_MAX_POINTS`` matches as long as they are at most
``LARGE_EXACT_MAX_SELECTIVITY`` of its points (broader filters find enough candidates fast).
At 1M points (10 indexed segments of 100,000): exact search over the 100,649 matches of a 10% date
filter took 11.4 ms and over 154,003 of a 15% list filter 17.7 ms, complete, where
``hnsw+check`` took 38 ms (recall@10 0.995) and 21 ms (0.995); over the 500,904 of a 50%
filter 70 ms against 29 ms.

Why not the filtered HNSW search (the filter applied during the walk): on vectors shaped like
real patent embeddings, where documents with the same payload sit together, the walk misses
matches whatever the beam — recall@10 0.66–0.89 for filters of 10–50% of 300k points with
hnsw_ef 128–256 — and ACORN (the walk also looks at neighbours' neighbours), which reached
0.96–0.99 at 15%, took 120–190 ms, slower than exact search over the 46,000 matches (19 ms).
``python -m bench --scale`` measures all of these side by side.

Quantized collections search their quantized vectors and rescore ``OVERSAMPLING`` x limit
candidates with the original vectors, except the candidate search of ``hnsw+check`` on an
int8 collection: its candidates are ranked on the quantized vectors alone, since the check
that follows scores them exactly (at 1M points, 991 candidates: 72 ms instead of 223 on a
large collection).  Binary's two bits rank too coarsely for that (``b.RANKS_UNRESCORED``).

A query visits every segment of the collection, and the beams above are per segment.  They
were tuned on collections whose points sit in one indexed segment beside a small appendable
one; a large collection (``CreateOptions.large``) holds its points in segments of at most
100,000, each holding a smaller share of the nearest points, and walks each with a
proportionally narrower beam (``segment_ef``): at 1M points in 11 segments, ``like`` found
0.999 of the true top-10 at hnsw_ef 64 (1.2 ms p50) and 1.0 at 256 (3.9 ms).

Free-text queries (``search text``: an embedded text, not one of the stored points) walk
``TEXT_EF_FACTOR`` x the beam of a ``like`` query.  They sit farther from the stored vectors,
and a collection's segments need not hold equal shares of their neighbours: a file sorted by
topic puts them in one segment of up to 100,000 points, walked with 64.  At 1M points,
against exact search, 200 patent titles embedded with the same model found (the search
alone; ``python -m bench --scale 1m``, BENCHMARKS.md; the sweep in docs/scaling.md):

- one index, int8: 0.966 of the true top-10 at hnsw_ef 256 (0.9 ms), 0.9985 at 1,024
  (2.5 ms); float32 vectors: 0.9625 / 0.9985 (1.6 / 4.7 ms);
- large, 11 segments: 0.996 at 64 per segment and 1.0 at 256 with the rows in random order,
  0.9745 / 0.997 with them sorted by source document (1.3 / 2.8 ms).

Embedding the query costs more than the difference (6.1-8.8 ms for MiniLM on 2 cores,
figure 4; a RoBERTa-base model several times that).  A ``like`` query is a stored point and
is found with the narrower beam (1M, large, sorted: 0.995 at 64 per segment).
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
# ... and on a large collection, whose segments are searched side by side (see above).
LARGE_EXACT_MAX_POINTS = 200_000
LARGE_EXACT_MAX_SELECTIVITY = 0.2
# Candidates of the unfiltered search per expected match, at most this many; its beam
# (hnsw_ef) is CANDIDATE_EF x the candidates, since finding the nearest n needs a wider beam
# than n.  The unfiltered search misses more near the end of its list than at its head, so
# the candidates are many times the matches needed (measured at 300k, filters of 15-50%:
# recall@10 0.94-0.99 with 4x and a beam as wide as the candidates, 0.97-0.99 with 10x and
# a beam 4x as wide, 0.98-0.99 for 50% with 10x and 8x).
OVERFETCH = 10.0
MAX_CANDIDATES = 2_048
CANDIDATE_EF = 8
# ... on a large collection, whose segments need not hold equal shares of a query's
# neighbours (a file sorted by topic): at 1M points, 40 queries, the 50% filters found 0.9775 /
# 0.9925 with 8x on a large collection whose rows came sorted by document and 0.99 / 0.995
# with 16x (24 -> 34 ms and 5.8 -> 7.4 ms); with the rows in random order 0.9975 / 0.995 and
# 1.0 / 1.0 (29 -> 42 ms, 6.3 -> 9.3 ms; one-off, 3 December 04:12 UTC).
LARGE_CANDIDATE_EF = 16
# Segments of the collections the beams above were tuned on (one indexed, one appendable), and
# the narrowest beam a segment is walked with.
REFERENCE_SEGMENTS = 2
MIN_SEGMENT_EF = 64
# A collection of at most SMALL_COLLECTION_POINTS points walks SMALL_COLLECTION_EF instead of
# b.HNSW_EF_SEARCH, which a million points need (BENCHMARKS.md, figure 4, MiniLM vectors):
# hnsw_ef 128 found every true top-10 of `like` queries at 100,000 points and 0.999 at 10,000,
# and 0.997 / 0.999 of text queries (256: 0.999 / 1.0), in 0.5-1.0 ms against 0.9-1.5 at
# 100,000 (two runs).
SMALL_COLLECTION_POINTS = 100_000
SMALL_COLLECTION_EF = 128
# Free-text queries walk this many times the beam of a stored point (see above).
TEXT_EF_FACTOR = 4
# The beam of ``neighbours`` (near-duplicate search): each stored point asks for its closest
# few, far closer than a query's top-10, so a narrower beam than a query's suffices (a full
# answer asks again with a larger limit, and the beam grows with the limit).
NEIGHBOURS_EF = 32

Hit = TypeVar("Hit")


@dataclass(frozen=True)
class SearchPlan:
    exact: bool
    hnsw_ef: int
    candidates: int = 0  # > 0: unfiltered search for this many, the filter checked on them
    matching: int | None = None  # points the filter matches (the payload index's estimate)
    total: int | None = None  # points in the collection
    segments: int = REFERENCE_SEGMENTS  # the collection's segments (each walked with hnsw_ef)
    large: bool = False  # a large collection (CreateOptions.large)

    @property
    def path(self) -> str:
        """``exact``, ``hnsw`` or ``hnsw+check``: what answers the query."""
        if self.exact:
            return "exact"
        return "hnsw+check" if self.candidates else "hnsw"


def base_ef(points: int | None) -> int:
    """The beam for a collection of ``points`` points (None: not known) on the collections
    the beams were tuned on; ``segment_ef`` narrows it per segment."""
    if points is not None and points <= SMALL_COLLECTION_POINTS:
        return SMALL_COLLECTION_EF
    return b.HNSW_EF_SEARCH


def segment_ef(ef: int, segments: int) -> int:
    """The beam for each of ``segments`` segments of a query that would walk ``ef`` on the
    collections the beams were tuned on: narrower as the points spread over more segments,
    never under MIN_SEGMENT_EF, never wider than ``ef``."""
    spread = max(segments, REFERENCE_SEGMENTS) / REFERENCE_SEGMENTS
    return max(min(MIN_SEGMENT_EF, ef), math.ceil(ef / spread))


def candidate_ef(
    candidates: int,
    segments: int = REFERENCE_SEGMENTS,
    points: int | None = None,
    large: bool = False,
) -> int:
    """The beam that finds the nearest ``candidates`` points (never narrower than asked)."""
    factor = LARGE_CANDIDATE_EF if large else CANDIDATE_EF
    return max(
        segment_ef(base_ef(points), segments),
        candidates,
        segment_ef(factor * candidates, segments),
    )


def plan_search(
    *,
    filtered: bool,
    limit: int,
    matching: int | None = None,
    total: int | None = None,
    segments: int = REFERENCE_SEGMENTS,
    free_text: bool = False,
    large: bool = False,
) -> SearchPlan:
    """The plan for one query; ``matching`` is needed only when ``filtered``, ``total`` (the
    collection's points) when ``filtered`` and for the beam (a wider one when not known);
    ``segments``: how many segments the collection's points are spread over; ``free_text``:
    the query is an embedded text, not a stored point (``TEXT_EF_FACTOR``); ``large``: a
    large collection, which searches exactly over more matches and walks a wider beam for
    the candidates of a broad filter."""
    ef = segment_ef(base_ef(total), segments) * (TEXT_EF_FACTOR if free_text else 1)
    if not filtered:
        return SearchPlan(exact=False, hnsw_ef=max(ef, limit), total=total, segments=segments)
    if matching is None or total is None or _exact(matching, total, large):
        return SearchPlan(
            exact=True, hnsw_ef=ef, matching=matching, total=total, segments=segments, large=large
        )
    selectivity = matching / total if total else 1.0
    candidates = math.ceil(OVERFETCH * limit / max(selectivity, 1e-9))
    candidates = min(MAX_CANDIDATES, max(candidates, 4 * limit))
    return SearchPlan(
        exact=False,
        hnsw_ef=max(ef, candidate_ef(candidates, segments, total, large)),
        candidates=candidates,
        matching=matching,
        total=total,
        segments=segments,
        large=large,
    )


def _exact(matching: int, total: int, large: bool) -> bool:
    """Whether a filter matching ``matching`` of ``total`` points is answered exactly."""
    if min(matching, total) <= EXACT_MAX_POINTS:
        return True
    return (
        large
        and matching <= LARGE_EXACT_MAX_POINTS
        and matching <= LARGE_EXACT_MAX_SELECTIVITY * total
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
