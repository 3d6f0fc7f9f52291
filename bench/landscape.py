"""The landscape map and topic clusters: first computation, cached, and at 100,000 points.

    python -m bench.landscape                 # 5,157 nvidia documents, then 100,000 points
    python -m bench.landscape --skip-100k     # the nvidia collection only
    python -m bench.landscape --skip-nvidia   # 100,000 points only (merged into the report)
    python -m bench.landscape --methods pca   # PCA only (no UMAP)

The 5,157 abstracts of ``patents_nvidia.xlsx`` embedded with the offline model come from
the embedding cache (``bench/embeddings.py``) through the real ingest pipeline
(``bench/startup.py``); the 100,000 points are the scale benchmark's vectors
(``bench/scale.py``: the nvidia embeddings and mixtures of them) with their documents'
payload and analyzed terms.  Every measurement runs in a fresh child process, as a user's
command would, with the analysis cache removed first for "first"; the child reports the
library call's own time, the parent the process's wall time, CPU time and peak RSS.
The JSON report goes to stdout and ``bench/out/landscape.json``; its table replaces the
part between the ``landscape`` markers of BENCHMARKS.md and of docs/landscape.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .common import BIN, OUT, ROOT, bench_env, log, machine, run_measured, save_json

REPORT = OUT / "landscape.json"
BEGIN = "<!-- landscape:begin -->"
END = "<!-- landscape:end -->"
TARGETS = "targets (issue 27): 5,157 documents first ≤ 30 s, cached ≤ 0.5 s; 100,000 ≤ 3 min"
STORE_100K = OUT / "store_landscape_100k"
N_100K = 100_000
COLLECTION_100K = "scale"
COLOR = "cpc"

# The child: one landscape (or clusters) call on a fresh process, timed inside.
CHILD = """
import json, sys, time
started = time.perf_counter()
what, path, collection, method, color = sys.argv[1:6]
from patentsim.store import StoreSettings, open_store
settings = StoreSettings(path=path)
store = open_store(settings)
out = {}
try:
    if what == "map":
        from patentsim.search.landscape import landscape
        t = time.perf_counter()
        r = landscape(method=method, color=color, collection=collection, store=store)
        out.update(seconds=time.perf_counter() - t, cached=r.cached, method=r.method,
                   points=len(r.points), legend=len(r.legend))
        t = time.perf_counter()
        again = landscape(method=method, color=color, collection=collection, store=store)
        out.update(again_seconds=time.perf_counter() - t, again_cached=again.cached)
    else:
        from patentsim.search.clusters import clusters
        t = time.perf_counter()
        r = clusters(collection=collection, store=store)
        out.update(seconds=time.perf_counter() - t, cached=r.cached, k=r.k, method=r.method,
                   labels=[c.label for c in r.clusters][:5])
finally:
    store.close()
