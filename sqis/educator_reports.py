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
suppressed ``educator-distribution.csv`` (``sqis.disclosure``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sqis import codes, years
from sqis.methodology import Methodology

LEVEL_COLUMNS = ("level_1", "level_2", "level_3", "level_4")


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _rows(dist: pd.DataFrame, label: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "entity": label.get(str(r["entity_code"]), str(r["entity_code"])),
            "role": str(r["role"]).title(),
            "rated": int(r["rated"]),
            "levels": [int(r[c]) for c in LEVEL_COLUMNS],
        }
        for _, r in dist.iterrows()  # a few rows per page
    ]


def _trend(history: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for _, r in history.sort_values(["year", "role"]).iterrows():
        n = int(r["rated"])
        shares = [f"{100 * int(r[c]) / n:.0f}%" if n else "–" for c in LEVEL_COLUMNS]
        eff = f"{100 * (int(r['level_3']) + int(r['level_4'])) / n:.0f}%" if n else "–"
        out.append({"year": r["year"], "role": str(r["role"]).title(), "rated": n,
                    "shares": shares, "effective": eff})  # fmt: skip
    return out


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
    from sqis.reports.render import environment, report_key

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
    act = {
        (str(a["educator_key"]), str(a["school_code"])): f"{a['action']}: {a['reason']}"
        + (f" (through {a['in_force_until']})" if pd.notna(a["in_force_until"]) else "")
        for _, a in actions.iterrows()
    }
    out: dict[str, bytes] = {}
    # every educator's display row built once, column by column, then split by school: not
    # one iterrows per educator and one filter of the year's rows per school (40,000
    # educators and 1,500 schools at 1M students)
    res = results.sort_values(
        ["school_code", "role", "level", "educator_key"], ascending=[True, False, True, True]
    ).reset_index(drop=True)
    keys = res["educator_key"].astype(str)
    schools_col = res["school_code"].astype(str)
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
            "action": [act.get((k, c), "") for k, c in zip(keys, schools_col, strict=True)],
        }
    )
    cur_by = dict(tuple(cur.groupby("entity_code", sort=False)))
    hist_by = dict(tuple(history.groupby("entity_code", sort=False)))
    empty_cur, empty_hist = cur.iloc[0:0], history.iloc[0:0]
    starts = np.flatnonzero(np.r_[True, schools_col.to_numpy()[1:] != schools_col.to_numpy()[:-1]])
    bounds = zip(starts, [*starts[1:], len(res)], strict=True)
    for lo, hi in bounds:  # a page per school
        rows = res.iloc[lo:hi]
        code = schools_col.iloc[lo]
        educators = display.iloc[lo:hi].to_dict("records")
        district = str(rows["district_code"].iloc[0])
        page = {
            **common,
            "title": f"Educator effectiveness: {names.get(code, code)}",
            "subtitle": f"{code} · {dnames.get(district, district)} · staff edition, for the "
            "principal",
            "entity_label": "school",
            "option": int(rows["option"].iloc[0]),
            "distribution": _rows(cur_by.get(code, empty_cur), {code: names.get(code, code)}),
            "trend": _trend(hist_by.get(code, empty_hist)),
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
