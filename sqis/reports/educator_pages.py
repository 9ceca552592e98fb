"""Staff pages of educator effectiveness (METHODOLOGY.md "Educator effectiveness"; the
staff edition only, ``templates/reports/educators.html``):

- ``reports/educators/<school_code>.html``, for the school's principal: the school's
  educators by level, each teacher's growth, rating, summative score, level, flag and
  recorded action (under pseudonyms), and the school's distribution and its trend;
- ``reports/educators/<district_code>.html``: the district's distribution per school and
  its trend over the years on record;
- ``reports/educators/consortium.html``, for the Oversight Panel: every district's
  distribution and the consortium's trend.

Rendered from the results store's ``educator_results``, ``educator_distribution`` and
``educator_actions`` (results → reports, one way). The public edition has only the
suppressed ``educator-distribution.csv`` (``sqis.disclosure``). The display rows are
``sqis.reports.educator_rows``, which the educator sections of the main reports share.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from sqis import codes, years
from sqis.methodology import Methodology
from sqis.reports.educator_rows import (
    distribution_rows,
    educator_display,
    rows_by_entity,
    school_bounds,
)
from sqis.reports.render import environment, report_key


def _rows(dist: pd.DataFrame, label: dict[str, str]) -> list[dict[str, Any]]:
    return distribution_rows(dist, label)


def _trend(history: pd.DataFrame) -> list[dict[str, Any]]:
    return distribution_rows(history.sort_values(["year", "role"]))


def educator_pages(
    year: str,
    schools: pd.DataFrame,
    results: pd.DataFrame,
    history: pd.DataFrame,
    actions: pd.DataFrame,
    m: Methodology,
    produced: str,
) -> dict[str, bytes]:
    """The year's staff educator pages, ``{reports/educators/<code>.html: bytes}``.
    ``history``: ``educator_distribution`` of the years on record up to ``year`` (with a
    ``year`` column); ``actions``: ``educator_actions`` of ``year``."""
    e = m.educators
    if e is None or results.empty:
        return {}
    t = environment().get_template("educators.html")
    names = dict(zip(schools["school_code"].astype(str), schools["school_name"].astype(str),
                     strict=True))  # fmt: skip
    dnames = dict(zip(schools["district_code"].astype(str),
                      schools["district_name"].astype(str), strict=False))  # fmt: skip
    report = {
        "year": year,
        "edition": "staff",
        "supp_max": m.suppression.max_count,
        "methodology_version": m.version,
        "generated": produced,
    }
    common = {
        "stage": e.stage(year),
        "level_names": [f"{k} {v}" for k, v in codes.EDUCATOR_LEVELS.items()],
        "min_students": e.min_students,
    }
    cur = history[history["year"] == year]
    out: dict[str, bytes] = {}
    # every educator's display row built once, column by column, then split by school: not
    # one iterrows per educator and one filter of the year's rows per school (40,000
    # educators and 1,500 schools at 1M students)
    res, display = educator_display(results, actions)
    schools_col = res["school_code"].astype(str)
    cur_by = dict(tuple(cur.groupby("entity_code", sort=False)))
    hist_by = dict(tuple(history.groupby("entity_code", sort=False)))
    empty_cur, empty_hist = cur.iloc[0:0], history.iloc[0:0]
    # the schools' display rows of the distribution and of its trend, each built once
    school_rows = rows_by_entity(cur, names)
    trend_rows = rows_by_entity(
        history.sort_values(["entity_code", "year", "role"], kind="mergesort")
    )
    records = display.to_dict("records")
    bounds = school_bounds(schools_col)
    for lo, hi in bounds:  # a page per school
        rows = res.iloc[lo:hi]
        code = schools_col.iloc[lo]
        educators = records[lo:hi]
        district = str(rows["district_code"].iloc[0])
        page = {
            **common,
            "title": f"Educator effectiveness: {names.get(code, code)}",
            "subtitle": f"{code} · {dnames.get(district, district)} · staff edition, for the "
            "principal",
            "entity_label": "school",
            "option": int(rows["option"].iloc[0]),
            "distribution": school_rows.get(code, []),
            "trend": trend_rows.get(code, []),
            "educators": educators,
        }
        out[report_key("educators", str(code))] = t.render(report=report, page=page).encode()
    for district in sorted(results["district_code"].astype(str).unique()):
        in_d = cur[(cur["entity_type"] == "SCHOOL")
                   & cur["entity_code"].str.startswith(district)]  # fmt: skip
        page = {
            **common,
            "title": f"Educator effectiveness: {dnames.get(district, district)}",
            "subtitle": f"district {district} · its schools' educators by level · staff edition",
            "entity_label": "school",
            "distribution": _rows(cur_by.get(district, empty_cur), {district: "district"})
            + _rows(in_d, names),
            "trend": _trend(hist_by.get(district, empty_hist)),
            "educators": [],
        }
        out[report_key("educators", district)] = t.render(report=report, page=page).encode()
    districts = cur[cur["entity_type"].isin(["CONSORTIUM", "DISTRICT"])]
    page = {
        **common,
        "title": "Educator effectiveness: the consortium",
        "subtitle": f"for the Oversight Panel of {years.service_year(year)} · every district's "
        "educators by level · staff edition",
        "entity_label": "district",
        "distribution": _rows(districts, {"ALL": "consortium", **dnames}),
        "trend": _trend(history[history["entity_type"] == "CONSORTIUM"]),
        "educators": [],
    }
    out[report_key("educators", "consortium")] = t.render(report=report, page=page).encode()
    return out
