"""Educator display rows (METHODOLOGY.md "Educator effectiveness"), shared by the staff
educator pages (``sqis.reports.educator_pages``) and the educator sections of the main
reports (``sqis.reports.educator_sections``): a distribution's rows with counts and shares
(:func:`distribution_rows`, :func:`rows_by_entity`; a share is hidden where a public count
is) and every educator's row (:func:`educator_display`), built once per year column by
column and split by school (:func:`school_bounds`), never a loop per educator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sqis import codes

LEVEL_COLUMNS = ("level_1", "level_2", "level_3", "level_4")


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _count_text(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Counts as numbers (NaN where the cell is text such as the public edition's ``*``) and
    as display text (a whole number, or the text as it is)."""
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    raw = values.astype("object").tolist()
    text = [str(int(n)) if n == n else str(r) for n, r in zip(num, raw, strict=True)]
    return num, text


def _shares(part: np.ndarray, whole: np.ndarray, hidden: str) -> list[str]:
    """``part`` as a share of ``whole`` ("40%"): "–" where ``whole`` is 0, ``hidden`` where
    either is not shown (NaN: a public ``*``), so a share never tells what a count hides."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = 100.0 * part / whole
    shown = ~np.isnan(part) & ~np.isnan(whole)
    return [
        (f"{v:.0f}%" if w > 0 else "–") if ok else hidden
        for v, w, ok in zip(pct.tolist(), whole.tolist(), shown.tolist(), strict=True)
    ]


def distribution_rows(
    dist: pd.DataFrame, label: dict[str, str] | None = None, hidden: str = "*"
) -> list[dict[str, Any]]:
    """Display rows of a distribution (``sqis.educators.distribution``, or the public
    edition's, whose hidden counts are ``hidden``): ``entity`` (``label``'s name for the
    code), ``year`` (where the frame has one), ``role``, ``rated``, ``levels`` (counts as
    text), ``shares`` (of ``rated``, per level) and ``effective`` (levels 3 and 4). Built
    column by column; a share is shown only where its count and ``rated`` are."""
    if dist.empty:
        return []
    label = label or {}
    codes_ = dist["entity_code"].astype("str").tolist()
    entity = [label.get(c, c) for c in codes_]
    ys = dist["year"].astype("str").tolist() if "year" in dist.columns else [""] * len(dist)
    role = dist["role"].astype("str").str.title().tolist()
    rated, rated_text = _count_text(dist["rated"])
    counts = [_count_text(dist[c]) for c in LEVEL_COLUMNS]
    shares = [_shares(n, rated, hidden) for n, _ in counts]
    effective = _shares(counts[2][0] + counts[3][0], rated, hidden)
    levels = list(zip(*(t for _, t in counts), strict=True))
    share_rows = list(zip(*shares, strict=True))
    return [
        {
            "entity": e,
            "year": y,
            "role": r,
            "rated": n,
            "levels": list(lv),
            "shares": list(sh),
            "effective": ef,
        }  # fmt: skip
        for e, y, r, n, lv, sh, ef in zip(
            entity, ys, role, rated_text, levels, share_rows, effective, strict=True
        )
    ]


def rows_by_entity(
    dist: pd.DataFrame, label: dict[str, str] | None = None, hidden: str = "*"
) -> dict[str, list[dict[str, Any]]]:
    """:func:`distribution_rows` of each ``entity_code``'s rows, in the frame's order: built
    once for the whole frame and split, not once per school (1,500 schools at 1M students:
    a call per school was a fifth of the year)."""
    out: dict[str, list[dict[str, Any]]] = {}
    if dist.empty:
        return out
    rows = distribution_rows(dist, label, hidden)
    for code, row in zip(dist["entity_code"].astype("str").tolist(), rows, strict=True):
        out.setdefault(code, []).append(row)
    return out


def educator_display(
    results: pd.DataFrame, actions: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every educator's display row, built once, column by column, and sorted by school,
    role (teachers first), level and pseudonym: ``(results sorted, display)``, row for row.
    ``display``: ``key`` (the pseudonym's first 16 characters), ``role``, ``practice``,
    ``n_students``, ``growth``, ``rating``, ``summative``, ``level``, ``flag`` and, with
    ``actions`` (``educator_actions`` of the year), ``action``. Not one ``iterrows`` per
    educator (40,000 at 1M students; commit d3d15a4)."""
    res = results.sort_values(
        ["school_code", "role", "level", "educator_key"], ascending=[True, False, True, True]
    ).reset_index(drop=True)
    keys = res["educator_key"].astype(str)
    display = pd.DataFrame(
        {
            "key": keys.str.slice(0, 16) + "…",
            "role": res["role"].astype(str).str.title(),
            "practice": [_fmt(float(v)) for v in res["practice"]],
            "n_students": pd.to_numeric(res["n_students"]).astype(int),
            "growth": [_fmt(None if pd.isna(v) else float(v), 1) for v in res["growth"]],
            "rating": [_fmt(None if pd.isna(v) else v) for v in res["growth_rating"]],
            "summative": [_fmt(float(v)) for v in res["summative"]],
            "level": [codes.EDUCATOR_LEVELS[int(v)] for v in res["level"]],
            "flag": res["flag"].astype(str),
        }
    )
    if actions is not None:
        act = {
            (str(a["educator_key"]), str(a["school_code"])): f"{a['action']}: {a['reason']}"
            + (f" (through {a['in_force_until']})" if pd.notna(a["in_force_until"]) else "")
            for _, a in actions.iterrows()  # the recorded actions: a few a year
        }
        schools_col = res["school_code"].astype(str)
        display["action"] = [act.get((k, c), "") for k, c in zip(keys, schools_col, strict=True)]
    return res, display


def school_bounds(school_codes: pd.Series) -> list[tuple[int, int]]:
    """``[(first, end), …]`` of each school's run of rows in rows sorted by school."""
    c = school_codes.astype(str).to_numpy()
    if not len(c):
        return []
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    return list(zip(starts.tolist(), [*starts[1:].tolist(), len(c)], strict=True))
