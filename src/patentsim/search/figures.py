"""Files for reports: the landscape map as one self-contained HTML page or a PNG image.

    write_map(result, "landscape.html")   # plotly: zoom, hover (title, key, row), legend
    write_map(result, "landscape.png")    # matplotlib (Agg): for documents and slides

The HTML file holds plotly's JavaScript inline (``include_plotlyjs=True``: it ships
in the ``plotly`` package), so it opens with no network; every title is escaped, so a
title holding markup shows as text.  The PNG draws Korean text with the first font
installed that has Hangul (Noto Sans CJK, NanumGothic, Malgun Gothic, Apple SD Gothic
Neo, ...); without one it says so (``NoHangulFont`` warning) and Hangul shows as boxes.
"""

from __future__ import annotations

import html
import warnings
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from .landscape import NONE, OTHER, Landscape

FIGURE_FORMATS = (".html", ".png")
# Above this many points the HTML map draws with WebGL (SVG gets slow to pan).
WEBGL_ABOVE = 20_000
HANGUL_FONTS = (
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "NanumGothic",
    "NanumBarunGothic",
    "Malgun Gothic",
    "Apple SD Gothic Neo",
    "AppleGothic",
    "Noto Serif CJK KR",
    "UnDotum",
)


class NoHangulFont(UserWarning):
    """No installed font draws Hangul: Korean labels of a PNG show as boxes."""


def write_map(result: Landscape, path: str | Path) -> None:
    """The map as ``path`` (.html or .png, by its extension)."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FIGURE_FORMATS:
        raise UserInputError(
            f"--output {path}: a map is written as .html or .png, not '{suffix or '(none)'}'",
            "name the file *.html (interactive, offline) or *.png (an image)",
        )
    try:
        if suffix == ".html":
            _write_html(result, target)
        else:
            _write_png(result, target)
    except OSError as exc:
        raise UserInputError(f"--output {path}: cannot write ({exc.strerror})") from exc


def title_of(result: Landscape) -> str:
    what = f"{len(result.points):,} documents of '{result.collection}'"
    if result.filtered:
        what = (
            f"{len(result.points):,} of {result.total:,} documents of '{result.collection}' "
            f"matching {result.filter_text()}"
        )
    if result.color_field:
        what += f", coloured by {result.color_field}"
    return what


def groups(result: Landscape) -> list[tuple[str, list[int]]]:
    """The points of each legend entry (in the legend's order), then "other" and "(none)"."""
    members: dict[str, list[int]] = {e.value: [] for e in result.legend}
    members[OTHER] = []
    members[NONE] = []
    for i, point in enumerate(result.points):
        members[result.category(point)].append(i)
    return [(name, idx) for name, idx in members.items() if idx]


def _label(name: str, result: Landscape) -> str:
    counts = {e.value: e.count for e in result.legend}
    return f"{name} ({counts[name]:,})" if name in counts else name


def _write_html(result: Landscape, target: Path) -> None:
    import plotly.graph_objects as go

    trace = go.Scattergl if len(result.points) > WEBGL_ABOVE else go.Scatter
    fig = go.Figure()
    for name, idx in groups(result) or [("documents", list(range(len(result.points))))]:
        pts = [result.points[i] for i in idx]
        fig.add_trace(
            trace(
                x=[p.x for p in pts],
                y=[p.y for p in pts],
                mode="markers",
                name=html.escape(_label(name, result)),
                marker={"size": 5, "opacity": 0.75},
                text=[_hover(p.title, p.key, p.row, p.color) for p in pts],
                customdata=[[p.key, p.row] for p in pts],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    for c in result.clusters:
        if c.x is not None and c.y is not None:
            fig.add_annotation(
                x=c.x, y=c.y, text=html.escape(c.label), showarrow=False, font={"size": 11}
            )
    fig.update_layout(
        title={
            "text": html.escape(title_of(result))
            + f"<br><sup>{html.escape(result.description)}</sup>"
        },
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        plot_bgcolor="white",
        legend={"itemsizing": "constant"},
        height=800,
    )
    fig.write_html(target, include_plotlyjs=True, full_html=True, include_mathjax=False)


def _hover(title: str | None, key: str, row: int | None, color: str | None) -> str:
    lines = [html.escape(title or "(no title)"), f"key {html.escape(key)}, row {row}"]
    if color is not None:
        lines.append(html.escape(color))
    return "<br>".join(lines)


def _write_png(result: Landscape, target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    font = hangul_font()
    texts = [e.value for e in result.legend] + [c.label for c in result.clusters]
    if font is None and any(_has_hangul(t) for t in [*texts, result.collection]):
        warnings.warn(
            "no installed font has Hangul, so Korean labels of the PNG show as boxes "
            "(install one, e.g. Debian's fonts-noto-cjk or fonts-nanum)",
            NoHangulFont,
            stacklevel=3,
        )
    style: Any = {"font.family": [font, "DejaVu Sans"]} if font else {}
    with plt.rc_context(style):
        fig, ax = plt.subplots(figsize=(11, 8), dpi=120)
        try:
            palette = _palette(plt)
            size = 4 if len(result.points) > 20_000 else 9
            for n, (name, idx) in enumerate(groups(result)):
                grey = name in (OTHER, NONE)
                ax.scatter(
                    [result.points[i].x for i in idx],
                    [result.points[i].y for i in idx],
                    s=size,
                    alpha=0.7,
                    linewidths=0,
                    color="#bbbbbb" if grey else palette[n % len(palette)],
                    label=_label(name, result),
                    rasterized=True,
                )
            for c in result.clusters:
                if c.x is not None and c.y is not None:
                    ax.annotate(c.label, (c.x, c.y), fontsize=8, ha="center")
            ax.set_axis_off()
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_title(f"{title_of(result)}\n{result.description}", fontsize=10)
            if result.legend:
                ax.legend(
                    loc="upper left",
                    bbox_to_anchor=(1.01, 1),
                    fontsize=8,
                    markerscale=2,
                    frameon=False,
                )
            fig.savefig(target, bbox_inches="tight")
        finally:
            plt.close(fig)


def _palette(plt: Any) -> list[Any]:
    """60 colours: tab20's strong ones, then its light ones (neighbours in tab20 look
    alike), then tab20b and tab20c (clusters may number up to 30)."""
    tab20 = plt.get_cmap("tab20")
    out = [tab20(i) for i in range(0, 20, 2)] + [tab20(i) for i in range(1, 20, 2)]
    for name in ("tab20b", "tab20c"):
        out += [plt.get_cmap(name)(i) for i in range(20)]
    return out


def _has_hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def hangul_font() -> str | None:
    """The family name of an installed font that draws Hangul, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in HANGUL_FONTS if name in installed), None)
