"""Checkpoints of the communities of practice (METHODOLOGY.md, *Communities of practice and
checkpoints*).

    "A checkpoint records who attended, each school's plan status (DRAFT, SUBMITTED,
    APPROVED) and, where interim data is delivered, the school's indicators so far against
    its identification values; a plan not approved by the second checkpoint is flagged."

The steps, each a plain function over frames:

1. :func:`interim_indicators` — from the optional interim files (``schemas/interim.py``),
   the indicators so far (``m.communities.interim_indicators``: CHRONIC, ELA_MET,
   MATH_MET), per school, for ALL and every student group the caller can place students in;
2. :func:`compare_to_identification` — each Focus school's values so far, for ALL and its
   reason_group, against the values of the year it was identified; ``off_track`` where
   worse by more than ``m.communities.off_track_tolerance`` points;
3. :func:`checkpoint_flags` — a plan not APPROVED by checkpoint
   ``m.communities.plan_approval_due_checkpoint`` is flagged;
4. :func:`run_checkpoint` — the rows the results store records and one brief per
   community, rendered by :func:`render_brief` (HTML) and summarised by
   :func:`brief_markdown` (for a run artifact).

No student ID goes into any output: interim files are aggregated to schools and groups.
Briefs are meant for the community's school leaders: they are **staff documents**
(METHODOLOGY.md "Two editions"; docs/reports.md), published in the staff edition only and
showing every value, count and change (``sqis.suppression.staff_cells``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from sqis import years
from sqis.errors import SqisError
from sqis.methodology import Methodology
from sqis.plans import APPROVED, DRAFT
from sqis.settings import TEMPLATES_DIR

HELD = "HELD"
INDICATOR_COLUMNS = [
    "school_code",
    "student_group",
    "indicator",
    "numerator",
    "denominator",
    "value",
    "meets_nsize",
]
COMPARISON_COLUMNS = [
    "school_code",
    "reason_group",
    "student_group",
    "indicator",
    "direction",
    "identification_year",
    "identification_numerator",
    "identification_denominator",
    "identification_value",
    "identification_meets_nsize",
    "interim_numerator",
    "interim_denominator",
    "interim_value",
    "interim_meets_nsize",
    "change",
    "worse_by",
    "off_track",
]
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
_ASSESSED = {"ELA_MET": "ELA", "MATH_MET": "MATH"}
_SUPPORTED = ("CHRONIC", *_ASSESSED)


class CheckpointError(ValueError, SqisError):
    """A checkpoint that cannot be run as asked (unknown number, inconsistent inputs)."""


# ---- 1. interim indicators ------------------------------------------------------------------
class _Groups:
    """Group membership by integer codes, built once: which groups each student is in beyond
    ALL (*Student groups*). Joining 64-character pseudonyms with ``merge`` is the slow
    path; this looks each ID up once and expands rows with ``np.repeat``."""

    def __init__(self, student_groups: pd.DataFrame | None):
        self.names: list[str] = ["ALL"]
        self.ids = pd.Index([], dtype="str")
        self.sorted_sid = np.zeros(0, dtype=np.int64)
        self.sorted_grp = np.zeros(0, dtype=np.int64)
        if student_groups is None or student_groups.empty:
            return
        g = student_groups[["student_id", "student_group"]].astype(
            {"student_id": "str", "student_group": "str"}
        )
        g = g[g["student_group"] != "ALL"].drop_duplicates()
        sid, uniques = pd.factorize(g["student_id"])
        self.ids = pd.Index(uniques)  # unique: one hash table for every lookup
        grp, names = pd.factorize(g["student_group"])
        self.names += [str(n) for n in names]
        order = np.argsort(sid, kind="stable")
        self.sorted_sid = sid[order].astype(np.int64)
        self.sorted_grp = grp[order].astype(np.int64) + 1  # 0 is ALL

    def expand(self, student_id: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(row positions, group codes) of every (row, group) membership, ALL included."""
        n = len(student_id)
        rows, grps = [np.arange(n)], [np.zeros(n, dtype=np.int64)]
        if len(self.ids):
            codes = self.ids.get_indexer(student_id.astype("str"))
            left = np.searchsorted(self.sorted_sid, codes, "left")
            right = np.searchsorted(self.sorted_sid, codes, "right")
            counts = np.where(codes >= 0, right - left, 0)
            total = int(counts.sum())
            first = np.repeat(left, counts)
            within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
            rows.append(np.repeat(np.arange(n), counts))
            grps.append(self.sorted_grp[first + within])
        return np.concatenate(rows), np.concatenate(grps)


