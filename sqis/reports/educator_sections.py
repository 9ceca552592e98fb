"""Educator effectiveness inside the main reports (METHODOLOGY.md "Educator effectiveness",
"Two editions", "Oversight Panel"; issue 20):

- the **school report** (staff edition only, for its principal): the school's educators by
  level, then its teachers by level with their growth, growth rating and flag (a
  ``TRIGGER`` marked), under their pseudonyms (``templates/reports/_educators_school.html``);
- the **district page**: the district's teachers and principals by level and the trend
  over the years on record (``_educators_district.html``);
- the **Oversight Panel report**: every district's distribution and the trend of the
  share rated effective or better (``_educators_oversight.html``).

The staff edition reads the results store's ``educator_results`` and
``educator_distribution`` (``sqis.report_frames.ReportFrames``), from the pilot year
on. The public edition reads only ``PublicFrames.educators``
(``sqis.disclosure.public_educator_history``: each implementation year's distribution as
``sqis.educator_suppression`` publishes it); the pilot year is staff only, and the public
school report has no educator section at all.

Display rows come from ``sqis.reports.educator_rows`` (``educator_display``,
``distribution_rows``, ``school_bounds``), shared with the staff educator pages: built
once per year column by column and split by school and district, never a loop per
educator (commit d3d15a4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sqis import codes, years
from sqis.methodology import Methodology
from sqis.reports.educator_rows import (
    distribution_rows,
    educator_display,
    rows_by_entity,
    school_bounds,
)

if TYPE_CHECKING:
    from sqis.disclosure import PublicFrames
    from sqis.report_frames import ReportFrames
    from sqis.reports.year_context import YearContext

STAFF, PUBLIC = "staff", "public"
# the staff educator pages (sqis.reports.educator_pages), relative to reports/schools/<code>.html
# and reports/districts/<code>.html
PAGE_HREF = "../educators/{code}.html"
# the columns of the school section's teacher table (educator_display's)
TEACHER_COLUMNS = ("key", "level", "n_students", "growth", "rating", "practice", "flag")


@dataclass
class EducatorSections:
    """One year's educator sections, prepared once (both editions)."""

    edition: str
    year: str
    common: dict[str, Any]
    schools: dict[str, dict[str, Any]] = field(default_factory=dict)
    districts: dict[str, dict[str, Any]] = field(default_factory=dict)


def _stage_label(y: str, m: Methodology) -> str:
    e = m.educators
    return f"{y} (pilot)" if e is not None and e.stage(y) == "pilot" else y


def _common(year: str, m: Methodology, edition: str) -> dict[str, Any]:
    e = m.educators
    assert e is not None
    p = e.public
    public_note = (
        f"{p.suppressed_label}: not shown to protect educators' privacy — a row of fewer than "
        f"{p.min_rated} educators rated, or whose educators all have one level, shows nothing; "
        f"a count of 1–{p.max_small_count} is {p.suppressed_label}, and so is any count, or "
        "share, that would let someone work one out from the other rows."
    )
    return {
        "edition": edition,
        "stage": e.stage(year),
        "pilot_year": e.pilot_year,
        "first_year": e.first_year,
        "level_names": [f"{k} {v}" for k, v in codes.EDUCATOR_LEVELS.items()],
        "min_students": e.min_students,
        "notes": [public_note] if edition == PUBLIC else [],
        "hidden": p.suppressed_label,
    }


def _option_text(option: Any, weight: Any) -> str:
    if pd.isna(option):
        return ""
    if int(option) == 1:
        return "option 1 (a trigger where practice and growth disagree)"
    return f"option 2 (growth counts {float(weight):.0%} of the summative score)"


def _with_years(rows: list[dict[str, Any]], m: Methodology) -> list[dict[str, Any]]:
    for r in rows:  # a few rows a district: the years on record × two roles
        r["year"] = _stage_label(r["year"], m)
    return rows


def _history(dist: pd.DataFrame | None, year: str) -> pd.DataFrame:
    """The distribution of the years on record up to ``year`` (a ``year`` column added)."""
    if dist is None or dist.empty:
        return pd.DataFrame(columns=["year", "entity_type", "entity_code", "role"])
    h = dist if "year" in dist.columns else dist.assign(year=year)
    ys = h["year"].astype("str")
    codes_, uniq = pd.factorize(ys, use_na_sentinel=False)
    start = np.array([years.start_of(y) for y in uniq], dtype="int64")[codes_]
    return h[start <= years.start_of(year)]


