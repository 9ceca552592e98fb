"""The Focus/Priority data report's context (a staff document, docs/reports.md): the reason
for identification, the subgroup's indicators beside all students' with the targets to
reach, the gap, the trend on the reason indicator, the plan and the next escalation step
(seeds; METHODOLOGY.md *Designations*, *Escalation*, *The SQII* step 4).
"""

from __future__ import annotations

import math
from typing import Any

from sqis.methodology import Methodology
from sqis.reports import charts
from sqis.reports.formatting import as_text, fmt, is_missing, num_or_nan
from sqis.reports.labels import ESCALATION_LABELS, GROUP_LABELS, INDICATOR_LABELS
from sqis.reports.year_context import Cells, YearContext, trend_points
from sqis.suppression import BAND_LABELS, NO_DATA


def focus_context(
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
    group = des["reason_group"] or as_text(d.get("gap_group")) or "ALL"
    glabel = GROUP_LABELS.get(group, group)
    reason_ind = des["reason_indicator"]
    grad = m.designations.grad_indicator
    supp = {m.suppression.suppressed_label, m.suppression.under_nsize_label}
    all_cells = this.get("ALL", {})
    grp_cells = this.get(group, {})

    if des["code"] == "PRIORITY":
        all_grad = num_or_nan(all_cells.get(grad, {}).get("value_public"))
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
    gap = NO_DATA if is_missing(d.get("gap")) else fmt(d.get("gap"), 1, suffix=" points")
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
        pts, disp = trend_points(cells, ys, pairs)
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
