"""Template contexts for the school, Focus/Priority and district reports, built from frames.

The contexts are plain dicts of display strings (already suppressed by
``sqis.suppression.suppress``) and chart SVGs: templates format nothing and decide nothing.
``prepare_year`` does the vectorised work once for the whole year (suppression, targets,
grouping by school); ``school_context`` then only slices one school's rows.

Sections implemented (METHODOLOGY.md): *Index levels* (levels, bands, improvement to
advance 1/2/3 levels), *The SQII* (domain scores, SQII, SQI Goal), *Designations*,
*Escalation*, *Communities of practice and checkpoints*, *Public suppression*.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from sqis import codes, years
from sqis.disclosure import PublicFrames, require_public
from sqis.methodology import Methodology
from sqis.report_frames import ReportFrames
from sqis.reports import charts, sections
from sqis.reports import reviews as review_sections
from sqis.reports import support as support_section
from sqis.suppression import (
    BAND_LABELS,
    MARK_RANGE,
    MARK_STAR,
    MARK_UNDER,
    NO_DATA,
    decimals_and_unit,
    format_distinct,
    map_codes,
    public_cells,
    staff_cells,
    texts,
)

STAFF, PUBLIC = "staff", "public"  # the two editions (METHODOLOGY.md "Two editions")

INDICATOR_LABELS: dict[str, str] = {
    "ELA_MET": "English language arts: met or exceeded standard",
    "MATH_MET": "Mathematics: met or exceeded standard",
    "SCI_MET": "Science: met or exceeded standard",
    "ELA_GROWTH": "English language arts growth (percentile)",
    "MATH_GROWTH": "Mathematics growth (percentile)",
    "GRAD4": "Four-year graduation rate",
    "GRAD5": "Five-year graduation rate",
    "GRAD6": "Six-year graduation rate",
    "MS_PERSIST": "Middle-school persistence to grade 10",
    "CHRONIC": "Chronic absenteeism (lower is better)",
    "SUSP": "Suspension or expulsion (lower is better)",
    "SEL": "Social-emotional skills (mean score, 1–5)",
    "CLIMATE_STUDENT": "Culture-climate: students favourable",
    "CLIMATE_STAFF": "Culture-climate: staff favourable",
    "CLIMATE_PARENT": "Culture-climate: parents favourable",
    "EL_RFEP": "English learners redesignated",
    "SPED_DISPROP": "Special-education identification ratio (lower is better)",
}
SHORT_LABELS: dict[str, str] = {
    "ELA_MET": "ELA met",
    "MATH_MET": "Math met",
    "SCI_MET": "Science met",
    "GRAD4": "Grad 4-yr",
    "CHRONIC": "Chronic absent",
}
GROUP_LABELS: dict[str, str] = {
    "ALL": "All students",
    "AA": "African American",
    "AI": "American Indian or Alaska Native",
    "AS": "Asian",
    "FI": "Filipino",
    "HI": "Hispanic or Latino",
    "PI": "Pacific Islander",
    "WH": "White",
    "MR": "Two or more races",
    "EL": "English learners",
    "SWD": "Students with disabilities",
    "SED": "Socioeconomically disadvantaged",
    "FOS": "Foster youth",
    "HOM": "Homeless youth",
}
DOMAIN_LABELS: dict[str, str] = {
    "academic": "Academic",
    "social_emotional": "Social-emotional",
    "culture_climate": "Culture-climate",
}
DESIGNATION_LABELS: dict[str, str] = {
    "PRIORITY": "Priority school",
    "FOCUS": "Focus school",
    "REWARD": "Reward school",
    "NONE": "No designation",
}
ESCALATION_LABELS: dict[str, str] = {
    "NONE": "None",
    "PEER_REVIEW": "Peer review of leadership, strengths and areas for improvement, "
    "with a Reward partner school",
    "REWARD_PARTNERSHIP": "Partnership with a Reward school that has raised the achievement "
    "of the identified student group",
    "DISTRICT_TURNAROUND": "District-managed turnaround",
    "DISTRICT_ACTION": "District action",
}
ESCALATION_SHORT: dict[str, str] = {
    "NONE": "No escalation",
    "PEER_REVIEW": "Peer review",
    "REWARD_PARTNERSHIP": "Reward partnership",
    "DISTRICT_TURNAROUND": "District turnaround",
    "DISTRICT_ACTION": "District action",
}
# the community's calendar, relative to reports/schools/<code>.html: `sqis calendars` writes
# <out>/<year>/communities/<community_id>.ics (docs/reports.md, *Links*)
CALENDAR_HREF = "../../communities/{community_id}.ics"
SCHOOL_TYPE_LABELS = {"ES": "Elementary", "MS": "Middle", "HS": "High"}
# trend charts: the indicators followed per school type (ALL students)
KEY_INDICATORS: dict[str, tuple[str, ...]] = {
    "ES": ("ELA_MET", "MATH_MET", "CHRONIC"),
    "MS": ("ELA_MET", "MATH_MET", "CHRONIC"),
    "HS": ("ELA_MET", "MATH_MET", "GRAD4"),
}


def _isnan(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(isinstance(v, float) and math.isnan(v))
    except TypeError:
        return False


def fmt(v: Any, decimals: int = 1, signed: bool = False, suffix: str = "") -> str:
    """A number for display; ``–`` when missing."""
    if _isnan(v):
        return NO_DATA
    x = round(float(v), decimals)
    if x == 0:
        x = 0.0
    s = f"{x:+.{decimals}f}" if signed else f"{x:.{decimals}f}"
    return s + suffix


def fmt_date(v: Any) -> str:
    if _isnan(v):
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


def _text(v: Any) -> str:
    return "" if _isnan(v) else str(v)


def _flag(v: Any) -> bool:
    if _isnan(v):
        return False
    if isinstance(v, str):
        return v.upper() in ("Y", "TRUE", "1")
    return bool(v)


def _year_col(frame: pd.DataFrame | None, year: str) -> pd.DataFrame:
    """Rows of ``year`` (a frame without a ``year`` column is taken to be that year)."""
    if frame is None:
        return pd.DataFrame()
    if "year" in frame.columns:
        return frame[frame["year"].astype(str) == year]
    return frame


# cells[(year, student_group)][indicator] = one suppressed display row
Cells = dict[tuple[str, str], dict[str, dict[str, Any]]]


@dataclass
class YearContext:
    """The year's frames, prepared once: suppressed display rows as plain dicts per school."""

    year: str
    m: Methodology
    years_shown: tuple[str, ...]
    school: dict[str, dict[str, Any]]
    cells: dict[str, Cells]
    index_rows: dict[str, dict[str, dict[str, Any]]]  # school → year → index row
    designation: dict[str, dict[str, Any]]
    community_by_school: dict[str, list[dict[str, Any]]]
    plan: dict[str, dict[str, Any]]
    checkpoint_by_school: dict[str, list[dict[str, Any]]]
    generated: str
    common: dict[str, Any] = field(default_factory=dict)
    edition: str = "staff"  # STAFF or PUBLIC (METHODOLOGY.md "Two editions")
    # the sections of sqis.reports.sections (educators, district index), prepared once
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def school_names(self) -> dict[str, str]:
        return {k: str(v["school_name"]) for k, v in self.school.items()}


