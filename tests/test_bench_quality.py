"""The search-quality figure's report: its table, and its section replaced in place."""

from __future__ import annotations

from bench.report import QUALITY_BEGIN, QUALITY_END, quality_lines, replace_quality_section


def _row(mode: str, level: str, p: float, mrr: float, setting: str | None = None) -> dict:
    return {
        "mode": mode,
        "level": level,
        "k": 10,
        "queries": 500,
        "precision": p,
        "mrr": mrr,
        "setting": setting or mode,
    }


def _timing() -> dict:
    one = {"median_ms": 1.0, "p99_ms": 2.0, "n": 50}
    return {m: {"like": one, "text": one} for m in ("dense", "keyword", "hybrid")}


def _report() -> dict:
    modes = [
        _row(m, lvl, p, mrr)
        for m, p, mrr in (("dense", 0.1, 0.05), ("keyword", 0.5, 0.9), ("hybrid", 0.3, 0.3))
        for lvl in ("subclass", "group")
    ]
    entry = {
        "label": "ipc",
        "ingest": {"points": 10, "seconds": 1.0, "default_mode": "keyword", "warnings": []},
        "modes": modes,
        "tune": {
            "tried": [
                {"setting": "dense", "precision": 0.1},
                {"setting": "keyword", "precision": 0.5},
            ],
            "before": [_row("keyword", "subclass", 0.52, 0.9)],
            "after": [_row("keyword", "subclass", 0.52, 0.9)],
            "winner": {"default_mode": "keyword"},
            "tune_queries": 250,
        },
        "tuned_default": [
            _row("keyword", "subclass", 0.5, 0.9),
            _row("keyword", "group", 0.4, 0.9),
        ],
        "cost": {
            "documents": 10,
            "analyze_seconds": 0.1,
            "embed_seconds": 10.0,
            "ratio": 1.01,
            "target": 1.05,
        },
        "latency_ms": _timing(),
    }
    scale = {"points": 100_000, "build_seconds": 170.0, **_timing()}
    quality = {
        "sample": 500,
        "seed": 0,
        "model": "minilm",
        "sets": {"patents_ko": entry},
        "scale_latency": scale,
    }
    return {"figures": {"quality": quality}}


def test_quality_table_puts_before_and_after_side_by_side():
    text = quality_lines(_report())
    assert text.startswith(QUALITY_BEGIN) and text.endswith(QUALITY_END)
    assert "| `patents_ko.xlsx` | dense = before | 0.100 | 0.100 | 0.050 |" in text
    assert "| `patents_ko.xlsx` | **tuned default: keyword** | 0.500 | 0.400 | 0.900 |" in text
    assert "Latency at 100,000 points" in text and "built in 170.0 s" in text


def test_quality_section_is_replaced_and_the_rest_kept(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nfigure 1 text\n", encoding="utf-8")
    replace_quality_section(path, _report())
    first = path.read_text(encoding="utf-8")
    assert first.startswith("# Benchmarks\n\nfigure 1 text\n") and QUALITY_BEGIN in first
    replace_quality_section(path, _report())
    assert path.read_text(encoding="utf-8") == first
