"""The district index on the district page (METHODOLOGY.md "District index"; issue 19):
the district's SQII, its domain scores, last year's SQII, the SQI Goal and whether it is
met, as ``districts.csv`` has them (``templates/reports/_district_index_summary.html``).

Both editions show it: the district index is an aggregate of the schools' SQII (public,
docs/reports.md "Not suppressed"). The staff edition reads the year's ``district_index``
(``ReportFrames.districts``), the public edition
``PublicFrames.districts``; both are a row per district, formatted once for the year.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from sqis import codes
from sqis.reports.formatting import fmt
from sqis.reports.labels import DOMAIN_LABELS

if TYPE_CHECKING:
    from sqis.disclosure import PublicFrames
    from sqis.report_frames import ReportFrames
    from sqis.reports.year_context import YearContext


def _num(v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x


def _met(v: Any) -> bool | None:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, str):
        return v.upper() in ("Y", "TRUE", "1")
    return bool(v)


def district_rows(districts: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    """``district_code`` → the district index as display strings (one pass over a row per
    district): ``sqii``, ``prior_sqii``, ``change``, ``goal`` (one decimal), ``meets_goal``
    (``None`` without a goal), ``domains`` (two decimals) and, where the frame has it,
    ``schools`` (the schools weighed)."""
    if districts is None or districts.empty or "district_code" not in districts.columns:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for r in districts.to_dict("records"):  # a row per district
        sqii, prior, goal = _num(r.get("sqii")), _num(r.get("prior_sqii")), _num(r.get("goal"))
        out[str(r["district_code"])] = {
            "sqii": fmt(sqii, 1),
            "prior_sqii": fmt(prior, 1),
            "change": fmt(sqii - prior, 1, signed=True),
            "goal": fmt(goal, 1),
            "meets_goal": None if math.isnan(goal) else _met(r.get("meets_goal")),
            "domains": [
                {"name": DOMAIN_LABELS[d], "score": fmt(_num(r.get(d)), 2)} for d in codes.DOMAINS
            ],
            "schools": "" if pd.isna(r.get("schools", math.nan)) else str(int(r["schools"])),
        }
    return out


def attach_staff(yc: YearContext, frames: ReportFrames) -> None:
    """The staff edition's district index rows (``yc.sections["district_index"]``)."""
    yc.sections["district_index"] = district_rows(frames.districts)


def attach_public(yc: YearContext, pf: PublicFrames) -> None:
    """The public edition's district index rows, from ``PublicFrames.districts``."""
    yc.sections["district_index"] = district_rows(pf.districts)


def district_section(yc: YearContext, district_code: str) -> dict[str, Any] | None:
    """The district page's district index (``None`` where the year has none on record)."""
    return yc.sections.get("district_index", {}).get(district_code)