def _district_sections(
    hist: pd.DataFrame, year: str, names: dict[str, str], m: Methodology, edition: str
) -> dict[str, dict[str, Any]]:
    """Each district's section: this year's rows and the trend (grouped once)."""
    d = hist[(hist["entity_type"].astype("str") == "DISTRICT").to_numpy()]
    if d.empty:
        return {}
    d = d.sort_values(["entity_code", "role", "year"], kind="mergesort")
    hidden = m.educators.public.suppressed_label if m.educators else "*"
    rows = _with_years(distribution_rows(d, names, hidden), m)
    is_now = (d["year"].astype("str") == year).to_numpy()
    out: dict[str, dict[str, Any]] = {}
    for code, at in pd.Series(np.arange(len(d))).groupby(d["entity_code"].astype("str").to_numpy()):
        idx = at.to_numpy()
        out[str(code)] = {
            "current": [rows[i] for i in idx if is_now[i]],
            "trend": [rows[i] for i in idx],
            "href": PAGE_HREF.format(code=code) if edition == STAFF else "",
        }
    return out


def prepare_staff(
    year: str, schools: pd.DataFrame, frames: ReportFrames, m: Methodology
) -> EducatorSections | None:
    """The staff edition's sections from the report frames' ``educator_results`` of
    ``year`` and ``educator_distribution`` of the years on record; ``None`` without an
    educator methodology or before the pilot."""
    if m.educators is None or m.educators.stage(year) == "none":
        return None
    results = frames.educator_results
    hist = _history(frames.educator_distribution, year)
    if (results is None or results.empty) and hist.empty:
        return None
    names = dict(zip(schools["district_code"].astype(str),
                     schools["district_name"].astype(str), strict=False))  # fmt: skip
    sec = EducatorSections(STAFF, year, _common(year, m, STAFF))
    sec.districts = _district_sections(hist, year, names, m, STAFF)
    if results is None or results.empty:
        return sec
    # the school rows of this year's distribution, grouped once
    now = hist[(hist["year"].astype("str") == year).to_numpy()
               & (hist["entity_type"].astype("str") == "SCHOOL").to_numpy()]  # fmt: skip
    # the schools' display rows, built once for the year and split by school
    dist_rows = rows_by_entity(now, dict.fromkeys(now["entity_code"].astype("str"), "school"))
    res, display = educator_display(results)
    options = res.groupby(res["school_code"].astype(str), sort=False)[
        ["option", "growth_weight"]
    ].first()
    teacher = (res["role"].astype(str) == "TEACHER").to_numpy()
    res_t = res[teacher].reset_index(drop=True)
    disp_t = display.loc[teacher, list(TEACHER_COLUMNS)].reset_index(drop=True)
    flags = res_t["flag"].astype(str).to_numpy()
    teachers = disp_t.to_dict("records")
    by_school = {
        str(res_t["school_code"].iloc[lo]): (lo, hi)
        for lo, hi in school_bounds(res_t["school_code"])
    }
    for code, opt in options.to_dict("index").items():  # a section per school with educators
        lo, hi = by_school.get(code, (0, 0))
        sec.schools[code] = {
            **sec.common,
            "href": PAGE_HREF.format(code=code),
            "option": _option_text(opt["option"], opt["growth_weight"]),
            "distribution": dist_rows.get(code, []),
            "teachers": teachers[lo:hi],
            "triggers": int((flags[lo:hi] == "TRIGGER").sum()),
            "no_growth": int((flags[lo:hi] == "NO_GROWTH").sum()),
        }
    return sec


def prepare_public(pf: PublicFrames, m: Methodology) -> EducatorSections | None:
    """The public edition's sections, from ``PublicFrames.educators`` only (the suppressed
    distribution of the implementation years on record): district sections, no school
    section; ``None`` where nothing is published (the pilot year, no educators)."""
    from sqis.disclosure import require_public

    pf = require_public(pf)
    if m.educators is None or pf.educators.empty:
        return None
    names = dict(zip(pf.schools["district_code"].astype(str),
                     pf.schools["district_name"].astype(str), strict=False))  # fmt: skip
    sec = EducatorSections(PUBLIC, pf.year, _common(pf.year, m, PUBLIC))
    sec.districts = _district_sections(_history(pf.educators, pf.year), pf.year, names, m, PUBLIC)
    return sec


