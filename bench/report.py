"""BENCHMARKS.md (and the summary on the docs' benchmarks page) from the JSON report."""

from __future__ import annotations

from itertools import takewhile
from typing import Any


def _yes(met: Any) -> str:
    return "n/a" if met is None else ("yes" if met else "**no**")


def _get(d: Any, *path: Any, default: Any = None) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def _multiple(capped: dict[str, Any]) -> str:
    """``1.5×``: the limit of a run under a memory limit, as a multiple of its reference."""
    multiple = capped.get("limit_multiple")
    return f"{multiple:g}×" if multiple else "a multiple of"


def summary_rows(r: dict[str, Any]) -> list[list[str]]:
    f = r.get("figures", {})
    rows: list[list[str]] = []
    one = f.get("1")
    inproc = (one or {}).get("in_process_interleaved")
    rows_n = (r.get("sizes") or {}).get("ingest_rows") or 1000
    if inproc:
        rows.append(
            [
                "1",
                f"ingest pipeline vs bare `encode`, {rows_n:,} rows, in one process, interleaved",
                f"{inproc['pipeline_seconds']} s",
                f"{inproc['bare_encode_seconds']} s",
                f"{inproc['ratio']} (CPU time {inproc.get('cpu_ratio')})",
                "≤ 1.10",
                _yes(inproc["met"]),
            ]
        )
    if one:
        rows.append(
            [
                "1",
                f"`ingest load` process vs bare `encode` process ({rows_n:,} rows)",
                f"{one['ingest_seconds']} s",
                f"{one['bare_encode_seconds']} s "
                f"({one.get('bare_without_reading_seconds')} s without pandas reading)",
                f"{one['ratio']} (strict {one.get('ratio_strict')}; CPU time "
                f"{one.get('cpu_ratio')})",
                "≤ 1.10 (strict)",
                _yes(one.get("fresh_process_met", one["met"])),
            ]
        )
    two = f.get("2")
    if two:
        rows.append(
            [
                "2",
                "re-ingest unchanged / first ingest",
                f"{two['again_seconds']} s",
                f"{two['first_seconds']} s",
                f"{two['ratio']} (CPU time {two.get('cpu_ratio')})",
                "≤ 0.05",
                _yes(two["met"]),
            ]
        )
    three = f.get("3")
    if three:
        med = three["median_seconds"]
        like = med.get("search like 0")
        rows.append(
            [
                "3",
                "`search like 0` process vs `python -c 'import click'`",
                f"{like} s" if like is not None else "search CLI not there yet",
                f"{med[next(k for k in med if 'click' in k)]} s",
                f"{three['ratio']}×" if three["ratio"] is not None else "–",
                "≤ 8×",
                _yes(three["met"]),
            ]
        )
    four = f.get("4")
    if four:
        sizes = four["sizes"]
        for n, s in sizes.items():
            like = s.get("like")
            if not like:
                continue
            rows.append(
                [
                    "4",
                    f"`like` query, {int(n):,} points (median; recall@10)",
                    f"{like['store']['median_ms']} ms; {like['recall_at_10']}",
                    f"{like['numpy']['median_ms']} ms (numpy exact)",
                    f"{like['speedup_median']}× faster",
                    "≥ 10× at 100k, recall ≥ 0.98" if n == max(sizes, key=int) else "",
                    _yes(four["met"]) if n == max(sizes, key=int) else "",
                ]
            )
    five = f.get("5")
    if five:
        runs = five["runs"]
        small, large = sorted(runs, key=int)
        rows.append(
            [
                "5",
                f"peak RSS of `ingest load`, {int(large):,} vs {int(small):,} rows",
                f"{runs[large]['peak_rss_mib']} MiB",
                f"{runs[small]['peak_rss_mib']} MiB",
                f"{five['ratio']}×",
                "≤ 1.5×",
                _yes(five["met"]),
            ]
        )
        if five.get("anon_ratio"):
            rows.append(
                [
                    "5",
                    f"peak anonymous memory of `ingest load`, {int(large):,} vs "
                    f"{int(small):,} rows",
                    f"{runs[large]['peak_anon_mib']} MiB",
                    f"{runs[small]['peak_anon_mib']} MiB",
                    f"{five['anon_ratio']}×",
                    "report",
                    "",
                ]
            )
        capped = five.get("capped") or {}
        if "completed" in capped:
            rows.append(
                [
                    "5",
                    f"`ingest load` of {int(large):,} rows limited to {capped['limit_mib']} MiB "
                    f"({_multiple(capped)} the {int(small):,}-row peak RSS)",
                    f"{'completed' if capped['completed'] else 'failed'}, {capped['seconds']} s",
                    f"{runs[large]['seconds']} s unlimited",
                    f"{capped['slowdown']}×",
                    "completes",
                    _yes(capped["completed"]),
                ]
            )
    six = f.get("6")
    if six:
        by = {row["backend"]: row for row in six["rows"]}
        fp32 = by.get("torch fp32")
        best = next((row for row in six["rows"] if row["backend"].endswith("--backend int8")), None)
        if fp32 and best:
            met = best["speedup_vs_fp32"] >= 1.5 and best["mean_cosine_to_fp32"] >= 0.99
            rows.append(
                [
                    "6",
                    "`--backend int8` (ONNX Runtime int8) vs torch fp32, CPU",
                    f"{best['docs_per_s']} docs/s; cos {best['mean_cosine_to_fp32']}",
                    f"{fp32['docs_per_s']} docs/s",
                    f"{best['speedup_vs_fp32']}× (range {_range(best.get('speedup_range'))}; "
                    f"CPU time {best.get('cpu_speedup_vs_fp32')}×)",
                    "≥ 1.5×, cos ≥ 0.99",
                    _yes(met),
                ]
            )
        nb = six.get("notebook")
        if nb and three and three["median_seconds"].get("search like 0") is not None:
            like = three["median_seconds"]["search like 0"]
            rows.append(
                [
                    "6",
                    f"one query, the notebook's way ({nb['docs']:,} docs) vs `search like 0`",
                    f"{like} s",
                    f"{nb['per_query_seconds']} s",
                    f"{round(nb['per_query_seconds'] / like)}× faster",
                    "",
                    "",
                ]
            )
    text = f.get("text")
    if text:
        med = text["median_seconds"]
        rows.append(
            [
                "text",
                "`search text` process vs `search like 0` process, same collection",
                f"{med['search text']} s",
                f"{med['search like 0']} s",
                f"{text['ratio']}× (torch path "
                f"{text['ratio_vs_like'].get('search text, torch path (no onnxruntime)')}×)",
                "≤ 3×",
                _yes(text["met"]),
            ]
        )
    long = f.get("long")
    if long:
        w = long.get("window_128", {})
        rows.append(
            [
                "long",
                "top-10 neighbours sharing a CPC subclass, 128-token window",
                f"chunk {w.get('cpc_share_chunk')}",
                f"truncate {w.get('cpc_share_truncate')}",
                "",
                "report",
                "",
            ]
        )
    return rows


