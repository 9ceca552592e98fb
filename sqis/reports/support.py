"""Support partners and required partnerships inside the reports (METHODOLOGY.md "Support
for schools missing their goal", "Escalation", "Oversight Panel"; issue 19):

- the **school report** (and so the Focus/Priority data report, the same page): its support
  school and weakest indicator where it missed its goal (or that none qualified), the
  schools it supports, and ``NO_ELIGIBLE_PARTNER`` where it is required to have a Reward
  partner and none qualified (``templates/reports/_support_school.html``);
- the **Oversight Panel report**: the support pairs, the unmatched schools, the required
  partnerships not formed and the districts missing their goal
  (``templates/reports/_support_oversight.html``).

The staff edition reads the report frames ``goal_support``, ``supported_by`` and
``partnership_flags`` (``sqis.report_frames.ReportFrames``: the results store); the public
edition the same frames of :class:`sqis.disclosure.PublicFrames` (school and indicator
codes, no student count: public, docs/reports.md). Each frame is turned into dicts once
per year (``prepare``), never filtered per school.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from sqis.partners import NO_ELIGIBLE_PARTNER
from sqis.report_frames import ReportFrames, frame_of
from sqis.reports.labels import INDICATOR_LABELS

if TYPE_CHECKING:
    from sqis.disclosure import PublicFrames
    from sqis.reports.year_context import YearContext

KEY = "support"  # YearContext.sections[KEY]
FLAG_TEXT = {
    NO_ELIGIBLE_PARTNER: "required to have a Reward partner this year; no school of the "
    "Reward pool qualified (NO_ELIGIBLE_PARTNER)"
}


def _label(code: Any) -> str:
    return "" if pd.isna(code) else INDICATOR_LABELS.get(str(code), str(code))


def _code(v: Any) -> str | None:
    return None if v is None or pd.isna(v) or str(v).strip() == "" else str(v)


def prepare(frames: ReportFrames | PublicFrames) -> dict[str, Any]:
    """The year's support facts per school, from ``goal_support``, ``supported_by`` and
    ``partnership_flags`` (either edition's frames)."""
    gs = frame_of(frames, "goal_support")
    by = frame_of(frames, "supported_by")
    fl = frame_of(frames, "partnership_flags")
    goal = {}
    if not gs.empty:
        names = gs.get("support_school_name", gs["support_school_code"])
        goal = {
            str(c): {
                "weakest": _label(w),
                "weakest_code": _code(w),
                "support_code": _code(s),
                "support_name": _code(n) or _code(s),
            }
            for c, w, s, n in zip(
                gs["school_code"],
                gs["weakest_indicator"],
                gs["support_school_code"],
                names,
                strict=True,
            )
        }
    supports: dict[str, list[dict[str, Any]]] = {}
    if not by.empty:
        by = by.sort_values(["school_code", "supported_school_code"])
        for code, part in by.groupby("school_code", sort=False):
            names = part.get("supported_school_name", part["supported_school_code"])
            supports[str(code)] = [
                {"code": str(c), "weakest": _label(w), "name": _code(n) or str(c)}
                for c, w, n in zip(
                    part["supported_school_code"], part["weakest_indicator"], names, strict=True
                )
            ]
    flags: dict[str, list[str]] = {}
    if not fl.empty:
        for code, part in fl.groupby("school_code", sort=True):
            flags[str(code)] = sorted(part["flag"].astype(str))
    return {"goal": goal, "supports": supports, "flags": flags}


def attach_staff(yc: YearContext, frames: ReportFrames) -> YearContext:
    """The staff edition's support facts, from the report frames."""
    yc.sections[KEY] = prepare(frames)
    return yc


def attach_public(yc: YearContext, pf: PublicFrames) -> YearContext:
    """The public edition's, from :class:`PublicFrames` only."""
    yc.sections[KEY] = prepare(pf)
    return yc


def school_keys(yc: YearContext, school_code: str) -> dict[str, Any]:
    """The school report's keys: ``support`` (``school_section``)."""
    return {"support": school_section(yc, school_code)}


def school_section(yc: YearContext, school_code: str) -> dict[str, Any] | None:
    """The school report's ``support`` (``None``: nothing to show)."""
    facts = yc.sections.get(KEY)
    if not facts:
        return None
    goal = facts["goal"].get(school_code)
    supports = facts["supports"].get(school_code, [])
    flags = facts["flags"].get(school_code, [])
    if goal is None and not supports and not flags:
        return None
    return {
        "goal": goal,
        "supports": supports,
        "flags": [{"code": f, "text": FLAG_TEXT.get(f, f)} for f in flags],
    }


def oversight_section(
    schools: pd.DataFrame, frames: ReportFrames | PublicFrames, public: bool = False
) -> dict[str, Any] | None:
    """The Oversight Panel report's ``support``: every support pair, the unmatched
    schools, the required partnerships not formed (with the school's district) and the
    districts missing their goal. ``frames``: ``goal_support``, ``partnership_flags`` and
    ``districts`` (the year's district index), either edition's frames.
    ``None`` where the frames hold no support facts (an Oversight report of a store
    written before them)."""
    gs = frame_of(frames, "goal_support")
    fl = frame_of(frames, "partnership_flags")
    di = frame_of(frames, "districts")
    if gs.empty and fl.empty and di.empty:
        return None
    s = schools.drop_duplicates("school_code").set_index("school_code")
    name = s["school_name"].astype(str)
    district = s["district_name"].astype(str)
    dnames = (
        schools.drop_duplicates("district_code").set_index("district_code")["district_name"]
    ).astype(str)

    def school(code: Any) -> dict[str, str]:
        c = str(code)
        return {"code": c, "name": name.get(c, c), "district": district.get(c, "")}

    pairs, unmatched = [], []
    if not gs.empty:
        g = gs.sort_values("school_code")
        for c, w, sup in zip(
            g["school_code"], g["weakest_indicator"], g["support_school_code"], strict=True
        ):
            row = {"school": school(c), "weakest": _label(w)}
            if _code(sup) is None:
                unmatched.append(row)
            else:
                pairs.append({**row, "support": school(sup)})
    flagged = [
        {"school": school(c), "text": FLAG_TEXT.get(str(f), str(f))}
        for c, f in zip(fl.get("school_code", []), fl.get("flag", []), strict=True)
    ]
    missing = []
    if not di.empty and "meets_goal" in di.columns:
        mg = di["meets_goal"].astype(object).map({True: True, False: False, "Y": True, "N": False})
        d = di[mg.eq(False).to_numpy()].sort_values("district_code")
        missing = [
            {
                "code": str(code),
                "name": dnames.get(str(code), str(code)),
                "sqii": _num(sqii),
                "goal": _num(goal),
            }
            for code, sqii, goal in zip(d["district_code"], d["sqii"], d["goal"], strict=True)
        ]
    return {
        "edition": "public" if public else "staff",
        "pairs": pairs,
        "unmatched": unmatched,
        "flagged": flagged,
        "districts_missing": missing,
    }


def _num(v: Any) -> str:
    x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    return "–" if pd.isna(x) else f"{float(x):.1f}"