out["process_seconds"] = time.perf_counter() - started
print(json.dumps(out))
"""


def measure(what: str, store: Path, collection: str, method: str, color: str) -> dict[str, Any]:
    cmd = [sys.executable, "-c", CHILD, what, str(store), collection, method, color]
    run = run_measured(cmd, env=bench_env(), cwd=ROOT, timeout=1800)
    if run.returncode != 0:
        raise RuntimeError(f"{what} {method} failed: {run.stderr[-3000:]}")
    out = json.loads(run.stdout.strip().splitlines()[-1])
    out.update(
        wall_seconds=round(run.seconds, 2),
        cpu_seconds=run.cpu_seconds,
        peak_rss_mib=run.max_rss_mib,
    )
    for k in ("seconds", "again_seconds", "process_seconds"):
        if k in out:
            out[k] = round(out[k], 3)
    return out


def clear_cache(store: Path, collection: str) -> None:
    shutil.rmtree(store / collection / "analysis", ignore_errors=True)


def cli_map(store: Path, collection: str, method: str, output: Path) -> dict[str, Any]:
    """``search map --color cpc --output FILE`` as a process (cache warm)."""
    cmd = [str(BIN / "search"), "map", "--color", COLOR, "--method", method, "-o", str(output)]
    env = dict(bench_env(), QDRANT_PATH=str(store), QDRANT_COLLECTION=collection)
    run = run_measured(cmd, env=env, cwd=ROOT, timeout=900)
    if run.returncode != 0:
        raise RuntimeError(f"search map failed: {run.stderr[-3000:]}")
    return {
        "command": f"search map --color {COLOR} --method {method} -o {output.name}",
        "wall_seconds": round(run.seconds, 2),
        "peak_rss_mib": run.max_rss_mib,
        "file_mib": round(output.stat().st_size / 2**20, 2),
    }


def nvidia(methods: list[str]) -> dict[str, Any]:
    from . import embeddings
    from .startup import COLLECTION, nvidia_collection

    embeddings.use_bench_cache()
    docs, vectors, meta = embeddings.nvidia_embeddings_limited(None)
    store = nvidia_collection(docs, vectors, meta["tokens"])
    out: dict[str, Any] = {"documents": len(docs), "methods": {}}
    for method in methods:
        log(f"map of {len(docs):,} documents, {method}: first computation")
        clear_cache(store, COLLECTION)
        first = measure("map", store, COLLECTION, method, COLOR)
        log(f"map {method}: cached, in a new process")
        cached = measure("map", store, COLLECTION, method, COLOR)
        html = cli_map(store, COLLECTION, method, OUT / f"landscape_nvidia_{method}.html")
        out["methods"][method] = {"first": first, "cached": cached, "cli_html": html}
    log("clusters: first and cached")
    first = measure("clusters", store, COLLECTION, "auto", "")
    cached = measure("clusters", store, COLLECTION, "auto", "")
    out["clusters"] = {"first": first, "cached": cached}
    return out


# -- 100,000 points ------------------------------------------------------------------------


def build_100k() -> Path:
    """The scale benchmark's 100,000 vectors with their documents' payload and analyzed
    terms, in an embedded collection (written once; no HNSW index: a map scrolls)."""
    from patentsim.embed.analyzer import analyzer_for, joined
    from patentsim.ingest.keyword import Keywords, terms_field
    from patentsim.store.backend import CreateOptions, PointData
    from patentsim.store.edge import EdgeStore
    from patentsim.store.ids import point_id
    from patentsim.store.manifest import FieldSpec, Manifest

    from .embeddings import CachedEmbedder
    from .queries import payload
    from .scale import prepare

    marker = STORE_100K / "built.json"
    if marker.is_file():
        return STORE_100K
    x, src, docs = prepare(N_100K)
    log(f"building {N_100K:,} points for the map (once)")
    analyzer = analyzer_for()
    terms = [
        {
            terms_field("abstract"): joined(analyzer.terms(str(d.get("abstract") or ""))),
            terms_field("title"): joined(analyzer.terms(str(d.get("title") or ""))),
        }
        for d in docs
    ]
    shutil.rmtree(STORE_100K, ignore_errors=True)
    store = EdgeStore(STORE_100K)
    model = CachedEmbedder([], np.zeros((0, x.shape[1]), dtype=np.float32), []).info()
    manifest = Manifest.new(
        name=COLLECTION_100K, model=model, text_columns=["abstract"], id_column=None
    )
    manifest.fields = {
        "title": FieldSpec("keyword", index="text"),
        "assignee": FieldSpec("keyword", index="keyword"),
        "cpc": FieldSpec("keyword", list=True, index="keyword"),
        "grant_date": FieldSpec("datetime", index="datetime"),
    }
    keywords = Keywords(analyzer, None, ["abstract"], "title")
    manifest.date_field, manifest.title_field = "grant_date", "title"
    manifest.keyword = keywords.info()
    coll = store.create(COLLECTION_100K, x.shape[1], manifest, CreateOptions())
    for lo in range(0, N_100K, 2000):
        hi = min(lo + 2000, N_100K)
        points = []
        for k in range(lo, hi):
            doc = docs[int(src[k])]
            body = dict(payload(doc, k), _key=str(k), **terms[int(src[k])])
            body["abstract"] = str(doc.get("abstract") or "")
            body["_hash"] = hashlib.blake2b(f"{k}:{src[k]}".encode(), digest_size=8).hexdigest()
            points.append(PointData(point_id(str(k)), x[k].tolist(), body))
        coll.upsert(points)
    manifest = coll.read_manifest()
    manifest.state, manifest.points = "ready", coll.count()
    coll.write_manifest(manifest)
    store.close()
    save_json(marker, {"points": N_100K})
    return STORE_100K


def large(methods: list[str]) -> dict[str, Any]:
    store = build_100k()
    out: dict[str, Any] = {"points": N_100K, "methods": {}}
    for method in methods:
        log(f"map of {N_100K:,} points, {method}: first computation")
        clear_cache(store, COLLECTION_100K)
        first = measure("map", store, COLLECTION_100K, method, COLOR)
        out["methods"][method] = {"first": first}
    log(f"clusters of {N_100K:,} points")
    out["clusters"] = {"first": measure("clusters", store, COLLECTION_100K, "auto", "")}
    return out


# -- the report ----------------------------------------------------------------------------


def _row(what: str, n: int, method: str, m: dict[str, Any], key: str = "seconds") -> str:
    call = m.get(key) or 0.0
    if key != "seconds":  # a second call in the same process: the process is not its own
        return f"| {what} | {n:,} | {method} | {call:.2f} | – | – | – |"
    return (
        f"| {what} | {n:,} | {method} | {call:.2f} | {m.get('wall_seconds', 0):.1f} | "
        f"{m.get('cpu_seconds', 0):.1f} | {m.get('peak_rss_mib', 0):,.0f} |"
    )


def verdict(report: dict[str, Any]) -> list[str]:
    """The targets against what was measured, in wall and in CPU time."""
    out = []
    nv = report.get("nvidia") or {}
    methods = nv.get("methods") or {}
    shares = []
    for part in (nv, report.get("points_100k") or {}):
        for m in (part.get("methods") or {}).values():
            first = m["first"]
            if first.get("wall_seconds"):
                shares.append(first["cpu_seconds"] / first["wall_seconds"])
    if methods:
        firsts = ", ".join(
            f"{name.upper()} {m['first']['seconds']:.1f} s "
            f"({m['first']['cpu_seconds']:.1f} s CPU for the whole process)"
            for name, m in methods.items()
        )
        out.append(f"- First map of {nv['documents']:,} documents (target ≤ 30 s): {firsts}.")
        cached = ", ".join(
            f"{name.upper()} {m['cached']['again_seconds']:.2f} s with the collection open, "
            f"{m['cached']['seconds']:.2f} s in a new process "
            f"({m['cached']['cpu_seconds']:.1f} s CPU for the whole process)"
            for name, m in methods.items()
        )
        out.append(f"- Cached map (target ≤ 0.5 s): {cached}.")
    big = report.get("points_100k") or {}
    if big.get("methods"):
        firsts = ", ".join(
            f"{name.upper()} {m['first']['wall_seconds']:.0f} s "
            f"({m['first']['cpu_seconds']:.0f} s CPU, peak RSS "
            f"{m['first']['peak_rss_mib']:,.0f} MiB)"
            for name, m in big["methods"].items()
        )
        out.append(f"- First map of {big['points']:,} points (target ≤ 180 s): {firsts}.")
    if shares:
        out.append(
            f"- The machine was shared: these processes got {min(shares):.0%}–{max(shares):.0%} "
            "of a core (CPU time / wall time), so their wall times are many times what the "
            "same work takes on an idle machine, where it is about the CPU time or less."
        )
    return out


def _machine(m: dict[str, Any]) -> str:
    start = m.get("load_average_at_start") or ["?"]
    end = m.get("load_average_at_end") or ["?"]
    return (
        f"{m.get('date', '?')}, {m.get('cores', '?')} cores ({m.get('cpu', '?')}), shared with "
        f"other developers: load average {start[0]} at the start, {end[0]} at the end"
    )


def render(report: dict[str, Any]) -> str:
    """The section of BENCHMARKS.md (and docs/landscape.md) from the JSON report."""
    lines = [
        BEGIN,
        "",
        "Every line is a fresh process, as a user's command: *call* is the library call "
        "(`landscape(...)` / `clusters(...)`) with the collection open, *wall*, *CPU* and "
        "*peak RSS* the whole process (imports, opening the collection). Cached "
        "(same process): the second call of a process that holds the store open, as the "
        f"web page does. {TARGETS}. Command: `python -m bench.landscape`.",
        "",
        "| what | documents | method | call s | wall s | CPU s | peak RSS MiB |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    nv = report.get("nvidia") or {}
    n = nv.get("documents", 0)
    names = {"pca": "PCA", "umap": "UMAP"}
    for method, m in (nv.get("methods") or {}).items():
        lines.append(_row("map, first computation", n, names[method], m["first"]))
        lines.append(_row("map, cached (new process)", n, names[method], m["cached"]))
        lines.append(
            _row("map, cached (same process)", n, names[method], m["cached"], "again_seconds")
        )
    cl = nv.get("clusters") or {}
    if cl:
        k = cl["first"].get("k")
        lines.append(_row("clusters, first computation", n, f"k-means, k={k}", cl["first"]))
        lines.append(_row("clusters, cached (new process)", n, f"k-means, k={k}", cl["cached"]))
    big = report.get("points_100k") or {}
    for method, m in (big.get("methods") or {}).items():
        lines.append(
            _row("map, first computation", big.get("points", 0), names[method], m["first"])
        )
    if big.get("clusters"):
        c = big["clusters"]["first"]
        lines.append(
            _row("clusters, first computation", big["points"], f"{c['method']}, k={c['k']}", c)
        )
    html = [m["cli_html"] for m in (nv.get("methods") or {}).values() if "cli_html" in m]
    lines += ["", *verdict(report), ""]
    if html:
        h = html[0]
        lines.append(
            f"`{h['command']}` on the {n:,} documents, cache warm: {h['wall_seconds']:.1f} s "
            f"as a process, a {h['file_mib']:.1f} MiB file (plotly's JavaScript inline)."
        )
    if nv.get("machine"):
        lines.append(f"5,157 documents measured {_machine(nv['machine'])}.")
    if big.get("machine"):
        lines.append(f"100,000 points measured {_machine(big['machine'])}.")
    lines += ["", END]
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str:
    """``text`` with its landscape section replaced by ``section`` (appended where none)."""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        return head + section + rest.split(END, 1)[1]
    return text.rstrip("\n") + "\n\n## Landscape map and topic clusters\n\n" + section + "\n"


def keep_section(old: str, new: str) -> str:
    """``new`` (a full run's BENCHMARKS.md) with the landscape section of ``old`` kept."""
    if BEGIN in old and END in old and BEGIN not in new:
        kept = old.split(BEGIN, 1)[1].split(END, 1)[0]
        return replace_section(new, BEGIN + kept + END)
    return new


def write_sections(report: dict[str, Any]) -> None:
    section = render(report)
    for path in (ROOT / "BENCHMARKS.md", ROOT / "docs" / "landscape.md"):
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        path.write_text(replace_section(text, section), encoding="utf-8")
    log("wrote the landscape section of BENCHMARKS.md and docs/landscape.md")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.landscape", description=__doc__)
    ap.add_argument("--skip-100k", action="store_true", help="the nvidia collection only")
    ap.add_argument("--skip-nvidia", action="store_true", help="100,000 points only")
    ap.add_argument("--methods", default="pca,umap", help="comma-separated: pca, umap")
    ap.add_argument("--no-write", action="store_true", help="the JSON report only")
    args = ap.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    # A part not measured this time keeps its last numbers (each part says its machine).
    report: dict[str, Any] = json.loads(REPORT.read_text()) if REPORT.is_file() else {}
    if not args.skip_nvidia:
        report["nvidia"] = dict(machine=machine(), **nvidia(methods))
        report["nvidia"]["machine"]["load_average_at_end"] = _load()
    if not args.skip_100k:
        report["points_100k"] = dict(machine=machine(), **large(methods))
        report["points_100k"]["machine"]["load_average_at_end"] = _load()
    report["seconds"] = round(time.perf_counter() - started, 1)
    save_json(REPORT, report)
    if not args.no_write:
        write_sections(report)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
