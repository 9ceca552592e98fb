"""The Oversight Panel report, per term (``fall``, ``spring``) (METHODOLOGY.md, *Oversight Panel*).

    "For each district, schools by designation and escalation, SQII distribution and
    change, subgroup gaps and their trend, goals met, community checkpoint completion and
    plan approvals. It also shows what the lower n-size buys: per group, how many students
    are counted at n ≥ 20 that would not be at n ≥ 100."

Both editions: ``render_oversight`` from the report frames, ``render_public_oversight``
from ``PublicFrames`` only. Every frame is split by district once; each district's block
is ``sqis.reports.oversight_district``'s, the consortium's totals and the sections
(educators, reviews, support) are added here.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from sqis import years
from sqis.disclosure import PublicFrames, require_public
from sqis.methodology import OVERSIGHT_TERMS, Methodology
from sqis.report_frames import ReportFrames
from sqis.reports import reviews as review_sections
from sqis.reports import support as support_section
from sqis.reports.educator_sections import oversight_section
from sqis.reports.formatting import fmt_date
from sqis.reports.labels import GROUP_LABELS
from sqis.reports.oversight_district import district_block, district_gaps, nsize_gain
from sqis.reports.render import ReportError, environment
from sqis.suppression import suppress_count


def _years_upto(frame: pd.DataFrame, year: str, n: int = years.TREND_YEARS) -> pd.DataFrame:
    if "year" not in frame.columns:
        return frame.assign(year=year)
    start = years.start_of(year)
    # one years.start_of per distinct year, not per row
    codes_, uniq = pd.factorize(frame["year"].astype(str), use_na_sentinel=False)
    starts = np.array([years.start_of(y) for y in uniq], dtype="int64")[codes_]
    return frame[(starts >= start - n + 1) & (starts <= start)]


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
            district_block(
                d,
                str(r.district_name),
                year,
                ys,
                int(n_schools[cast(Any, r.district_code)]),
                idx_by.get(d, idx.iloc[:0]),
                des_by.get(d, des.iloc[:0]),
                gaps_by.get(d, gaps.iloc[:0]),
                gain_by.get(d, gain.iloc[:0]),
                plans_by.get(d, plans.iloc[:0]) if plans is not None else None,
                cp_by.get(d, checkpoints.iloc[:0]) if with_cp and checkpoints is not None else None,
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
