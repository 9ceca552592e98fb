"""The report sections of the records behind the labels (``sqis.reviews``; docs/reports.md
"Reviews and the Panel's decisions"):

- the school's data report (staff edition only): its Priority peer reviews — reviewers,
  date, findings on leadership, strengths and areas for improvement, status — and the
  district's turnaround or district-action decisions (``_reviews_school.html``);
- the district page (both editions): its history — the district peer review's status and
  ratings by service year, and the Oversight Panel's decisions on it
  (``_district_history.html``);
- the Oversight Panel report (both editions): Priority peer reviews and escalation steps
  (staff), every district's peer-review status and ratings, and the Panel's earlier
  decisions (``_reviews_oversight.html``).

What is public: the districts' peer-review statuses and ratings and the Panel's decisions
(public governance: ``sqis.disclosure.PUBLIC_COLUMNS`` ``district_reviews``,
``panel_decisions``). Staff only: narratives, evidence, peer comments, the Panel's notes
and who recorded them, and everything about a school's peer review or escalation steps
(findings about a school's leadership and staff).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from sqis import years
from sqis.methodology import Methodology
from sqis.report_frames import ReportFrames, frame_of
from sqis.reports.formatting import fmt_date

if TYPE_CHECKING:
    from sqis.disclosure import PublicFrames
    from sqis.reports.year_context import YearContext

DECISION_LABELS: dict[str, str] = {
    "NONE": "No further action",
    "ADDITIONAL_SUPPORT": "Additional support",
    "INTERVENTION": "Intervention",
}
STATUS_LABELS: dict[str, str] = {
    "DRAFT": "Draft (self-rating)",
    "SUBMITTED": "Submitted, awaiting peer review",
    "PEER_REVIEWED": "Peer reviewed",
    "MEETS": "Meets the rubric",
    "REVISE": "Asked to revise and resubmit",
    "RESUBMITTED": "Resubmitted, awaiting peer review",
}
STEP_LABELS: dict[str, str] = {
    "DISTRICT_TURNAROUND": "District-managed turnaround",
    "DISTRICT_ACTION": "District action",
}
KEY = "reviews"


def _t(v: Any) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return ""
    return str(v)


def _date(v: Any) -> str:
    return fmt_date(v) if _t(v) else ""


def _rating(v: Any) -> str:
    t = _t(v)
    return t.split(".")[0] if t else "–"


def meeting_label(year: str, term: str, m: Methodology) -> str:
    """``Fall 2016-17 (November 1, 2016)``."""
    try:
        when = f" ({_date(m.oversight_date(year, term))})"
    except (KeyError, ValueError):
        when = ""
    return f"{term.capitalize()} {year}{when}"


def _items(m: Methodology) -> list[tuple[str, str]]:
    spec = m.district_review
    return [(i.code, i.title) for i in spec.items] if spec is not None else []


def district_review_blocks(
    rows: pd.DataFrame, names: dict[str, str], m: Methodology, staff: bool
) -> list[dict[str, Any]]:
    """Per district review (service year × district): status, round and the ratings per
    rubric item — one cell per item of the rubric, in the rubric's order (the templates'
    columns), "–" where the item has no rating — with the peer's comments and the
    district's narrative for staff. ``round`` is the review's current round,
    ``rated_round`` the round whose ratings are shown (the last a peer rated)."""
    if rows is None or rows.empty:
        return []
    rubric = _items(m)
    out = []
    for (y, d), g in rows.groupby(["year", "district_code"], sort=True):
        status = _t(g["status"].iloc[0])
        by_item = {_t(r["item"]): r for r in g.to_dict("records")}
        items = []
        for code, title in rubric:
            r = by_item.get(code, {})
            items.append(
                {
                    "code": code,
                    "title": title,
                    "self": _rating(r.get("self_rating")),
                    "peer": _rating(r.get("peer_rating")),
                    "below": _t(r.get("peer_rating")) != ""
                    and m.district_review is not None
                    and float(r["peer_rating"]) < m.district_review.meets,
                    "narrative": _t(r.get("narrative")) if staff else "",
                    "evidence": _t(r.get("evidence")) if staff else "",
                    "comments": _t(r.get("comments")) if staff else "",
                }
            )
        peers = sorted({_t(x) for x in g["peer_district_code"] if _t(x)})
        if "peer_district_name" in g:  # the rows' names: a page knows its own district's
            names = {
                **{_t(c): _t(n) for c, n in zip(g["peer_district_code"], g["peer_district_name"],
                                                strict=True) if _t(c) and _t(n)},
                **{c: n for c, n in names.items() if n},
            }  # fmt: skip
        rated = g["rated_round"] if "rated_round" in g else g["round"]
        out.append(
            {
                "year": str(y),
                "district_code": str(d),
                "district_name": names.get(str(d), str(d)),
                "status": status,
                "status_label": STATUS_LABELS.get(status, status),
                "round": _rating(g["round"].iloc[0]),
                "rated_round": _rating(rated.iloc[0]),
                "peer": ", ".join(_district_label(p, names) for p in peers),
                "ratings": items,
            }
        )
    return out


def _district_label(code: str, names: dict[str, str]) -> str:
    """``District 2 (0110002)``; the code alone when the name is not known."""
    name = names.get(code, "")
    return f"{name} ({code})" if name and name != code else code


def decision_rows(
    rows: pd.DataFrame, names: dict[str, str], m: Methodology, staff: bool
) -> list[dict[str, Any]]:
    """The Panel's decisions, meeting by meeting (latest first)."""
    if rows is None or rows.empty:
        return []
    from sqis.reviews import meeting_order

    recs = sorted(
        rows.to_dict("records"),
        key=lambda r: (meeting_order(str(r["year"]), str(r["term"])), str(r["district_code"])),
        reverse=True,
    )
    return [
        {
            "meeting": meeting_label(str(r["year"]), str(r["term"]), m),
            "district_code": str(r["district_code"]),
            "district_name": names.get(str(r["district_code"]), str(r["district_code"])),
            "decision": str(r["decision"]),
            "decision_label": DECISION_LABELS.get(str(r["decision"]), str(r["decision"])),
            "note": _t(r.get("note")) if staff else "",
            "by": _t(r.get("decided_by")) if staff else "",
        }
        for r in recs
    ]