def _range(pair: Any) -> str:
    return f"{pair[0]}–{pair[1]}" if pair else "?"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def render(r: dict[str, Any]) -> str:
    m = r["machine"]
    f = r.get("figures", {})
    caches = "were warm" if _get(r, "corpus", "cached") else "built in this run"
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m bench` from its JSON report (`bench/out/report.json`); every ratio "
        "compares two measurements taken side by side in the same run.  Do not edit by hand: "
        "run the benchmark again.",
        "",
        f"- **Run**: `{r['command']}` on {m['date']}, {r['total_seconds']:.0f} s in all "
        f"(caches under `bench/out/` {caches}).",
        f"- **Machine**: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"GPU: {m['gpu'] or 'none'}; Python {m['python']}, "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
        + ".",
        f"- **Noise**: load average {m['load_average_at_start']} at the start and "
        f"{r.get('load_average_at_end')} at the end (other work shared the 2 cores).",
        "- **How to run**: `python -m bench` (default sizes; about 5 minutes once the caches "
        "under `bench/out/` exist, a first run builds them: embeddings of the 5,157 nvidia "
        "abstracts, the 100k-point HNSW index, converted models, about 8 minutes more), "
        "`python -m bench --quick` (a smoke run), `--tune` (the m / ef_construct sweep at 100k "
        "too), `--only 1,4` (some figures; with `--update` they replace their rows and "
        "sections of this page and the rest stays), `PATENTSIM_THREADS=1` (one thread per "
        "engine in figure 6).",
        "- **Model**: all-MiniLM-L6-v2 (`--model minilm`, the offline model; 384-d, 256-token "
        "window), CPU, 2 threads.  The default Korean model cannot be downloaded here.",
        "",
        "## Summary",
        "",
    ]
    lines += _table(
        ["#", "figure", "patentsim", "baseline", "ratio", "target", "met"], summary_rows(r)
    )
    if r.get("errors"):
        lines += ["", "Figures that failed in this run: " + ", ".join(r["errors"]) + "."]
    one, two = f.get("1"), f.get("2")
    inproc = (one or {}).get("in_process_interleaved")
    if one:
        ip = one["in_process"]
        lines += [
            "",
            "## 1. Ingest against bare encoding",
            "",
            f"- Data: {one['data']}.",
            f"- Command: `{one['command']}` (fresh store) against "
            f"{one['baseline_command']}; both fresh processes with the same environment, each "
            "paying imports, reading the file and loading the model.",
            f"- Wall time: ingest {one['ingest_seconds']} s, bare {one['bare_encode_seconds']} s: "
            f"**ratio {one['ratio']}**.  Without the notebook's `pandas.read_excel` "
            f"({ip.get('bare_read_s')} s; ingest reads the sheet with openpyxl inside its own "
            f"time) the bare side took {one.get('bare_without_reading_seconds')} s: "
            f"**strict ratio {one.get('ratio_strict')}**.",
            f"- Inside: the bare script spent {ip['bare_setup_s']} s on imports, reading and "
            f"loading, {ip['bare_encode_only_s']} s encoding; the ingest pipeline itself reported "
            f"{ip['ingest_pipeline_s']} s for {ip['embedded']} texts ({ip['points']} points, with "
            "payload indexes and the manifest).",
            *(
                [
                    f"- In one process ({inproc['how']}): pipeline {inproc['pipeline_seconds']} s, "
                    f"bare encode {inproc['bare_encode_seconds']} s (mean of "
                    f"{inproc.get('bare_runs_seconds')}) for {inproc['embedded']} "
                    f"texts: **ratio {inproc['ratio']}**; CPU time (all threads) "
                    f"{inproc.get('cpu_seconds')}: **ratio {inproc.get('cpu_ratio')}**.  This is "
                    "the figure judged against the target: both sides share the loaded model "
                    "and the same minutes of a shared machine."
                ]
                if inproc
                else []
            ),
            f"- CPU time of the two processes: {one.get('cpu_seconds')}: ratio "
            f"{one.get('cpu_ratio')}.",
            f"- Peak RSS: ingest {one['peak_rss_mib']['ingest']} MiB, bare "
            f"{one['peak_rss_mib']['bare']} MiB.",
        ]
    if two:
        lines += [
            "",
            "## 2. Re-ingest of an unchanged file",
            "",
            f"- Command: `{two['command']}`.",
            f"- First {two['first_seconds']} s, again {two['again_seconds']} s "
            f"(embedded {two['embedded_again']}, unchanged {two['unchanged']}): "
            f"**ratio {two['ratio']}** (target ≤ 0.05); CPU time {two.get('cpu_seconds')}: "
            f"ratio {two.get('cpu_ratio')}.",
        ]
    three = f.get("3")
    if three:
        rows3 = [
            [
                f"`{three['commands'][n]}`",
                f"{s} s",
                f"{three.get('min_seconds', {}).get(n)} s",
                f"{three.get('median_cpu_seconds', {}).get(n)} s",
                f"{three['ratio_vs_import_click'][n]}×",
                ", ".join(three["heavy_modules_imported"].get(n) or [])
                or ("none" if n in three["heavy_modules_imported"] else "–"),
            ]
            for n, s in three["median_seconds"].items()
        ]
        lines += [
            "",
            "## 3. Start-up: `search like 0` as a process",
            "",
            f"- Data: {three['data']}.",
            f"- Each command run {three['repeats']} times round-robin after one warm-up; "
            "medians of process wall time (the ratio), fastest run, median CPU time (user + "
            "system; the noise-robust view on a shared machine).",
            "",
        ]
        lines += _table(
            [
                "command",
                "median wall",
                "fastest",
                "median CPU",
                "vs import click",
                "heavy modules imported",
            ],
            rows3,
        )
        if not three["search_available"]:
            lines += ["", "The `search` CLI had not landed when this ran: its row is missing."]
        if three.get("failures"):
            lines += [
                "",
                "Failures: " + "; ".join(f"{k}: {v}" for k, v in three["failures"].items()),
            ]
    four = f.get("4")
    if four:
        from patentsim.store import plan as planning

        lines += [
            "",
            "## 4. Query latency and recall, in-process",
            "",
            f"- Data: {four['data']}.",
            f"- Baseline: {four['baseline']}.  BLAS: {four['blas']}.",
            "- Timing: every query is timed 3 times and the best kept, on both sides alike (the "
            "2 cores are shared with other work; a single timing measures the neighbours).",
            "- Store side: the platform's embedded collection (`EdgeCollection.query`); `like` = "
            "retrieve the stored vector + query + drop the document itself; filtered queries go "
            "through the platform's policy (store/plan.py: exact search over up to "
            f"{planning.EXACT_MAX_POINTS:,} matching points, as all of these are; beyond, the "
            "unfiltered HNSW search with the filter checked on its candidates), plain filtered "
            "HNSW is shown for reference; "
            "`text` includes embedding the query with the loaded model.",
        ]
        for n, s in four["sizes"].items():
            if "like" not in s:
                continue
            lines += [
                "",
                f"### {int(n):,} points (m={s['platform']['m']}, ef_construct="
                f"{s['platform']['ef_construct']}, hnsw_ef={s['platform']['hnsw_ef']})",
                "",
            ]
            q = [
                [
                    "like",
                    s["like"]["store"]["median_ms"],
                    s["like"]["store"]["p99_ms"],
                    s["like"]["numpy"]["median_ms"],
                    s["like"]["numpy"]["p99_ms"],
                    f"{s['like']['speedup_median']}×",
                    s["like"]["recall_at_10"],
                ]
            ]
            for label, fl in s["filtered"].items():
                q.append(
                    [
                        f"filtered: {label} ({fl['matching_points']:,} match)",
                        fl["store_exact"]["median_ms"],
                        fl["store_exact"]["p99_ms"],
                        fl["numpy"]["median_ms"],
                        fl["numpy"]["p99_ms"],
                        f"{fl['speedup_median']}×",
                        fl["recall_at_10"],
                    ]
                )
            t = s["text"]
            q.append(
                [
                    "text (embedding included)",
                    t["store"]["median_ms"],
                    t["store"]["p99_ms"],
                    t["numpy"]["median_ms"],
                    t["numpy"]["p99_ms"],
                    f"{t['speedup_median']}×",
                    t["recall_at_10"],
                ]
            )
            lines += _table(
                [
                    "query",
                    "median ms",
                    "p99 ms",
                    "numpy median ms",
                    "numpy p99 ms",
                    "speed-up",
                    "recall@10",
                ],
                q,
            )
            lines += [
                "",
                f"Text queries (titles of {t['store']['n']} patents): searching alone "
                f"{t.get('search_only', {}).get('median_ms')} ms against numpy's "
                f"{t.get('numpy_search_only', {}).get('median_ms')} ms "
                f"({t.get('search_speedup_median')}×); recall@10 by hnsw_ef: "
                + ", ".join(
                    f"{e['hnsw_ef']}: {e['recall_at_10']} ({e['median_ms']} ms)"
                    for e in t.get("ef_sweep", [])
                )
                + ".",
                "",
                f"Embedding a text query alone: {t['embedding_only']['median_ms']} ms "
                "median.  Filtered through HNSW instead of exactly: "
                + "; ".join(
                    f"{label}: {fl['if_hnsw_were_used']['latency']['median_ms']} ms, "
                    f"recall {fl['if_hnsw_were_used']['recall_at_10']}"
                    for label, fl in s["filtered"].items()
                )
                + ".",
            ]
            sweep_rows = []
            for build in s["builds"]:
                for e in build.get("ef_sweep", []):
                    sweep_rows.append(
                        [
                            build["m"],
                            build["ef_construct"],
                            f"{build['index_build_seconds']} s"
                            + (" (cached)" if build.get("cached") else ""),
                            e["hnsw_ef"],
                            e["median_ms"],
                            e["p99_ms"],
                            e["recall_at_10"],
                        ]
                    )
            lines += ["", "Tuning (like queries, 100 of them):", ""]
            lines += _table(
                ["m", "ef_construct", "index build", "hnsw_ef", "median ms", "p99 ms", "recall@10"],
                sweep_rows,
            )
    five = f.get("5")
    if five:
        lines += [
            "",
            "## 5. Peak memory of `ingest load`",
            "",
            f"- Data: {five['data']}.",
            f"- Command: `{five['command']}`.",
            f"- How: {five['how']}.",
            "",
        ]
        lines += _table(
            ["rows", "points", "peak RSS MiB", "anonymous MiB", "file-backed MiB", "seconds"],
            [
                [
                    f"{int(k):,}",
                    v["points"],
                    v["peak_rss_mib"],
                    v.get("peak_anon_mib", "–"),
                    v.get("peak_file_mib", "–"),
                    v["seconds"],
                ]
                for k, v in sorted(five["runs"].items(), key=lambda kv: int(kv[0]))
            ],
        )
        lines += [
            "",
            f"**Ratio {five['ratio']}×**; {five['growth_mib_per_1k_rows']} MiB more "
            "per 1,000 rows.",
        ]
        if five.get("anon_ratio"):
            lines += [
                "",
                f"Peak anonymous memory (what the process itself holds) {five['anon_ratio']}×; "
                f"peak file-backed (pages of the files it maps: libraries, the model, the segments "
                f"the engine writes and merges, which the kernel may drop) {five['file_ratio']}×.",
            ]
        capped = five.get("capped") or {}
        if capped.get("not_run"):
            lines += ["", f"Run under a memory limit: not run ({capped['not_run']})."]
        elif capped:
            done = (
                f"completed in {capped['seconds']} s ({capped['slowdown']}× the unlimited run), "
                f"peak RSS {capped['peak_rss_mib']} MiB (anonymous {capped['peak_anon_mib']}, "
                f"file-backed {capped['peak_file_mib']}; RSS also counts pages of shared "
                f"libraries charged to other processes), {capped['times_at_limit']:,} times at "
                f"the limit (page cache reclaimed), {capped['oom_kills']} OOM kills"
                if capped["completed"]
                else f"failed (exit {capped['returncode']}, {capped['oom_kills']} OOM kills)"
            )
            largest = max(five["runs"], key=int)
            lines += [
                "",
                f"The {int(largest):,}-row load again inside a memory cgroup limited to "
                f"{capped['limit_mib']} MiB ({_multiple(capped)} the small load's peak RSS; "
                f"anonymous memory and page cache charged together, peak charge "
                f"{capped['peak_charged_mib']} MiB): {done}.",
            ]
        if five.get("layouts"):
            lines += [
                "",
                "Collections: "
                + "; ".join(
                    f"{int(k):,} rows {v}"
                    for k, v in sorted(five["layouts"].items(), key=lambda kv: int(kv[0]))
                )
                + " (`ingest load` makes a file of 100,000 rows or more a large collection).",
            ]
    six = f.get("6")
    if six:
        lines += [
            "",
            "## 6. Embedding throughput per backend, and the notebook's way",
            "",
            f"- Data: {six['texts']} real nvidia abstracts (mean {six['mean_tokens']} "
            f"tokens), {six['rounds']} rounds, every round through every engine slice by "
            "slice in rotating order, in one process, batch 32, CPU, threads: "
            f"{six.get('threads', '?')}.",
            "- Speed-up: torch fp32's time over the engine's, one value per round: the median "
            "and the range (min–max) of the rounds.  CPU time (user + system of the process) "
            "is not stretched by other work on the machine, wall time is.",
            "- Agreement: cosine between each engine's vector and torch fp32's for the "
            "same abstract.",
            "",
        ]
        lines += _table(
            [
                "engine",
                "docs/s (range of rounds)",
                "CPU ms/doc",
                "speed-up, wall (range)",
                "speed-up, CPU time (range)",
                "mean cos",
                "min cos",
                "load s",
            ],
            [
                [
                    f"{row['backend']} (`{row['engine']}`)",
                    f"{row['docs_per_s']} ({_range(row.get('docs_per_s_range'))})",
                    row.get("cpu_ms_per_doc", "?"),
                    f"{row['speedup_vs_fp32']}× ({_range(row.get('speedup_range'))})",
                    f"{row.get('cpu_speedup_vs_fp32', '?')}× "
                    f"({_range(row.get('cpu_speedup_range'))})",
                    row["mean_cosine_to_fp32"],
                    row["min_cosine_to_fp32"],
                    row["load_seconds"],
                ]
                for row in six["rows"]
            ],
        )
        if six.get("gpu"):
            gpu = [[g["device"], g["card"], g["backend"], g["docs_per_s"]] for g in six["gpu"]]
            lines += ["", *_table(["device", "card", "backend", "docs/s"], gpu)]
        else:
            lines += [
                "",
                "No GPU on this machine: no CUDA rows (the GPU path is unit-tested on CPU only).",
            ]
        nb = six.get("notebook")
        if nb:
            lines += [
                "",
                f"The seed notebook's way for one query over {nb['docs']:,} abstracts: "
                f"encode everything {nb['encode_all_seconds']} s "
                f"({nb['encode_all_source']}) + `cosine_distances` + `argsort` "
                f"{nb['distances_argsort']['median_ms']} ms = "
                f"**{nb['per_query_seconds']} s per query**"
                + (
                    f"; `cosine_distances` + `argsort` alone at 100k points: "
                    f"{nb['distances_argsort_100k']['median_ms']} ms"
                    if nb.get("distances_argsort_100k")
                    else ""
                )
                + ".",
            ]
    text = f.get("text")
    if text:
        lines += [
            "",
            "## Start-up of `search text`: ONNX Runtime instead of torch",
            "",
            f"- Data: {text['data']}; query `{text['query']}`, top 10.",
            f"- Each command as a fresh process, {text['repeats']} rounds round-robin "
            "(rotating order), wall-clock median and range; CPU time beside it.  The torch path "
            "is `search text` where onnxruntime is missing; the notebook's way imports "
            "sentence-transformers, loads the model, encodes the query, `cosine_distances` + "
            "`argsort` over the corpus vectors (given: it does not re-encode the corpus here).",
            "",
        ]
        lines += _table(
            ["command", "median s", "range s", "CPU s", "vs `search like 0`"],
            [
                [
                    name,
                    text["median_seconds"][name],
                    _range(text["range_seconds"][name]),
                    text["median_cpu_seconds"][name],
                    f"{text['ratio_vs_like'][name]}×",
                ]
                for name in text["median_seconds"]
            ],
        )
        first = text.get("first_text_query_writes_export")
        lines += [
            "",
            f"Heavy modules imported by `search text`: "
            f"{text['heavy_modules_imported_by_search_text']}.  Same top-10 through ONNX "
            f"Runtime and torch: {text['same_top10_onnx_and_torch']}."
            + (
                f"  The first `search text` of the model on this machine writes its export: "
                f"{first['seconds']} s."
                if first
                else ""
            ),
        ]
    long = f.get("long")
    if long:
        lines += [
            "",
            "## Long texts: `--long-text chunk` vs `truncate`",
            "",
            f"- Data: {long['data']}.",
            f"- Metric: {long['metric']}.",
            f"- Chunking: {long['chunking']}.",
            "",
        ]
        rows_l = []
        for key in ("window_256", "window_128"):
            w = long.get(key) or {}
            rows_l.append(
                [
                    key.replace("window_", "") + " tokens",
                    w.get("documents"),
                    w.get("longer_than_window"),
                    w.get("cpc_share_truncate"),
                    w.get("cpc_share_chunk"),
                    w.get("cpc_share_truncate_long_queries"),
                    w.get("cpc_share_chunk_long_queries"),
                    w.get("top10_overlap_truncate_vs_chunk"),
                ]
            )
        lines += _table(
            [
                "window",
                "documents",
                "longer than window",
                "share, truncate",
                "share, chunk",
                "long docs only, truncate",
                "long docs only, chunk",
                "top-10 overlap",
            ],
            rows_l,
        )
        lines += ["", f"128-token window: {long['window_128'].get('note')}."]
    if f.get("quality"):
        lines += ["", *quality_lines(r).splitlines()]
    if r.get("errors"):
        lines += ["", "## Errors in this run", ""]
        for name, text in r["errors"].items():
            lines += [f"- {name}:", "", "```", text.strip()[-1500:], "```"]
    return "\n".join(lines) + "\n"


# The docs' benchmarks page holds the summary of BENCHMARKS.md between these markers.
SUMMARY_BEGIN = "<!-- summary:begin -->"
SUMMARY_END = "<!-- summary:end -->"


def summary_section(benchmarks: str) -> str:
    """The short part of the docs' benchmarks page, taken from BENCHMARKS.md as a full or a
    partial (``--update``) run left it: when and how the figures were measured, the table."""
    lines = benchmarks.splitlines()
    start = lines.index("## Summary")
    heads = ("- **Run**", "- **Updated**", "- **Machine**")
    about = [ln for ln in lines[:start] if ln.startswith(heads)]
    rest = lines[start + 1 :]
    first = next(i for i, ln in enumerate(rest) if ln.startswith("|"))
    table = list(takewhile(lambda ln: ln.startswith("|"), rest[first:]))
    body = [
        *about,
        "",
        *table,
        "",
        "Details, commands and data: the [full report](benchmarks-report.md).",
    ]
    return "\n".join([SUMMARY_BEGIN, "", *body, "", SUMMARY_END])


def replace_summary(page: str, benchmarks: str) -> str:
    """The benchmarks page with its summary part replaced; the prose around it stays."""
    if SUMMARY_BEGIN not in page or SUMMARY_END not in page:
        raise ValueError(f"the benchmarks page has no {SUMMARY_BEGIN} ... {SUMMARY_END} part")
    head, rest = page.split(SUMMARY_BEGIN, 1)
    return head + summary_section(benchmarks) + rest.split(SUMMARY_END, 1)[1]


def _row_key(line: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in line.strip("|").split("|")[:2])


def update(old: str, r: dict[str, Any]) -> str:
    """``old`` BENCHMARKS.md with the figures of a partial run (``--only``) put in.

    Their summary rows and their sections are replaced (or added); the rest,
    measured by an earlier run, stays as it was, and a line says what changed when.
    """
    figures = [k for k, v in r.get("figures", {}).items() if v]
    new = render(r)
    new_rows = [ln for ln in new.splitlines() if any(ln.startswith(f"| {k} |") for k in figures)]
    lines = old.rstrip("\n").splitlines()
    fresh = {_row_key(ln): ln for ln in new_rows}
    # A row the partial run measured again is replaced in place; one it could not make (it
    # needs a figure not run) stays as it was; a new one goes after the table's last row.
    start = lines.index("## Summary")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    for i in range(start, end):
        if lines[i].startswith("| "):
            lines[i] = fresh.pop(_row_key(lines[i]), lines[i])
    at = start + 1
    while at < len(lines) and not lines[at].startswith("|"):
        at += 1
    while at < len(lines) and lines[at].startswith("|"):
        at += 1
    for key, row in fresh.items():  # after its figure's last row, else at the table's end
        same = [i for i in range(start, at) if lines[i].startswith(f"| {key[0]} |")]
        where = same[-1] + 1 if same else at
        lines.insert(where, row)
        at += 1
    text = "\n".join(lines) + "\n"
    for section in new.split("\n## ")[1:]:
        heading = section.split("\n", 1)[0]
        if heading in ("Summary", "Errors in this run"):
            continue
        body = "## " + section.rstrip("\n") + "\n"
        parts = text.split("\n## ")
        for i, part in enumerate(parts[1:], 1):
            if part.split("\n", 1)[0] == heading:
                parts[i] = body[3:] + ("\n" if i < len(parts) - 1 else "")
                break
        else:
            parts.append(body[3:])
        text = "\n## ".join(parts)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    m = r["machine"]
    note = (
        f"- **Updated**: figures {', '.join(figures)} by `{r['command']}` on {m['date']} "
        f"(load average {m['load_average_at_start']} at the start); the rest as run above."
    )
    # An earlier update of the same figures is superseded by this one.
    same = f"- **Updated**: figures {', '.join(figures)} by "
    out = [ln for ln in text.splitlines() if not ln.startswith(same)]
    run_line = next(i for i, ln in enumerate(out) if ln.startswith("- **Run**"))
    out.insert(run_line + 1, note)
    return "\n".join(out).rstrip("\n") + "\n"


# -- search quality -------------------------------------------------------------------------------

QUALITY_BEGIN = "<!-- quality:begin -->"
QUALITY_END = "<!-- quality:end -->"


def _row(rows: list[dict[str, Any]], mode: str, level: str) -> dict[str, Any]:
    for row in rows:
        if row["mode"] == mode and row["level"] == level:
            return row
    return {}


def _f(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def quality_table(q: dict[str, Any]) -> list[str]:
    """Per set: before (dense) and after (each mode, the tuned default) side by side."""
    rows = []
    for name, entry in q["sets"].items():
        modes = entry["modes"]
        for mode in ("dense", "keyword", "hybrid"):
            sub, grp = _row(modes, mode, "subclass"), _row(modes, mode, "group")
            setting = sub.get("setting", mode)
            rows.append(
                [
                    f"`{name}.xlsx`",
                    setting + (" = before" if mode == "dense" else ""),
                    _f(sub.get("precision")),
                    _f(grp.get("precision")),
                    _f(sub.get("mrr")),
                ]
            )
        tuned = entry["tuned_default"]
        sub, grp = _row(tuned, tuned[0]["mode"], "subclass"), _row(tuned, tuned[0]["mode"], "group")
        rows.append(
            [
                f"`{name}.xlsx`",
                f"**tuned default: {sub.get('setting')}**",
                _f(sub.get("precision")),
                _f(grp.get("precision")),
                _f(sub.get("mrr")),
            ]
        )
    return _table(["data", "mode", "P@10 subclass", "P@10 main group", "MRR@10 (title)"], rows)


def _ms(timing: dict[str, Any]) -> str:
    return f"{timing['median_ms']:.1f} / {timing['p99_ms']:.1f}"


def quality_lines(r: dict[str, Any]) -> str:
    q = r["figures"]["quality"]
    lines = [
        QUALITY_BEGIN,
        "## Search quality: P@10 and known-item MRR@10 per mode",
        "",
        f"- Data: `patents_ko.xlsx` (Korean, label `ipc`) and `patents_nvidia.xlsx` (English, "
        f"label `cpc`), ingested with the offline model `{q['model']}` (all-MiniLM-L6-v2, "
        "256-token window) through the real pipeline; measured with `search eval`'s own code.",
        f"- P@10: share of each of {q['sample']} seeded (seed {q['seed']}) query documents' 10 "
        "nearest other documents sharing an IPC/CPC subclass (first 4 characters) / main group "
        "(up to `/`) with it. MRR@10: each sampled document's title as a `search text` query, "
        "reciprocal rank of the document itself (tied with other documents' scores, the mean "
        'over the ranks they share). "Before" is dense: what the tool answered '
        "before keyword search.",
        "- Tuned default: `search eval --tune` tries dense, keyword, RRF-fused hybrids with "
        "(dense, keyword) weights 1/1, 1/2, 1/3, 1/5, 2/1, 3/1 and DBSF on half the sample, "
        "and the winner is measured on the other half (the held-out figures below); the table's "
        "tuned row is the winner on the whole sample.",
        "",
    ]
    lines += quality_table(q)
    for name, entry in q["sets"].items():
        t = entry["tune"]
        b, a = t["before"][0], t["after"][0]
        lines += [
            "",
            f"`{name}` --tune: {t['tune_queries']} tuning documents; held-out "
            f"{a['queries']} documents, P@10 subclass before ({b['setting']}) "
            f"{b['precision']:.3f}, after ({a['setting']}) {a['precision']:.3f}. Tried: "
            + "; ".join(f"{x['setting']} {x['precision']:.3f}" for x in t["tried"])
            + ".",
        ]
        cost = entry["cost"]
        lines += [
            "",
            f"`{name}` cost: analyzing {cost['documents']:,} abstracts and building their BM25 "
            f"vectors took {cost['analyze_seconds']} s against {cost['embed_seconds']} s to "
            "embed them on this machine (2 cores shared with other jobs) "
            f"(ingest with sparse vectors / without ≈ {cost['ratio']}×, target ≤ "
            f"{cost['target']}×). Ingest of the cached vectors through the pipeline: "
            f"{entry['ingest']['seconds']} s; default mode after ingest: "
            f"{entry['ingest']['default_mode']}.",
        ]
        lat = entry["latency_ms"]
        lines += [
            "",
            f"`{name}` latency in-process (store kept open, {entry['ingest']['points']:,} "
            "points, 50 queries each; `text` with the query's vector from the cache, so without "
            "embedding the query; median / p99 ms): "
            + "; ".join(
                f"{mode}: like {_ms(lat[mode]['like'])}, text {_ms(lat[mode]['text'])}"
                for mode in ("dense", "keyword", "hybrid")
            )
            + ".",
        ]
    scale = q.get("scale_latency")
    if scale:
        built = (
            f"built in {scale['build_seconds']} s with the HNSW index"
            if scale.get("build_seconds")
            else "cached from an earlier run"
        )
        lines += [
            "",
            f"Latency at {scale['points']:,} points (the nvidia vectors, then mixtures of two of "
            "them, each with the keyword vector of its first document; embedded store, "
            f"{built}; 50 queries each, `text` without embedding the query; median / p99 ms): "
            + "; ".join(
                f"{mode}: like {_ms(scale[mode]['like'])}, text {_ms(scale[mode]['text'])}"
                for mode in ("dense", "keyword", "hybrid")
            )
            + ".",
        ]
    lines.append(QUALITY_END)
    return "\n".join(lines)


def replace_quality_section(path: Any, r: dict[str, Any]) -> None:
    """Write the quality section into BENCHMARKS.md, keeping the other figures as they are."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    section = quality_lines(r)
    if QUALITY_BEGIN in text and QUALITY_END in text:
        head, rest = text.split(QUALITY_BEGIN, 1)
        tail = rest.split(QUALITY_END, 1)[1]
        text = head + section + tail
    else:
        marker = "\n## Errors in this run"
        if marker in text:
            head, tail = text.split(marker, 1)
            text = head.rstrip("\n") + "\n\n" + section + "\n" + marker + tail
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")
