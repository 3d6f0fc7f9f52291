"""Keyword-only load against the dense load of the same rows, side by side in one run.

    python -m bench.keyword_only              # 5,000 rows of patents_nvidia.xlsx
    python -m bench.keyword_only --rows 500   # a smaller run (does not write BENCHMARKS.md)

Three fresh processes on the same file, one after the other, each paying its imports and
file reading: ``ingest load --keyword-only`` (no model), ``ingest load --model minilm``
(the dense load), then ``ingest load --model minilm`` into the keyword-only collection (the
dense vectors added later).  Writes the section between the markers below into
BENCHMARKS.md; a full ``python -m bench`` keeps it (``keep_section``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from typing import Any

from .common import BIN, NVIDIA_XLSX, OUT, ROOT, log, machine, run_measured, slice_xlsx

BEGIN = "<!-- keyword-only: written by python -m bench.keyword_only -->"
END = "<!-- /keyword-only -->"
ROWS = 5000


def _load(path: str, store: str, collection: str, *extra: str) -> dict[str, Any]:
    cmd = [
        str(BIN / "ingest"),
        "load",
        path,
        "--path",
        store,
        "--collection",
        collection,
        "--quiet",
        "--format",
        "json",
        *extra,
    ]
    run = run_measured(cmd, timeout=3600)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {run.stderr[-2000:]}")
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    return {
        "command": " ".join(["ingest", *cmd[1:]]).replace(str(OUT) + "/", "bench/out/"),
        "wall_s": round(run.seconds, 2),
        "cpu_s": run.cpu_seconds,
        "peak_rss_mib": run.max_rss_mib,
        "points": summary["points"],
        "embedded": summary["embedded"],
        "dense_added": summary.get("dense_added", 0),
        "default_mode": summary.get("default_mode"),
    }


def figure(rows: int = ROWS) -> dict[str, Any]:
    path = slice_xlsx(NVIDIA_XLSX, OUT / f"nvidia_{rows}.xlsx", rows)
    store = OUT / "store_keyword_only"
    shutil.rmtree(store, ignore_errors=True)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = [round(x, 2) for x in os.getloadavg()]
    log(f"keyword-only load of {rows:,} rows")
    keyword = _load(str(path), str(store), "kw", "--keyword-only")
    log(f"dense load of {rows:,} rows")
    dense = _load(str(path), str(store), "dense", "--model", "minilm")
    log("dense vectors added to the keyword-only collection")
    added = _load(str(path), str(store), "kw", "--model", "minilm")
    return {
        "rows": rows,
        "started": started,
        "load_average": [load_before, [round(x, 2) for x in os.getloadavg()]],
        "machine": machine(),
        "keyword_only": keyword,
        "dense": dense,
        "dense_added_later": added,
        "ratio_wall": round(dense["wall_s"] / keyword["wall_s"], 1),
        "ratio_cpu": round(dense["cpu_s"] / max(keyword["cpu_s"], 0.01), 1),
    }


def section(r: dict[str, Any]) -> str:
    k, d, a = r["keyword_only"], r["dense"], r["dense_added_later"]
    m = r["machine"]
    lines = [
        BEGIN,
        "## Keyword-only load (`ingest load --keyword-only`) against the dense load",
        "",
        f"- Run: `python -m bench.keyword_only` on {r['started']}; {r['rows']:,} rows of "
        "patents_nvidia.xlsx; three fresh processes one after the other on a machine shared "
        f"with other developers (load average {r['load_average'][0]} at the start, "
        f"{r['load_average'][1]} at the end): compare the ratio, not the seconds.",
        f"- Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores; the offline model "
        "(all-MiniLM-L6-v2, `--model minilm`) on the CPU.",
        "",
        "| load | wall | CPU | peak RSS | points | embedded | default mode |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, x in (
        ("`--keyword-only` (no model)", k),
        ("`--model minilm` (dense)", d),
        ("`--model minilm` into the keyword-only collection", a),
    ):
        lines.append(
            f"| {name} | {x['wall_s']:.1f} s | {x['cpu_s']:.1f} s | {x['peak_rss_mib']:.0f} MiB "
            f"| {x['points']:,} | {x['embedded']:,} | {x['default_mode']} |"
        )
    lines += [
        "",
        f"- The dense load took **{r['ratio_wall']}×** the wall time of the keyword-only load "
        f"and {r['ratio_cpu']}× its CPU time (the figure other processes do not stretch).",
        f"- Adding the dense vectors later gave {a['dense_added']:,} points their vectors "
        f"({a['embedded']:,} texts embedded, repeats of a stored text reused) and kept their "
        "payload and keyword vectors; the file was read as in any load (a checking pass, then "
        "the writing pass).",
        END,
    ]
    return "\n".join(lines)


def write_section(text: str, path: Any = None) -> None:
    """Put ``text`` between the markers of BENCHMARKS.md (before the scale section at first)."""
    target = path or ROOT / "BENCHMARKS.md"
    old = target.read_text(encoding="utf-8") if target.is_file() else ""
    target.write_text(keep_section(old, old, text), encoding="utf-8")


def keep_section(old: str, new: str, fresh: str | None = None) -> str:
    """``new`` with this benchmark's section: ``fresh``, else the one ``old`` holds."""
    kept = fresh
    if kept is None and BEGIN in old and END in old:
        kept = BEGIN + old.split(BEGIN, 1)[1].split(END, 1)[0] + END
    if kept is None:
        return new
    if BEGIN in new and END in new:
        head, rest = new.split(BEGIN, 1)
        return head + kept + rest.split(END, 1)[1]
    marker = "\n## Scale"
    if marker in new:
        head, tail = new.split(marker, 1)
        return head.rstrip("\n") + "\n\n" + kept + "\n" + marker + tail
    return new.rstrip("\n") + "\n\n" + kept + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.keyword_only")
    ap.add_argument("--rows", type=int, default=ROWS)
    ap.add_argument(
        "--render", action="store_true", help="write the section from the last run's JSON"
    )
    args = ap.parse_args(argv)
    if args.render:
        write_section(section(json.loads((OUT / "keyword_only.json").read_text("utf-8"))))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = figure(args.rows)
    (OUT / "keyword_only.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    if args.rows == ROWS:
        write_section(section(result))
        log("wrote the keyword-only section of BENCHMARKS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
