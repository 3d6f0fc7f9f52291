"""The benchmark's own logic: statistics, synthetic vectors, recall, the report.

Fast: no model is loaded (the query figure runs on a few hundred vectors with
the fake embedder); the real run is ``python -m bench``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import queries
from bench.common import MemoryCgroup, cpc_subclasses, ratio, run_measured, summary_ms
from bench.longtext import cpc_share
from bench.report import (
    SUMMARY_BEGIN,
    SUMMARY_END,
    render,
    replace_summary,
    summary_rows,
    summary_section,
    update,
)

from .conftest import ROOT
from .fakes import FakeEmbedder
from .timing import within

SAMPLE = Path(__file__).with_name("test_bench_sample.json")


def test_summary_ms_gives_median_and_p99_in_milliseconds():
    got = summary_ms([0.001] * 99 + [0.5])
    assert got == {"median_ms": 1.0, "p99_ms": 1.0, "n": 100}
    assert summary_ms([0.002, 0.004, 0.1])["p99_ms"] == 100.0
    assert ratio(3.0, 2.0) == 1.5 and ratio(1.0, 0) is None and ratio(None, 1.0) is None


def test_cpc_subclasses():
    assert cpc_subclasses("G06F9/30189|G06T1/20| H04L 9/00") == {"G06F", "G06T", "H04L"}
    assert cpc_subclasses(None) == set()


def _base(n: int = 300, dim: int = queries.DIM) -> np.ndarray:
    """Clustered unit vectors (a stand-in for real embeddings in unit tests)."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(12, dim))
    x = centres[rng.integers(0, 12, n)] + 0.4 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_synthesize_keeps_real_vectors_and_mixes_them():
    base = _base()
    x, src = queries.synthesize(base, 1000)
    assert x.shape == (1000, queries.DIM) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:300], base)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert src.shape == (1000,) and src.max() < 300
    # A mixture stays close to its main source document.
    cos = (x[300:] * base[src[300:]]).sum(1)
    assert cos.mean() > 0.8
    small, idx = queries.synthesize(base, 100)
    assert small.shape == (100, queries.DIM) and list(idx) == list(range(100))


def test_exact_top_orders_and_leaves_out_the_query():
    x = _base(50)
    top = queries.exact_top(x, x[7], 5, exclude=7)
    assert 7 not in top and len(top) == 5
    scores = x @ x[7]
    assert list(top) == [int(i) for i in np.argsort(-scores) if i != 7][:5]


