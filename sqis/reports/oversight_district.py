"""One district's block of the Oversight Panel report (METHODOLOGY.md, *Oversight Panel*):
schools by designation and escalation, the SQII distribution and change, goals met,
subgroup gaps and their trend, community checkpoint completion and plan approvals, and
what the lower n-size buys (``sqis.reports.oversight`` renders the report around them).

District-level rates are pooled (Σ numerators / Σ denominators over the district's
schools) and pass the same *Public suppression* rule as school cells: a pooled count
from 1 to 10, or a rate from one, shows ``*`` and is not plotted.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, cast

import numpy as np
import pandas as pd

from sqis import codes, years
from sqis.methodology import Methodology
from sqis.reports import charts
from sqis.reports.formatting import fmt, fmt_date
from sqis.reports.labels import DESIGNATION_LABELS, ESCALATION_SHORT, GROUP_LABELS
from sqis.suppression import NO_DATA, is_small, suppress_count


def district_gaps(
    ind: pd.DataFrame, schools: pd.DataFrame, m: Methodology, suppress: bool = True
) -> pd.DataFrame:
    """Pooled district gap per group and year (Designations: the gap; Oversight Panel).

    gap = ALL's mean of the gap indicators' pooled rates − the group's mean, in points.
    Returns ``district_code, year, student_group, gap, hidden`` (``hidden`` where any count
    behind it is small, Public suppression; never with ``suppress=False``, the staff
    edition). The public edition passes only published cells (a hidden count is NaN and
    the cell is left out of the pool), so a pooled rate gives nothing away.
    """
    gi = list(m.designations.gap_indicators)
    groups = ["ALL", *m.designations.gap_groups]
    sel = ind[ind["indicator"].isin(gi) & ind["student_group"].isin(groups)]
    if suppress:  # only published cells are pooled
        sel = sel[
            pd.to_numeric(sel["numerator"], errors="coerce").notna()
            & pd.to_numeric(sel["denominator"], errors="coerce").notna()
        ]
    sel = sel.assign(
        district_code=sel["school_code"].map(schools.set_index("school_code")["district_code"]),
        numerator=pd.to_numeric(sel["numerator"], errors="coerce"),
        denominator=pd.to_numeric(sel["denominator"], errors="coerce"),
    )
    pooled = sel.groupby(["district_code", "year", "student_group", "indicator"], as_index=False)[
        ["numerator", "denominator"]
    ].sum(min_count=1)
    pooled["rate"] = 100.0 * pooled["numerator"] / pooled["denominator"]
    pooled["small"] = (
        is_small(pooled["numerator"], m)
        | is_small(pooled["denominator"], m)
        | is_small(pooled["denominator"] - pooled["numerator"], m)
    )
    mean = pooled.groupby(["district_code", "year", "student_group"], as_index=False).agg(
        rate=("rate", "mean"), small=("small", "any"), k=("rate", "count")
    )
    mean.loc[mean["k"] < len(gi), "rate"] = np.nan
    allr = mean[mean["student_group"] == "ALL"][["district_code", "year", "rate", "small"]]
    allr = allr.rename(columns={"rate": "all_rate", "small": "all_small"})
    out = mean[mean["student_group"] != "ALL"].merge(allr, on=["district_code", "year"], how="left")
    out["gap"] = out["all_rate"] - out["rate"]
    out["hidden"] = out["small"] | out["all_small"].fillna(True).astype(bool)
    if not suppress:
        out["hidden"] = False
    return out[["district_code", "year", "student_group", "gap", "hidden"]]


def nsize_gain(ind: pd.DataFrame, schools: pd.DataFrame, year: str, m: Methodology) -> pd.DataFrame:
    """What the lower n-size buys (Oversight Panel): per district and group, the students in
    school groups with ``n_size ≤ n < comparison_n_size``, counted now and not at the larger n.

    A group's size at a school is its largest denominator over the year's indicators
    (*default*: the enrolment-based indicators, SUSP and CHRONIC, reach every student).
    """
    cur = ind[ind["year"].astype(str) == year] if "year" in ind.columns else ind
    size = (
        cur.assign(denominator=pd.to_numeric(cur["denominator"], errors="coerce"))
        .groupby(["school_code", "student_group"], as_index=False)["denominator"]
        .max()
    )
    size = size[size["student_group"] != "ALL"]
    size["district_code"] = size["school_code"].map(
        schools.set_index("school_code")["district_code"]
    )
    lo, hi = m.n_size, m.oversight.comparison_n_size
    size["gained"] = size["denominator"].where(
        (size["denominator"] >= lo) & (size["denominator"] < hi), 0.0
    )
    size["schools_gained"] = (size["gained"] > 0).astype(int)
    return size.groupby(["district_code", "student_group"], as_index=False)[
        ["gained", "schools_gained"]
    ].sum()


def _flagged(flags: pd.Series) -> int:
    """Checkpoint rows with a flag: the store keeps a list, the public frames "A;B" text."""
    return int(flags.map(lambda v: bool(v) if isinstance(v, list | tuple | str) else False).sum())


def _status_counts(frame: pd.DataFrame, col: str, order: tuple[str, ...]) -> list[dict[str, Any]]:
    counts = frame[col].fillna("NONE").astype(str).value_counts()
    keys = [k for k in order if k in counts.index] + sorted(set(counts.index) - set(order))
    return [{"key": k, "count": int(counts[k])} for k in keys]


def district_block(
    dcode: str,
    dname: str,
    year: str,
    ys: list[str],
    n_schools: int,
    idx: pd.DataFrame,
    des: pd.DataFrame,
    gaps_d: pd.DataFrame,
    gain_d: pd.DataFrame,
    plans: pd.DataFrame | None,
    checkpoints: pd.DataFrame | None,
    as_of: Any,
    m: Methodology,
    public: bool = True,
) -> dict[str, Any]:
    """One district's block: ``idx``, ``des``, ``gaps_d``, ``gain_d`` and the plans and
    checkpoints are the district's rows (``des``, plans and checkpoints of ``year`` only)."""
    # schools by designation and escalation
    designation = des["designation"].fillna("NONE").astype(str).tolist()
    escalation = (
        des["escalation"].fillna("NONE").astype(str).tolist()
        if "escalation" in des.columns
        else ["NONE"] * len(des)
    )
    pairs = Counter(zip(designation, escalation, strict=True))
    present = set(escalation)
    esc_cols = [e for e in codes.ESCALATIONS if e in present]
    by_designation = [
        {
            "label": DESIGNATION_LABELS.get(d, d),
            "total": sum(n for (dd, _), n in pairs.items() if dd == d),
            "cells": [pairs.get((d, e), 0) for e in esc_cols],
        }
        for d in codes.DESIGNATIONS
    ]
    exited = (
        int(des["exited"].astype(str).str.upper().isin(["Y", "TRUE", "1"]).sum())
        if "exited" in des.columns
        else 0
    )

    # SQII distribution and change, goals met, per year
    dist_rows = []
    hist: dict[str, list[float]] = {}
    bins = list(range(0, 101, 10))
    cats = [f"{a}–{b}" for a, b in zip(bins[:-1], bins[1:], strict=True)]
    for y in ys:
        s = pd.to_numeric(idx.loc[idx["year"].astype(str) == y, "sqii"], errors="coerce").dropna()
        g = idx[idx["year"].astype(str) == y]
        with_goal = g[pd.to_numeric(g["goal"], errors="coerce").notna()]
        met = with_goal["meets_goal"].map(lambda v: str(v).upper() in ("Y", "TRUE", "1")).sum()
        ch = pd.to_numeric(g["sqii"], errors="coerce") - pd.to_numeric(
            g["prior_sqii"], errors="coerce"
        )
        dist_rows.append(
            {
                "year": y,
                "n": str(len(s)),
                "min": fmt(s.min() if len(s) else None),
                "q1": fmt(s.quantile(0.25) if len(s) else None),
                "median": fmt(s.median() if len(s) else None),
                "q3": fmt(s.quantile(0.75) if len(s) else None),
                "max": fmt(s.max() if len(s) else None),
                "change": fmt(ch.mean() if ch.notna().any() else None, 1, signed=True),
                "goals": f"{int(met)} of {len(with_goal)}" if len(with_goal) else NO_DATA,
            }
        )
    for y in ys[-2:]:
        s = pd.to_numeric(idx.loc[idx["year"].astype(str) == y, "sqii"], errors="coerce").dropna()
        counts = np.histogram(s.clip(0, 100), bins=bins)[0]
        hist[y] = [float(c) for c in counts]
    dist_svg = charts.bars_svg(
        f"{dname}: number of schools by SQII band, {' and '.join(hist)}",
        cats,
        hist,
        ylabel="schools",
    )

    # subgroup gaps and their trend
    g = gaps_d
    gap_groups = [x for x in m.designations.gap_groups if x in set(g["student_group"])]
    gap_at = {
        (grp, y): (gap, hidden)
        for grp, y, gap, hidden in zip(
            g["student_group"].tolist(),
            g["year"].tolist(),
            g["gap"].tolist(),
            g["hidden"].tolist(),
            strict=True,
        )
    }
    gap_rows: list[dict[str, Any]] = []
    series: list[charts.Series] = []
    for grp in gap_groups:
        cells: list[str] = []
        pts: list[float] = []
        for y in ys:
            gap, hidden = gap_at.get((grp, y), (None, False))
            if gap is None or pd.isna(gap):
                cells.append(NO_DATA)
                pts.append(math.nan)
            elif bool(hidden):
                cells.append(m.suppression.suppressed_label)
                pts.append(math.nan)
            else:
                cells.append(fmt(gap, 1))
                pts.append(float(gap))
        gap_rows.append(
            {"code": grp, "label": GROUP_LABELS.get(grp, grp), "cells": cells, "pts": pts}
        )
    # chart the four largest visible gaps this year (the table has every group)
    visible = [r for r in gap_rows if not math.isnan(r["pts"][-1])]
    visible.sort(key=lambda r: -r["pts"][-1])
    for r in visible[:4]:
        series.append(charts.Series(r["code"], tuple(r["pts"])))
    ymax = max([10.0] + [p for r in visible[:4] for p in r["pts"] if not math.isnan(p)])
    ymin = min([0.0] + [p for r in visible[:4] for p in r["pts"] if not math.isnan(p)])
    gap_svg = (
        charts.trend_svg(
            f"{dname}: achievement gap to all students in points, by school year, "
            "for the largest gaps",
            ys,
            series,
            ymin=math.floor(ymin / 5) * 5,
            ymax=math.ceil(ymax / 5) * 5,
            ylabel="gap (points)",
            value_format="{:.1f}",
        )
        if series
        else ""
    )

    # checkpoint completion and plan approvals, as of the term's date
    cp_rows: list[dict[str, Any]] = []
    if checkpoints is not None and len(checkpoints):
        c = checkpoints
        dates = m.checkpoint_dates(years.service_year(year))
        for num, at_num in c.groupby("number"):
            number = int(cast(Any, num))
            due = dates.get(number)
            cp_rows.append(
                {
                    "number": str(number),
                    "date": fmt_date(due),
                    "due": bool(due and due <= as_of),
                    "statuses": ", ".join(
                        f"{str(k).lower()}: {v}"
                        for k, v in at_num["status"].astype(str).value_counts().items()
                    ),
                    "flagged": _flagged(at_num["flags"]) if "flags" in at_num.columns else 0,
                }
            )
    plan_rows: list[dict[str, Any]] = []
    overdue = continuing = 0
    continuing_from = ""
    if plans is not None and len(plans):
        p = plans
        plan_rows = _status_counts(p, "status", codes.PLAN_STATUSES)
        dl = pd.to_datetime(p["deadline"], errors="coerce").dt.date
        overdue = int(((p["status"] != "APPROVED") & (dl <= as_of)).sum())
        if "plan_year_number" in p.columns:
            later = p[pd.to_numeric(p["plan_year_number"]) > 1]
            continuing = len(later)
            continuing_from = ", ".join(sorted(set(later["plan_year"].astype(str))))
    designated = int(des["designation"].isin(["FOCUS", "PRIORITY"]).sum())

    gain_d = gain_d.set_index("student_group")
    count = (lambda v: suppress_count(v, m)) if public else (lambda v: f"{int(round(v)):,}")
    gain_rows = [
        {
            "label": GROUP_LABELS.get(grp, grp),
            "students": count(float(cast(Any, gain_d.at[grp, "gained"])))
            if grp in gain_d.index
            else "0",
            "schools": str(int(cast(Any, gain_d.at[grp, "schools_gained"])))
            if grp in gain_d.index
            else "0",
        }
        for grp in m.student_groups
        if grp != "ALL"
    ]
    return {
        "code": dcode,
        "name": dname,
        "n_schools": n_schools,
        "escalations": [ESCALATION_SHORT.get(e, e) for e in esc_cols],
        "by_designation": by_designation,
        "exited": exited,
        "distribution": dist_rows,
        "dist_svg": dist_svg,
        "dist_hist": {
            "categories": cats,
            "years": list(hist),
            "rows": [
                {"cat": cat, "cells": [str(int(hist[y][i])) for y in hist]}
                for i, cat in enumerate(cats)
            ],
        },
        "gap_rows": gap_rows,
        "gap_svg": gap_svg,
        "checkpoints": cp_rows,
        "plans": plan_rows,
        "plans_overdue": overdue,
        "plans_continuing": continuing,
        "plans_continuing_from": continuing_from,
        "designated": designated,
        "gain_rows": gain_rows,
    }
