"""One checkpoint of one service year (METHODOLOGY.md, *Communities of practice and
checkpoints*): :func:`run_checkpoint` applies the rules of ``sqis.checkpoints.rules`` to
every community and returns the rows the results store records (``RECORD_COLUMNS``) and
one brief context per community (``sqis.reports.checkpoint_briefs``). Plain functions over
frames: ``sqis.checkpoints.io.hold_checkpoint`` reads and writes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from sqis import years
from sqis.checkpoints.rules import (
    COMPARISON_COLUMNS,
    CheckpointError,
    checkpoint_flags,
    compare_to_identification,
    empty_indicators,
)
from sqis.methodology import Methodology

HELD = "HELD"
RECORD_COLUMNS = [
    "community_id",
    "school_code",
    "date",
    "status",
    "held_at",
    "attendees",
    "plan_status",
    "flags",
    "interim",
]
FLAG_PLAN = "PLAN_NOT_APPROVED"
FLAG_ABSENT = "ABSENT"
FLAG_OFF_TRACK = "OFF_TRACK"


# ---- the checkpoint ------------------------------------------------------------------------
@dataclass
class CheckpointResult:
    """One checkpoint of one year: rows to record, the comparison, one brief per community."""

    year: str
    number: int
    date: date
    rows: pd.DataFrame  # RECORD_COLUMNS, for ResultsStore.record_checkpoint
    comparison: pd.DataFrame  # COMPARISON_COLUMNS (empty without interim data)
    briefs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def communities(self) -> list[str]:
        return sorted(self.briefs)


def _json_number(x: Any) -> float | int | None:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return None
    f = float(x)
    return int(f) if f.is_integer() else f


def _interim_record(comp: pd.DataFrame) -> dict[str, dict[str, dict[str, Any]]]:
    """``{indicator: {group: {...}}}`` of one school: aggregates only, JSON-safe."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in comp.itertuples(index=False):  # a handful of rows per school
        out.setdefault(r.indicator, {})[r.student_group] = {
            "value": _json_number(r.interim_value),
            "numerator": _json_number(r.interim_numerator),
            "denominator": _json_number(r.interim_denominator),
            "identification_value": _json_number(r.identification_value),
            "identification_year": (
                r.identification_year if isinstance(r.identification_year, str) else None
            ),
            "change": _json_number(r.change),
            "off_track": bool(r.off_track),
        }
    return out


def _flag_of(v: Any) -> bool | None:
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    return str(v).strip().upper() in ("Y", "TRUE", "1")


