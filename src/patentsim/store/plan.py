"""How a query is answered: through the HNSW index, or exactly over the matching points.

An unfiltered query walks the HNSW graph.  A filtered one is planned per query from the
number of points the filter matches (the payload indexes estimate it without a vector):
few matches (``EXACT_MAX_POINTS``) are searched exactly, complete by construction; many
take the unfiltered search's nearest ``candidates`` and keep those that pass the filter,
widened up to ``MAX_CANDIDATES`` and then exact when too few pass.  Beams narrow per
segment (``segment_ef``) and widen for free-text queries (``TEXT_EF_FACTOR``).  Why these
paths and not the filter applied during the walk, and the measurements behind every
constant: docs/scaling.md ("Measured: 300,000 / 1,000,000 points") and BENCHMARKS.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from . import tuning

# Exact search over at most this many matching points: cheaper there than the candidate
# search below, which misses matches (docs/scaling.md).
EXACT_MAX_POINTS = 60_000
# ... and on a large collection, whose segments are searched side by side (cheaper per match).
LARGE_EXACT_MAX_POINTS = 200_000
LARGE_EXACT_MAX_SELECTIVITY = 0.2
# Candidates of the unfiltered search per expected match, at most this many; its beam
# (hnsw_ef) is CANDIDATE_EF x the candidates, since finding the nearest n needs a wider beam
# than n.  The unfiltered search misses more near the end of its list than at its head, so
# the candidates are many times the matches needed (docs/scaling.md).
OVERFETCH = 10.0
MAX_CANDIDATES = 2_048
CANDIDATE_EF = 8
# ... on a large collection, whose segments need not hold equal shares of a query's
# neighbours (a file sorted by topic: docs/scaling.md, "Files sorted by topic").
LARGE_CANDIDATE_EF = 16
# Segments of the collections the beams above were tuned on (one indexed, one appendable), and
# the narrowest beam a segment is walked with.
REFERENCE_SEGMENTS = 2
MIN_SEGMENT_EF = 64
# A collection of at most SMALL_COLLECTION_POINTS points walks SMALL_COLLECTION_EF instead of
# tuning.HNSW_EF_SEARCH, which a million points need (BENCHMARKS.md, figure 4).
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
    return tuning.HNSW_EF_SEARCH


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
