"""The model card of a tuned model: README.md (for people and the Hugging Face Hub) and
``patentsim_tuning.json`` (the same record for programs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..search.eval import EvalRow
    from .tune import TuneReport

TUNING_FILE = "patentsim_tuning.json"


_MINED = (
    "one semi-hard negative per anchor (margin {margin} in cosine distance), mined from the "
    "current model at the start of every epoch"
)
_IN_BATCH = "in-batch negatives, candidates sharing a label or the text with the anchor masked out"
_LOSSES = {
    "triplet": "TripletLoss, cosine distance; " + _MINED,
    "mnrl": "MultipleNegativesRankingLoss: " + _IN_BATCH,
    "mnrl-mined": "MultipleNegativesRankingLoss: " + _IN_BATCH + ", plus " + _MINED,
    "supcon": (
        "supervised contrastive: every batch document sharing a code with the anchor a "
        "positive, at the tuning level and the subclass"
    ),
}


def _yaml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _table(before: list[EvalRow], after: list[EvalRow]) -> list[str]:
    lines = [
        "| mode | level | base model | tuned model | change |",
        "|---|---|---|---|---|",
    ]
    for b in before:
        a = next((r for r in after if r.mode == b.mode and r.level == b.level), None)
        if a is None:
            continue
        lines.append(
            f"| {b.mode} | P@{b.k} {b.level} | {b.precision:.3f} | {a.precision:.3f} | "
            f"{a.precision - b.precision:+.3f} |"
        )
    seen = set()
    for b in before:
        if b.mrr is None or b.mode in seen:
            continue
        seen.add(b.mode)
        a = next((r for r in after if r.mode == b.mode), None)
        if a is None or a.mrr is None:
            continue
        lines.append(
            f"| {b.mode} | MRR@10 (title) | {b.mrr:.3f} | {a.mrr:.3f} | {a.mrr - b.mrr:+.3f} |"
        )
    return lines


def _vocabulary_line(v: dict[str, Any]) -> str:
    read = (
        f" (it read {v['poor_share']:.0%} of the training text's letters poorly)"
        if "poor_share" in v
        else ""
    )
    if not v.get("added"):
        return f"- New tokens: none{read}"
    return (
        f"- New tokens: {v['added']:,} frequent training words that the base tokenizer reads "
        f"poorly{read}, added as tokens of their own, each starting at the mean of its old "
        f"pieces (of {v.get('candidates', 0):,} such words; for example "
        f"{', '.join(str(w) for w in v.get('examples', []))})"
    )


def card_text(report: TuneReport) -> str:
    """README.md of the tuned model."""
    o = report.options
    s = report.split
    base = report.base
    lines = [
        "---",
        "library_name: sentence-transformers",
        "pipeline_tag: sentence-similarity",
        "tags:",
        "- sentence-transformers",
        "- patents",
        "- patentsim",
        f"base_model: {_yaml_str(str(base['name']))}",
        "---",
        "",
        f"# {Path(report.output).name}",
        "",
        f"A sentence-transformers model tuned by patentsim {report.tool_version} "
        f"(`ingest tune`) from **{base['name']}** on the `{report.label}` labels of "
        f"{report.source}.",
        "",
        "## Training",
        "",
        f"- Base model: {base['name']} (files fingerprint {base['fingerprint']}, "
        f"{base['dimension']}-d, window {base['max_seq_length']} tokens)",
        f"- Data: {report.source}; label `{report.label}`, positives share a code at level "
        f"`{o['level']}`, negatives share none at level `{report.negative_level}`",
        f"- Loss: `{o['loss']}` ({_LOSSES[o['loss']].format(margin=o['margin'])})"
        + ("; and each title trained to find its text (`--titles`)" if o.get("titles") else ""),
        f"- Epochs {o['epochs']}, batch size {o['batch_size']}, learning rate "
        f"{o['learning_rate']} (linear warm-up over 10% of the steps, then linear decay), "
        f"window {o['max_seq_length'] or base['max_seq_length']} tokens, seed {o['seed']}",
        f"- Device {report.device}, precision {report.precision}; training took "
        f"{report.train_seconds:,.0f} s ({report.train_texts_per_second:,.1f} texts/s in the "
        "forward and backward passes), the whole run "
        f"{report.seconds:,.0f} s",
        f"- Split: {s['train']:,} documents trained on, {s['held_out']:,} held out "
        f"(share {s['held_out_share']}, seed {s['seed']}; documents with the same text on the "
        f"same side: {s['documents_with_repeated_text']:,} documents repeat a text)",
        _vocabulary_line(report.vocabulary),
        "",
    ]
    for e in report.epochs:
        mined = e.mining
        extra = (
            f"; {mined.get('semi_hard', 0):,} semi-hard negatives, {mined.get('hard', 0):,} hard"
            if mined
            else ""
        )
        lines.append(
            f"- Epoch {e.epoch}: {e.examples:,} examples, mean loss {e.loss:.4f}, "
            f"{e.seconds:,.0f} s{extra}"
        )
    lines += [
        "",
        "## Held-out figures",
        "",
        f"Measured on the {s['held_out']:,} held-out documents only: each one a query, the other "
        "held-out documents the candidates (none of them seen in training). P@10: the share of "
        "a document's 10 nearest others that share a code at the level; MRR@10: the document's "
        "title as a text query, the reciprocal rank of the document itself. `keyword` is BM25 and "
        "does not depend on the model; `hybrid` fuses it with the model's ranking (RRF).",
        "",
        *_table(report.before, report.after),
        "",
        "## Use",
        "",
        "```bash",
        f"ingest load FILE --model {report.output} --collection NEW-NAME",
        "```",
        "",
        "```python",
        "from sentence_transformers import SentenceTransformer",
        f'model = SentenceTransformer("{report.output}")',
        "embeddings = model.encode(abstracts, normalize_embeddings=True)",
        "```",
        "",
    ]
    return "\n".join(lines)


def write_card(folder: Path, report: TuneReport) -> None:
    (folder / "README.md").write_text(card_text(report), encoding="utf-8")
    record = report.to_dict()
    keys = getattr(report, "keys", None) or {}
    record["train_keys"] = keys.get("train", [])
    record["held_out_keys"] = keys.get("held_out", [])
    (folder / TUNING_FILE).write_text(
        json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8"
    )


def trained_keys(folder: str | Path) -> set[str] | None:
    """The keys of the documents a model tuned by patentsim was trained on (None for any
    other model)."""
    path = Path(folder) / TUNING_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    keys = record.get("train_keys")
    return {str(k) for k in keys} if isinstance(keys, list) else None
