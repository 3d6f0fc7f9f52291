"""Figure 3 and start-up: ``search like 0`` as a process, against ``python -c "import click"``.

The 5,169-row nvidia collection is built once under ``bench/out/store_nvidia``
through the real ingest pipeline, with the vectors taken from the embedding
cache (so it takes seconds, not five minutes), and reused by later runs.
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .common import BIN, NVIDIA_XLSX, OUT, log, ratio, run_measured, run_process

STORE = OUT / "store_nvidia"
COLLECTION = "nvidia"

# Runs a CLI in-process and reports which heavy modules it imported.
IMPORT_CHECK = """
import importlib, json, sys
module, args = sys.argv[1], sys.argv[2:]
try:
    importlib.import_module(module).cli(args, standalone_mode=False)
finally:
    heavy = {"torch", "pandas", "sentence_transformers", "transformers", "sklearn",
             "qdrant_client"}
    found = sorted({m.split(".")[0] for m in sys.modules} & heavy)
    sys.stderr.write("\\nHEAVY " + json.dumps(found) + "\\n")
"""


def nvidia_collection(
    docs: list[dict[str, Any]], vectors: np.ndarray, tokens: list[int], rows: int | None = None
) -> Path:
    """The whole nvidia file (or its first ``rows`` rows) as a collection, built once."""
    from patentsim.store import StoreSettings, open_store

    from .common import slice_xlsx
    from .embeddings import CachedEmbedder

    folder = STORE if rows is None else OUT / f"store_nvidia_{rows}"
    source = (
        NVIDIA_XLSX if rows is None else slice_xlsx(NVIDIA_XLSX, OUT / f"nvidia_{rows}.xlsx", rows)
    )
    settings = StoreSettings(path=str(folder))
    store = open_store(settings)
    try:
        if store.exists(COLLECTION):
            coll = store.open(COLLECTION)
            if coll.count() == len(docs) and coll.read_manifest().get("state") == "ready":
                return folder
    finally:
        store.close()
    from patentsim.ingest.pipeline import load

    log("building the nvidia collection from cached embeddings (once)")
    embedder = CachedEmbedder([d["abstract"] for d in docs], vectors, tokens)
    load(
        source,
        settings=settings,
        collection=COLLECTION,
        id_column="doc_id",
        embedder=embedder,
        recreate=True,
    )
    return folder


def search_available() -> bool:
    return (
        importlib.util.find_spec("patentsim.search.cli") is not None and (BIN / "search").exists()
    )


def commands(store: Path) -> dict[str, list[str]]:
    where = ["--path", str(store), "--collection", COLLECTION]
    cmds = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import click'": [sys.executable, "-c", "import click"],
        "ingest info": [str(BIN / "ingest"), "info", *where],
    }
    if search_available():
        cmds["search like 0"] = [str(BIN / "search"), "like", "0", *where, "--limit", "10"]
        cmds["search facets assignee"] = [str(BIN / "search"), "facets", "assignee", *where]
    return cmds


def startup(store: Path, repeats: int) -> dict[str, Any]:
    """Process wall times, round-robin, and the heavy modules each command imported."""
    cmds = commands(store)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    cpu: dict[str, list[float]] = {name: [] for name in cmds}
    failures: dict[str, str] = {}
    for cmd in cmds.values():  # warm the page cache once
        run_process(cmd)
    for _ in range(repeats):
        for name, cmd in cmds.items():
            run = run_measured(cmd)
            if run.returncode != 0:
                failures[name] = run.stderr.strip()[-500:]
            times[name].append(run.seconds)
            cpu[name].append(run.cpu_seconds)
    heavy: dict[str, Any] = {}
    for name, cmd in cmds.items():
        if not cmd[0].startswith(str(BIN)):
            continue
        module = "patentsim.search.cli" if Path(cmd[0]).name == "search" else "patentsim.ingest.cli"
        run = run_process([sys.executable, "-c", IMPORT_CHECK, module, *cmd[1:]])
        found = None
        for line in run.stderr.splitlines():
            if line.startswith("HEAVY "):
                found = json.loads(line[6:])
        heavy[name] = found
    medians = {name: round(statistics.median(v), 4) for name, v in times.items()}
    click_s = medians["python -c 'import click'"]
    like_s = medians.get("search like 0")
    shown = {
        n: " ".join(
            [
                "search"
                if c == str(BIN / "search")
                else "ingest"
                if c == str(BIN / "ingest")
                else c
                for c in cmd
            ]
        )
        .replace(str(OUT), "bench/out")
        .replace(sys.executable, "python")
        for n, cmd in cmds.items()
    }
    return {
        "data": "the whole patents_nvidia.xlsx (5,169 rows, 5,157 with an abstract) as an "
        "embedded collection, built once under bench/out/store_nvidia",
        "commands": shown,
        "repeats": repeats,
        "median_seconds": medians,
        "min_seconds": {name: round(min(v), 4) for name, v in times.items()},
        "median_cpu_seconds": {name: round(statistics.median(v), 3) for name, v in cpu.items()},
        "ratio_vs_import_click": {n: ratio(s, click_s, 2) for n, s in medians.items()},
        "heavy_modules_imported": heavy,
        "failures": failures,
        "search_available": search_available(),
        "ratio": ratio(like_s, click_s, 2),
        "target": "<= 8x",
        "met": None if like_s is None else (ratio(like_s, click_s) or 99) <= 8,
    }