def _rates(
    frame: pd.DataFrame, num: np.ndarray, den: np.ndarray, groups: _Groups, indicator: str,
    m: Methodology,
) -> pd.DataFrame:  # fmt: skip
    """Percent rows: ``num`` rows over ``den`` rows (0/1 each) per school and group."""
    school, schools = pd.factorize(frame["school_code"].astype("str"))
    rows, grp = groups.expand(frame["student_id"])
    n_groups = len(groups.names)
    key = school[rows].astype(np.int64) * n_groups + grp
    size = len(schools) * n_groups
    numerator = np.bincount(key, weights=num[rows], minlength=size)
    denominator = np.bincount(key, weights=den[rows], minlength=size)
    keep = np.flatnonzero(denominator > 0)
    out = pd.DataFrame(
        {
            "school_code": pd.Series(np.asarray(schools)[keep // n_groups], dtype="str"),
            "student_group": pd.Series(np.asarray(groups.names)[keep % n_groups], dtype="str"),
            "indicator": indicator,
            "numerator": numerator[keep],
            "denominator": denominator[keep],
        }
    )
    out["value"] = 100.0 * out["numerator"] / out["denominator"]
    out["meets_nsize"] = out["denominator"] >= m.n_size
    return out[INDICATOR_COLUMNS]


def interim_indicators(
    attendance: pd.DataFrame | None,
    interim_assessments: pd.DataFrame | None,
    student_groups: pd.DataFrame | None,
    m: Methodology,
) -> pd.DataFrame:
    """The indicators so far from a checkpoint's interim files (*Communities of practice and
    checkpoints*; definitions as in *Indicators*).

    - ``CHRONIC``: % of enrolments with days_absent ≥ ``rules.chronic_absent_share`` ×
      days_enrolled so far, over enrolments with at least
      ``rules.chronic_min_days_enrolled`` days so far (lower is better);
    - ``ELA_MET``, ``MATH_MET``: % of students tested on an interim assessment at
      performance level ``rules.met_min_performance_level`` (3, met) or above, as the
      yearly indicators.

    ``student_groups`` (``student_id, student_group``, pseudonymised IDs; e.g. the groups of
    the latest validated students file) places students in groups beyond ALL; without it
    only ALL is computed. Returns ``school_code, student_group, indicator, numerator,
    denominator, value, meets_nsize`` for every school and group with a denominator.
    """
    wanted = list(m.communities.interim_indicators)
    unknown = sorted(set(wanted) - set(_SUPPORTED))
    if unknown:
        raise CheckpointError(
            f"methodology {m.version}: interim indicators {unknown} cannot be computed from "
            f"interim files (supported: {', '.join(_SUPPORTED)})"
        )
    parts: list[pd.DataFrame] = []
    groups = _Groups(student_groups)
    if attendance is not None and "CHRONIC" in wanted and not attendance.empty:
        r = m.rules
        enrolled = attendance["days_enrolled"].to_numpy()
        absent = attendance["days_absent"].to_numpy()
        den = enrolled >= r.chronic_min_days_enrolled
        num = den & (absent >= r.chronic_absent_share * enrolled)
        parts.append(_rates(attendance, num, den, groups, "CHRONIC", m))
    if interim_assessments is not None and not interim_assessments.empty:
        for indicator, subject in _ASSESSED.items():
            if indicator not in wanted:
                continue
            t = interim_assessments[interim_assessments["subject"] == subject]
            met = t["performance_level"].to_numpy() >= m.rules.met_min_performance_level
            parts.append(_rates(t, met, np.ones(len(t), dtype=bool), groups, indicator, m))
    if not parts:
        return _empty_indicators()
    out = pd.concat(parts, ignore_index=True)
    out = out.astype({"numerator": "float64", "denominator": "float64", "value": "float64"})
    return out.sort_values(["school_code", "indicator", "student_group"]).reset_index(drop=True)


def _empty_indicators() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "school_code": pd.Series(dtype="str"),
            "student_group": pd.Series(dtype="str"),
            "indicator": pd.Series(dtype="str"),
            "numerator": pd.Series(dtype="float64"),
            "denominator": pd.Series(dtype="float64"),
            "value": pd.Series(dtype="float64"),
            "meets_nsize": pd.Series(dtype="bool"),
        }
    )


# ---- 2. comparison with the identification year --------------------------------------------
def identification_year(year: str, years_in_status: int) -> str:
    """The school year a Focus school in its ``years_in_status``-th consecutive FOCUS year
    was identified (*Designations*: years_in_status counts consecutive years)."""
    if years_in_status < 1:
        raise CheckpointError(f"years_in_status must be at least 1, got {years_in_status}")
    return years.shift(year, -(years_in_status - 1))


