"""The Oversight Panel report, per term (``fall``, ``spring``) (METHODOLOGY.md, *Oversight Panel*).

    "For each district, schools by designation and escalation, SQII distribution and
    change, subgroup gaps and their trend, goals met, community checkpoint completion and
    plan approvals. It also shows what the lower n-size buys: per group, how many students
    are counted at n ≥ 20 that would not be at n ≥ 100."

District-level rates are pooled (Σ numerators / Σ denominators over the district's
schools) and pass the same *Public suppression* rule as school cells: a pooled count
from 1 to 10, or a rate from one, shows ``*`` and is not plotted.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from sqis import codes, years
from sqis.disclosure import PublicFrames, require_public
from sqis.methodology import OVERSIGHT_TERMS, Methodology
from sqis.report_frames import ReportFrames
from sqis.reports import charts
from sqis.reports import reviews as review_sections
from sqis.reports import support as support_section
from sqis.reports.educator_sections import oversight_section
from sqis.reports.formatting import fmt, fmt_date
from sqis.reports.labels import DESIGNATION_LABELS, ESCALATION_SHORT, GROUP_LABELS
from sqis.reports.render import ReportError, environment
from sqis.suppression import NO_DATA, is_small, suppress_count


def _years_upto(frame: pd.DataFrame, year: str, n: int = years.TREND_YEARS) -> pd.DataFrame:
    if "year" not in frame.columns:
        return frame.assign(year=year)
    start = years.start_of(year)
    # one years.start_of per distinct year, not per row
    codes_, uniq = pd.factorize(frame["year"].astype(str), use_na_sentinel=False)
    starts = np.array([years.start_of(y) for y in uniq], dtype="int64")[codes_]
    return frame[(starts >= start - n + 1) & (starts <= start)]


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


def _by_district(
    frame: pd.DataFrame | None, district_of: pd.Series, year: str | None = None
) -> dict[str, pd.DataFrame]:
    """A frame's rows per district (of ``year`` only, if given), split once for the report.

    Rows keep their order; rows of schools in no district are in none.
    """
    if frame is None or not len(frame):
        return {}
    if year is not None:
        frame = frame[(frame["year"].astype(str) == year).to_numpy()]
    if "district_code" in frame.columns:
        key = frame["district_code"]
    else:
        key = frame["school_code"].map(district_of)
    return {str(d): part for d, part in frame.groupby(key.to_numpy(), sort=False)}


def _district_block(
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
    hist: dict[str, list[float | None]] = {}
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
    gap_rows = []
    series: list[charts.Series] = []
    for grp in gap_groups:
        cells, pts = [], []
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
        for num, grp in c.groupby("number"):
            due = dates.get(int(num))
            cp_rows.append(
                {
                    "number": str(int(num)),
                    "date": fmt_date(due),
                    "due": bool(due and due <= as_of),
                    "statuses": ", ".join(
                        f"{k.lower()}: {v}"
                        for k, v in grp["status"].astype(str).value_counts().items()
                    ),
                    "flagged": _flagged(grp["flags"]) if "flags" in grp.columns else 0,
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
            "students": count(float(gain_d.at[grp, "gained"])) if grp in gain_d.index else "0",
            "schools": str(int(gain_d.at[grp, "schools_gained"])) if grp in gain_d.index else "0",
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


def render_oversight(
    frames: ReportFrames, term: str, m: Methodology, generated: str | None = None
) -> dict[str, bytes]:
    """The **staff edition** of the report of the ``term`` Oversight Panel meeting that
    reviews the results year of ``frames``: a meeting of the service year after it
    (METHODOLOGY.md "Results year and service year"), every count and gap as it is.

    Returns ``{"reports/oversight-<service year>-<term>.html": bytes}``.

    Indicators, index and designations carry a ``year`` column over the years on record
    (up to five are shown); ``plans`` are those in force in the service year and
    ``checkpoints`` the service year's (neither with a ``year`` column);
    ``educator_distribution`` the results store's, with ``year`` (the educators section);
    the review records those of ``sqis.reviews.oversight_frames`` (``sqis.reports.reviews``;
    without ``panel_decisions``, no such section).
    """
    return _render(
        frames,
        term,
        m,
        generated,
        public=False,
        indicators=frames.indicators,
        educators=frames.educator_distribution,
    )


def render_public_oversight(
    pf: PublicFrames, term: str, m: Methodology, generated: str | None = None
) -> dict[str, bytes]:
    """The **public edition** of the Oversight Panel's report, from
    :class:`sqis.disclosure.PublicFrames` only: gaps pooled over published cells, the
    students the n-size buys counted over published denominators."""
    pf = require_public(pf)
    return _render(
        pf,
        term,
        m,
        generated,
        public=True,
        indicators=pf.indicators.rename(columns={"n": "denominator"}),
        educators=pf.educators,
    )


def _render(
    frames: ReportFrames | PublicFrames,
    term: str,
    m: Methodology,
    generated: str | None,
    *,
    public: bool,
    indicators: pd.DataFrame,
    educators: pd.DataFrame | None,
) -> dict[str, bytes]:
    """Either edition's report: ``indicators`` and ``educators`` are the edition's (the
    public ones name the denominator ``n``, the educators' frame differently)."""
    year, schools = frames.year, frames.schools
    plans, checkpoints = frames.plans, frames.checkpoints
    years.start_of(year)
    if term not in m.oversight.terms:
        raise ReportError(
            f"unknown Oversight Panel term {term!r}: use one of {list(OVERSIGHT_TERMS)}"
        )
    service = years.service_year(year)
    as_of = m.oversight_date(service, term)
    ind = _years_upto(indicators, year)
    idx = _years_upto(frames.index, year)
    des = _years_upto(frames.designations, year)
    ys = sorted(
        set(pd.unique(idx["year"].astype(str))) | set(pd.unique(ind["year"].astype(str))),
        key=years.start_of,
    )
    gaps = district_gaps(ind, schools, m, suppress=public)
    gain = nsize_gain(ind, schools, year, m)
    districts = (
        schools[["district_code", "district_name"]]
        .drop_duplicates("district_code")
        .sort_values("district_name")
    )
    # every frame split by district once (not filtered once per district)
    district_of = schools.drop_duplicates("school_code").set_index("school_code")["district_code"]
    n_schools = schools.groupby("district_code", sort=False)["school_code"].nunique()
    idx_by = _by_district(idx, district_of)
    des_by = _by_district(des, district_of, year)
    gaps_by = _by_district(gaps, district_of)
    gain_by = _by_district(gain, district_of)
    with_cp = checkpoints is not None and len(checkpoints) and "school_code" in checkpoints.columns
    cp_by = _by_district(checkpoints, district_of) if with_cp else {}
    plans_by = _by_district(plans, district_of) if plans is not None else {}
    blocks = []
    for r in districts.itertuples():
        d = str(r.district_code)
        blocks.append(
            _district_block(
                d,
                str(r.district_name),
                year,
                ys,
                int(n_schools[r.district_code]),
                idx_by.get(d, idx.iloc[:0]),
                des_by.get(d, des.iloc[:0]),
                gaps_by.get(d, gaps.iloc[:0]),
                gain_by.get(d, gain.iloc[:0]),
                plans_by.get(d, plans.iloc[:0]) if plans is not None else None,
                cp_by.get(d, checkpoints.iloc[:0]) if with_cp else None,
                as_of,
                m,
                public,
            )
        )
    total_gain = gain.groupby("student_group")["gained"].sum()
    consortium_gain = [
        {
            "label": GROUP_LABELS.get(g, g),
            "students": suppress_count(float(total_gain.get(g, 0.0)), m)
            if public
            else f"{int(round(float(total_gain.get(g, 0.0)))):,}",
        }
        for g in m.student_groups
        if g != "ALL"
    ]
    cur_des = des[des["year"].astype(str) == year]
    s = m.suppression
    context = {
        "report": {
            "edition": "public" if public else "staff",
            "year": year,
            "service_year": service,
            "years_label": years.both(year),
            "kind": "oversight",
            "methodology_version": m.version,
            "generated": generated or "",
            "supp_min": s.min_count,
            "supp_max": s.max_count,
            "supp_label": s.suppressed_label,
            "nsize_label": s.under_nsize_label,
            "n_size": m.n_size,
        },
        "term": term,
        "term_label": term.capitalize(),
        "as_of": fmt_date(as_of),
        "years": ys,
        "n_schools": len(schools),
        "n_districts": len(blocks),
        "counts": {
            d: int((cur_des["designation"] == d).sum()) for d in ("PRIORITY", "FOCUS", "REWARD")
        },
        "comparison_n_size": m.oversight.comparison_n_size,
        "n_size": m.n_size,
        "consortium_gain": consortium_gain,
        "districts": blocks,
        "educators": oversight_section(year, schools, educators, m, public),
        "reviews": review_sections.oversight_section(
            frames if frames.panel_decisions is not None else None,
            year,
            term,
            schools,
            des,
            m,
            public,
        ),
        "support": support_section.oversight_section(schools, frames, public),
    }
    html = environment().get_template("oversight.html").render(**context)
    return {f"reports/oversight-{service}-{term}.html": html.encode("utf-8")}