def run_checkpoint(
    year: str,
    number: int,
    communities: pd.DataFrame,
    plans: pd.DataFrame,
    interim: pd.DataFrame | None,
    identification: pd.DataFrame | None,
    m: Methodology,
    *,
    schools: pd.DataFrame | None = None,
    participation: pd.DataFrame | None = None,
    held_at: datetime | None = None,
) -> CheckpointResult:
    """Hold checkpoint ``number`` of service year ``year`` for every community (*Communities
    of practice and checkpoints*; the communities were formed from the results of the year
    before, METHODOLOGY.md "Results year and service year").

    - ``communities``: ``community_id, school_code, reason_group, school_type`` (and
      ``years_in_status`` if known, for the identification year);
    - ``plans``: ``school_code, status`` of the plan each school works under (missing → DRAFT);
    - ``interim``: :func:`~sqis.checkpoints.rules.interim_indicators` or None when nothing
      was delivered;
    - ``identification``: the indicators frame of the identification year(s) (with a
      ``year`` column when several), or None;
    - ``schools``: ``school_code, school_name, district_name`` for the briefs (optional);
    - ``participation``: ``school_code, attended (Y/N), attendees`` (optional: who attended).

    Returns the rows to record (status ``HELD``; ``flags`` lists ``PLAN_NOT_APPROVED``,
    ``ABSENT`` and ``OFF_TRACK:<group>:<indicator>``; ``interim`` the school's aggregates)
    and one brief context per community for
    ``sqis.reports.checkpoint_briefs.render_brief``.
    """
    from sqis.reports.checkpoint_briefs import brief_context

    dates = m.checkpoint_dates(year)
    if number not in dates:
        raise CheckpointError(
            f"checkpoint {number} is not one of the checkpoints of {year} "
            f"({', '.join(str(n) for n in sorted(dates))}; methodology {m.version})"
        )
    when = dates[number]
    held_at = held_at or datetime.now(UTC)
    comm = communities.drop_duplicates("school_code").sort_values(["community_id", "school_code"])
    comm = comm.reset_index(drop=True)

    # plans: the status of each community school's plan; a school without one is DRAFT
    p = comm[["school_code"]].merge(
        plans[["school_code", "status"]].drop_duplicates("school_code"),
        on="school_code",
        how="left",
    )
    flags = checkpoint_flags(p, number, m)

    # interim data against the identification values
    comparison = pd.DataFrame(columns=COMPARISON_COLUMNS)
    if interim is not None and not interim.empty:
        ident = identification if identification is not None else empty_indicators()
        results = years.results_year(year)  # years_in_status counts results years
        comparison = compare_to_identification(interim, ident, comm, m, year=results)

    # attendance at the meeting
    att = comm[["school_code"]].assign(attended=None, attendees=None)
    if participation is not None and not participation.empty:
        part = participation[["school_code", "attended", "attendees"]].drop_duplicates(
            "school_code"
        )
        att = comm[["school_code"]].merge(part, on="school_code", how="left")

    names = _school_names(comm, schools)
    rows: list[dict[str, Any]] = []
    briefs: dict[str, dict[str, Any]] = {}
    by_school = {c: g for c, g in comparison.groupby("school_code")} if len(comparison) else {}
    for cid, group in comm.groupby("community_id", sort=True):  # loop over communities
        school_rows = []
        for sc in group["school_code"]:  # at most max_size schools
            f = flags.loc[flags["school_code"] == sc].iloc[0]
            a = att.loc[att["school_code"] == sc].iloc[0]
            attended = _flag_of(a["attended"])
            comp = by_school.get(sc, comparison.iloc[0:0])
            off = comp.loc[comp["off_track"].astype(bool).to_numpy()]
            school_flags = []
            if bool(f["plan_not_approved"]):
                school_flags.append(FLAG_PLAN)
            if attended is False:
                school_flags.append(FLAG_ABSENT)
            school_flags += [
                f"{FLAG_OFF_TRACK}:{g}:{i}"
                for g, i in zip(off["student_group"], off["indicator"], strict=True)
            ]
            attendees = a["attendees"] if isinstance(a["attendees"], str) else None
            rows.append(
                {
                    "community_id": cid,
                    "school_code": sc,
                    "date": when,
                    "status": HELD,
                    "held_at": held_at,
                    "attendees": attendees if attended is not False else None,
                    "plan_status": f["plan_status"],
                    "flags": school_flags,
                    "interim": _interim_record(comp) if len(comp) else None,
                }
            )
            school_rows.append(
                {
                    "school_code": sc,
                    **names.get(sc, {"school_name": sc, "district_name": ""}),
                    "attended": attended,
                    "attendees": attendees or "",
                    "plan_status": f["plan_status"],
                    "plan_not_approved": bool(f["plan_not_approved"]),
                    "off_track": [
                        (g, i) for g, i in zip(off["student_group"], off["indicator"], strict=True)
                    ],
                }
            )
        first = group.iloc[0]
        comm_comp = comparison[comparison["school_code"].isin(group["school_code"])]
        briefs[str(cid)] = brief_context(
            year, number, when, str(cid), first, school_rows, comm_comp, m, held_at
        )
    record = pd.DataFrame(rows, columns=RECORD_COLUMNS)
    return CheckpointResult(year, number, when, record, comparison, briefs)


def _school_names(comm: pd.DataFrame, schools: pd.DataFrame | None) -> dict[str, dict[str, str]]:
    if schools is None or schools.empty:
        return {}
    s = schools[schools["school_code"].isin(comm["school_code"])]
    return {
        r.school_code: {"school_name": str(r.school_name), "district_name": str(r.district_name)}
        for r in s.itertuples(index=False)
    }