def compare_to_identification(
    interim: pd.DataFrame,
    identification_indicators: pd.DataFrame,
    designations: pd.DataFrame,
    m: Methodology,
    year: str | None = None,
) -> pd.DataFrame:
    """Each Focus school's indicators so far against its identification values
    (*Communities of practice and checkpoints*).

    ``interim``: :func:`interim_indicators`. ``identification_indicators``: the indicators
    frame (``school_code, student_group, indicator, numerator, denominator, value,
    meets_nsize``) of the year each school was identified; with a ``year`` column it may
    hold several years, and each school's identification year is
    ``year − (years_in_status − 1)`` (``designations.years_in_status``; 1 when absent).
    ``designations``: ``school_code, reason_group`` (FOCUS rows only, where a
    ``designation`` column is present; the communities frame serves).

    For ALL and the reason_group, per interim indicator: ``change`` = so far − at
    identification; ``worse_by`` the same in the indicator's bad direction (CHRONIC: up);
    ``off_track`` where ``worse_by`` > ``communities.off_track_tolerance`` points, the
    value so far meets the n-size and the identification value exists.
    """
    d = designations
    if "designation" in d.columns:
        d = d[d["designation"] == "FOCUS"]
    keep = ["school_code", "reason_group"] + (
        ["years_in_status"] if "years_in_status" in d.columns else []
    )
    d = d[keep].drop_duplicates("school_code")
    inds = list(m.communities.interim_indicators)
    targets = pd.concat(
        [
            d.assign(student_group="ALL"),
            d[d["reason_group"].notna() & (d["reason_group"] != "ALL")].assign(
                student_group=d["reason_group"]
            ),
        ]
    ).merge(pd.DataFrame({"indicator": inds}), how="cross")
    keys = ["school_code", "student_group", "indicator"]

    ident = identification_indicators
    ident_keys = keys
    if "year" in ident.columns and year is not None:
        yis = (
            targets["years_in_status"].fillna(1).astype(int)
            if "years_in_status" in targets.columns
            else pd.Series(1, index=targets.index)
        )
        targets["identification_year"] = [identification_year(year, int(n)) for n in yis]
        ident = ident.rename(columns={"year": "identification_year"})
        ident_keys = [*keys, "identification_year"]
    else:
        targets["identification_year"] = None  # not known: the caller chose the frame
    ident = ident[[*ident_keys, "numerator", "denominator", "value", "meets_nsize"]].rename(
        columns={
            c: f"identification_{c}" for c in ("numerator", "denominator", "value", "meets_nsize")
        }
    )
    so_far = interim[[*keys, "numerator", "denominator", "value", "meets_nsize"]].rename(
        columns={c: f"interim_{c}" for c in ("numerator", "denominator", "value", "meets_nsize")}
    )
    out = targets.merge(ident, on=ident_keys, how="left").merge(so_far, on=keys, how="left")
    out["direction"] = out["indicator"].map({k: s.direction for k, s in m.indicators.items()})
    for c in ("identification_value", "interim_value"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    out["change"] = out["interim_value"] - out["identification_value"]
    sign = np.where(out["direction"] == "lower", 1.0, -1.0)
    out["worse_by"] = sign * out["change"]
    meets = out["interim_meets_nsize"].astype("boolean").fillna(False).astype(bool)
    out["interim_meets_nsize"] = meets
    out["identification_meets_nsize"] = (
        out["identification_meets_nsize"].astype("boolean").fillna(False).astype(bool)
    )
    out["off_track"] = (
        meets & out["worse_by"].notna() & (out["worse_by"] > m.communities.off_track_tolerance)
    )
    out = out.sort_values(["school_code", "student_group", "indicator"], kind="stable")
    return out[COMPARISON_COLUMNS].reset_index(drop=True)


# ---- 3. plan flags --------------------------------------------------------------------------
def checkpoint_flags(plans: pd.DataFrame, number: int, m: Methodology) -> pd.DataFrame:
    """Plans not approved in time (*Communities of practice and checkpoints*: "a plan not
    approved by the second checkpoint is flagged").

    ``plans``: ``school_code, status`` (a missing or empty status counts as DRAFT). From
    checkpoint ``m.communities.plan_approval_due_checkpoint`` on, every plan that is not
    APPROVED is flagged. Returns ``school_code, plan_status, plan_not_approved``.
    """
    due = m.communities.plan_approval_due_checkpoint
    status = plans["status"].astype("object").where(plans["status"].notna(), DRAFT)
    status = status.replace("", DRAFT)
    out = pd.DataFrame(
        {
            "school_code": plans["school_code"].astype("str").to_numpy(),
            "plan_status": status.astype("str").to_numpy(),
        }
    )
    out["plan_not_approved"] = (number >= due) & (out["plan_status"] != APPROVED)
    return out


# ---- 4. the checkpoint ----------------------------------------------------------------------
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
    - ``interim``: :func:`interim_indicators` or None when nothing was delivered;
    - ``identification``: the indicators frame of the identification year(s) (with a
      ``year`` column when several), or None;
    - ``schools``: ``school_code, school_name, district_name`` for the briefs (optional);
    - ``participation``: ``school_code, attended (Y/N), attendees`` (optional: who attended).

    Returns the rows to record (status ``HELD``; ``flags`` lists ``PLAN_NOT_APPROVED``,
    ``ABSENT`` and ``OFF_TRACK:<group>:<indicator>``; ``interim`` the school's aggregates)
    and one brief context per community for :func:`render_brief`.
    """
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
        ident = identification if identification is not None else _empty_indicators()
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
        briefs[str(cid)] = _brief_context(
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


# ---- briefs ---------------------------------------------------------------------------------
def _display(comp: pd.DataFrame, prefix: str, m: Methodology) -> pd.DataFrame:
    """Display strings of one side (interim_ or identification_) of a comparison: the staff
    edition's (a brief is a staff document), nothing suppressed."""
    from sqis.suppression import staff_cells

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


def _brief_context(
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


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR / "reports")),
        autoescape=select_autoescape(enabled_extensions=("html",), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_brief(context: dict[str, Any]) -> str:
    """One community's checkpoint brief as a self-contained, accessible HTML page
    (``templates/reports/checkpoint_brief.html``; autoescaped)."""
    return _environment().get_template("checkpoint_brief.html").render(**context)


def _md(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    s = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    for ch in "*_`[]<>":
        s = s.replace(ch, "\\" + ch)
    return s


def brief_markdown(result: CheckpointResult) -> str:
    """A Markdown summary of a checkpoint (for a run artifact): one line per community."""
    lines = [
        f"# Checkpoint {result.number} of {result.year} ({result.date.isoformat()})",
        "",
        f"Communities of practice formed from the {years.results_year(result.year)} results.",
        "",
        "| community | schools | plans approved | plans flagged | absent | off track |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rows = result.rows
    for cid in result.communities:
        r = rows[rows["community_id"] == cid]
        flags = r["flags"].map(list)
        lines.append(
            f"| {_md(cid)} | {len(r)} "
            f"| {int((r['plan_status'] == APPROVED).sum())} "
            f"| {int(flags.map(lambda f: FLAG_PLAN in f).sum())} "
            f"| {int(flags.map(lambda f: FLAG_ABSENT in f).sum())} "
            f"| {int(flags.map(lambda f: any(x.startswith(FLAG_OFF_TRACK) for x in f)).sum())} |"
        )
    if not result.communities:
        lines.append("| (no communities) | 0 | 0 | 0 | 0 | 0 |")
    return "\n".join(lines) + "\n"


# ---- the checkpoint from the results store (used by the CLI and the checkpoint flow) --------
@dataclass
class HeldCheckpoint:
    """What :func:`hold_checkpoint` did: the result, the briefs to publish under the
    results year's folder (``files``, keyed as :func:`brief_key`) and what it read."""

    result: CheckpointResult
    recorded: int
    files: dict[str, bytes]
    interim_checksums: dict[str, str]

    @property
    def results_year(self) -> str:
        """The year whose folder the briefs are published in."""
        return years.results_year(self.result.year)


def brief_key(service_year: str, number: int, community: str) -> str:
    """Where a community's brief goes in the results year's publication (DATA_CONTRACT.md
    "Outputs": the year folder is the results year, its dates fall in the service year)."""
    return f"checkpoints/{service_year}-checkpoint-{number}/{community}.html"


def _latest_groups(year: str, m: Methodology, store_root: str | None) -> pd.DataFrame | None:
    """Student groups of the latest validated students file (this year, else last year):
    the interim files carry no group flags, and pseudonyms are stable across years."""
    try:
        from sqis import ingest  # type: ignore[attr-defined]
        from sqis.groups import student_groups
    except ImportError:
        return None
    for y in (year, years.shift(year, -1)):
        try:
            yd = ingest.load_year(y, store_root=store_root)
        except ingest.NotIngested:  # not ingested: try the year before
            continue
        g = student_groups(yd.students, m)
        ids = yd.students["student_id"].to_numpy()[yd.students.index.get_indexer(g.index)]
        return pd.DataFrame({"student_id": ids, "student_group": g["student_group"].astype(str)})
    return None


def hold_checkpoint(
    store: Any,
    year: str,
    number: int,
    m: Methodology,
    *,
    data_root: str | None = None,
    key: bytes | None = None,
    store_root: str | None = None,
    absent: list[str] | None = None,
    held_at: datetime | None = None,
) -> HeldCheckpoint:
    """Record checkpoint ``number`` of service year ``year`` for every stored community and
    render the briefs (*Communities of practice and checkpoints*).

    The communities were formed from the results of ``years.results_year(year)``: that
    year's ``communities``, ``designations`` (years in status → plan year and
    identification year) and ``schools``, the plans in force in ``year`` and the
    identification years' ``indicators`` are read from ``store`` (a
    ``sqis.store.ResultsStore``); the optional interim files of ``year`` under
    ``data_root`` (``<root>/<year>/interim/checkpoint-<n>/``, ``schemas/interim.py``;
    needs ``key``). Records the rows with ``store.record_checkpoint`` (under ``year``) and
    returns one brief per community (``files``, for the results year's publication).
    ``absent`` lists school codes not represented (on top of ``participation.csv``).
    """
    from sqis.plans import plan_year
    from sqis.storage import open_storage

    results = years.results_year(year)
    if store.dependency(results) is None:
        raise CheckpointError(
            f"checkpoint {number} of {year} is held for the communities formed from the "
            f"{results} results, and the results store holds none: run the year first "
            f"(`sqis run --data <root> --year {results}`)"
        )
    comm = store.read("communities", results)
    if comm.empty:
        raise CheckpointError(
            f"the {results} results designated no Focus school, so {year} has no "
            "community of practice to hold a checkpoint for"
        )
    des = store.read("designations", results)
    yis = des.set_index("school_code")["years_in_status"] if len(des) else pd.Series(dtype=int)
    comm = comm.assign(
        years_in_status=comm["school_code"].map(yis).fillna(1).astype(int).clip(lower=1)
    )
    # each school's plan: the one its two-year cycle started with
    comm["plan_year"] = [plan_year(year, int(n), m) for n in comm["years_in_status"]]
    frames = [
        store.plan_status(year=py)[["school_code", "status"]].assign(plan_year=py)
        for py in sorted(set(comm["plan_year"]))
    ]
    plans = comm[["school_code", "plan_year"]].merge(
        pd.concat(frames), on=["school_code", "plan_year"], how="left"
    )

    interim_frame = None
    participation = None
    checksums: dict[str, str] = {}
    if data_root:
        from schemas.interim import load_interim

        if key is None:
            raise CheckpointError("interim files need the pseudonymisation key")
        delivery = load_interim(open_storage(data_root), year, number, key)
        checksums = delivery.checksums
        participation = delivery.participation
        if delivery.attendance is not None or delivery.interim_assessments is not None:
            groups = _latest_groups(year, m, store_root)
            interim_frame = interim_indicators(
                delivery.attendance, delivery.interim_assessments, groups, m
            )
    if absent:
        unknown = sorted(set(absent) - set(comm["school_code"]))
        if unknown:
            raise CheckpointError(
                f"--absent {unknown[0]}: not a school of any community of practice in {year}"
            )
        base = comm[["school_code"]]
        if participation is not None:
            base = base.merge(participation, on="school_code", how="left")
        else:
            base = base.assign(attended=None, attendees=None)
        out = base["school_code"].isin(absent)
        base = base.astype({"attended": "object", "attendees": "object"})
        base.loc[out, "attended"] = False
        base.loc[out, "attendees"] = None
        participation = base

    ident_years = sorted(
        {identification_year(results, int(n)) for n in comm["years_in_status"]},
        key=years.start_of,
    )
    identification = store.read("indicators", ident_years) if interim_frame is not None else None
    schools = store.read("schools", results)

    result = run_checkpoint(
        year,
        number,
        comm,
        plans,
        interim_frame,
        identification,
        m,
        schools=schools,
        participation=participation,
        held_at=held_at,
    )
    recorded = store.record_checkpoint(year, number, result.rows)
    files = {
        brief_key(year, number, cid): render_brief(ctx).encode("utf-8")
        for cid, ctx in result.briefs.items()
    }
    return HeldCheckpoint(result, recorded, files, checksums)
