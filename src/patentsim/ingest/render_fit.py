"""How ``ingest models compare`` and ``ingest tune`` show their results."""

from __future__ import annotations

import json
from typing import Any

from ..search.render import format_table

LEVEL_NAMES = {"subclass": "subclass", "group": "main group", "full": "full code"}


def comparison_table(report: Any) -> str:
    """One line per model and mode (keyword once: it uses no model), then the costs."""
    k = report.k
    lines = [
        f"{report.source}: {report.sample:,} of {report.documents:,} labelled documents "
        f"sampled (seed {report.seed}), label '{report.label}'; each sampled document a "
        "query among the others"
    ]
    headers = ["model", "mode", *(f"P@{k} {LEVEL_NAMES[lvl]}" for lvl in report.levels)]
    headers += ["MRR@10", "embed s", "docs/s"]
    rows = []
    for r in report.rows:
        cost = report.cost(r.model)
        rows.append(
            [
                r.model if r.model is not None else "(BM25, no model)",
                r.mode,
                *(f"{r.precision[lvl]:.3f}" for lvl in report.levels),
                "-" if r.mrr is None else f"{r.mrr:.3f}",
                f"{cost.embed_seconds:.1f}" if cost else "-",
                f"{cost.docs_per_second:.1f}" if cost else "-",
            ]
        )
    right = [False, False, *([True] * (len(headers) - 2))]
    lines.append(format_table(headers, rows, right=right))
    for cost in report.costs:
        if cost.trained_on:
            lines.append(
                f"note: {cost.model} was tuned on {cost.trained_on:,} of these documents "
                "(its figures flatter it)"
            )
    return "\n".join(lines)


def comparison_json(report: Any) -> str:
    """One JSON object per model and mode, with the model's seconds."""
    out = []
    for r in report.rows:
        row = r.to_dict()
        cost = report.cost(r.model)
        row.update(
            sample=report.sample,
            seed=report.seed,
            load_seconds=cost.load_seconds if cost else None,
            embed_seconds=cost.embed_seconds if cost else None,
            docs_per_second=cost.docs_per_second if cost else None,
            trained_on=cost.trained_on if cost else 0,
        )
        out.append(json.dumps(row, ensure_ascii=False))
    return "\n".join(out)


def tune_text(report: Any) -> str:
    """The held-out figures before and after, where the model is, and how to use it."""
    s = report.split
    o = report.options
    lines = [
        f"tuned {report.base['name']} on '{report.label}' ({o['loss']}, level {o['level']}, "
        f"{o['epochs']} epoch{'s' if o['epochs'] != 1 else ''}) in {report.seconds:,.0f} s "
        f"on {report.device} ({report.precision})",
        f"held out {s['held_out']:,} of {s['held_out'] + s['train']:,} documents "
        f"(seed {s['seed']}); measured on them only:",
    ]
    rows = []
    for b in report.before:
        a = next((r for r in report.after if r.mode == b.mode and r.level == b.level), None)
        if a is None:
            continue
        rows.append(
            [
                b.mode,
                f"P@{b.k} {LEVEL_NAMES.get(b.level, b.level)}",
                f"{b.precision:.3f}",
                f"{a.precision:.3f}",
                f"{a.precision - b.precision:+.3f}",
            ]
        )
    lines.append(
        format_table(
            ["mode", "measure", "base", "tuned", "change"],
            rows,
            right=[False, False, True, True, True],
        )
    )
    lines.append(f"model written to {report.output} (README.md is its model card)")
    lines.append(
        f"next: ingest load FILE --model {report.output} --collection NEW-NAME "
        "(a new collection; the old one stays until 'ingest drop')"
    )
    return "\n".join(lines)
