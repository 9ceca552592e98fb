"""The checkpoint briefs of the communities of practice (METHODOLOGY.md, *Communities of
practice and checkpoints*): one self-contained HTML page per community and checkpoint.

:func:`brief_context` builds a brief's context from what ``sqis.checkpoints.run`` holds
(the schools' plan status, attendance and flags; the comparison with the identification
year) and :func:`render_brief` renders it with the reports' Jinja environment
(``sqis.reports.render.environment``; ``checkpoint_brief.html`` is written for its
``trim`` form). Briefs are meant for the community's school leaders: they are **staff
documents** (METHODOLOGY.md "Two editions"; docs/reports.md), published in the staff
edition only and showing every value, count and change (``sqis.suppression.staff_cells``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from sqis import years
from sqis.methodology import Methodology
from sqis.reports.render import environment
from sqis.suppression import staff_cells


def _display(comp: pd.DataFrame, prefix: str, m: Methodology) -> pd.DataFrame:
    """Display strings of one side (interim_ or identification_) of a comparison: the staff
    edition's (a brief is a staff document), nothing suppressed."""
    f = pd.DataFrame(
        {
            "school_code": comp["school_code"].to_numpy(),
            "student_group": comp["student_group"].to_numpy(),
            "indicator": comp["indicator"].to_numpy(),
            "numerator": comp[f"{prefix}numerator"].to_numpy(dtype="float64"),
            "denominator": comp[f"{prefix}denominator"].to_numpy(dtype="float64"),
            "value": comp[f"{prefix}value"].to_numpy(dtype="float64"),
            "meets_nsize": comp[f"{prefix}meets_nsize"].to_numpy(dtype=bool),
        }
    )
    return staff_cells(f, m)


def brief_context(
    year: str,
    number: int,
    when: date,
    cid: str,
    first: pd.Series,
    school_rows: list[dict[str, Any]],
    comp: pd.DataFrame,
    m: Methodology,
    held_at: datetime,
) -> dict[str, Any]:
    """The context of one community's brief (``templates/reports/checkpoint_brief.html``):
    its schools (``school_rows``, as ``sqis.checkpoints.run.run_checkpoint`` builds them),
    what needs attention, and the interim indicators against identification (``comp``, the
    community's rows of the comparison) as display strings of the staff edition."""
    table: list[dict[str, Any]] = []
    # off-track flags derived from a suppressed cell are not shown either (Public suppression)
    concealed: set[tuple[str, str, str]] = set()
    comp = comp[comp["interim_value"].notna()]  # indicators delivered at this checkpoint
    if len(comp):
        comp = comp.reset_index(drop=True)
        so_far = _display(comp, "interim_", m)
        ident = _display(comp, "identification_", m)
        names = {s["school_code"]: s["school_name"] for s in school_rows}
        hidden = so_far["suppressed"] | ident["suppressed"]  # never, in the staff edition
        for i, r in comp.iterrows():  # a few rows per school, for display
            change = r["change"]
            ch = "–" if pd.isna(change) else f"{change:+.1f}"
            if hidden.iloc[i] and not pd.isna(change):
                ch = m.suppression.suppressed_label
            off = "yes" if r["off_track"] else "no"
            if so_far["suppressed"].iloc[i]:
                off = m.suppression.suppressed_label
                concealed.add((r["school_code"], r["student_group"], r["indicator"]))
            table.append(
                {
                    "school_code": r["school_code"],
                    "school_name": names.get(r["school_code"], r["school_code"]),
                    "student_group": r["student_group"],
                    "indicator": r["indicator"],
                    "direction": "lower is better"
                    if r["direction"] == "lower"
                    else "higher is better",
                    "identification_year": (
                        r["identification_year"]
                        if isinstance(r["identification_year"], str)
                        else ""
                    ),
                    "identification": ident["value_display"].iloc[i],
                    "identification_n": ident["n_display"].iloc[i],
                    "so_far": so_far["value_display"].iloc[i],
                    "so_far_n": so_far["n_display"].iloc[i],
                    "change": ch,
                    "off_track": off,
                }
            )
    shown = [
        {
            **row,
            "off_track": [
                (g, i) for g, i in row["off_track"] if (row["school_code"], g, i) not in concealed
            ],
        }
        for row in school_rows
    ]
    alerts: list[str] = []
    for s in shown:
        if s["plan_not_approved"]:
            alerts.append(
                f"{s['school_name']}: plan not approved by checkpoint "
                f"{m.communities.plan_approval_due_checkpoint} (status {s['plan_status']})."
            )
        if s["attended"] is False:
            alerts.append(f"{s['school_name']}: not represented at this checkpoint.")
        for g, i in s["off_track"]:
            alerts.append(
                f"{s['school_name']}: {i} for {g} is worse than at identification by more than "
                f"{m.communities.off_track_tolerance:g} points."
            )
    return {
        "report": {
            "year": year,
            "results_year": years.results_year(year),
            "years_label": years.both(years.results_year(year)),
            "methodology_version": m.version,
            "generated": held_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "supp_min": m.suppression.min_count,
            "supp_max": m.suppression.max_count,
            "supp_label": m.suppression.suppressed_label,
            "nsize_label": m.suppression.under_nsize_label,
        },
        "community": {
            "id": cid,
            "reason_group": str(first["reason_group"]),
            "school_type": str(first["school_type"]) if "school_type" in first else "",
            "size": len(school_rows),
        },
        "checkpoint": {
            "number": number,
            "of": len(m.communities.checkpoints),
            "date": when.isoformat(),
            "date_long": f"{when:%B} {when.day}, {when.year}",
            "plan_due": m.communities.plan_approval_due_checkpoint,
            "tolerance": f"{m.communities.off_track_tolerance:g}",
            "timezone": m.communities.timezone,
        },
        "schools": shown,
        "comparison": table,
        "has_interim": bool(table),
        "suppressed_flags": len(concealed),
        "alerts": alerts,
    }


def render_brief(context: dict[str, Any]) -> str:
    """One community's checkpoint brief as a self-contained, accessible HTML page
    (``templates/reports/checkpoint_brief.html``; autoescaped)."""
    return environment(trim=True).get_template("checkpoint_brief.html").render(**context)
