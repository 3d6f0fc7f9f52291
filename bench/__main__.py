"""``python -m bench``: every figure of the benchmark, a JSON report, and BENCHMARKS.md.

    python -m bench              # default sizes (under 15 minutes on 2 cores)
    python -m bench --quick      # small sizes, a couple of minutes
    python -m bench --only 1,2,4 # some figures
    python -m bench --only quality  # search quality per mode (P@10, MRR@10, --tune)

The JSON report goes to stdout and bench/out/report.json; BENCHMARKS.md is
written from it (not with --quick, unless --write).  Caches (embeddings of the
nvidia abstracts, the 5,169-row collection, HNSW indexes, converted models)
live in bench/out/ and make later runs shorter; --fresh ignores them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from .common import OUT, ROOT, log, machine, own_peak_rss_mib, save_json

DEFAULT = {
    "ingest_rows": 1000,
    "corpus_rows": None,  # the whole nvidia file
    "query_sizes": [10_000, 100_000],
    "memory_rows": (20_000, 200_000),
    "throughput_sample": 128,
    "throughput_rounds": 5,
    "startup_repeats": 11,
    "text_repeats": 7,
    "longtext_subset": 800,
}
QUICK = {
    "ingest_rows": 100,
    "corpus_rows": 400,
    "query_sizes": [2_000],
    "memory_rows": (200, 2_000),
    "throughput_sample": 24,
    "throughput_rounds": 2,
    "startup_repeats": 2,
    "text_repeats": 2,
    "longtext_subset": 200,
}

DEFAULT_LAYOUTS = "none,int8,binary"  # --scale builds these unless --layouts says


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--only", help="comma-separated figures: 1,2,3,4,5,6,text,long,quality")
    ap.add_argument("--write", action="store_true", help="write BENCHMARKS.md even with --quick")
    ap.add_argument("--no-write", action="store_true", help="do not write BENCHMARKS.md")
    ap.add_argument(
        "--update",
        action="store_true",
        help="with --only: put the figures measured into the existing BENCHMARKS.md, "
        "keep the others",
    )
    ap.add_argument("--tune", action="store_true", help="HNSW m/ef_construct sweep at 100k too")
    ap.add_argument("--fresh", action="store_true", help="rebuild every cache under bench/out")
    ap.add_argument(
        "--scale",
        choices=["10k", "100k", "300k", "1m"],
        help="only the scale figure at this size: fp32 vs int8 vs binary (build, disk, "
        "memory of search processes, like and filtered queries against exact search); "
        "separate from the default run; 1m takes hours on 2 cores",
    )
    ap.add_argument(
        "--layouts",
        default=DEFAULT_LAYOUTS,
        help="with --scale: comma-separated layouts to build and measure: none, int8, binary, "
        "int8-large (int8 as a large collection, as ingest load makes of a big file), "
        "int8-large-sorted (the same, its points written sorted by source document); "
        "default none,int8,binary",
    )
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.scale:
        return run_scale(args)
    sizes = dict(QUICK if args.quick else DEFAULT)
    wanted = set((args.only or "1,2,3,4,5,6,text,long,quality").split(","))
    if args.fresh:
        shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    command = "python -m bench" + (" " + " ".join(sys.argv[1:]) if argv is None else "")
    report: dict[str, Any] = {
        "command": command.strip(),
        "quick": args.quick,
        "sizes": sizes,
        "machine": machine(),
        "figures": {},
        "errors": {},
    }
    figures = report["figures"]

    def step(name: str, fn: Callable[[], Any]) -> Any:
        began = time.perf_counter()
        try:
            value = fn()
        except Exception as exc:  # one failing figure must not hide the others
            log(f"{name}: FAILED: {exc}")
            report["errors"][name] = "".join(traceback.format_exception(exc))[-3000:]
            return None
        log(f"{name}: done in {time.perf_counter() - began:.1f} s")
        return value

    from . import embeddings

    embeddings.use_bench_cache()
    if "quality" in wanted:
        from .quality import figure as quality_figure

        figures["quality"] = step(
            "search quality (P@10, MRR@10 per mode)",
            lambda: quality_figure(100 if args.quick else 500),
        )
        if wanted == {"quality"}:
            return _finish(report, started, args, only_quality=True)
    corpus = step("embeddings", lambda: embeddings.nvidia_embeddings_limited(sizes["corpus_rows"]))
    if corpus is None:
        return _finish(report, started, args)
    docs, vectors, meta = corpus
    report["corpus"] = {
        "documents": len(docs),
        "embedding_seconds": round(meta["seconds"], 1),
        "docs_per_s": round(meta["docs_per_s"], 2),
        "cached": meta["cached"],
        "measured_at": meta["measured_at"],
    }

    if "6" in wanted:
        figures["6"] = step(
            "figure 6 (embedding throughput)",
            lambda: embeddings.throughput(
                docs, sample=sizes["throughput_sample"], rounds=sizes["throughput_rounds"]
            ),
        )
    if wanted & {"1", "2"}:
        from .ingest import ingest_vs_encode, ingest_vs_encode_in_process

        inproc = step(
            "figure 1 (in-process, interleaved)",
            lambda: ingest_vs_encode_in_process(sizes["ingest_rows"]),
        )

        pair = step("figures 1-2 (ingest)", lambda: ingest_vs_encode(sizes["ingest_rows"]))
        if pair:
            figures["1"], figures["2"] = pair["figure1"], pair["figure2"]
            figures["1"]["fresh_process_met"] = figures["1"]["met"]
            if inproc:
                # Judged on the interleaved measurement: one fresh process per side is
                # at the mercy of whatever else runs on the machine at that minute.
                figures["1"]["in_process_interleaved"] = inproc
                figures["1"]["met"] = inproc["met"]
    if "3" in wanted:
        from .startup import nvidia_collection, startup

        def fig3() -> Any:
            store = nvidia_collection(docs, vectors, meta["tokens"], sizes["corpus_rows"])
            return startup(store, sizes["startup_repeats"])

        figures["3"] = step("figure 3 (start-up)", fig3)
    if "text" in wanted:
        from .startup import nvidia_collection, text_startup

        def text_fig() -> Any:
            store = nvidia_collection(docs, vectors, meta["tokens"], sizes["corpus_rows"])
            return text_startup(store, sizes["text_repeats"])

        figures["text"] = step("search text start-up", text_fig)
    big = None
    if "4" in wanted:
        from .queries import figure4, synthesize

        figures["4"] = step(
            "figure 4 (queries)",
            lambda: figure4(
                vectors, docs, embeddings.model(), sizes["query_sizes"], tune=args.tune
            ),
        )
        big = synthesize(vectors, max(sizes["query_sizes"]))[0]
    if "6" in wanted and figures.get("6"):
        fp32 = next(r for r in figures["6"]["rows"] if r["backend"] == "torch fp32")
        figures["6"]["notebook"] = step(
            "figure 6 (notebook way)",
            lambda: embeddings.notebook_query(
                vectors,
                meta["seconds"] if not meta["cached"] else len(docs) / fp32["docs_per_s"],
                big,
            ),
        )
        if figures["6"].get("notebook"):
            figures["6"]["notebook"]["encode_all_source"] = (
                "measured: embedding the corpus in this run"
                if not meta["cached"]
                else "documents / fp32 docs/s measured in this run"
            )
    if "5" in wanted:
        from .ingest import peak_memory

        small, large = sizes["memory_rows"]
        figures["5"] = step("figure 5 (memory)", lambda: peak_memory(small, large))
    if "long" in wanted:
        from .longtext import figure

        figures["long"] = step(
            "long texts", lambda: figure(docs, vectors, meta["tokens"], sizes["longtext_subset"])
        )
    return _finish(report, started, args)


def run_scale(args: argparse.Namespace) -> int:
    """``--scale SIZE``: the scale figure alone; its section of BENCHMARKS.md is replaced."""
    from . import scale, scale_report

    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    report = {
        "command": f"python -m bench --scale {args.scale}"
        + (f" --layouts {args.layouts}" if args.layouts != DEFAULT_LAYOUTS else "")
        + (" --fresh" if args.fresh else ""),
        "machine": machine(),
        "scale": scale.figure(
            args.scale, quantizations=_layouts(args.layouts), reuse=not args.fresh
        ),
    }
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    save_json(OUT / f"report_scale_{args.scale}.json", report)
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    if not args.no_write:
        path = ROOT / "BENCHMARKS.md"
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        path.write_text(scale_report.replace_section(text, report), encoding="utf-8")
        log("wrote the scale section of BENCHMARKS.md")
    return 0


def _layouts(text: str) -> tuple[str, ...]:
    from .scale import LAYOUTS

    chosen = tuple(q.strip() for q in text.split(",") if q.strip())
    unknown = [q for q in chosen if q not in LAYOUTS]
    if unknown or not chosen:
        raise SystemExit(f"--layouts takes {', '.join(LAYOUTS)}, not {text!r}")
    return chosen


def _finish(
    report: dict[str, Any], started: float, args: argparse.Namespace, only_quality: bool = False
) -> int:
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    report["bench_peak_rss_mib"] = round(own_peak_rss_mib(), 1)
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    save_json(OUT / "report.json", report)
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    if only_quality and (args.write or not args.quick) and not args.no_write:
        from .report import replace_quality_section

        if report["figures"].get("quality"):
            replace_quality_section(ROOT / "BENCHMARKS.md", report)
            log("updated the search-quality section of BENCHMARKS.md")
    elif (args.write or not args.quick) and not args.no_write:
        from . import landscape
        from .report import render, replace_summary, update
        from .scale_report import keep_section

        target = ROOT / "BENCHMARKS.md"
        old = target.read_text(encoding="utf-8") if target.is_file() else ""
        from . import modelfit_report, toolkit
        from .keyword_only import keep_section as keep_keyword_only
        from .web import keep_web_section

        text = keep_section(old, update(old, report) if args.update and old else render(report))
        text = keep_keyword_only(old, text)
        text = landscape.keep_section(old, text)
        text = keep_web_section(old, text)
        text = toolkit.keep_section(old, text)
        from .reliability import keep_section as keep_reliability

        text = keep_reliability(old, text)
        text = modelfit_report.keep_section(old, text)
        target.write_text(text, encoding="utf-8")
        page = ROOT / "docs" / "benchmarks.md"
        page.write_text(replace_summary(page.read_text(encoding="utf-8"), text), encoding="utf-8")
        log("wrote BENCHMARKS.md and the summary of docs/benchmarks.md")
    log(f"total {report['total_seconds']:.0f} s")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
