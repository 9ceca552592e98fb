"""The school report's context (both editions): the SQII and domains, every indicator for
all students and per student group with levels and targets, the trends, designation and
escalation, the community of practice, plan and checkpoint flags, and the sections
(``sqis.reports.sections``, reviews, support). A Focus or Priority school's staff report
adds its data report (``sqis.reports.focus_view``).

Sections implemented (METHODOLOGY.md): *Index levels* (levels, bands, improvement to
advance 1/2/3 levels), *The SQII* (domain scores, SQII, SQI Goal), *Designations*,
*Escalation*, *Communities of practice and checkpoints*, *Public suppression*.
"""

from __future__ import annotations

from typing import Any

from sqis import codes, years
from sqis.methodology import Methodology
from sqis.reports import charts, sections
from sqis.reports import reviews as review_sections
from sqis.reports import support as support_section
from sqis.reports.focus_view import focus_context
from sqis.reports.formatting import (
    as_flag,
    as_text,
    chart_notes,
    fmt,
    fmt_date,
    is_missing,
    notes_for,
    num_or_nan,
)
from sqis.reports.labels import (
    DESIGNATION_LABELS,
    DOMAIN_LABELS,
    ESCALATION_LABELS,
    GROUP_LABELS,
    INDICATOR_LABELS,
    SCHOOL_TYPE_LABELS,
    SHORT_LABELS,
)
from sqis.reports.year_context import PUBLIC, YearContext, trend_points

# the community's calendar, relative to reports/schools/<code>.html: `sqis calendars` writes
# <out>/<year>/communities/<community_id>.ics (docs/reports.md, *Links*)
CALENDAR_HREF = "../../communities/{community_id}.ics"
# trend charts: the indicators followed per school type (ALL students)
KEY_INDICATORS: dict[str, tuple[str, ...]] = {
    "ES": ("ELA_MET", "MATH_MET", "CHRONIC"),
    "MS": ("ELA_MET", "MATH_MET", "CHRONIC"),
    "HS": ("ELA_MET", "MATH_MET", "GRAD4"),
}


def _rows(
    by_ind: dict[str, dict[str, Any]], order: list[str], m: Methodology
) -> list[dict[str, Any]]:
    """This year's table rows in the indicators' order (labels and targets are ready)."""
    return [by_ind[code] for code in order if code in by_ind]


def _trend_chart(
    title: str, xlabels: list[str], series: list[charts.Series], ylabel: str, ymax: float = 100.0
) -> str:
    return charts.trend_svg(title, xlabels, series, ymin=0.0, ymax=ymax, ylabel=ylabel)


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
    sqii: Any = cur_r.get("sqii")
    prior: Any = cur_r.get("prior_sqii")
    summary = {
        "sqii": fmt(sqii, 1),
        "prior_sqii": fmt(prior, 1),
        "change": fmt(
            None if is_missing(sqii) or is_missing(prior) else sqii - prior, 1, signed=True
        ),
        "goal": fmt(cur_r.get("goal"), 1),
        "meets_goal": None if is_missing(cur_r.get("goal")) else as_flag(cur_r.get("meets_goal")),
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
    sqii_y = [num_or_nan(idx.get(y, {}).get("sqii")) for y in ys]
    goal_y = [num_or_nan(idx.get(y, {}).get("goal")) for y in ys]
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
        pts, disp = trend_points(cells, ys, [("ALL", k) for k in key])
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
    designation_code = as_text(d.get("designation")) or "NONE"
    partner = as_text(d.get("partner_school_code"))
    escalation = as_text(d.get("escalation")) or "NONE"
    designation = {
        "code": designation_code,
        "label": DESIGNATION_LABELS.get(designation_code, designation_code),
        "years_in_status": 0 if is_missing(d.get("years_in_status")) else int(d["years_in_status"]),
        "escalation": escalation,
        "escalation_label": ESCALATION_LABELS.get(escalation, escalation),
        "reason_group": as_text(d.get("reason_group")),
        "reason_group_label": GROUP_LABELS.get(as_text(d.get("reason_group")), ""),
        "reason_indicator": as_text(d.get("reason_indicator")),
        "reason_indicator_label": INDICATOR_LABELS.get(as_text(d.get("reason_indicator")), ""),
        "partner_code": partner,
        "partner_name": str(yc.school.get(partner, {}).get("school_name", partner)),
        "exited": as_flag(d.get("exited")),
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
            "reason_group_label": GROUP_LABELS.get(as_text(comm[0].get("reason_group")), ""),
            "checkpoints": [
                {
                    "number": as_text(c.get("checkpoint")),
                    "date": fmt_date(c.get("date")),
                    "status": as_text(c.get("status")).replace("_", " ").lower(),
                }
                for c in comm
            ],
        }
    p = yc.plan.get(school_code)
    plan = None
    if p:
        plan = {
            "year": as_text(p.get("plan_year")) or years.service_year(yc.year),
            "year_number": int(p.get("plan_year_number") or 1),
            "of_years": yc.m.communities.plan_years,
            "status": as_text(p.get("status")),
            "deadline": fmt_date(p.get("deadline")),
            "submitted_at": fmt_date(p.get("submitted_at")),
            "approved_at": fmt_date(p.get("approved_at")),
            "approved": as_text(p.get("status")) == "APPROVED",
        }
    flags = [
        {"number": as_text(c.get("number")), "flags": as_text(c.get("flags"))}
        for c in yc.checkpoint_by_school.get(school_code, [])
        if as_text(c.get("flags"))
    ]

    ctx: dict[str, Any] = {
        "report": {**yc.common, "kind": "school"},
        "school": {
            "code": school_code,
            "name": str(sch["school_name"]),
            "district_code": str(sch["district_code"]),
            "district_name": str(sch["district_name"]),
            "type": SCHOOL_TYPE_LABELS.get(stype, stype),
            "title_i": as_flag(sch["title_i"]),
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
        ctx["focus"] = focus_context(yc, ctx, d, this, cells, order)
    return ctx


def _grade(g: Any) -> str:
    return "K" if int(g) == 0 else str(int(g))
