"""The analyst toolkit (issue 30): near-duplicates, one hit per family, class suggestion.

    BENCH_DATA=../shared/data python -m bench.toolkit            # every figure
    python -m bench.toolkit --only families,suggest,scale        # some of them
    python -m bench.toolkit --render                             # the section from the JSON

- ``families``: the fixture of ``bench/families.py`` (real nvidia abstracts published two to
  four times, lightly edited), in two seeded halves loaded with the offline model.  On the
  first half ``search dups`` is run at a grid of thresholds and the default is the lowest
  threshold whose pairs reach ``PRECISION_TARGET`` (dense and keyword vectors); on the
  second half the pairs found at that threshold are reported against the planted ones
  (precision, recall), and ``--collapse`` (by the priority field, and by near-duplicates) is
  judged on ``QUERIES`` seeded ``search like`` queries: the share of collapsed lists with one
  hit per invention, and the recall of distinct inventions (the first ``LIMIT`` inventions
  of the full ranking found in the collapsed top ``LIMIT``).
- ``suggest``: ``search eval --suggest`` on held-out documents of ``patents_nvidia.xlsx``
  (CPC subclass) and ``patents_ko.xlsx`` (IPC subclass) per mode, with each held-out
  document's own near-copies (voters scoring at least ``COPY_SCORE``) left out too.
- ``scale``: ``search dups`` over the scale benchmark's 100,000 points
  (``bench/out/scale/store_100000_none``, built by ``python -m bench --scale 100k``).

The JSON report goes to stdout and ``bench/out/toolkit.json``; its section replaces the part
between the ``toolkit`` markers of BENCHMARKS.md and of docs/toolkit.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
import time
from dataclasses import replace
from typing import Any

from .common import OUT, ROOT, log, machine, save_json

REPORT = OUT / "toolkit.json"
BEGIN = "<!-- toolkit:begin -->"
END = "<!-- toolkit:end -->"
FIGURES = ("families", "real", "suggest", "scale")
THRESHOLDS = {
    "dense": (0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 0.92, 0.94, 0.96),
    "keyword": (0.50, 0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90),
}
PRECISION_TARGET = 0.95
QUERIES = 200
LIMIT = 10
COPY_SCORE = 0.9  # a voter this similar to a held-out document is a copy of it
SUGGEST_SAMPLE = 500
SCALE_STORE = OUT / "scale" / "store_100000_none"
SCALE_COLLECTION = "scale"


# -- families and near-duplicates --------------------------------------------------------------


def _fixture_halves() -> tuple[Any, Any, Any]:
    from . import families
    from .embeddings import nvidia_embeddings_limited

    docs, vectors, _ = nvidia_embeddings_limited()
    inventions = families.distinct_inventions(docs, vectors)
    tune, held = families.halves(inventions)
    return (
        families.build(docs, tune, families.SEED),
        families.build(docs, held, families.SEED + 1),
        (docs, vectors),
    )


def _load_fixture(fixture: Any, name: str, cached: tuple[Any, Any]) -> tuple[Any, float]:
    """The fixture's rows as a CSV, loaded with the offline model (the original abstracts'
    vectors from the embedding cache, the edited ones embedded here)."""
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings
    from patentsim.store import StoreSettings, open_store

    from .quality import LookupEmbedder

    docs, vectors = cached
    folder = OUT / f"store_{name}"
    settings = StoreSettings(path=str(folder))
    store = open_store(settings)
    try:  # the fixture is the same on every run: a complete earlier load is kept
        if store.exists(name):
            coll = store.open(name)
            if coll.count() == len(fixture.rows) and coll.read_manifest().state == "ready":
                return settings, 0.0
    finally:
        store.close()
    shutil.rmtree(folder, ignore_errors=True)
    src = OUT / f"{name}.csv"
    with src.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(fixture.rows[0]))
        writer.writeheader()
        writer.writerows(fixture.rows)
    from patentsim.ingest.records import clean_text

    spellings = [
        [clean_text(str(d["abstract"])).strip() for d in docs],
        [" ".join(str(d["abstract"]).split()) for d in docs],
    ]
    emb = LookupEmbedder([t for s in spellings for t in s], _twice(vectors))
    started = time.perf_counter()
    load(
        src,
        LoadSettings(store_settings=settings, collection=name, id_column="publication_number"),
        embedder=emb,
    )
    return settings, time.perf_counter() - started


def _twice(vectors: Any) -> Any:
    import numpy as np

    return np.concatenate([vectors, vectors])


def _pairs_of(found: Any) -> set[tuple[str, str]]:
    out = set()
    for g in found.groups:
        keys = sorted(m.key for m in g.members)
        out.update((a, b) for i, a in enumerate(keys) for b in keys[i + 1 :])
    return out


def _score_pairs(got: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, Any]:
    hit = len(got & truth)
    return {
        "pairs_found": len(got),
        "pairs_planted": len(truth),
        "precision": round(hit / len(got), 4) if got else 1.0,
        "recall": round(hit / len(truth), 4) if truth else 1.0,
    }


def _dups_at(settings: Any, name: str, source: str, threshold: float) -> Any:
    from patentsim.search import Session
    from patentsim.search.dups import DupOptions, find_duplicates

    with Session(settings, name) as session:
        return find_duplicates(session, DupOptions(threshold=threshold, source=source))


def _collapse_quality(
    settings: Any, name: str, fixture: Any, collapse: str, among: list[str] | None = None
) -> dict[str, Any]:
    """Over seeded like queries (of the documents ``among``, default all): lists holding one
    hit per invention, recall of distinct inventions against the full ranking, and the time
    per collapsed query."""
    from patentsim.search import QueryOptions, Session

    keys = sorted(among if among is not None else fixture.family_of)
    picked = random.Random(7).sample(keys, min(QUERIES, len(keys)))
    pure = 0
    recall = 0.0
    seconds = 0.0
    with Session(settings, name) as session:
        for key in picked:
            full = session.like(key, QueryOptions(limit=200), key=True).hits
            own = fixture.family_of[key]
            wanted: list[int] = []
            for h in full:
                inv = fixture.family_of[h.key]
                if inv != own and inv not in wanted:
                    wanted.append(inv)
            wanted = wanted[:LIMIT]
            started = time.perf_counter()
            got = session.like(key, QueryOptions(limit=LIMIT + 1, collapse=collapse), key=True)
            seconds += time.perf_counter() - started
            # the query's own family (its other publications) takes one place of the list
            listed = [fixture.family_of[h.key] for h in got.hits]
            pure += len(listed) == len(set(listed))
            others = [inv for inv in listed if inv != own][:LIMIT]
            recall += len(set(others) & set(wanted)) / len(wanted) if wanted else 1.0
    n = len(picked)
    return {
        "collapse": collapse,
        "queries": n,
        "one_hit_per_invention": round(pure / n, 4),
        "recall_of_distinct_inventions": round(recall / n, 4),
        "ms_per_query": round(1000 * seconds / n, 1),
    }


def families_figure() -> dict[str, Any]:
    from patentsim.search.dups import DEFAULT_THRESHOLD

    tune, held, cached = _fixture_halves()
    out: dict[str, Any] = {"halves": {}}
    loaded = {}
    for name, fixture in (("families_tune", tune), ("families_report", held)):
        settings, seconds = _load_fixture(fixture, name, cached)
        loaded[name] = settings
        out["halves"][name] = {
            "documents": len(fixture.rows),
            "families": fixture.families,
            "singles": fixture.singles,
            "planted_pairs": len(fixture.pairs()),
        }
        log(f"{name}: {len(fixture.rows):,} documents ({seconds:.0f} s to load)")
    out["sources"] = {}
    for source, grid in THRESHOLDS.items():
        sweep = []
        for t in grid:
            found = _dups_at(loaded["families_tune"], "families_tune", source, t)
            sweep.append(dict(_score_pairs(_pairs_of(found), tune.pairs()), threshold=t))
        good = [s for s in sweep if s["precision"] >= PRECISION_TARGET]
        chosen = min(good, key=lambda s: s["threshold"])["threshold"] if good else grid[-1]
        found = _dups_at(loaded["families_report"], "families_report", source, chosen)
        report = _score_pairs(_pairs_of(found), held.pairs())
        at_default = _dups_at(
            loaded["families_report"], "families_report", source, DEFAULT_THRESHOLD[source]
        )
        out["sources"][source] = {
            "sweep_on_tune_half": sweep,
            "chosen_threshold": chosen,
            "report_half": dict(report, seconds=round(found.seconds, 2)),
            "default_threshold": DEFAULT_THRESHOLD[source],
            "report_half_at_default": _score_pairs(_pairs_of(at_default), held.pairs()),
        }
        log(f"dups {source}: threshold {chosen} -> {report}")
    from patentsim.search import collapse

    out["collapse"] = []
    for how, vectors in (
        ("priority_numbers", None),
        ("near-dup", ("keyword",)),
        ("near-dup", ("dense",)),
    ):
        chosen_sources = collapse.NEAR_DUP_SOURCES
        collapse.NEAR_DUP_SOURCES = vectors or chosen_sources  # the vectors compared
        try:
            row = _collapse_quality(loaded["families_report"], "families_report", held, how)
        finally:
            collapse.NEAR_DUP_SOURCES = chosen_sources
        row["vectors"] = vectors[0] if vectors else None
        row["default"] = vectors is None or vectors[0] == chosen_sources[0]
        out["collapse"].append(row)
    log(f"collapse: {out['collapse']}")
    return out


# -- real families: the shared data's heuristic family pairs -----------------------------------

REAL_PAIRS = "sources/_derived/heuristic_family_pairs_en.csv"
REAL_DISTRACTORS = 2_500  # other documents of patents_en.csv beside the families' members


def real_families_figure() -> dict[str, Any]:
    """``search dups`` and ``--collapse near-dup`` against real families: the shared data's
    heuristic family pairs (the same normalized title and assignee, one document per
    country: the US, WO, EP, CN, ... publications of one invention, their abstracts as the
    offices wrote or translated them), among seeded other documents of patents_en.csv.  The
    pairs are weak truth: a pair found outside them may be a true duplicate, so the precision
    here is a lower bound."""
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.records import clean_text
    from patentsim.ingest.settings import LoadSettings
    from patentsim.store import StoreSettings

    from . import families
    from .common import DATA, EN_CSV
    from .quality import LookupEmbedder, cached_vectors

    with (DATA / REAL_PAIRS).open(encoding="utf-8") as f:
        pairs = list(csv.DictReader(f))
    with EN_CSV.open(encoding="utf-8") as f:
        rows = {r["doc_id"]: r for r in csv.DictReader(f) if r["abstract"].strip()}
    family_of: dict[str, int] = {}
    for p in pairs:
        if p["doc_id_a"] in rows and p["doc_id_b"] in rows:
            family_of[p["doc_id_a"]] = family_of[p["doc_id_b"]] = int(p["group_id"])
    others = sorted(k for k in rows if k not in family_of)
    picked = random.Random(30).sample(others, min(REAL_DISTRACTORS, len(others)))
    for n, key in enumerate(picked):
        family_of[key] = -1 - n  # a family of its own
    keys = sorted(family_of)
    columns = ("doc_id", "country", "title", "abstract", "assignee")
    table = [{c: rows[k].get(c, "") for c in columns} for k in keys]
    fixture = families.Fixture(table, family_of, len({v for v in family_of.values() if v > 0}), 0)
    src = OUT / "families_real.csv"
    with src.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns))
        writer.writeheader()
        writer.writerows(table)
    texts = [clean_text(r["abstract"]).strip() for r in table]
    vectors, _ = cached_vectors("families_real", texts, "abstracts")
    folder = OUT / "store_families_real"
    shutil.rmtree(folder, ignore_errors=True)
    settings = StoreSettings(path=str(folder))
    load(
        src,
        LoadSettings(store_settings=settings, collection="real", id_column="doc_id"),
        embedder=LookupEmbedder(texts, vectors),
    )
    out: dict[str, Any] = {
        "documents": len(table),
        "families": fixture.families,
        "family_members": sum(1 for v in family_of.values() if v > 0),
        "pairs": len(fixture.pairs()),
        "sources": {},
    }
    from patentsim.search.dups import DEFAULT_THRESHOLD

    shingles = {r["doc_id"]: families._shingles(r["abstract"]) for r in table}

    def copies(a: str, b: str) -> bool:
        union = len(shingles[a] | shingles[b]) or 1
        return len(shingles[a] & shingles[b]) / union >= families.COPY_JACCARD

    truth = fixture.pairs()
    for source in THRESHOLDS:
        got = _pairs_of(_dups_at(settings, "real", source, DEFAULT_THRESHOLD[source]))
        outside = got - truth
        copied = sum(1 for a, b in outside if copies(a, b))
        out["sources"][source] = dict(
            _score_pairs(got, truth),
            threshold=DEFAULT_THRESHOLD[source],
            outside_truth=len(outside),
            outside_truth_textual_copies=copied,
            precision_counting_copies=round((len(got & truth) + copied) / len(got), 4)
            if got
            else 1.0,
        )
    members = [k for k in keys if family_of[k] > 0]
    out["collapse"] = _collapse_quality(settings, "real", fixture, "near-dup", members)
    log(f"real families: {out}")
    return out


# -- class suggestion -------------------------------------------------------------------------


def _ko_collection() -> Any:
    """patents_ko.xlsx loaded with the offline model (abstracts' vectors cached in bench/out)."""
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings
    from patentsim.store import StoreSettings, open_store

    from .quality import KO_XLSX, LookupEmbedder, _texts, cached_vectors

    folder = OUT / "store_ko_toolkit"
    settings = StoreSettings(path=str(folder))
    store = open_store(settings)
    try:
        if store.exists("ko") and store.open("ko").read_manifest().state == "ready":
            return settings
    finally:
        store.close()
    texts = _texts(KO_XLSX, "abstract")
    vectors, _ = cached_vectors("patents_ko", texts, "abstracts")
    load(
        KO_XLSX,
        LoadSettings(
            store_settings=settings, collection="ko", id_column="application_number", recreate=True
        ),
        embedder=LookupEmbedder(texts, vectors),
    )
    return settings


def _suggest_rows(
    settings: Any, name: str, label: str, copies: float | None
) -> list[dict[str, Any]]:
    from patentsim.embed.retrieval import MODES
    from patentsim.search import Session
    from patentsim.search.suggest import SuggestEvalOptions, held_out, measure

    options = SuggestEvalOptions(label, sample=SUGGEST_SAMPLE)
    rows = []
    with Session(settings, name, model="minilm") as session:
        held = held_out(session, label, options)
        for mode in MODES:
            for k in (5, 10, 20):
                for below in (None,) if copies is None else (None, copies):
                    if below is not None and mode != "dense":
                        continue  # a copy's score is a cosine only in dense mode
                    row = measure(session, label, held, replace(options, k=k), mode, below=below)
                    d = row.to_dict()
                    d["near_copies_left_out"] = below is not None
                    rows.append(d)
                    log(f"suggest {name} {mode} k={k} below={below}: {d}")
    return rows


def suggest_figure() -> dict[str, Any]:
    from .embeddings import nvidia_embeddings_limited
    from .startup import COLLECTION, nvidia_collection

    docs, vectors, meta = nvidia_embeddings_limited()
    nvidia = nvidia_collection(docs, vectors, meta["tokens"])
    from patentsim.store import StoreSettings

    return {
        "patents_nvidia": {
            "label": "cpc",
            "rows": _suggest_rows(StoreSettings(path=str(nvidia)), COLLECTION, "cpc", COPY_SCORE),
        },
        # The English offline model scores Korean texts close to each other (its tokenizer
        # splits Hangul into jamo): a cosine of COPY_SCORE tells no copy there.
        "patents_ko": {
            "label": "ipc",
            "rows": _suggest_rows(_ko_collection(), "ko", "ipc", None),
        },
    }


# -- search dups at 100,000 points -------------------------------------------------------------


def scale_figure() -> dict[str, Any]:
    """``search dups`` over the 100,000 points, its searches in batches (as the command asks
    them) and one at a time (as it asked them before batches) in one run; the two answers
    compared; the cost of exact search in numpy blocks measured on one block."""
    import resource

    if not (SCALE_STORE / SCALE_COLLECTION).is_dir():
        raise FileNotFoundError(f"{SCALE_STORE}: run `python -m bench --scale 100k` first")
    out: dict[str, Any] = {}
    answers = {}
    for path in ("batched", "single"):
        figure, answers[path] = _dups_at_scale(single=path == "single")
        out["dense" if path == "batched" else "dense_single"] = figure
        log(f"dups at 100k ({path}): {figure}")
        if path == "batched":  # the first run: this process's peak is that of search dups
            out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["same_groups"] = answers["batched"] == answers["single"]
    out["exact_numpy"] = _exact_block_cost()
    return out


def _dups_at_scale(single: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    from patentsim.search import Session
    from patentsim.search.dups import DupOptions, find_duplicates
    from patentsim.store import StoreSettings
    from patentsim.store.edge import EdgeCollection
    from patentsim.store.queries import PlannedQueries

    batched = EdgeCollection.__dict__["_dense_pairs"]
    if single:  # the backend's one-search call per document, as before batches
        EdgeCollection._dense_pairs = PlannedQueries._dense_pairs  # type: ignore[method-assign]
    try:
        load_before = _load()
        started = time.perf_counter()
        cpu = time.process_time()
        with Session(StoreSettings(path=str(SCALE_STORE)), SCALE_COLLECTION) as session:
            found = find_duplicates(session, DupOptions(source="dense"), progress=log)
        figure = {
            "documents": found.documents,
            "groups": len(found.groups),
            "grouped": found.grouped,
            "threshold": found.threshold,
            "searches": found.searches,
            "library_s": round(found.seconds, 1),
            "wall_s": round(time.perf_counter() - started, 1),
            "cpu_s": round(time.process_time() - cpu, 1),
            "load_average_before": load_before,
            "load_average": _load(),
        }
    finally:
        EdgeCollection._dense_pairs = batched  # type: ignore[method-assign]
    answer = found.to_dict()
    answer.pop("seconds")
    # The groups themselves, to compare with another run's (not part of the report).
    save_json(OUT / f"dups_scale_{'single' if single else 'batched'}.json", answer)
    return figure, answer


EXACT_BLOCK = 1024


def _exact_block_cost() -> dict[str, Any]:
    """Exact search in numpy blocks: one block of ``EXACT_BLOCK`` documents scored against
    all (a matrix product, the pairs at the threshold picked out); the whole collection
    takes n / EXACT_BLOCK such blocks (half of them over the upper triangle)."""
    import numpy as np

    from patentsim.search import Session
    from patentsim.search.dups import DEFAULT_THRESHOLD
    from patentsim.store import StoreSettings

    with Session(StoreSettings(path=str(SCALE_STORE)), SCALE_COLLECTION) as session:
        coll = session.open().coll
        x = np.stack(
            [
                np.asarray(p.vector, dtype=np.float32)
                for p in coll.scroll(with_vectors=True, with_payload=False, batch=1024)
            ]
        )
    started = time.perf_counter()
    cpu = time.process_time()
    scores = x[:EXACT_BLOCK] @ x.T
    pairs = int(np.count_nonzero(scores >= DEFAULT_THRESHOLD["dense"]))
    block_s = time.perf_counter() - started
    blocks = -(-len(x) // EXACT_BLOCK)
    return {
        "block_rows": EXACT_BLOCK,
        "block_s": round(block_s, 2),
        "block_cpu_s": round(time.process_time() - cpu, 2),
        "block_pairs": pairs,
        "blocks": blocks,
        "estimate_s": round(block_s * blocks / 2, 1),
        "matrix_mib": round(x.nbytes / 2**20),
    }


# -- the report --------------------------------------------------------------------------------


def section(report: dict[str, Any]) -> str:
    """The Markdown section (BENCHMARKS.md and docs/toolkit.md) from the JSON report."""
    from . import families

    f = report["figures"]
    m = report["machine"]
    lines = [
        BEGIN,
        "## Analyst toolkit: near-duplicates, `--collapse`, `search suggest`",
        "",
        f"Measured by `python -m bench.toolkit` on {m.get('cpu', '?')} ({m.get('cores', '?')} "
        "cores, shared with other developers' work; load average before and after each run: "
        + "; ".join(_runs(report))
        + "); offline model (all-MiniLM-L6-v2).",
        "",
    ]
    lines += _targets(f)
    fam = f.get("families")
    if fam:
        halves = fam["halves"]
        t, r = halves["families_tune"], halves["families_report"]
        lines += [
            "### Near-duplicates and families (planted fixture, `bench/families.py`)",
            "",
            f"Real nvidia abstracts, each invention once, in two seeded halves; in each, "
            f"{r['families']} inventions published 2-4 times (grant with words reworded, EP "
            "filing in British spelling with another opening, a translation stand-in with "
            "phrases reworded, articles dropped and sentences moved), the others once. "
            f"Tuning half: {t['documents']:,} documents, {t['planted_pairs']:,} planted pairs; "
            f"report half: {r['documents']:,} documents, {r['planted_pairs']:,} pairs.",
            "",
            "| `search dups --source` | threshold (lowest with precision ≥ 0.95 on the "
            "tuning half) | precision | recall | seconds | default | precision / recall at "
            "the default |",
            "|---|---|---|---|---|---|---|",
        ]
        for source, s in fam["sources"].items():
            rep, dflt = s["report_half"], s["report_half_at_default"]
            lines.append(
                f"| {source} | {s['chosen_threshold']} | {rep['precision']:.3f} | "
                f"{rep['recall']:.3f} | {rep['seconds']} | {s['default_threshold']} | "
                f"{dflt['precision']:.3f} / {dflt['recall']:.3f} |"
            )
        lines += [
            "",
            f"`search like --collapse` on {fam['collapse'][0]['queries']} seeded queries of "
            f"the report half (targets: one hit per family, recall of distinct families ≥ "
            "0.95):",
            "",
            "| `--collapse` | lists with one hit per invention | recall of distinct "
            "inventions (top 10) | ms per query |",
            "|---|---|---|---|",
        ]
        for c in fam["collapse"]:
            how = c["collapse"]
            if c.get("vectors"):
                how += f" ({c['vectors']} vectors{', the default' if c['default'] else ''})"
            lines.append(
                f"| {how} | {c['one_hit_per_invention']:.3f} | "
                f"{c['recall_of_distinct_inventions']:.3f} | {c['ms_per_query']} |"
            )
        lines.append("")
    real = f.get("real")
    if real:
        c = real["collapse"]
        lines += [
            "### Real families (the shared data's heuristic family pairs)",
            "",
            f"{real['documents']:,} documents of `patents_en.csv`: the {real['family_members']} "
            f"members of {real['families']} families that share a normalized title and an "
            f"assignee, one publication per country ({real['pairs']} pairs; US, WO, EP, CN, "
            "JP... versions, abstracts as each office wrote or translated them), and seeded "
            "other documents. Weak truth: a pair found outside it may be a true duplicate, so "
            "the precision is a lower bound; the pairs found outside it whose abstracts share "
            f"half their word trigrams or more (Jaccard ≥ {families.COPY_JACCARD}: "
            "continuations, re-filings) are counted as copies in the next column.",
            "",
            "| `search dups --source` | threshold | pairs found | precision (lower bound) | "
            "precision counting textual copies | recall |",
            "|---|---|---|---|---|---|",
        ]
        for source, x in real["sources"].items():
            lines.append(
                f"| {source} | {x['threshold']} | {x['pairs_found']:,} | {x['precision']:.3f} "
                f"| {x['precision_counting_copies']:.3f} | {x['recall']:.3f} |"
            )
        lines += [
            "",
            f"`--collapse near-dup` on {c['queries']} queries by family members: "
            f"{c['one_hit_per_invention']:.3f} of the lists hold one hit per family, recall "
            f"of distinct families {c['recall_of_distinct_inventions']:.3f}, "
            f"{c['ms_per_query']} ms per query.",
            "",
        ]
    sc = f.get("scale")
    if sc:
        lines += _scale_lines(sc)
    sg = f.get("suggest")
    if sg:
        lines += [
            "### `search suggest`: held-out documents (target: nvidia CPC subclass "
            "precision@1 ≥ 0.75)",
            "",
            'Each held-out document\'s own codes never vote. "copies out": voters scoring '
            f"≥ {COPY_SCORE} (the document's continuations and re-filings, which a new text "
            "would not have) left out too.",
            "",
            "| set (label) | mode | k | copies out | documents | precision@1 | recall@5 |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, s in ((n, x) for n, x in sg.items() if not n.startswith("_")):
            for row in s["rows"]:
                lines.append(
                    f"| {name} ({s['label']}) | {row['mode']} | {row['k']} | "
                    f"{'yes' if row['near_copies_left_out'] else 'no'} | {row['queries']} | "
                    f"{row['precision_at_1']:.3f} | {row['recall_at_5']:.3f} |"
                )
        lines.append("")
    if report.get("errors"):
        lines += [f"Not measured: {', '.join(sorted(report['errors']))} (see the JSON).", ""]
    lines.append(END)
    return "\n".join(lines)


def _scale_lines(sc: dict[str, Any]) -> list[str]:
    d = sc["dense"]
    out = [
        "### `search dups` at 100,000 points (target ≤ 2 minutes)",
        "",
        f"The scale benchmark's 100,000 points (384-d, HNSW): {d['wall_s']} s wall, "
        f"{d.get('cpu_s', '?')} s CPU in this process (load average "
        + (f"{d['load_average_before']} at the start, " if "load_average_before" in d else "")
        + f"{d.get('load_average', '?')} at the end), {d['searches']:,} neighbour searches; "
        f"{d['groups']:,} groups holding {d['grouped']:,} documents at the dense default "
        f"threshold {d['threshold']}. These vectors are mixtures of the nvidia embeddings, "
        "far more crowded than real abstracts: a document whose ten nearest all score above "
        f"the threshold asks again for more ({d['searches'] - d['documents']:,} searches "
        "beyond one per document).",
        "",
    ]
    one = sc.get("dense_single")
    if one:
        from patentsim.search.dups import BATCH

        same = "the same groups, members and scores"
        if not sc.get("same_groups"):
            same = "**other groups**"

        out += [
            "The searches go to the embedded engine in batches (`query_batch`, "
            f"{BATCH} documents' searches per call); asked one at a time, as before "
            "batches, in the same run: "
            f"{one['wall_s']} s wall, {one['cpu_s']} s CPU (load average "
            f"{one['load_average_before']} → {one['load_average']}), {one['searches']:,} "
            f"searches, {same}: batches take {d['wall_s'] / one['wall_s']:.2f} of the wall "
            f"time and {d['cpu_s'] / one['cpu_s']:.2f} of the CPU time. Peak memory of "
            f"`search dups` (the process, store open): {sc.get('peak_rss_mib', '?')} MiB.",
            "",
        ]
    ex = sc.get("exact_numpy")
    if ex:
        out += [
            f"Exact search in numpy blocks instead (the {ex['matrix_mib']} MiB of vectors in "
            f"memory): one block of {ex['block_rows']:,} documents against all took "
            f"{ex['block_s']} s ({ex['block_cpu_s']} s CPU, the pairs at the threshold "
            f"picked out), so the {ex['blocks']} blocks would take about {ex['estimate_s']} s "
            "over the upper triangle alone (each pair once), and its answer would be exact "
            "search's rather than the index's: not used.",
            "",
        ]
    return out


def _runs(report: dict[str, Any]) -> list[str]:
    """When each figure was measured and the machine's load then."""
    by_run: dict[tuple[str, Any, Any], list[str]] = {}
    for name, figure in report["figures"].items():
        run = figure.get("_run") or {
            "at": report["measured_at"],
            "load_before": report["load_before"],
            "load_after": report.get("load_after"),
        }
        by_run.setdefault((run["at"], run["load_before"], run["load_after"]), []).append(name)
    return [
        f"{', '.join(names)} {at}, {before} → {after}"
        for (at, before, after), names in sorted(by_run.items())
    ]


def _targets(f: dict[str, Any]) -> list[str]:
    """The issue's targets against the numbers measured."""
    rows = []
    fam = f.get("families")
    if fam:
        for c in fam["collapse"][:2]:  # by the priority field; near-dup as by default
            one = c["one_hit_per_invention"]
            recall = c["recall_of_distinct_inventions"]
            met = (
                "yes"
                if one == 1 and recall >= 0.95
                else ("recall yes; one per family **no**" if recall >= 0.95 else "**no**")
            )
            rows.append(
                f"| `--collapse {c['collapse']}`: one hit per family, recall of distinct "
                f"families ≥ 0.95 | {one:.3f} of lists one per family; recall {recall:.3f} | "
                f"{met} |"
            )
        for source, x in fam["sources"].items():
            r = x["report_half_at_default"]
            ok = r["precision"] >= 0.95 and r["recall"] >= 0.90
            rows.append(
                f"| `search dups` ({source}, default {x['default_threshold']}): precision ≥ "
                f"0.95, recall ≥ 0.90 | {r['precision']:.3f} / {r['recall']:.3f} | "
                f"{'yes' if ok else '**no**'} |"
            )
    sc = f.get("scale")
    if sc:
        d = sc["dense"]
        met = (
            "yes"
            if d["wall_s"] <= 120
            else ("**no** (wall)" if d.get("cpu_s", 1e9) <= 120 else "**no**")
        )
        if sc.get("same_groups") is False:  # batches must find what single searches found
            met = "**no** (other groups than single searches)"
        rows.append(
            f"| `search dups` over 100,000 points ≤ 2 minutes | {d['wall_s']} s wall, "
            f"{d.get('cpu_s', '?')} s CPU (load {d.get('load_average', '?')}) | {met} |"
        )
    sg = f.get("suggest")
    if sg:
        for name, target in (("patents_nvidia", 0.75), ("patents_ko", None)):
            chosen = [r for r in sg[name]["rows"] if r["k"] == 10 and not r["near_copies_left_out"]]
            shown = ", ".join(f"{r['mode']} {r['precision_at_1']:.3f}" for r in chosen)
            if target is None:
                rows.append(
                    f"| `search suggest` on {name} (IPC subclass): report | "
                    f"precision@1, k=10: {shown} | reported |"
                )
            else:
                ok = all(r["precision_at_1"] >= target for r in chosen)
                rows.append(
                    f"| `search suggest` on {name} (CPC subclass): precision@1 ≥ {target} | "
                    f"k=10: {shown} | {'yes' if ok else '**no**'} |"
                )
    if not rows:
        return []
    return ["| target (issue 30) | measured | met |", "|---|---|---|", *rows, ""]


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


def write_section(text: str) -> None:
    for path in (ROOT / "BENCHMARKS.md", ROOT / "docs" / "toolkit.md"):
        if path.is_file():
            old = path.read_text(encoding="utf-8")
            path.write_text(keep_section(old, old, text), encoding="utf-8")
    log("wrote the toolkit section of BENCHMARKS.md and docs/toolkit.md")


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.toolkit", description=__doc__)
    ap.add_argument("--only", help="comma-separated: " + ",".join(FIGURES))
    ap.add_argument("--render", action="store_true", help="the section from the last JSON")
    ap.add_argument("--no-write", action="store_true", help="leave the Markdown files alone")
    args = ap.parse_args(argv)
    if args.render:
        write_section(section(json.loads(REPORT.read_text(encoding="utf-8"))))
        return 0
    wanted = (args.only or ",".join(FIGURES)).split(",")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    OUT.mkdir(parents=True, exist_ok=True)
    old: dict[str, Any] = json.loads(REPORT.read_text(encoding="utf-8")) if REPORT.is_file() else {}
    report: dict[str, Any] = {
        "command": "python -m bench.toolkit" + (f" --only {args.only}" if args.only else ""),
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "load_before": _load(),
        "figures": dict(old.get("figures") or {}),  # figures not asked for are kept
        "errors": {},
    }
    for kept in report["figures"].values():  # each with the run that measured it
        kept.setdefault(
            "_run",
            {
                "at": old.get("measured_at"),
                "load_before": old.get("load_before"),
                "load_after": old.get("load_after"),
            },
        )
    run = {
        "families": families_figure,
        "real": real_families_figure,
        "suggest": suggest_figure,
        "scale": scale_figure,
    }
    for name in wanted:
        started = time.perf_counter()
        at, before = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), _load()
        try:
            report["figures"][name] = run[name]()
            report["figures"][name]["_run"] = {
                "at": at,
                "load_before": before,
                "load_after": _load(),
            }
        except Exception as exc:  # one failing figure must not hide the others
            import traceback

            log(f"{name}: FAILED: {exc}")
            report["errors"][name] = "".join(traceback.format_exception(exc))[-3000:]
        log(f"{name}: {time.perf_counter() - started:.0f} s")
    report["load_after"] = _load()
    save_json(REPORT, report)
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    if not args.no_write:
        write_section(section(report))
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