def _priority_rows(
    reviews: pd.DataFrame, schools: dict[str, str], codes: list[str]
) -> list[dict[str, Any]]:
    by_code = {str(r["school_code"]): r for r in reviews.to_dict("records")} if len(reviews) else {}
    out = []
    for c in codes:
        r = by_code.get(c)
        out.append(
            {
                "school_code": c,
                "school_name": schools.get(c, c),
                "status": _t(r["status"]) if r else "NOT_RECORDED",
                "date": _date(r["review_date"]) if r else "",
                "reviewers": _t(r["reviewers"]) if r else "",
                "leadership": _t(r["leadership"]) if r else "",
                "strengths": _t(r["strengths"]) if r else "",
                "improvement": _t(r["improvement"]) if r else "",
            }
        )
    return out


def _step_rows(
    steps: pd.DataFrame, schools: dict[str, str], wanted: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    have = (
        {(str(r["school_code"]), str(r["step"])): r for r in steps.to_dict("records")}
        if len(steps)
        else {}
    )
    out = []
    for code, step in wanted:
        r = have.get((code, step))
        out.append(
            {
                "school_code": code,
                "school_name": schools.get(code, code),
                "step": step,
                "step_label": STEP_LABELS.get(step, step),
                "decision": _t(r["decision"]) if r else "",
                "date": _date(r["decided_on"]) if r else "",
                "recorded": r is not None,
            }
        )
    return out


# ---- the Oversight Panel report -----------------------------------------------------------
def oversight_section(
    frames: ReportFrames | PublicFrames | dict[str, pd.DataFrame] | None,
    year: str,
    term: str,
    schools: pd.DataFrame,
    designations: pd.DataFrame,
    m: Methodology,
    public: bool,
) -> dict[str, Any] | None:
    """The report's context ``reviews``: ``frames`` the records of
    ``sqis.reviews.oversight_frames`` (staff: the report frames or that dict) or the public
    frames' ``district_reviews`` and ``panel_decisions``; ``None``: no such section."""
    if frames is None:
        return None
    service = years.service_year(year)
    names = dict(zip(schools["school_code"].astype(str), schools["school_name"], strict=True))
    dnames = dict(zip(schools["district_code"].astype(str), schools["district_name"], strict=True))
    des = designations
    if "year" in des.columns:
        des = des[des["year"].astype(str) == year]
    esc = des.set_index(des["school_code"].astype(str))["escalation"].astype(str)
    peer = sorted(esc.index[esc == "PEER_REVIEW"])
    steps = sorted((c, e) for c, e in esc.items() if e in STEP_LABELS)
    return {
        "edition": "public" if public else "staff",
        "service_year": service,
        "term": term,
        "priority": []
        if public
        else _priority_rows(frame_of(frames, "priority_reviews"), names, peer),
        "steps": [] if public else _step_rows(frame_of(frames, "escalation_steps"), names, steps),
        "districts": district_review_blocks(
            frame_of(frames, "district_reviews"), dnames, m, not public
        ),
        "rubric": _items(m),
        "scale": "–".join(map(str, m.district_review.scale)) if m.district_review else "",
        "meets": m.district_review.meets if m.district_review is not None else None,
        "decisions": decision_rows(frame_of(frames, "panel_decisions"), dnames, m, not public),
    }


def public_oversight_frames(pf: PublicFrames) -> dict[str, pd.DataFrame]:
    """The public report's frames of this section: the public columns only."""
    return {"district_reviews": pf.district_reviews, "panel_decisions": pf.panel_decisions}


# ---- the annual reports: the school's data report and the district page ------------------
def attach_staff(yc: YearContext, frames: ReportFrames) -> YearContext:
    """Keep the staff frames (``sqis.reviews.review_frames``) with the year's context
    (where the report frames hold them)."""
    if frames.panel_decisions is not None:
        yc.sections[KEY] = {"staff": True, **{k: getattr(frames, k) for k in FRAME_KEYS}}
    return yc


def attach_public(yc: YearContext, pf: PublicFrames) -> YearContext:
    """Keep the public frames (``PublicFrames.district_reviews``, ``panel_decisions``)."""
    yc.sections[KEY] = {"staff": False, **public_oversight_frames(pf)}
    return yc


FRAME_KEYS = ("priority_reviews", "escalation_steps", "district_reviews", "panel_decisions")


def _rows_of(frame: pd.DataFrame | None, column: str, code: str) -> pd.DataFrame:
    if frame is None or frame.empty:
        return pd.DataFrame()
    return frame[(frame[column].astype(str) == code).to_numpy()]


def school_keys(yc: YearContext, school_code: str) -> dict[str, Any]:
    """``reviews_school``: the school's Priority peer reviews and escalation steps by year
    (staff edition; ``None`` in the public edition or when there is none)."""
    s = yc.sections.get(KEY)
    if not s or not s["staff"]:
        return {"reviews_school": None}
    pr = _rows_of(s.get("priority_reviews"), "school_code", school_code)
    steps = _rows_of(s.get("escalation_steps"), "school_code", school_code)
    if pr.empty and steps.empty:
        return {"reviews_school": None}
    name = {school_code: str(yc.school.get(school_code, {}).get("school_name", school_code))}
    reviews = []
    for y in sorted(set(pr["year"].astype(str)) if len(pr) else (), key=years.start_of):
        row = _priority_rows(pr[pr["year"].astype(str) == y], name, [school_code])[0]
        reviews.append({"year": y, "service_year": years.service_year(y), **row})
    decided = []
    for r in steps.to_dict("records") if len(steps) else ():
        decided.append(
            {
                "year": str(r["year"]),
                "service_year": years.service_year(str(r["year"])),
                "step_label": STEP_LABELS.get(str(r["step"]), str(r["step"])),
                "decision": _t(r["decision"]),
                "date": _date(r["decided_on"]),
            }
        )
    return {"reviews_school": {"reviews": reviews, "steps": decided}}


def district_keys(yc: YearContext, district_code: str) -> dict[str, Any]:
    """``district_history``: the district's peer reviews by service year and the Panel's
    decisions on it (both editions; notes and comments staff only)."""
    s = yc.sections.get(KEY)
    if not s:
        return {"district_history": None}
    staff = bool(s["staff"])
    dr_rows = _rows_of(s.get("district_reviews"), "district_code", district_code)
    dec = _rows_of(s.get("panel_decisions"), "district_code", district_code)
    names: dict[str, str] = {}
    for r in yc.school.values():
        names.setdefault(str(r["district_code"]), str(r.get("district_name", "")))
    m = yc.m
    return {
        "district_history": {
            "edition": "staff" if staff else "public",
            "reviews": district_review_blocks(dr_rows, names, m, staff),
            "decisions": decision_rows(dec, names, m, staff),
            "rubric": _items(m),
            "scale": "–".join(map(str, m.district_review.scale)) if m.district_review else "",
        }
    }
