"""BENCHMARKS.md's "Fit the model to the data" section, from the runs of ``bench.modelfit``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .common import ROOT

BEGIN = "<!-- modelfit: written by python -m bench.modelfit report --write -->"
END = "<!-- modelfit:end -->"
LEVELS = ("subclass", "group")
TARGETS = {
    # data: (tuned dense over base, best mode over base, absolute dense, absolute best)
    "nvidia": (0.06, 0.08, None, None),
    "ko": (None, None, 0.30, 0.55),
}


def gather(folder: Path) -> list[dict[str, Any]]:
    runs = []
    for path in sorted(folder.glob("*.json")):
        try:
            runs.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
    return runs


def _p(rows: list[dict[str, Any]], mode: str, level: str) -> float | None:
    return next((r["precision"] for r in rows if r["mode"] == mode and r["level"] == level), None)


def _mrr(rows: list[dict[str, Any]], mode: str) -> float | None:
    return next((r["mrr"] for r in rows if r["mode"] == mode), None)


def _best_mode(rows: list[dict[str, Any]]) -> tuple[str, dict[str, float]]:
    modes = sorted({r["mode"] for r in rows})
    best = max(modes, key=lambda m: sum(_p(rows, m, lvl) or 0 for lvl in LEVELS))
    return best, {lvl: _p(rows, best, lvl) or 0.0 for lvl in LEVELS}


def _met(value: float, goal: float) -> str:
    return "yes" if value >= goal - 1e-9 else "**no**"


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _new_tokens(vocabulary: dict[str, Any] | None) -> str:
    """Words added to the tokenizer before training; "-" for runs from before the option."""
    if vocabulary is None:
        return "-"
    return f"{vocabulary.get('added', 0):,}"


def _loss(options: dict[str, Any]) -> str:
    """The loss, and the negatives' level where the run chose it (default: nothing shared)."""
    chosen = options.get("negative_level")
    return options["loss"] + (f" (negatives: no {chosen} shared)" if chosen else "")


