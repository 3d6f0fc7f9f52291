"""The model-fitting benchmark's report: the runs' table and the targets, met or not."""

from __future__ import annotations

from bench.modelfit_report import BEGIN, END, keep_section, section, targets


def _rows(dense: tuple[float, float], hybrid: tuple[float, float]) -> list[dict]:
    out = []
    for mode, (sub, grp), mrr in (("dense", dense, 0.5), ("keyword", (0.7, 0.55), 0.8),
                                  ("hybrid", hybrid, 0.6)):  # fmt: skip
        out += [
            {
                "mode": mode,
                "level": "subclass",
                "k": 10,
                "queries": 100,
                "precision": sub,
                "mrr": mrr,
            },
            {"mode": mode, "level": "group", "k": 10, "queries": 100, "precision": grp, "mrr": mrr},
        ]
    return out


def _run(name: str, data: str, after_dense: tuple[float, float], after_hybrid: tuple[float, float]):
    return {
        "name": name,
        "data": data,
        "machine": {
            "cpu": "test",
            "cores": 2,
            "gpu": None,
            "versions": {},
            "load_average_at_start": [3.0, 2.0, 1.0],
        },
        "report": {
            "options": {
                "loss": "mnrl",
                "level": "group",
                "epochs": 1,
                "max_seq_length": 128,
                "learning_rate": 5e-5,
            },
            "split": {"train": 100, "held_out": 100},
            "train_seconds": 600.0,
            "train_texts_per_second": 3.0,
            "before": _rows((0.77, 0.60), (0.78, 0.62)),
            "after": _rows(after_dense, after_hybrid),
        },
    }


def test_targets_say_met_and_missed():
    runs = [
        _run("en-a", "nvidia", (0.84, 0.65), (0.86, 0.69)),  # dense group 0.65 < 0.60 + 0.06
        _run("en-b", "nvidia", (0.80, 0.62), (0.81, 0.63)),  # weaker: not the best run
        _run("ko-a", "ko", (0.31, 0.2), (0.5, 0.4)),  # keyword 0.7 is the best mode
    ]
    lines = targets(runs)
    assert (
        "| nvidia | tuned dense P@10 subclass ≥ base 0.770 + 0.06 = 0.830 | en-a | 0.840 | yes |"
        in lines
    )
    assert (
        "| nvidia | tuned dense P@10 group ≥ base 0.600 + 0.06 = 0.660 | en-a | 0.650 | **no** |"
        in lines
    )
    assert (
        "| nvidia | best mode P@10 group ≥ base 0.600 + 0.08 = 0.680 | en-a | hybrid 0.690 | yes |"
        in lines
    )
    assert "| ko | tuned dense P@10 subclass ≥ 0.3 | ko-a | 0.310 | yes |" in lines
    assert "| ko | best mode P@10 subclass ≥ 0.55 | ko-a | keyword 0.700 | yes |" in lines
    text = section(runs)
    assert text.startswith(BEGIN) and text.endswith(END)
    # Runs from before --new-tokens have no record of it.
    assert "| en-a | nvidia | mnrl | group | 1 | 128 | 5e-05 | - | 100 / 100 | 10 min" in text
    runs[2]["report"]["vocabulary"] = {"poor_share": 0.97, "added": 2550}
    assert "| ko-a | ko | mnrl | group | 1 | 128 | 5e-05 | 2,550 | 100 / 100 |" in section(runs)


def test_a_full_bench_run_keeps_the_section():
    old = f"# B\n\n## 1. x\n\n{BEGIN}\nmeasured\n{END}\n\n<!-- scale: y -->\n## Scale\n"
    new = "# B\n\n## 1. y\n\n<!-- scale: y -->\n## Scale\n"
    kept = keep_section(old, new)
    assert kept.count(BEGIN) == 1 and "measured" in kept and "## 1. y" in kept
    assert kept.index(END) < kept.index("## Scale")
    assert keep_section("# B\n", new) == new
