"""The district page's context (both editions): every school of the district linked to its
report, with its SQII, goal, designation and escalation, and the sections
(``sqis.reports.sections``: the district index and educators; the reviews' history).
"""

from __future__ import annotations

from typing import Any

from sqis.reports import reviews as review_sections
from sqis.reports import sections
from sqis.reports.formatting import as_flag, as_text, fmt, is_missing
from sqis.reports.labels import DESIGNATION_LABELS, ESCALATION_SHORT, SCHOOL_TYPE_LABELS
from sqis.reports.year_context import YearContext
from sqis.suppression import NO_DATA


def district_context(yc: YearContext, district_code: str) -> dict[str, Any]:
    """The district index: every school's report linked, with its SQII and designation."""
    here = sorted(
        (r for r in yc.school.values() if str(r["district_code"]) == district_code),
        key=lambda r: str(r["school_name"]),
    )
    rows = []
    for r in here:
        code = str(r["school_code"])
        c = yc.index_rows.get(code, {}).get(yc.year, {})
        d = yc.designation.get(code, {})
        des = as_text(d.get("designation")) or "NONE"
        esc = as_text(d.get("escalation")) or "NONE"
        rows.append(
            {
                "code": code,
                "name": str(r["school_name"]),
                "href": f"../schools/{code}.html",
                "type": SCHOOL_TYPE_LABELS.get(str(r["school_type"]), str(r["school_type"])),
                "sqii": fmt(c.get("sqii"), 1),
                "goal": NO_DATA
                if is_missing(c.get("goal"))
                else ("met" if as_flag(c.get("meets_goal")) else "not met"),
                "designation": DESIGNATION_LABELS.get(des, des) if des != "NONE" else NO_DATA,
                "escalation": ESCALATION_SHORT.get(esc, esc) if esc != "NONE" else "",
            }
        )
    name = str(here[0]["district_name"]) if here else district_code
    return {
        "report": {**yc.common, "kind": "district"},
        "district": {"code": district_code, "name": name},
        "schools": rows,
        **sections.district_keys(yc, district_code),
        **review_sections.district_keys(yc, district_code),
    }