def _targets(ind: pd.DataFrame, schools: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """The cut points a value must reach to advance 1, 2 and 3 levels (Index levels).

    Higher is better: level L+k needs value ≥ c[L+k−1]; lower is better: value ≤ c[10−L−k]
    (cut points ascending, 1-based), so the nine cut points give the targets directly.
    """
    st_of = dict(zip(schools["school_code"], schools["school_type"], strict=True))
    st_codes, st_uniq = pd.factorize(ind["school_code"].map(st_of), use_na_sentinel=True)
    ind_codes, ind_uniq = pd.factorize(ind["indicator"])
    level = pd.to_numeric(ind["level"], errors="coerce").to_numpy(dtype="float64")
    has_level = ~np.isnan(level) & (st_codes >= 0) & (ind_codes >= 0)
    # the cut points of every (indicator, school type) with a level to advance from
    present = np.zeros((len(ind_uniq), len(st_uniq)), dtype=bool)
    present[ind_codes[has_level], st_codes[has_level]] = True
    cuts = np.full((len(ind_uniq), len(st_uniq), 9), np.nan)
    usable = np.zeros_like(present)
    higher = np.zeros(len(ind_uniq), dtype=bool)
    for ii, si in zip(*np.nonzero(present), strict=True):
        spec = m.indicators.get(ind_uniq[ii])
        if spec is None or st_uniq[si] not in spec.school_types:
            continue
        cuts[ii, si] = np.asarray(m.cuts(ind_uniq[ii], st_uniq[si]), dtype="float64")
        usable[ii, si] = True
        higher[ii] = spec.direction == "higher"
    rows = np.flatnonzero(has_level)
    rows = rows[usable[ind_codes[rows], st_codes[rows]]]
    ic, sc = ind_codes[rows], st_codes[rows]
    lv = level[rows].astype(int)
    out = {k: np.full(len(ind), np.nan) for k in (1, 2, 3)}
    for k in (1, 2, 3):
        tgt = lv + k
        ok = tgt <= 10
        pos = np.where(ok, np.where(higher[ic], tgt - 2, 10 - tgt), 0)
        out[k][rows] = np.where(ok, cuts[ic, sc, np.clip(pos, 0, 8)], np.nan)
    return pd.DataFrame({f"target_{k}": out[k] for k in (1, 2, 3)}, index=ind.index)


# a row's display columns, in the order of ``_plain_row``'s parameters (the targets' and
# improvements' texts are folded into the "targets" of this year's rows)
_ROW_COLS = (
    "n_display",
    "value_display",
    "change_display",
    "level_display",
    "level_change_display",
    "band",
    "value_public",
    "count_display",
    "marks",
)


def _table_rows(sup: pd.DataFrame, m: Methodology) -> Iterator[dict[str, Any]]:
    """Each row's display columns, its label, band label and targets text.

    Index levels: the value to reach for 1, 2, 3 more levels, and the change that takes
    (``≥ 44.0%`` and ``(+4.0)``; lower is better: ``≤ 20.0%`` and ``(−20.0)``). One pass
    over plain lists for the whole frame, not one per school and student group.
    """
    ind = sup["indicator"]
    codes_, uniq = pd.factorize(ind, use_na_sentinel=False)
    labels = np.array([INDICATOR_LABELS.get(u, u) for u in uniq], dtype=object)[codes_]
    signs = {k: "+" if spec.direction == "higher" else "−" for k, spec in m.indicators.items()}
    sign = np.array([signs.get(u, "+") for u in uniq], dtype=object)[codes_].tolist()
    band_label = [BAND_LABELS.get(b, "") for b in sup["band"].to_numpy(dtype=object).tolist()]
    parts = []
    for k in (1, 2, 3):
        parts.append(sup[f"target_{k}_display"].to_numpy(dtype=object).tolist())
        parts.append(sup[f"improve_{k}_display"].to_numpy(dtype=object).tolist())
    # many rows share their targets (hidden, under the n-size, no level): one list for each
    # distinct text (the lists are only read)
    seen: dict[tuple[Any, ...], list[dict[str, str]]] = {}
    targets = []
    for key in zip(*parts, sign, strict=True):
        got = seen.get(key)
        if got is None:
            sg = key[6]
            got = seen[key] = [
                {"target": t, "need": f"({sg}{n})" if n and n[0].isdigit() and t != NO_DATA else ""}
                for t, n in (key[0:2], key[2:4], key[4:6])
            ]
        targets.append(got)
    cols = [sup[c].to_numpy(dtype=object).tolist() for c in _ROW_COLS]
    return map(_table_row, *cols, labels.tolist(), band_label, targets)


def _plain_row(
    n: str,
    value: str,
    change: str,
    level: str,
    level_change: str,
    band: str,
    public: Any,
    count: str,
    marks: int,
) -> dict[str, Any]:
    """One display row (a dict display: much faster than ``dict(zip(...))`` per row)."""
    return {
        "n_display": n,
        "value_display": value,
        "change_display": change,
        "level_display": level,
        "level_change_display": level_change,
        "band": band,
        "value_public": public,
        "count_display": count,
        "marks": marks,
    }


def _table_row(
    n: str,
    value: str,
    change: str,
    level: str,
    level_change: str,
    band: str,
    public: Any,
    count: str,
    marks: int,
    label: str,
    band_label: str,
    targets: list[dict[str, str]],
) -> dict[str, Any]:
    """One row of this year's tables: the display row with its label and targets."""
    return {
        **_plain_row(n, value, change, level, level_change, band, public, count, marks),
        "label": label,
        "band_label": band_label,
        "targets": targets,
    }


def _reason_or_gap_group(des: pd.DataFrame) -> pd.Series:
    """The group a designated school's data report is about: reason_group, else gap_group."""
    group = (
        des["reason_group"] if "reason_group" in des.columns else pd.Series(None, index=des.index)
    )
    if "gap_group" in des.columns:
        group = group.fillna(des["gap_group"])
    return group.fillna("ALL").astype(str)


def _rows_shown(
    year: str, indicators: pd.DataFrame, designations: pd.DataFrame
) -> tuple[pd.DataFrame, tuple[str, ...], np.ndarray]:
    """The indicator rows a year's reports read (the years shown, up to five, and the one
    before them), those years, and which rows need display strings."""
    start = years.start_of(year)
    ind = indicators
    if "year" not in ind.columns:
        ind = ind.assign(year=year)
    ind_years = ind["year"].astype(str)
    on_record = sorted(
        {y for y in pd.unique(ind_years) if years.start_of(y) <= start}, key=years.start_of
    )
    years_shown = tuple(on_record[-years.TREND_YEARS :]) or (year,)
    # the prior year of the first year shown is kept: it decides whether a change is shown
    keep = set(years_shown) | {years.shift(years_shown[0], -1)}
    ind = ind[ind_years.isin(keep)].reset_index(drop=True)
    # display strings are needed for this year, and earlier years only in the trends (all
    # students, and the group a Focus/Priority school was identified for)
    des_now = _year_col(designations, year)
    trend_pairs = pd.MultiIndex.from_arrays(
        [
            des_now["school_code"].astype(str),
            _reason_or_gap_group(des_now),
        ]
    )
    pairs = pd.MultiIndex.from_arrays(
        [ind["school_code"].astype(str), ind["student_group"].astype(str)]
    )
    show = (
        (ind["year"].astype(str) == year).to_numpy()
        | (ind["student_group"] == "ALL").to_numpy()
        | pairs.isin(trend_pairs)
    )
    return ind, years_shown, show


def prepare_year(frames: ReportFrames, m: Methodology, generated: str | None = None) -> YearContext:
    """The **staff edition**'s year (METHODOLOGY.md "Two editions": every value, count and
    level): display strings, targets and every frame indexed by school, once for the year."""
    ind, years_shown, show = _rows_shown(frames.year, frames.indicators, frames.designations)
    sup = staff_cells(ind, m, display=show)
    return _assemble(frames, ind, sup, show, years_shown, m, generated, STAFF)


def prepare_public_year(
    pf: PublicFrames, m: Methodology, generated: str | None = None
) -> YearContext:
    """The **public edition**'s year, from :class:`sqis.disclosure.PublicFrames` only (the
    display strings carry the suppression the frames hold; nothing else is read)."""
    pf = require_public(pf)
    ind, years_shown, show = _rows_shown(pf.year, pf.indicators, pf.designations)
    sup = public_cells(ind, m, display=show)
    return _assemble(pf, ind, sup, show, years_shown, m, generated, PUBLIC)


def _assemble(
    frames: ReportFrames | PublicFrames,
    ind: pd.DataFrame,
    sup: pd.DataFrame,
    show: np.ndarray,
    years_shown: tuple[str, ...],
    m: Methodology,
    generated: str | None,
    edition: str,
) -> YearContext:
    """Targets, table rows and every frame indexed by school (both editions; the plans and
    checkpoints of the staff edition only)."""
    year, schools, index = frames.year, frames.schools, frames.index
    communities = frames.communities
    plans = frames.plans if edition == STAFF else None
    checkpoints = frames.checkpoints if edition == STAFF else None
    tg = _targets(ind, schools, m)
    dec_s, unit_s = decimals_and_unit(ind["indicator"], m)
    ops = {k: "≥ " if s.direction == "higher" else "≤ " for k, s in m.indicators.items()}
    op = map_codes(ind["indicator"], ops, "").to_numpy(dtype=object)
    dec = dec_s.to_numpy(dtype="int64")
    unit = unit_s.to_numpy(dtype=object)
    this_year = (ind["year"].astype(str) == year).to_numpy()
    ind_codes, ind_uniq = pd.factorize(ind["indicator"], use_na_sentinel=False)
    for k in (1, 2, 3):
        t = tg[f"target_{k}"].to_numpy(dtype="float64")
        txt = texts(len(ind))
        ok = ~np.isnan(t) & this_year  # targets are shown for this year only
        # a target is a cut point: few distinct texts per indicator, each formatted once
        for i in np.unique(ind_codes[ok]).tolist():
            rows = np.flatnonzero(ok & (ind_codes == i))
            r0 = rows[0]
            o, d, u = op[r0], int(dec[r0]), unit[r0]
            txt[rows] = format_distinct(t[rows], lambda v, o=o, d=d, u=u: f"{o}{v:.{d}f}{u}")
        # a target is methodology, but next to a hidden level it would hint at the level
        hidden = sup["target_hidden"].to_numpy(dtype=bool)
        txt[hidden] = sup["level_display"].to_numpy(dtype=object)[hidden]
        sup[f"target_{k}_display"] = pd.Series(txt, index=sup.index, dtype="object")
    sup["year"] = ind["year"].astype(str)
    keep_rows = show & sup["year"].isin(years_shown).to_numpy()
    now_rows = keep_rows & this_year
    sup_now, sup_before = sup[now_rows], sup[keep_rows & ~this_year]

    cells: dict[str, Cells] = {}
    # one pass over plain lists (pandas' to_dict boxes every cell: ten times slower)
    key_cols = ("school_code", "year", "student_group", "indicator")

    def add(frame: pd.DataFrame, rows: Iterator[dict[str, Any]]) -> None:
        keys = (frame[c].to_numpy(dtype=object).tolist() for c in key_cols)
        for code, y, g, k, row in zip(*keys, rows, strict=True):
            by_school = cells.get(code := str(code))
            if by_school is None:
                by_school = cells[code] = {}
            by_ind = by_school.get((y, g))
            if by_ind is None:
                by_ind = by_school[(y, g)] = {}
            by_ind[k] = row

    # this year's rows go into the tables: their labels and targets text, once, here
    add(sup_now, _table_rows(sup_now, m))
    # earlier years' rows are only read by the trends
    add(
        sup_before,
        map(_plain_row, *(sup_before[c].to_numpy(dtype=object).tolist() for c in _ROW_COLS)),
    )

    idx = index if "year" in index.columns else index.assign(year=year)
    idx = idx[idx["year"].astype(str).isin(years_shown)]
    index_rows: dict[str, dict[str, dict[str, Any]]] = {}
    for r in idx.to_dict("records"):
        index_rows.setdefault(str(r["school_code"]), {})[str(r["year"])] = r

    des = _year_col(frames.designations, year)
    designation = {str(r["school_code"]): r for r in des.to_dict("records")}

    community_by_school: dict[str, list[dict[str, Any]]] = {}
    if communities is not None and len(communities):
        c = communities
        if "checkpoint" in c.columns:
            c = c.sort_values(["school_code", "checkpoint"])
        for r in c.to_dict("records"):
            community_by_school.setdefault(str(r["school_code"]), []).append(r)
    plan: dict[str, dict[str, Any]] = {}
    if plans is not None and len(plans):
        for r in _year_col(plans, year).to_dict("records"):
            plan[str(r["school_code"])] = r
    checkpoint_by_school: dict[str, list[dict[str, Any]]] = {}
    if checkpoints is not None and len(checkpoints) and "school_code" in checkpoints.columns:
        for r in _year_col(checkpoints, year).to_dict("records"):
            checkpoint_by_school.setdefault(str(r["school_code"]), []).append(r)

    s = m.suppression
    common = {
        "edition": edition,
        "year": year,
        "service_year": years.service_year(year),
        "years_label": years.both(year),
        "methodology_version": m.version,
        "generated": generated or "",
        "supp_min": s.min_count,
        "supp_max": s.max_count,
        "supp_label": s.suppressed_label,
        "nsize_label": s.under_nsize_label,
        "n_size": m.n_size,
    }
    return YearContext(
        year=year,
        m=m,
        years_shown=years_shown,
        school={str(r["school_code"]): r for r in schools.to_dict("records")},
        cells=cells,
        index_rows=index_rows,
        designation=designation,
        community_by_school=community_by_school,
        plan=plan,
        checkpoint_by_school=checkpoint_by_school,
        generated=generated or "",
        common=common,
        edition=edition,
    )


def _rows(
    by_ind: dict[str, dict[str, Any]], order: list[str], m: Methodology
) -> list[dict[str, Any]]:
    """This year's table rows in the indicators' order (labels and targets are ready)."""
    return [by_ind[code] for code in order if code in by_ind]


def _trend_chart(
    title: str, xlabels: list[str], series: list[charts.Series], ylabel: str, ymax: float = 100.0
) -> str:
    return charts.trend_svg(title, xlabels, series, ymin=0.0, ymax=ymax, ylabel=ylabel)


def _trend(
    cells: Cells, ys: list[str], pairs: list[tuple[str, str]]
) -> tuple[list[tuple[float, ...]], list[list[str]]]:
    """Public values (for the chart) and displays (for its table) of (group, indicator) pairs."""
    pts, disp = [], []
    for g, k in pairs:
        pts.append(
            tuple(_num_or_nan(cells.get((y, g), {}).get(k, {}).get("value_public")) for y in ys)
        )
    for y in ys:
        disp.append(
            [cells.get((y, g), {}).get(k, {}).get("value_display", NO_DATA) for g, k in pairs]
        )
    return pts, disp


def school_context(yc: YearContext, school_code: str) -> dict[str, Any]:
    """Everything a school report shows, as display strings (Public suppression applied)."""
    m = yc.m
    sch = yc.school[school_code]
    stype = str(sch["school_type"])
    order = [c for c in codes.INDICATORS if stype in m.indicators[c].school_types]
    cells = yc.cells.get(school_code, {})
    this = {g: v for (y, g), v in cells.items() if y == yc.year}

    # SQII and domains
    idx = yc.index_rows.get(school_code, {})
    cur_r = idx.get(yc.year, {})
    sqii = cur_r.get("sqii")
    prior = cur_r.get("prior_sqii")
    summary = {
        "sqii": fmt(sqii, 1),
        "prior_sqii": fmt(prior, 1),
        "change": fmt(None if _isnan(sqii) or _isnan(prior) else sqii - prior, 1, signed=True),
        "goal": fmt(cur_r.get("goal"), 1),
        "meets_goal": None if _isnan(cur_r.get("goal")) else _flag(cur_r.get("meets_goal")),
        "domains": [
            {"name": DOMAIN_LABELS[d], "score": fmt(cur_r.get(d), 2)} for d in codes.DOMAINS
        ],
    }

    # every indicator for all students; then every student group
    public = yc.edition == PUBLIC
    all_rows = _rows(this.get("ALL", {}), order, m)
    under = m.suppression.under_nsize_label
    group_tables = []
    for g in m.student_groups:
        if g not in this or g == "ALL":
            continue
        rows = _rows(this[g], order, m)
        # public: a group under the n-size on every indicator is one line, not a table of
        # "n<20" (the staff edition shows its values)
        all_under = public and all(r["n_display"] == under for r in rows)
        group_tables.append(
            {
                "code": g,
                "label": GROUP_LABELS.get(g, g),
                "rows": rows,
                "all_under": all_under,
                "notes": notes_for(rows, m),
            }
        )

    # trends over the years on record
    ys = list(yc.years_shown)
    sqii_y = [_num_or_nan(idx.get(y, {}).get("sqii")) for y in ys]
    goal_y = [_num_or_nan(idx.get(y, {}).get("goal")) for y in ys]
    trends = [
        {
            "notes": [],
            "id": "trend-sqii",
            "title": f"SQII and SQI Goal by year, {ys[0]} to {ys[-1]}",
            "svg": _trend_chart(
                "SQII and SQI Goal by school year",
                ys,
                [charts.Series("SQII", tuple(sqii_y)), charts.Series("Goal", tuple(goal_y))],
                "SQII",
            ),
            "columns": ["SQII", "SQI Goal"],
            "rows": [
                {"year": y, "cells": [fmt(a, 1), fmt(b, 1)]}
                for y, a, b in zip(ys, sqii_y, goal_y, strict=True)
            ],
        }
    ]
    key = [k for k in KEY_INDICATORS.get(stype, ()) if k in this.get("ALL", {})]
    if key:
        pts, disp = _trend(cells, ys, [("ALL", k) for k in key])
        trends.append(
            {
                "notes": chart_notes(ys, disp, [INDICATOR_LABELS[k] for k in key], m),
                "id": "trend-indicators",
                "title": "Key indicators for all students, by year (percent)",
                "svg": _trend_chart(
                    "Key indicators for all students by school year: "
                    + ", ".join(INDICATOR_LABELS[k] for k in key),
                    ys,
                    [
                        charts.Series(SHORT_LABELS.get(k, k), p)
                        for k, p in zip(key, pts, strict=True)
                    ],
                    "%",
                ),
                "columns": [INDICATOR_LABELS[k] for k in key],
                "rows": [{"year": y, "cells": c} for y, c in zip(ys, disp, strict=True)],
            }
        )

    # designation, escalation, partner
    d = yc.designation.get(school_code, {})
    designation_code = _text(d.get("designation")) or "NONE"
    partner = _text(d.get("partner_school_code"))
    escalation = _text(d.get("escalation")) or "NONE"
    designation = {
        "code": designation_code,
        "label": DESIGNATION_LABELS.get(designation_code, designation_code),
        "years_in_status": 0 if _isnan(d.get("years_in_status")) else int(d["years_in_status"]),
        "escalation": escalation,
        "escalation_label": ESCALATION_LABELS.get(escalation, escalation),
        "reason_group": _text(d.get("reason_group")),
        "reason_group_label": GROUP_LABELS.get(_text(d.get("reason_group")), ""),
        "reason_indicator": _text(d.get("reason_indicator")),
        "reason_indicator_label": INDICATOR_LABELS.get(_text(d.get("reason_indicator")), ""),
        "partner_code": partner,
        "partner_name": str(yc.school.get(partner, {}).get("school_name", partner)),
        "exited": _flag(d.get("exited")),
    }

    # community of practice and checkpoints
    comm = yc.community_by_school.get(school_code, [])
    community = None
    if comm:
        cid = str(comm[0]["community_id"])
        community = {
            "id": cid,
            # the calendars are staff files: the public edition links nothing outside it
            "ics_href": "" if public else CALENDAR_HREF.format(community_id=cid),
            "reason_group_label": GROUP_LABELS.get(_text(comm[0].get("reason_group")), ""),
            "checkpoints": [
                {
                    "number": _text(c.get("checkpoint")),
                    "date": fmt_date(c.get("date")),
                    "status": _text(c.get("status")).replace("_", " ").lower(),
                }
                for c in comm
            ],
        }
    p = yc.plan.get(school_code)
    plan = None
    if p:
        plan = {
            "year": _text(p.get("plan_year")) or years.service_year(yc.year),
            "year_number": int(p.get("plan_year_number") or 1),
            "of_years": yc.m.communities.plan_years,
            "status": _text(p.get("status")),
            "deadline": fmt_date(p.get("deadline")),
            "submitted_at": fmt_date(p.get("submitted_at")),
            "approved_at": fmt_date(p.get("approved_at")),
            "approved": _text(p.get("status")) == "APPROVED",
        }
    flags = [
        {"number": _text(c.get("number")), "flags": _text(c.get("flags"))}
        for c in yc.checkpoint_by_school.get(school_code, [])
        if _text(c.get("flags"))
    ]

    ctx: dict[str, Any] = {
        "report": {**yc.common, "kind": "school"},
        "school": {
            "code": school_code,
            "name": str(sch["school_name"]),
            "district_code": str(sch["district_code"]),
            "district_name": str(sch["district_name"]),
            "type": SCHOOL_TYPE_LABELS.get(stype, stype),
            "title_i": _flag(sch["title_i"]),
            "grades": f"{_grade(sch['low_grade'])}–{_grade(sch['high_grade'])}",
        },
        "summary": summary,
        "all_rows": all_rows,
        "all_notes": notes_for(all_rows, m),
        "group_tables": group_tables,
        "trends": trends,
        **support_section.school_keys(yc, school_code),
        "designation": designation,
        "community": community,
        "plan": plan,
        "checkpoint_flags": flags,
        "focus": None,
        **sections.school_keys(yc, school_code),
        **review_sections.school_keys(yc, school_code),
    }
    # the Focus and Priority data reports are staff documents (docs/reports.md)
    if designation_code in ("FOCUS", "PRIORITY") and not public:
        ctx["focus"] = _focus_context(yc, ctx, d, this, cells, order)
    return ctx


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


def _grade(g: Any) -> str:
    return "K" if int(g) == 0 else str(int(g))


def _num_or_nan(v: Any) -> float:
    return math.nan if _isnan(v) else float(v)


def _focus_context(
    yc: YearContext,
    ctx: dict[str, Any],
    d: dict[str, Any],
    this: dict[str, dict[str, dict[str, Any]]],
    cells: Cells,
    order: list[str],
) -> dict[str, Any]:
    """The Focus/Priority data report (seeds: "the reason for Focus identification,
    subgroup-specific indicators, and data on school and subgroup performance against …
    targets"; METHODOLOGY.md Designations, Escalation, SQII step 4)."""
    m = yc.m
    des = ctx["designation"]
    group = des["reason_group"] or _text(d.get("gap_group")) or "ALL"
    glabel = GROUP_LABELS.get(group, group)
    reason_ind = des["reason_indicator"]
    grad = m.designations.grad_indicator
    supp = {m.suppression.suppressed_label, m.suppression.under_nsize_label}
    all_cells = this.get("ALL", {})
    grp_cells = this.get(group, {})

    if des["code"] == "PRIORITY":
        all_grad = _num_or_nan(all_cells.get(grad, {}).get("value_public"))
        if not math.isnan(all_grad) and all_grad < m.designations.grad_threshold:
            reason = (
                f"{INDICATOR_LABELS[grad]} for all students is below "
                f"{m.designations.grad_threshold:g}%."
            )
        else:
            reason = (
                "The school's SQII is among the lowest "
                f"{m.designations.priority_share * 100:g}% of Title I schools in the consortium."
            )
    elif reason_ind == grad:
        reason = (
            f"{INDICATOR_LABELS[grad]} for {glabel} is below {m.designations.grad_threshold:g}%."
        )
    else:
        reason = (
            "The school has one of the largest achievement gaps among Title I schools in the "
            f"consortium (the {m.designations.focus_share * 100:g}% largest): {glabel} compared "
            "with all students"
            + (
                f", largest in {INDICATOR_LABELS.get(reason_ind, reason_ind)}."
                if reason_ind
                else "."
            )
        )

    # the gap is computed from the group's rates: hidden if any of them is
    gap_disp = [grp_cells.get(k, {}).get("value_display") for k in m.designations.gap_indicators]
    gap_hidden = any(v is None or v in supp for v in gap_disp)
    gap = NO_DATA if _isnan(d.get("gap")) else fmt(d.get("gap"), 1, suffix=" points")
    if gap_hidden and gap != NO_DATA:
        gap = m.suppression.suppressed_label

    # the subgroup's indicators beside all students', with the targets to reach
    comparison = []
    for code in order:
        a, g = all_cells.get(code), grp_cells.get(code)
        if a is None and g is None:
            continue
        comparison.append(
            {
                "indicator": code,
                "label": INDICATOR_LABELS.get(code, code),
                "is_reason": code == reason_ind,
                "all_value": a["value_display"] if a else NO_DATA,
                "group_n": g["n_display"] if g else NO_DATA,
                "group_value": g["value_display"] if g else NO_DATA,
                "group_level": g["level_display"] if g else NO_DATA,
                "group_band": BAND_LABELS.get(g["band"], "") if g else "",
                "group_change": g["change_display"] if g else NO_DATA,
                "targets": g["targets"] if g else [{"target": NO_DATA, "need": ""}] * 3,
            }
        )

    # the group's trend on the reason indicator beside all students'
    trend = None
    if reason_ind and m.indicators[reason_ind].scale == "percent":
        ys = list(yc.years_shown)
        pairs = [("ALL", reason_ind)] + ([(group, reason_ind)] if group != "ALL" else [])
        pts, disp = _trend(cells, ys, pairs)
        who = f"{glabel} and all students" if group != "ALL" else "all students"
        trend = {
            "notes": [],
            "id": "trend-reason",
            "title": f"{INDICATOR_LABELS[reason_ind]}: {who}, by year",
            "svg": charts.trend_svg(
                f"{INDICATOR_LABELS[reason_ind]} by school year for {who}",
                ys,
                [
                    charts.Series("All" if g == "ALL" else g, p)
                    for (g, _), p in zip(pairs, pts, strict=True)
                ],
                ylabel="%",
            ),
            "columns": ["All students", glabel][: len(pairs)],
            "rows": [{"year": y, "cells": c} for y, c in zip(ys, disp, strict=True)],
        }

    return {
        "reason": reason,
        "group": group,
        "group_label": glabel,
        "compare_all": group != "ALL",
        "gap": gap,
        "comparison": comparison,
        "trend": trend,
        "plan_due_checkpoint": m.communities.plan_approval_due_checkpoint,
        "plan_missing": ctx["plan"] is None,
        "escalation_next": _next_escalation(m, des["code"], des["years_in_status"]),
        "peer_review": des["code"] == "PRIORITY",
        "priority_share": f"{m.designations.priority_share * 100:g}%",
    }


def _next_escalation(m: Methodology, designation: str, years_in: int) -> str:
    table = m.escalation.focus if designation == "FOCUS" else m.escalation.priority
    later = sorted((y, e) for e, y in table.items() if y > years_in)
    if not later:
        return ""
    y, e = later[0]
    return f"{ESCALATION_LABELS.get(e, e)} if the school is still designated in year {y}."


def district_context(yc: YearContext, district_code: str) -> dict[str, Any]:
    """The district index: every school's report linked, with its SQII and designation."""
    here = sorted(
        (r for r in yc.school.values() if str(r["district_code"]) == district_code),
        key=lambda r: str(r["school_name"]),
    )
    rows = []
    for r in here:
        code = str(r["school_code"])
        c = yc.index_rows.get(code, {}).get(yc.year, {})
        d = yc.designation.get(code, {})
        des = _text(d.get("designation")) or "NONE"
        esc = _text(d.get("escalation")) or "NONE"
        rows.append(
            {
                "code": code,
                "name": str(r["school_name"]),
                "href": f"../schools/{code}.html",
                "type": SCHOOL_TYPE_LABELS.get(str(r["school_type"]), str(r["school_type"])),
                "sqii": fmt(c.get("sqii"), 1),
                "goal": NO_DATA
                if _isnan(c.get("goal"))
                else ("met" if _flag(c.get("meets_goal")) else "not met"),
                "designation": DESIGNATION_LABELS.get(des, des) if des != "NONE" else NO_DATA,
                "escalation": ESCALATION_SHORT.get(esc, esc) if esc != "NONE" else "",
            }
        )
    name = str(here[0]["district_name"]) if here else district_code
    return {
        "report": {**yc.common, "kind": "district"},
        "district": {"code": district_code, "name": name},
        "schools": rows,
        **sections.district_keys(yc, district_code),
        **review_sections.district_keys(yc, district_code),
    }
