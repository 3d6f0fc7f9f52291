"""The landscape benchmark's report: its section of BENCHMARKS.md and the docs page."""

from __future__ import annotations

from bench import landscape

MEASURE = {
    "seconds": 8.91,
    "again_seconds": 0.022,
    "wall_seconds": 11.65,
    "cpu_seconds": 2.57,
    "peak_rss_mib": 518.8,
}
REPORT = {
    "nvidia": {
        "documents": 5157,
        "machine": {
            "date": "2026-12-07 08:40 UTC",
            "cores": 2,
            "cpu": "x",
            "load_average_at_start": [11.05],
            "load_average_at_end": [15.7],
        },
        "methods": {
            "pca": {
                "first": MEASURE,
                "cached": dict(MEASURE, seconds=0.31),
                "cli_html": {
                    "command": "search map --color cpc --method pca -o a.html",
                    "wall_seconds": 4.19,
                    "peak_rss_mib": 314.2,
                    "file_mib": 5.51,
                },
            }
        },
        "clusters": {
            "first": dict(MEASURE, k=23, method="k-means"),
            "cached": dict(MEASURE, k=23, method="k-means"),
        },
    },
    "points_100k": {
        "points": 100000,
        "methods": {"pca": {"first": dict(MEASURE, seconds=40.5)}},
        "clusters": {"first": dict(MEASURE, k=30, method="mini-batch k-means")},
    },
}


def test_render_puts_every_measurement_in_its_row():
    text = landscape.render(REPORT)
    lines = text.splitlines()
    assert lines[0] == landscape.BEGIN and lines[-1] == landscape.END
    assert "| map, first computation | 5,157 | PCA | 8.91 | 11.7 | 2.6 | 519 |" in lines
    assert "| map, cached (new process) | 5,157 | PCA | 0.31 | 11.7 | 2.6 | 519 |" in lines
    assert "| map, cached (same process) | 5,157 | PCA | 0.02 | – | – | – |" in lines
    assert "| map, first computation | 100,000 | PCA | 40.50 | 11.7 | 2.6 | 519 |" in lines
    assert any(
        ln.startswith("| clusters, first computation | 100,000 | mini-batch") for ln in lines
    )
    assert "load average 11.05 at the start, 15.7 at the end" in text
    assert "5.5 MiB file" in text
    assert "- First map of 5,157 documents (target ≤ 30 s): PCA 8.9 s (2.6 s CPU" in text
    assert "PCA 0.02 s with the collection open, 0.31 s in a new process" in text
    assert "- First map of 100,000 points (target ≤ 180 s): PCA 12 s (3 s CPU" in text
    assert "got 22%–22% of a core" in text


def test_sections_are_replaced_and_kept():
    section = landscape.render(REPORT)
    page = f"# Page\n\nbefore\n\n{landscape.BEGIN}\nOLD-TABLE\n{landscape.END}\n\nafter\n"
    replaced = landscape.replace_section(page, section)
    assert "OLD-TABLE" not in replaced and "before" in replaced and "after" in replaced
    assert replaced.count(landscape.BEGIN) == 1
    appended = landscape.replace_section("# Benchmarks\n", section)
    assert "## Landscape map and topic clusters" in appended and section in appended
    # a full run of `python -m bench` writes a page without it: the old section stays
    assert section in landscape.keep_section(appended, "# Benchmarks\n\nnew figures\n")
