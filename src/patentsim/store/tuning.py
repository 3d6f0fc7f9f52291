"""Tuning constants of the stores: HNSW, segments, quantized search, fusion.

Each was chosen by measurement on real patent embeddings; the numbers behind them are in
BENCHMARKS.md (``python -m bench --tune``, ``--scale``) and docs/scaling.md, not here.
Read them as ``tuning.NAME`` at call time: tests and benchmarks change them in place.
"""

from __future__ import annotations

# HNSW: links per node, the build's beam, and the search's beam for collections of a
# million points (smaller ones walk a narrower beam: store/plan.py, base_ef).  ef_construct
# 64 builds in about half the time of 128 at the same recall (BENCHMARKS.md, figure 4).
HNSW_M = 16
HNSW_EF_CONSTRUCT = 64
HNSW_EF_SEARCH = 256
FULL_SCAN_THRESHOLD_KB = 10_000
# Segments smaller than this stay plain (no HNSW, no quantized copy); None: the engine's
# default.  Tests lower it to index tiny collections.
INDEXING_THRESHOLD_KB: int | None = None
# A large collection (``CreateOptions.large``) is written and indexed in segments of this many
# points (a load checkpoints after each), then merged into segments of at most
# LARGE_MAX_SEGMENT_POINTS: never one whose building holds every vector and index in RAM, and
# few enough that a query visiting every segment stays fast (docs/scaling.md).
LARGE_SEGMENT_POINTS = 20_000
LARGE_MAX_SEGMENT_POINTS = 100_000
# A quantized search takes OVERSAMPLING x limit candidates per segment and rescores them with
# the original vectors; binary's two bits rank too coarsely for less (docs/scaling.md).
OVERSAMPLING = {"int8": 4.0, "binary": 32.0}
# The quantizations whose scores alone rank the candidates of a checked search well enough
# (``store/plan.py``: the check scores them exactly afterwards).
RANKS_UNRESCORED = frozenset({"int8"})
# Reciprocal rank fusion's constant (the usual 60).
RRF_K = 60