def tune_rows(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| run | data | loss | level | epochs | window | learning rate | new tokens "
        "| trained / held out | training | dense P@10 subclass | dense P@10 main group "
        "| hybrid P@10 subclass | hybrid P@10 main group | dense MRR@10 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        rep = run.get("report") or {}
        if "options" not in rep:
            continue
        o, s = rep["options"], rep["split"]
        b, a = rep["before"], rep["after"]
        minutes = rep["train_seconds"] / 60
        load = run["machine"].get("load_average_at_start")
        end = run.get("load_average_at_end")
        loads = f"{load[0]:.1f}" + (f" → {end[0]:.1f}" if end else "")
        lines.append(
            f"| {run['name']} | {run['data']} | {_loss(o)} | {o['level']} | {o['epochs']} "
            f"| {o['max_seq_length']} | {o['learning_rate']:g} "
            f"| {_new_tokens(rep.get('vocabulary'))} "
            f"| {s['train']:,} / {s['held_out']:,} "
            f"| {minutes:.0f} min ({rep['train_texts_per_second']:.1f} texts/s; "
            f"load {loads}) "
            + " ".join(
                f"| {_f(_p(b, m, lvl))} → **{_f(_p(a, m, lvl))}**"
                for m, lvl in (
                    ("dense", "subclass"),
                    ("dense", "group"),
                    ("hybrid", "subclass"),
                    ("hybrid", "group"),
                )
            )
            + f" | {_f(_mrr(b, 'dense'))} → {_f(_mrr(a, 'dense'))} |"
        )
    return lines


def targets(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["| data | target | best run | measured | met |", "|---|---|---|---|---|"]
    for data, (dense_gain, best_gain, dense_abs, best_abs) in TARGETS.items():
        mine = [r for r in runs if r.get("data") == data and "options" in (r.get("report") or {})]
        if not mine:
            lines.append(f"| {data} | (no run yet) | | | |")
            continue
        top = max(
            mine, key=lambda r: sum(_p(r["report"]["after"], "dense", lv) or 0 for lv in LEVELS)
        )
        b, a = top["report"]["before"], top["report"]["after"]
        mode, best = _best_mode(a)
        for lvl in LEVELS:
            base = _p(b, "dense", lvl) or 0.0
            dense = _p(a, "dense", lvl) or 0.0
            if dense_gain is not None:
                goal = base + dense_gain
                lines.append(
                    f"| {data} | tuned dense P@10 {lvl} ≥ base {base:.3f} + {dense_gain} "
                    f"= {goal:.3f} | {top['name']} | {dense:.3f} | {_met(dense, goal)} |"
                )
            if best_gain is not None:
                goal = base + best_gain
                lines.append(
                    f"| {data} | best mode P@10 {lvl} ≥ base {base:.3f} + {best_gain} "
                    f"= {goal:.3f} | {top['name']} | {mode} {best[lvl]:.3f} "
                    f"| {_met(best[lvl], goal)} |"
                )
        if dense_abs is not None:
            dense = _p(a, "dense", "subclass") or 0.0
            lines.append(
                f"| {data} | tuned dense P@10 subclass ≥ {dense_abs} | {top['name']} "
                f"| {dense:.3f} | {_met(dense, dense_abs)} |"
            )
        if best_abs is not None:
            lines.append(
                f"| {data} | best mode P@10 subclass ≥ {best_abs} | {top['name']} "
                f"| {mode} {best['subclass']:.3f} | {_met(best['subclass'], best_abs)} |"
            )
    return lines


def compare_rows(runs: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for run in runs:
        rep = run.get("report") or {}
        if "costs" not in rep:
            continue
        start = (run.get("machine") or {}).get("load_average_at_start") or [0.0]
        end = run.get("load_average_at_end") or start
        lines.append(
            f"`{run['name']}` (`python -m bench.modelfit compare`): {rep['sample']:,} documents "
            f"of {rep['source']} (seed {rep['seed']}), label `{rep['label']}`, each a query "
            f"among the other sampled documents; load {start[0]:.1f} → {end[0]:.1f}:"
        )
        lines.append("")
        lines.append(
            "| model | mode | P@10 subclass | P@10 main group | MRR@10 | embed s | docs/s |"
        )
        lines.append("|---|---|---|---|---|---|---|")
        costs = {c["model"]: c for c in rep["costs"]}
        for r in rep["rows"]:
            c = costs.get(r["model"]) or {}
            name = Path(r["model"]).name if r["model"] else "(BM25, no model)"
            lines.append(
                f"| {name} | {r['mode']} | {_f(r['precision'].get('subclass'))} "
                f"| {_f(r['precision'].get('group'))} | {_f(r['mrr'])} "
                f"| {c.get('embed_seconds', '-')} | {c.get('docs_per_second', '-')} |"
            )
        lines.append("")
    return lines


def section(runs: list[dict[str, Any]]) -> str:
    machine = next((r["machine"] for r in runs if r.get("machine")), {})
    lines = [
        BEGIN,
        "",
        "## Fit the model to the data: `ingest tune` and `ingest models compare`",
        "",
        f"- Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores **shared with "
        "about 7 other developers' jobs** (the 1-minute load average at the start and the end "
        "of each run is in the table: above 2 means the run got a fraction of the cores), GPU: "
        f"{machine.get('gpu') or 'none (not measured here)'}; torch "
        f"{(machine.get('versions') or {}).get('torch')}, sentence-transformers "
        f"{(machine.get('versions') or {}).get('sentence_transformers')}.",
        "- Base model: the offline all-MiniLM-L6-v2 (`minilm`). Runs: `python -m bench.modelfit "
        "tune NAME ...` (the library's `tune`, seed 0, CPU, fp32), one process each.",
        "- Held-out figures only: a seeded half of the labelled documents (documents with the same "
        "abstract on the same side) is never trained on; P@10 and MRR@10 are measured on it "
        "alone (each held-out document a query, the other held-out documents the candidates), "
        "for the base model and the tuned one, through `search eval`'s code. Base: the base "
        "model at its own 256-token window; tuned: at the window it was trained with.",
        "",
        *tune_rows(runs),
        "",
        "### Targets",
        "",
        *targets(runs),
        "",
        *compare_rows(runs),
        END,
    ]
    return "\n".join(lines)


def keep_section(old: str, new: str) -> str:
    """``new`` (a full bench run's page) with the section ``old`` holds: tuning runs take
    hours, so a full run keeps their figures rather than dropping them."""
    if BEGIN not in old or END not in old or (BEGIN in new and END in new):
        return new
    kept = BEGIN + old.split(BEGIN, 1)[1].split(END, 1)[0] + END
    marker = "<!-- scale:"
    if marker in new:
        head, tail = new.split(marker, 1)
        return head + kept + "\n\n" + marker + tail
    return new.rstrip("\n") + "\n\n" + kept + "\n"


def write_section(runs: list[dict[str, Any]]) -> None:
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text(encoding="utf-8")
    new = section(runs)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + new + tail
    else:
        marker = "<!-- scale:"
        if marker in text:
            head, tail = text.split(marker, 1)
            text = head + new + "\n\n" + marker + tail
        else:
            text = text.rstrip() + "\n\n" + new + "\n"
    path.write_text(text, encoding="utf-8")
