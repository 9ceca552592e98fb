"""Charts as inline SVG, drawn with matplotlib (Agg backend, text kept as text, no fonts embedded).

Accessibility: every chart is an ``<svg role="img">`` with a ``<title>`` and an
``aria-label`` naming what it shows; the same data is always printed in a table beside
it; series differ by marker shape, dash pattern and a direct label, never by colour
alone; colours are dark on white (contrast ≥ 4.5:1).

Speed: matplotlib takes ~15 ms to write one SVG, too slow for one chart per school at
1,500 schools. Trend charts on a fixed scale (0–100 for the SQII and percentages) have
the same frame for every school, so the frame (axes, ticks, grid, labels) is drawn by
matplotlib once per set of years and cached; each school's points and lines are placed
into it with the figure's own data-to-pixel transform. Charts whose scale depends on the
data (the Oversight report's, a handful per report) are drawn by matplotlib in full.

Suppressed or missing points (``NaN``) are not plotted and break the line.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "sqis",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.edgecolor": "#333333",
        "axes.labelcolor": "#1a1a1a",
        "xtick.color": "#1a1a1a",
        "ytick.color": "#1a1a1a",
    }
)

# dark, distinguishable colours (contrast ≥ 4.5:1 on white), each paired with a marker and dash
SERIES_STYLE = (
    ("#0b4f8a", "o", ""),  # blue, circle, solid
    ("#a33a00", "s", "6 3"),  # rust, square, dashed
    ("#2f6b1f", "^", "2 2"),  # green, triangle, dotted
    ("#5b2a86", "D", "8 3 2 3"),  # purple, diamond, dash-dot
)
WIDTH_IN, HEIGHT_IN = 4.2, 2.3
DPI = 72  # the SVG backend writes points: at 72 dpi a pixel is a point
LABEL_GAP = 10.0  # points between two series' direct labels


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float | None, ...]  # one per x, NaN/None = not plotted


def _strip(svg: str) -> str:
    svg = svg[svg.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)


def _scope_ids(svg: str, title: str) -> str:
    """Make matplotlib's ids unique on a page that holds several charts.

    The prefix is a digest of the chart itself, so the same data gives the same bytes on
    every run (reports are reproducible) and different charts never share an id.
    """
    p = "c" + hashlib.sha1((title + svg).encode("utf-8"), usedforsecurity=False).hexdigest()[:10]
    p += "-"
    svg = svg.replace('id="', f'id="{p}')
    svg = svg.replace('href="#', f'href="#{p}')
    return svg.replace("url(#", f"url(#{p}")


def _accessible(svg: str, title: str) -> str:
    t = escape(title, quote=True)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{t}" focusable="false" ', 1)
    head_end = svg.index(">") + 1
    return svg[:head_end] + f"<title>{t}</title>" + svg[head_end:]


@dataclass(frozen=True)
class _Frame:
    svg_head: str  # the matplotlib frame up to (not including) the closing </svg>
    height_pt: float
    x_px: tuple[float, ...]
    y0_px: float  # pixel y (from bottom) of y = ymin
    y_per_unit: float
    ymin: float


@lru_cache(maxsize=64)
def _trend_frame(xlabels: tuple[str, ...], ymin: float, ymax: float, ylabel: str) -> _Frame:
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    ax = fig.add_subplot()
    xs = list(range(len(xlabels)))
    ax.set_xlim(-0.4, max(len(xlabels) - 1, 1) + 0.4)
    ax.set_ylim(ymin, ymax)
    ax.set_xticks(xs, labels=list(xlabels))
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color="#d0d0d0", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    # the right margin holds the series' direct labels (drawn outside the axes, not clipped)
    fig.subplots_adjust(left=0.13, right=0.76, top=0.95, bottom=0.13)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = _strip(buf.getvalue())
    svg = svg[: svg.rindex("</svg>")]
    tr = ax.transData
    x_px = tuple(float(tr.transform((x, ymin))[0]) for x in xs)
    y0 = float(tr.transform((0, ymin))[1])
    y1 = float(tr.transform((0, ymax))[1])
    return _Frame(
        svg_head=svg,
        height_pt=HEIGHT_IN * DPI,
        x_px=x_px,
        y0_px=y0,
        y_per_unit=(y1 - y0) / (ymax - ymin),
        ymin=ymin,
    )


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    r = 3.6
    if shape == "o":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}"/>'
    if shape == "s":
        return (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" '
            f'fill="{colour}"/>'
        )
    if shape == "^":
        return (
            f'<path d="M{x:.1f} {y - r - 0.8:.1f}L{x + r:.1f} {y + r:.1f}'
            f'L{x - r:.1f} {y + r:.1f}Z" fill="{colour}"/>'
        )
    return (
        f'<path d="M{x:.1f} {y - r - 0.8:.1f}L{x + r:.1f} {y:.1f}L{x:.1f} {y + r + 0.8:.1f}'
        f'L{x - r:.1f} {y:.1f}Z" fill="{colour}"/>'
    )


def _finite(v: float | None) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def trend_svg(
    title: str,
    xlabels: Sequence[str],
    series: Sequence[Series],
    ymin: float = 0.0,
    ymax: float = 100.0,
    ylabel: str = "",
    value_format: str = "{:.0f}",
) -> str:
    """A line chart of a few series over the school years, as an accessible inline ``<svg>``.

    Points that are ``NaN``/``None`` (suppressed, under the n-size, no data) are not drawn
    and break the line. Each series has its own marker and dash and a label at its last
    point; every point carries its value as text.
    """
    fr = _trend_frame(tuple(xlabels), float(ymin), float(ymax), ylabel)
    parts = [fr.svg_head, '<g class="data">']
    ends: list[tuple[float, float, str, str]] = []
    for i, s in enumerate(series):
        colour, shape, dash = SERIES_STYLE[i % len(SERIES_STYLE)]
        pts: list[tuple[float, float, float] | None] = []
        for x, v in zip(fr.x_px, s.values, strict=False):
            if not _finite(v):
                pts.append(None)
                continue
            vv = min(max(float(v), ymin), ymax)  # type: ignore[arg-type]
            y = fr.height_pt - (fr.y0_px + (vv - fr.ymin) * fr.y_per_unit)
            pts.append((x, y, float(v)))  # type: ignore[arg-type]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        run: list[tuple[float, float, float]] = []
        for p in [*pts, None]:
            if p is not None:
                run.append(p)
                continue
            if len(run) > 1:
                d = "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y, _ in run)
                parts.append(
                    f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.8"{dash_attr}/>'
                )
            run = []
        last = None
        for p in pts:
            if p is None:
                continue
            x, y, v = p
            parts.append(_marker(shape, x, y, colour))
            parts.append(
                f'<text x="{x:.1f}" y="{y - 6:.1f}" font-size="8" text-anchor="middle" '
                f'fill="#1a1a1a">{escape(value_format.format(v))}</text>'
            )
            last = p
        if last is not None:
            ends.append((last[1] + 3, last[0] + 8, s.label, colour))
    # direct labels at the series' last points, pushed apart so that none overlap
    ends.sort()
    for i in range(1, len(ends)):
        if ends[i][0] - ends[i - 1][0] < LABEL_GAP:
            ends[i] = (ends[i - 1][0] + LABEL_GAP, *ends[i][1:])
    for y, x, label, colour in ends:
        parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="8.5" '
            f'fill="{colour}" font-weight="bold">{escape(label)}</text>'
        )
    parts.append("</g></svg>")
    return _accessible(_scope_ids("".join(parts), title), title)


def figure_svg(fig: Figure, title: str) -> str:
    """Any matplotlib figure as an accessible inline ``<svg>`` (for data-scaled charts)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    return _accessible(_scope_ids(_strip(buf.getvalue()), title), title)


