"""bench/toolkit.py's section: the issue's targets judged from the numbers, every figure's
table, and a full bench run keeping the section."""

from __future__ import annotations

from bench import toolkit


def pairs(precision: float, recall: float) -> dict:
    return {"pairs_found": 100, "pairs_planted": 100, "precision": precision, "recall": recall}


def collapse(how: str, one: float, recall: float, vectors: str | None = None) -> dict:
    return {
        "collapse": how,
        "queries": 200,
        "one_hit_per_invention": one,
        "recall_of_distinct_inventions": recall,
        "ms_per_query": 5.0,
        "vectors": vectors,
        "default": True,
    }


def report(wall: float, nvidia_p1: float) -> dict:
    run = {"at": "2026-12-07 12:00 UTC", "load_before": 1.0, "load_after": 2.0}
    suggest_rows = [
        {
            "mode": m,
            "level": "subclass",
            "k": 10,
            "queries": 500,
            "precision_at_1": p,
            "recall_at_5": 0.9,
            "seconds": 1.0,
            "near_copies_left_out": False,
        }
        for m, p in (("dense", nvidia_p1), ("keyword", 0.8))
    ]
    half = {"documents": 3000, "families": 500, "singles": 1500, "planted_pairs": 1500}
    source = {
        "sweep_on_tune_half": [],
        "chosen_threshold": 0.9,
        "report_half": dict(pairs(0.96, 0.93), seconds=2.0),
        "default_threshold": 0.9,
        "report_half_at_default": pairs(0.96, 0.93),
    }
    real_source = dict(pairs(0.65, 0.75), threshold=0.9, precision_counting_copies=0.8)
    return {
        "measured_at": run["at"],
        "load_before": 1.0,
        "load_after": 2.0,
        "machine": {"cpu": "cpu", "cores": 2},
        "errors": {},
        "figures": {
            "families": {
                "_run": run,
                "halves": {"families_tune": half, "families_report": half},
                "sources": {"dense": source},
                "collapse": [
                    collapse("priority_numbers", 1.0, 1.0),
                    collapse("near-dup", 0.9, 0.97, "keyword"),
                ],
            },
            "real": {
                "_run": run,
                "documents": 3000,
                "families": 266,
                "family_members": 682,
                "pairs": 631,
                "sources": {"dense": real_source},
                "collapse": collapse("near-dup", 0.4, 0.88),
            },
            "scale": {
                "_run": run,
                "dense": {
                    "documents": 100_000,
                    "groups": 10,
                    "grouped": 50,
                    "threshold": 0.9,
                    "searches": 150_000,
                    "library_s": wall,
                    "wall_s": wall,
                    "cpu_s": 100.0,
                    "load_average": 3.0,
                },
            },
            "suggest": {
                "_run": run,
                "patents_nvidia": {"label": "cpc", "rows": suggest_rows},
                "patents_ko": {"label": "ipc", "rows": suggest_rows},
            },
        },
    }


def target_rows(text: str) -> dict[str, str]:
    rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| `")]
    return {r[0].lstrip("| "): r[-1].rstrip(" |") for r in rows if len(r) == 3}


def test_targets_are_judged_from_the_numbers():
    good = target_rows(toolkit.section(report(wall=100.0, nvidia_p1=0.8)))
    assert (
        good[
            "`--collapse priority_numbers`: one hit per family, recall of distinct families ≥ 0.95"
        ]
        == "yes"
    )
    assert (
        "**no**"
        in good["`--collapse near-dup`: one hit per family, recall of distinct families ≥ 0.95"]
    )
    assert good["`search dups` over 100,000 points ≤ 2 minutes"] == "yes"
    assert good["`search suggest` on patents_nvidia (CPC subclass): precision@1 ≥ 0.75"] == "yes"
    bad = target_rows(toolkit.section(report(wall=190.0, nvidia_p1=0.7)))
    assert bad["`search dups` over 100,000 points ≤ 2 minutes"] == "**no** (wall)"
    assert bad["`search suggest` on patents_nvidia (CPC subclass): precision@1 ≥ 0.75"] == "**no**"


def test_every_figure_has_its_part_between_the_markers():
    text = toolkit.section(report(wall=100.0, nvidia_p1=0.8))
    assert text.startswith(toolkit.BEGIN) and text.endswith(toolkit.END)
    for heading in (
        "### Near-duplicates and families",
        "### Real families",
        "### `search dups` at 100,000 points",
        "### `search suggest`",
    ):
        assert heading in text
    assert "12:00 UTC, 1.0 → 2.0" in text


def test_a_full_bench_run_keeps_the_section():
    old = f"# B\n\n## 1. x\n\n{toolkit.BEGIN}\nmeasured\n{toolkit.END}\n\n## Scale\n"
    kept = toolkit.keep_section(old, "# B\n\n## 1. y\n\n## Scale\n")
    assert kept.count(toolkit.BEGIN) == 1 and "measured" in kept and "## 1. y" in kept
    assert kept.index(toolkit.END) < kept.index("## Scale")


def with_single_searches(rep: dict, same: bool) -> dict:
    scale = rep["figures"]["scale"]
    single = dict(scale["dense"], wall_s=150.0, cpu_s=140.0, load_average_before=1.0)
    scale["dense"] = dict(scale["dense"], load_average_before=1.5)
    scale.update(
        dense_single=single,
        same_groups=same,
        peak_rss_mib=900,
        exact_numpy={
            "block_rows": 1024,
            "block_s": 3.0,
            "block_cpu_s": 3.0,
            "block_pairs": 100,
            "blocks": 98,
            "estimate_s": 147.0,
            "matrix_mib": 146,
        },
    )
    return rep


def test_batched_and_single_searches_side_by_side():
    text = toolkit.section(with_single_searches(report(wall=75.0, nvidia_p1=0.8), same=True))
    assert "load average 1.5 at the start, 3.0 at the end" in text
    assert "150.0 s wall, 140.0 s CPU" in text
    assert "the same groups, members and scores: batches take 0.50 of the wall time" in text
    assert "Peak memory of `search dups` (the process, store open): 900 MiB" in text
    assert "would take about 147.0 s over the upper triangle" in text
    assert target_rows(text)["`search dups` over 100,000 points ≤ 2 minutes"] == "yes"
    other = toolkit.section(with_single_searches(report(wall=75.0, nvidia_p1=0.8), same=False))
    assert "**other groups**" in other
    assert target_rows(other)["`search dups` over 100,000 points ≤ 2 minutes"].startswith("**no**")
