"""Fitting the model to the data (issue 29): tuning runs and model comparisons, as JSON.

Each run is one process that writes ``bench/out/modelfit/<name>.json`` (the tuning report,
the machine and its load before and after) and the tuned model under
``bench/out/modelfit/models/<name>``; ``python -m bench.modelfit report`` gathers the runs
into BENCHMARKS.md's "Fit the model to the data" section and prints it as JSON.

    python -m bench.modelfit tune en-triplet-1 --data nvidia --loss triplet --epochs 1
    python -m bench.modelfit tune ko-mnrl-3 --data ko --loss mnrl --epochs 3 --level subclass
    python -m bench.modelfit compare en-compare --data nvidia --model minilm --model RUN
    python -m bench.modelfit report [--write]

Runs take minutes to hours on 2 shared cores: start them in the background with ``nice``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from .common import DATA, OUT, log, machine, save_json

RUNS = OUT / "modelfit"
MODELS = RUNS / "models"
SETS = {
    # name: (file, label, id column)
    "nvidia": (DATA / "patents_nvidia.xlsx", "cpc", "doc_id"),
    "ko": (DATA / "patents_ko.xlsx", "ipc", "application_number"),
}


def _progress(label: str) -> Any:
    state = {"began": time.perf_counter(), "last": 0.0}

    def report(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == 0:
            state["began"] = now
            return
        if now - state["last"] < 60 and done < total:
            return
        state["last"] = now
        rate = done / max(now - state["began"], 1e-9)
        eta = (total - done) / rate if rate else 0
        log(f"{label}: {done:,}/{total:,} examples, {rate:.2f}/s, ETA {eta / 60:.1f} min")

    return report


def run_tune(args: argparse.Namespace) -> dict[str, Any]:
    from patentsim.fit.documents import Reading, read_corpus
    from patentsim.fit.tune import TuneOptions, tune
    from patentsim.search.eval import EvalRow

    path, label, id_column = SETS[args.data]
    corpus = read_corpus(label, source=path, reading=Reading(id_column=id_column))
    before = None
    if args.before_from:
        # The base model's figures of an earlier run on the same split (same data, holdout,
        # seed and base model): measured once, not again in every run.
        earlier = json.loads((RUNS / f"{args.before_from}.json").read_text(encoding="utf-8"))
        same = earlier["report"]["split"]
        assert same["seed"] == args.seed and same["held_out_share"] == args.holdout, same
        before = [
            EvalRow(r["mode"], r["level"], r["k"], r["queries"], r["precision"], r["mrr"])
            for r in earlier["report"]["before"]
        ]
    options = TuneOptions(
        level=args.level,
        loss=args.loss,
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_seq_length=args.max_seq_length,
        seed=args.seed,
        holdout=args.holdout,
        margin=args.margin,
        learning_rate=args.learning_rate,
        new_tokens=args.new_tokens,
        negative_level=args.negative_level,
        titles=args.titles,
        device="cpu",
    )
    result: dict[str, Any] = {"name": args.name, "data": args.data, "machine": machine()}
    began = time.perf_counter()
    report = tune(
        label,
        output=MODELS / args.name,
        source=path,
        base=args.base,
        options=options,
        overwrite=True,
        corpus=corpus,
        before=before,
        train_share=args.train_share,
        log=lambda msg: log(f"{args.name}: {msg}"),
        progress=_progress(args.name),
    )
    result["seconds"] = round(time.perf_counter() - began, 1)
    result["before_from"] = args.before_from
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["report"] = report.to_dict()
    return result


def run_compare(args: argparse.Namespace) -> dict[str, Any]:
    from patentsim.fit.compare import compare_models
    from patentsim.fit.documents import Reading, read_corpus

    path, label, id_column = SETS[args.data]
    models = [str(MODELS / m) if (MODELS / m).is_dir() else m for m in args.model]
    result: dict[str, Any] = {"name": args.name, "data": args.data, "machine": machine()}
    corpus = read_corpus(label, source=path, reading=Reading(id_column=id_column))
    if args.held_out_of:
        # Only documents the tuned model never saw: its held-out half.
        record = MODELS / args.held_out_of / "patentsim_tuning.json"
        keep = set(json.loads(record.read_text(encoding="utf-8"))["held_out_keys"])
        corpus.documents = [d for d in corpus.documents if d.key in keep]
        corpus.source += f" (the held-out documents of {args.held_out_of})"
    result["held_out_of"] = args.held_out_of
    report = compare_models(
        label,
        models,
        corpus=corpus,
        sample=args.sample,
        seed=args.seed,
        device="cpu",
        log=lambda msg: log(f"{args.name}: {msg}"),
    )
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["report"] = report.to_dict()
    return result


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m bench.modelfit", description=__doc__.split("\n")[0]
    )
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("tune", help="one tuning run")
    t.add_argument("name")
    t.add_argument("--data", choices=sorted(SETS), default="nvidia")
    t.add_argument("--base", default="minilm")
    t.add_argument("--loss", choices=["triplet", "mnrl", "mnrl-mined", "supcon"], default="triplet")
    t.add_argument("--level", default="group")
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--max-seq-length", type=int, default=128)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--holdout", type=float, default=0.5)
    t.add_argument("--margin", type=float, default=0.2)
    t.add_argument("--learning-rate", type=float, default=5e-5)
    t.add_argument("--new-tokens", type=int, default=0)
    t.add_argument("--negative-level", choices=["subclass", "group", "full"])
    t.add_argument("--titles", action="store_true")
    t.add_argument(
        "--train-share",
        type=float,
        default=1.0,
        help="train on this seeded share of the training side (held-out side unchanged)",
    )
    t.add_argument("--before-from", help="reuse the base figures of this earlier run")
    c = sub.add_parser("compare", help="models compare on a sample")
    c.add_argument("name")
    c.add_argument("--data", choices=sorted(SETS), default="nvidia")
    c.add_argument("--model", action="append", required=True)
    c.add_argument("--sample", type=int, default=500)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--held-out-of", help="sample only the held-out documents of this run")
    r = sub.add_parser("report", help="gather the runs (BENCHMARKS.md with --write)")
    r.add_argument("--write", action="store_true")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("PATENTSIM_CACHE", str(OUT / "cache"))
    if args.command == "report":
        from .modelfit_report import gather, write_section

        runs = gather(RUNS)
        if args.write:
            write_section(runs)
        print(json.dumps(runs, indent=2, ensure_ascii=False, default=str))
        return 0
    result = run_tune(args) if args.command == "tune" else run_compare(args)
    save_json(RUNS / f"{args.name}.json", result)
    log(f"{args.name}: written to {RUNS / (args.name + '.json')}")
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
