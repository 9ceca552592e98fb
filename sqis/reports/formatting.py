"""The display strings of the report contexts: numbers and dates (``–`` where missing), the
plain-words notices of the suppression marks (the California Dashboard's), and the value
tests the contexts share. The templates format nothing: every value reaches them as text.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import pandas as pd

from sqis.methodology import Methodology
from sqis.suppression import MARK_RANGE, MARK_STAR, MARK_UNDER, NO_DATA


def is_missing(v: Any) -> bool:
    """No value: ``None``, ``pd.NA``, ``pd.NaT`` or a float NaN."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(isinstance(v, float) and math.isnan(v))
    except TypeError:
        return False


def fmt(v: Any, decimals: int = 1, signed: bool = False, suffix: str = "") -> str:
    """A number for display; ``–`` when missing."""
    if is_missing(v):
        return NO_DATA
    x = round(float(v), decimals)
    if x == 0:
        x = 0.0
    s = f"{x:+.{decimals}f}" if signed else f"{x:.{decimals}f}"
    return s + suffix


def fmt_date(v: Any) -> str:
    """A date as ``November 1, 2016``; ``–`` when missing."""
    if is_missing(v):
        return NO_DATA
    if isinstance(v, str):
        try:
            v = date.fromisoformat(v[:10])
        except ValueError:
            return v
    if isinstance(v, pd.Timestamp):
        v = v.to_pydatetime()
    if isinstance(v, datetime):
        v = v.date()
    if isinstance(v, date):
        return f"{v.strftime('%B')} {v.day}, {v.year}"
    return str(v)


def as_text(v: Any) -> str:
    """A value as text; ``""`` when missing."""
    return "" if is_missing(v) else str(v)


def as_flag(v: Any) -> bool:
    """A yes/no value (``Y``, ``TRUE``, ``1`` or truthy); ``False`` when missing."""
    if is_missing(v):
        return False
    if isinstance(v, str):
        return v.upper() in ("Y", "TRUE", "1")
    return bool(v)


def num_or_nan(v: Any) -> float:
    """A number; NaN when missing (a chart's gap)."""
    return math.nan if is_missing(v) else float(v)


def notice_texts(m: Methodology) -> dict[int, str]:
    """What each mark means, in plain words (the California Dashboard's notices)."""
    s = m.suppression
    return {
        MARK_STAR: (
            f"{s.suppressed_label} — not shown to protect student privacy: the group has "
            f"{s.min_count} to {s.max_count} students, or the number would let someone work "
            "out a small group's result from the other numbers shown."
        ),
        MARK_UNDER: (
            f"{s.under_nsize_label} — fewer than {m.n_size} students: too few for the result "
            "to count toward a level, so it is not shown."
        ),
        MARK_RANGE: (
            "< and > — a range instead of the exact rate: the exact rate would show that "
            f"{s.max_count} or fewer students did, or did not, meet it."
        ),
    }


def notes_for(rows: list[dict[str, Any]], m: Methodology) -> list[str]:
    """The notices a table needs: one line per kind of blank it holds (none in staff)."""
    marks = 0
    for r in rows:
        marks |= int(r.get("marks", 0))
    texts_ = notice_texts(m)
    return [texts_[b] for b in (MARK_STAR, MARK_UNDER, MARK_RANGE) if marks & b]


def chart_notes(
    ys: list[str], disp: list[list[str]], columns: list[str], m: Methodology
) -> list[str]:
    """Why a chart has no point for a year: one line per missing point whose table cell is
    a suppression mark or a range (the table below the chart shows the same mark)."""
    s = m.suppression
    out = []
    for y, row in zip(ys, disp, strict=True):
        for label, cell in zip(columns, row, strict=True):
            if cell == s.suppressed_label:
                why = "suppressed to protect student privacy (*)"
            elif cell == s.under_nsize_label:
                why = f"fewer than {m.n_size} students ({s.under_nsize_label})"
            elif cell[:1] in ("<", ">"):
                why = f"shown as the range {cell}, not a point"
            else:
                continue
            out.append(f"{y}, {label}: not plotted — {why}.")
    return out