def attach_staff(yc: YearContext, frames: ReportFrames) -> None:
    """Prepare the staff sections once for the year's reports (``yc.sections``)."""
    schools = pd.DataFrame(
        {
            "district_code": [str(r["district_code"]) for r in yc.school.values()],
            "district_name": [str(r["district_name"]) for r in yc.school.values()],
        }
    )
    yc.sections["educators"] = prepare_staff(yc.year, schools, frames, yc.m)


def attach_public(yc: YearContext, pf: PublicFrames) -> None:
    """Prepare the public sections once for the year's reports (``yc.sections``)."""
    yc.sections["educators"] = prepare_public(pf, yc.m)


def school_section(yc: YearContext, school_code: str) -> dict[str, Any] | None:
    """The school report's section, for its principal: staff edition only (``None`` in the
    public edition, and for a school without educators)."""
    sec: EducatorSections | None = yc.sections.get("educators")
    if sec is None or sec.edition != STAFF or yc.edition != STAFF:
        return None
    return sec.schools.get(school_code)


def district_section(yc: YearContext, district_code: str) -> dict[str, Any] | None:
    """The district page's section (both editions; the public one suppressed)."""
    sec: EducatorSections | None = yc.sections.get("educators")
    if sec is None:
        return None
    got = sec.districts.get(district_code)
    return None if got is None else {**sec.common, **got}


def oversight_section(
    year: str,
    schools: pd.DataFrame,
    distribution: pd.DataFrame | None,
    m: Methodology,
    public: bool,
) -> dict[str, Any] | None:
    """The Oversight Panel report's section: the consortium's and every district's
    educators by level in ``year`` and the trend of the share rated effective or better
    (levels 3 and 4) over the years on record (up to five). ``distribution``: the staff's
    (``educator_distribution`` with ``year``) or, with ``public``, ``PublicFrames.educators``
    (already suppressed: the pilot is not in it). ``None`` when there is nothing to show."""
    e = m.educators
    if e is None or e.stage(year) == "none":
        return None
    hist = _history(distribution, year)
    if public:  # PublicFrames.educators holds implementation years only; never the pilot
        shown = [y for y in pd.unique(hist["year"].astype("str")) if e.stage(y) == "implementation"]
        hist = hist[hist["year"].astype("str").isin(shown).to_numpy()]
    hist = hist[hist["entity_type"].astype("str").isin(["CONSORTIUM", "DISTRICT"]).to_numpy()]
    if hist.empty:
        return None
    ys = sorted(set(hist["year"].astype("str")), key=years.start_of)[-years.TREND_YEARS :]
    hist = hist[hist["year"].astype("str").isin(ys).to_numpy()]
    dnames = (
        schools[["district_code", "district_name"]]
        .astype(str)
        .drop_duplicates("district_code")
        .set_index("district_code")["district_name"]
        .to_dict()
    )
    label = {"ALL": "Consortium", **dnames}
    order = {"ALL": ""} | {c: n for c, n in sorted(dnames.items(), key=lambda kv: kv[1])}
    rank = {c: i for i, c in enumerate(order)}
    h = hist.assign(
        _o=hist["entity_code"].astype("str").map(rank).fillna(len(rank)).to_numpy(),
    ).sort_values(["_o", "entity_code", "role", "year"], kind="mergesort")
    sec = _common(year, m, PUBLIC if public else STAFF)
    rows = distribution_rows(h, label, sec["hidden"])
    now = (h["year"].astype("str") == year).to_numpy()
    # the trend: one row per (entity, role), a cell per year (the share effective or better)
    trend: dict[tuple[str, str], dict[str, Any]] = {}
    keys = zip(h["entity_code"].astype("str").tolist(), h["role"].astype("str").tolist(),
               strict=True)  # fmt: skip
    for key, r in zip(keys, rows, strict=True):  # consortium and districts × 2 roles × years
        t = trend.get(key)
        if t is None:
            t = trend[key] = {"entity": r["entity"], "role": r["role"], "cells": {}}
        t["cells"][r["year"]] = r["effective"]
    return {
        **sec,
        "years": [_stage_label(y, m) for y in ys],
        "current": [r for r, n in zip(rows, now, strict=True) if n],
        "trend": [{**t, "cells": [t["cells"].get(y, "–") for y in ys]} for t in trend.values()],
    }