def test_recall_of_empty_answers():
    assert queries._recall([], np.array([], dtype=int)) == 1.0
    assert queries._recall([1], np.array([], dtype=int)) == 0.0
    assert queries._recall([1, 2], np.array([2, 3])) == 0.5
    # Ties: a duplicate of a true neighbour is as right as the neighbour itself.
    x = np.array([[1.0, 0.0], [0.6, 0.8], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    v = np.array([1.0, 0.0], dtype=np.float32)
    assert queries._recall([0, 2], np.array([0, 1]), x, v) == 1.0
    assert queries._recall([0, 3], np.array([0, 1]), x, v) == 0.5


def test_cpc_share_counts_neighbours_with_a_common_subclass():
    v = np.array([[1, 0], [0.99, 0.14], [0, 1], [0.14, 0.99]], dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    labels = [{"G06F"}, {"G06F"}, {"H04L"}, {"A61B"}]
    share, top = cpc_share(v, labels, np.arange(4))
    assert top[0][0] == 1 and top[2][0] == 3
    assert 0 < share < 1


def test_query_figure_runs_end_to_end_on_a_small_collection(tmp_path, monkeypatch):
    monkeypatch.setattr(queries, "OUT", tmp_path)
    base = _base(300)
    docs = [
        {
            "title": f"title {i}",
            "assignee": "NVIDIA International, Inc." if i % 10 == 0 else "NVIDIA CORPORATION",
            "grant_date": f"{2010 + i % 15}-05-01",
            "cpc": "G06T15/005|G06F9/30" if i % 4 == 0 else "H04L9/00",
        }
        for i in range(300)
    ]
    result = queries.figure4(base, docs, FakeEmbedder(dimension=queries.DIM), [400])
    size = result["sizes"]["400"]
    assert size["like"]["recall_at_10"] >= 0.9
    for label, f in size["filtered"].items():
        assert f["recall_at_10"] == 1.0, label  # filtered queries are answered exactly
        assert f["matching_points"] > 0
    assert size["text"]["recall_at_10"] >= 0.9
    assert {b["m"] for b in size["builds"]} >= {16, 32}
    assert all(len(b["ef_sweep"]) == len(queries.EF_SWEEP) for b in size["builds"])
    assert result["ratio"] == size["like"]["speedup_median"]


def test_report_renders_every_figure_of_a_real_run():
    report = json.loads(SAMPLE.read_text(encoding="utf-8"))
    text = render(report)
    for heading in (
        "## Summary",
        "## 1.",
        "## 2.",
        "## 3.",
        "## 4.",
        "## 5.",
        "## 6.",
        "## Long texts",
    ):
        assert heading in text
    assert "| 1 |" in text and "| 6 |" in text
    rows = summary_rows(report)
    assert {r[0] for r in rows} >= {"1", "2", "3", "4", "5", "6", "long"}
    section = summary_section(text)
    assert section.startswith(SUMMARY_BEGIN) and section.endswith(SUMMARY_END)
    table = [ln for ln in text.split("## Summary", 1)[1].split("\n## ")[0].splitlines() if ln]
    assert [ln for ln in section.splitlines() if ln.startswith("|")] == table
    assert "- **Run**" in section and "(benchmarks-report.md)" in section


def test_report_survives_missing_figures():
    report = json.loads(SAMPLE.read_text(encoding="utf-8"))
    report["figures"] = {"2": report["figures"]["2"]}
    report["errors"] = {"figure 4 (queries)": "Traceback: boom"}
    text = render(report)
    assert "## 2." in text and "## 4." not in text and "boom" in text


def test_update_puts_a_partial_run_into_the_old_page_and_keeps_the_rest():
    full = json.loads(SAMPLE.read_text(encoding="utf-8"))
    old = render(full)
    part = json.loads(SAMPLE.read_text(encoding="utf-8"))
    six = part["figures"]["6"]
    six["rows"][0]["docs_per_s"] = 12345.67
    part["figures"] = {"6": six}
    part["command"] = "python -m bench --only 6 --update"
    new = update(old, part)
    assert "12345.67" in new and new.count("## 6.") == 1
    for heading in ("## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## Long texts"):
        assert new.count(heading) == 1, heading
    assert new.count("| 6 |") == old.count("| 6 |")
    assert [ln for ln in new.splitlines() if ln.startswith("| 1 |")] == [
        ln for ln in old.splitlines() if ln.startswith("| 1 |")
    ]
    assert "- **Updated**: figures 6 by `python -m bench --only 6 --update`" in new
    again = update(new, part)  # a later update of the same figures replaces the line
    assert again.count("- **Updated**: figures 6 by") == 1


def test_the_docs_summary_is_replaced_between_its_markers_and_the_prose_kept():
    report = json.loads(SAMPLE.read_text(encoding="utf-8"))
    page = f"# Benchmarks\n\nintro\n\n{SUMMARY_BEGIN}\nold table\n{SUMMARY_END}\n\nprose\n"
    new = replace_summary(page, render(report))
    assert new.startswith("# Benchmarks\n\nintro\n\n") and new.endswith("\n\nprose\n")
    assert "old table" not in new and "| 1 |" in new
    assert replace_summary(new, render(report)) == new
    with pytest.raises(ValueError, match="summary:begin"):
        replace_summary("# Benchmarks\n", render(report))


def test_the_docs_benchmarks_page_shows_the_summary_of_benchmarks_md():
    """The page's table is BENCHMARKS.md's: a hand edit of either shows here."""
    benchmarks = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    page = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert replace_summary(page, benchmarks) == page


@pytest.mark.timing
def test_run_measured_reports_the_child_peak_memory():
    run = run_measured([sys.executable, "-c", "x = bytearray(80 * 1024 * 1024); print('ok')"])
    assert run.returncode == 0 and run.stdout.strip() == "ok"
    assert run.max_rss_mib >= 80
    assert 0 < run.seconds < within(30)


def test_run_measured_splits_the_peak_into_anonymous_and_file_backed_memory():
    # The allocation is held for half a second: the 0.1 s sampling sees it.
    code = (
        "import time; x = bytearray(80 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); "
        "time.sleep(0.5)"
    )
    run = run_measured([sys.executable, "-c", code])
    assert run.returncode == 0
    assert run.peak_anon_mib >= 80 and run.peak_file_mib > 0
    assert run.peak_anon_mib <= run.max_rss_mib + 1


def test_memory_cgroup_limits_a_child_or_says_why_not():
    why = MemoryCgroup.available()
    if why:
        pytest.skip(f"no memory cgroup here: {why}")
    code = "x = bytearray(60 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096]); print('ok')"
    with MemoryCgroup(400) as cgroup:
        run = run_measured([sys.executable, "-c", code], cgroup=cgroup)
        stats = cgroup.stats()
    assert run.returncode == 0 and run.stdout.strip() == "ok"
    assert 60 <= stats["peak_charged_mib"] <= 400 and stats["oom_kills"] == 0


def test_report_of_figure_5_says_how_memory_splits_and_how_the_capped_run_went():
    report = json.loads(SAMPLE.read_text(encoding="utf-8"))
    five = report["figures"]["5"]
    for run, (anon, file) in zip(five["runs"].values(), ((500.0, 110.0), (610.0, 300.0))):
        run.update(peak_anon_mib=anon, peak_file_mib=file)
    five.update(anon_ratio=1.22, file_ratio=2.727)
    five["capped"] = {"not_run": "no cgroup memory controller here"}
    text = render(report)
    assert "| 20,000 | 17614 | 912.1 | 610.0 | 300.0 |" in text
    assert "anonymous memory (what the process itself holds) 1.22×" in text
    assert "not run (no cgroup memory controller here)" in text
    five["capped"] = {
        "completed": True,
        "returncode": 0,
        "seconds": 40.5,
        "slowdown": 1.459,
        "peak_rss_mib": 905.0,
        "peak_anon_mib": 605.0,
        "peak_file_mib": 290.0,
        "limit_mib": 920.4,
        "limit_multiple": 1.5,
        "peak_charged_mib": 920,
        "times_at_limit": 1234,
        "oom_kills": 0,
    }
    text = render(report)
    assert "limited to 920.4 MiB" in text and "completed in 40.5 s (1.459×" in text
    assert "(1.5× the small load's peak RSS" in text
    assert "1,234 times at the limit" in text
    five["capped"].update(completed=False, returncode=-9, oom_kills=1)
    assert "failed (exit -9, 1 OOM kills)" in render(report)


@pytest.mark.parametrize("args", [["--help"]])
def test_entry_point_help(args):
    out = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.returncode == 0, out.stderr
    assert "--quick" in out.stdout


def test_scale_report_shows_the_serving_runs_under_a_memory_limit():
    from bench.scale_report import _capped_lines

    names = {"none": "fp32", "int8-large": "int8, large", "binary": "binary"}
    like = {"median_ms": 1.2, "p99_ms": 3.4, "n": 199}
    variants = {
        "none": {"processes": {"serving_process": {"peak_rss_mib": 2300.0}}},
        "int8-large": {
            "processes": {
                "serving_capped": {
                    "unlimited": {"like_after_the_first": like},
                    "limit_mib": 920.0,
                    "limit_multiple": 0.4,
                    "completed": True,
                    "like_after_the_first": {"median_ms": 1.9, "p99_ms": 6.1, "n": 199},
                    "peak_charged_mib": 919,
                    "times_at_limit": 4321,
                    "oom_kills": 0,
                    "peak_anon_mib": 495.0,
                    "peak_file_mib": 410.0,
                },
            }
        },
        "binary": {"processes": {"serving_capped": {"not_run": "no cgroup memory controller"}}},
    }
    text = "\n".join(_capped_lines(variants, names))
    assert (
        "| int8, large | 920 | yes | 1.9 / 6.1 (1.2 / 3.4) | 919 | 4,321 | 0 | 495 + 410 |" in text
    )
    assert "| binary | not run: no cgroup memory controller |" in text
    assert "limited to 40% of the fp32 process's peak RSS" in text
    assert _capped_lines({"none": variants["none"]}, names) == []


def test_scale_report_shows_text_queries_beside_the_stored_point_beam():
    from bench.scale import layout_of
    from bench.scale_report import _text_lines

    names = {"int8": "int8", "int8-large-sorted": "int8, large, rows sorted by document"}
    text = {
        "hnsw_ef": 256,
        "median_ms": 2.4,
        "p99_ms": 4.1,
        "n": 200,
        "recall_at_10": 0.996,
        "like_beam": {"hnsw_ef": 64, "median_ms": 1.0, "recall_at_10": 0.9725},
    }
    variants = {
        "int8": {"queries": {"like": {}}},  # a run made before text queries: no row
        "int8-large-sorted": {"queries": {"text": text}},
    }
    lines = _text_lines(variants, names)
    assert (
        "| int8, large, rows sorted by document | 256 | 2.4 | 4.1 | 0.996 | 64, 1.0, 0.9725 |"
        in (lines)
    )
    assert not any(line.startswith("| int8 |") for line in lines)
    assert any(line.startswith("200 patent titles embedded") for line in lines)
    assert _text_lines({"int8": variants["int8"]}, names) == []
    # the sorted layout is the large int8 one, written in another order
    assert layout_of("int8-large-sorted") == layout_of("int8-large") == ("int8", True)
    assert layout_of("binary") == ("binary", False)


def test_evict_page_cache_walks_the_folder(tmp_path):
    from bench.scale import evict_page_cache

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.dat").write_bytes(b"1" * 2**20)
    (tmp_path / "y.dat").write_bytes(b"2" * 2**19)
    assert evict_page_cache(tmp_path) == 1.5
    assert (tmp_path / "a" / "x.dat").read_bytes() == b"1" * 2**20  # the data stays