def bars_svg(
    title: str,
    categories: Sequence[str],
    groups: dict[str, Sequence[float | None]],
    ylabel: str = "",
) -> str:
    """Grouped bars (one group of bars per category), hatched per series, values printed."""
    hatches = ("", "//", "..", "xx")
    fig = Figure(figsize=(WIDTH_IN + 1.0, HEIGHT_IN + 0.3), dpi=DPI)
    ax = fig.add_subplot()
    n = max(len(groups), 1)
    width = 0.8 / n
    for i, (label, vals) in enumerate(groups.items()):
        colour = SERIES_STYLE[i % len(SERIES_STYLE)][0]
        xs = [j + (i - (n - 1) / 2) * width for j in range(len(categories))]
        ys = [float(v) if _finite(v) else 0.0 for v in vals]
        bars = ax.bar(
            xs,
            ys,
            width=width,
            label=label,
            color="white" if i else colour,
            edgecolor=colour,
            hatch=hatches[i % len(hatches)],
            linewidth=1.2,
        )
        for b, v in zip(bars, vals, strict=False):
            if _finite(v) and float(v) != 0:  # type: ignore[arg-type]
                ax.annotate(
                    f"{float(v):.0f}",  # type: ignore[arg-type]
                    (b.get_x() + b.get_width() / 2, b.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    ax.set_xticks(range(len(categories)), labels=list(categories), fontsize=7)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if len(groups) > 1:
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return figure_svg(fig, title)
