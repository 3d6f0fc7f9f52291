"""A filtered map (``search map --where``): drawn from the whole map's cached projection,
against projecting the subset anew, on the 5,157 nvidia documents.

    python -m bench.map_subset            # after python -m bench.landscape (its store)
    python -m bench.map_subset --umap     # also a UMAP re-fit of each subset (once)

In one process with the collection open (as ``search serve`` holds it), each figure the
median of ``--repeats`` runs: the whole map (cached), the map of each filter (cached
projection + one filtered read of ids), and what a re-fit would cost: reading the
subset's vectors (one filtered read) and projecting them.  ``moved`` is how far a PCA
re-fit moves the subset's points from where the whole map has them (Procrustes
disparity after the best shift, rotation and scaling: 0 the same picture, 1 unrelated).
The JSON report goes to stdout and ``bench/out/map_subset.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import OUT, log, machine, save_json

STORE = OUT / "store_nvidia"  # bench/landscape.py's nvidia collection
COLLECTION = "nvidia"
REPORT = OUT / "map_subset.json"
FILTERS = (
    ("assignee=NVIDIA International, Inc.",),
    ("cpc=G06N3/045", "grant_date>=2022-01-01"),
    ("grant_date>=2020-01-01",),
)


def timed(fn: Any, repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def refit(opened: Any, options: Any, method: str = "pca") -> tuple[list[str], np.ndarray]:
    """The subset's own map: the vectors the filter selects, read and projected."""
    from patentsim.search.landscape import project
    from patentsim.search.query_filter import build_filter

    flt = build_filter(opened, options)
    rows = sorted(
        (p.id, p.vector)
        for p in opened.coll.scroll(flt=flt, with_vectors=True, with_payload=False, batch=512)
    )
    x = np.asarray([v for _, v in rows], dtype=np.float32)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    xy, _ = project(x, method)
    return [pid for pid, _ in rows], xy


def run(store: Path, repeats: int, umap: bool) -> dict[str, Any]:
    from scipy.spatial import procrustes

    from patentsim.search import QueryOptions
    from patentsim.search.landscape import UMAP_MIN_POINTS, landscape, opened_collection
    from patentsim.store import StoreSettings, open_store

    held = open_store(StoreSettings(path=str(store)))
    try:
        whole = landscape(method="pca", color="cpc", collection=COLLECTION, store=held)
        seconds, whole = timed(
            lambda: landscape(method="pca", color="cpc", collection=COLLECTION, store=held),
            repeats,
        )
        out: dict[str, Any] = {
            "documents": whole.total,
            "whole_cached_seconds": round(seconds, 4),
            "filters": [],
        }
        at = {p.id: (p.x, p.y) for p in whole.points}
        for where in FILTERS:
            options = QueryOptions(where=where)
            seconds, sub = timed(
                lambda o=options: landscape(
                    method="pca", color="cpc", options=o, collection=COLLECTION, store=held
                ),
                repeats,
            )
            ids = [p.id for p in sub.points]
            with opened_collection(COLLECTION, None, held) as (opened, _):
                refit_seconds, (own, xy) = timed(lambda o=options: refit(opened, o), repeats)
            assert own == ids
            kept = np.asarray([at[i] for i in ids])
            moved = procrustes(kept, xy)[2] if len(ids) > 2 else 0.0
            entry = {
                "where": list(where),
                "drawn": len(ids),
                "subset_seconds": round(seconds, 4),
                "cached": sub.cached,
                "refit_pca_seconds": round(refit_seconds, 4),
                "moved": round(float(moved), 3),
            }
            if umap and len(ids) >= UMAP_MIN_POINTS:
                # Twice: the first UMAP of a process also compiles it (numba).
                with opened_collection(COLLECTION, None, held) as (opened, _):
                    first, _ = timed(lambda o=options: refit(opened, o, "umap"), 1)
                    again, _ = timed(lambda o=options: refit(opened, o, "umap"), 1)
                entry.update(
                    refit_umap_first_seconds=round(first, 2), refit_umap_seconds=round(again, 2)
                )
            log(json.dumps(entry, ensure_ascii=False))
            out["filters"].append(entry)
    finally:
        held.close()
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.map_subset", description=__doc__)
    ap.add_argument("--store", type=Path, default=STORE)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--umap", action="store_true", help="also time a UMAP re-fit (once)")
    args = ap.parse_args(argv)
    if not (args.store / COLLECTION).is_dir():
        print(
            f"no nvidia collection in {args.store}: run python -m bench.landscape", file=sys.stderr
        )
        return 1
    report = {"machine": machine(), "map_subset": run(args.store, args.repeats, args.umap)}
    save_json(REPORT, report)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
