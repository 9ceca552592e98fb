"""Charts as inline SVG, drawn with matplotlib (Agg backend, text kept as text, no fonts embedded).

Accessibility: every chart is an ``<svg role="img">`` with a ``<title>`` and an
``aria-label`` naming what it shows; the same data is always printed in a table beside
it; series differ by marker shape, dash pattern and a direct label, never by colour
alone; colours are dark on white (contrast ≥ 4.5:1).

Speed: matplotlib takes ~15 ms to write one SVG, too slow for one chart per school at
1,500 schools. Trend charts on a fixed scale (0–100 for the SQII and percentages) have
the same frame for every school, so the frame (axes, ticks, grid, labels) is drawn by
matplotlib once per set of years and cached; each school's points and lines are placed
into it with the figure's own data-to-pixel transform. Bar charts (the Oversight report's,
one per district) are written as SVG text directly, in the same look: matplotlib took
~0.1 s per chart, most of the Oversight report's time.

Suppressed or missing points (``NaN``) are not plotted and break the line.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

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


# bar charts: the figure's size and the look of the matplotlib charts they replace
BARS_W, BARS_H = (WIDTH_IN + 1.0) * DPI, (HEIGHT_IN + 0.3) * DPI
BAR_HATCHES = ("", "//", "..", "xx")  # per series, with its colour: never colour alone
_AXIS = "#333333"
_INK = "#1a1a1a"
_FONT = 'font-family="DejaVu Sans"'
_DIGIT_PT = 0.636  # DejaVu Sans digit advance, in em


def _nice_step(top: float, bins: int = 8) -> int:
    """The smallest integer tick step of 1, 2, 5 × 10^k that covers ``top`` in ``bins`` steps
    (matplotlib's ``MaxNLocator(integer=True)`` on this axis: one tick per 18 points)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if step * m * bins >= top:
                return step * m
        step *= 10


def _hatch_pattern(pid: str, hatch: str, colour: str) -> str:
    """An SVG pattern drawing a matplotlib-like hatch (``//``, ``..``, ``xx``) in ``colour``."""
    size = 6
    if hatch == "//":
        d = f"M0 {size}L{size} 0M-1 1L1 -1M{size - 1} {size + 1}L{size + 1} {size - 1}"
        body = f'<path d="{d}" stroke="{colour}" stroke-width="1"/>'
    elif hatch == "..":
        body = f'<circle cx="{size / 2:g}" cy="{size / 2:g}" r="1" fill="{colour}"/>'
    else:  # "xx"
        d = f"M0 0L{size} {size}M0 {size}L{size} 0"
        body = f'<path d="{d}" stroke="{colour}" stroke-width="1"/>'
    return (
        f'<pattern id="{pid}" patternUnits="userSpaceOnUse" width="{size}" height="{size}">'
        f'<rect width="{size}" height="{size}" fill="#ffffff"/>{body}</pattern>'
    )


def bars_svg(
    title: str,
    categories: Sequence[str],
    groups: Mapping[str, Sequence[float | None]],
    ylabel: str = "",
) -> str:
    """Grouped bars (one group of bars per category), hatched per series, values printed.

    Written as SVG text directly (no matplotlib: a chart takes well under a millisecond).
    The first series is filled with its colour, the others are white with a hatch in
    theirs; a value that is ``NaN``/``None`` (suppressed, no data) draws no bar and no
    label; a zero draws a flat bar without a label. The y axis counts in integers.
    """
    series = list(groups.items())
    n = max(len(series), 1)
    ncat = len(categories)
    vals = [[float(v) if _finite(v) else math.nan for v in vs] for _, vs in series]
    top_value = max([0.0] + [v for vs in vals for v in vs if not math.isnan(v)])
    step = _nice_step(top_value * 1.05)
    ymax = max(top_value * 1.05, float(step))  # 5% headroom, as matplotlib's margins
    ticks = list(range(0, int(ymax) + 1, step))
    tick_chars = max(len(str(t)) for t in ticks)
    # the frame: room on the left for the y label and the widest tick label
    left = 23.0 + 9 * _DIGIT_PT * tick_chars + 8.0
    right, top, bottom = BARS_W - 9.72, 9.856, BARS_H - 23.72
    span = ncat - 1 + 0.8 if ncat else 1.0
    x0 = -0.4 - 0.05 * span
    x_per = (right - left) / (span * 1.1)
    y_per = (bottom - top) / ymax

    def px(x: float) -> float:
        return left + (x - x0) * x_per

    def py(y: float) -> float:
        return bottom - y * y_per

    width = 0.8 / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{BARS_W:g}pt" height="{BARS_H:g}pt" '
        f'viewBox="0 0 {BARS_W:g} {BARS_H:g}" version="1.1">',
        "<defs>",
    ]
    for i, (_, _) in enumerate(series):
        hatch = BAR_HATCHES[i % len(BAR_HATCHES)]
        if i and hatch:
            parts.append(_hatch_pattern(f"h{i}", hatch, SERIES_STYLE[i % len(SERIES_STYLE)][0]))
    parts.append("</defs>")
    parts.append(f'<rect width="{BARS_W:g}" height="{BARS_H:g}" fill="#ffffff"/>')
    # y ticks, tick labels and the y label
    parts.append(f'<g class="axes" font-size="9" {_FONT} fill="{_INK}">')
    for t in ticks:
        y = py(t)
        parts.append(
            f'<path d="M{left - 3.5:.2f} {y:.2f}H{left:.2f}" stroke="{_INK}" stroke-width="0.8"/>'
            f'<text x="{left - 7:.2f}" y="{y + 3.4:.2f}" text-anchor="end">{t}</text>'
        )
    if ylabel:
        cy = (top + bottom) / 2
        parts.append(
            f'<text x="18.27" y="{cy:.2f}" text-anchor="middle" '
            f'transform="rotate(-90 18.27 {cy:.2f})">{escape(ylabel)}</text>'
        )
    for j, cat in enumerate(categories):
        x = px(j)
        parts.append(
            f'<path d="M{x:.2f} {bottom:.2f}V{bottom + 3.5:.2f}" stroke="{_INK}" '
            f'stroke-width="0.8"/><text x="{x:.2f}" y="{bottom + 12.3:.2f}" font-size="7" '
            f'text-anchor="middle">{escape(str(cat))}</text>'
        )
    parts.append("</g>")
    # the bars and their values
    parts.append('<g class="data">')
    labels: list[str] = []
    for i, vs in enumerate(vals):
        colour = SERIES_STYLE[i % len(SERIES_STYLE)][0]
        hatch = BAR_HATCHES[i % len(BAR_HATCHES)]
        fill = colour if i == 0 else (f"url(#h{i})" if hatch else "#ffffff")
        for j, v in enumerate(vs[:ncat]):
            if math.isnan(v):
                continue
            xa = px(j + (i - (n - 1) / 2) * width - width / 2)
            xb = px(j + (i - (n - 1) / 2) * width + width / 2)
            ya = py(max(v, 0.0))
            parts.append(
                f'<rect x="{xa:.2f}" y="{ya:.2f}" width="{xb - xa:.2f}" '
                f'height="{bottom - ya:.2f}" fill="{fill}" stroke="{colour}" '
                f'stroke-width="1.2"/>'
            )
            if v != 0:
                labels.append(f'<text x="{(xa + xb) / 2:.2f}" y="{ya - 1.7:.2f}">{v:.0f}</text>')
    parts.append(f'<g font-size="7" {_FONT} text-anchor="middle" fill="#000000">')
    parts.extend(labels)
    parts.append("</g></g>")
    # the axes' left and bottom spines (top and right are off)
    parts.append(
        f'<path d="M{left:.2f} {top:.2f}V{bottom:.2f}H{right:.2f}" fill="none" '
        f'stroke="{_AXIS}" stroke-width="0.8" stroke-linecap="square"/>'
    )
    if len(series) > 1:  # the legend, top right, swatches styled as the bars
        widest = max(len(str(label)) for label, _ in series)
        lx, ly = right - 26.0 - 8 * 0.6 * widest, top + 8.0
        parts.append(f'<g class="legend" font-size="8" {_FONT} fill="#000000">')
        for i, (label, _) in enumerate(series):
            colour = SERIES_STYLE[i % len(SERIES_STYLE)][0]
            hatch = BAR_HATCHES[i % len(BAR_HATCHES)]
            fill = colour if i == 0 else (f"url(#h{i})" if hatch else "#ffffff")
            y = ly + 12.0 * i
            parts.append(
                f'<rect x="{lx:.2f}" y="{y - 7:.2f}" width="16" height="5.6" fill="{fill}" '
                f'stroke="{colour}" stroke-width="1.2"/>'
                f'<text x="{lx + 22:.2f}" y="{y:.2f}">{escape(str(label))}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>\n")  # the newline matplotlib's SVG ended with: pages are unchanged
    return _accessible(_scope_ids("".join(parts), title), title)
