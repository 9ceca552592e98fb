"""The checkpoint rules (METHODOLOGY.md, *Communities of practice and checkpoints*), each a
plain function over frames:

1. :func:`interim_indicators` — from the optional interim files (``schemas/interim.py``),
   the indicators so far (``m.communities.interim_indicators``: CHRONIC, ELA_MET,
   MATH_MET), per school, for ALL and every student group the caller can place students in;
2. :func:`compare_to_identification` — each Focus school's values so far, for ALL and its
   reason_group, against the values of the year it was identified; ``off_track`` where
   worse by more than ``m.communities.off_track_tolerance`` points;
3. :func:`checkpoint_flags` — a plan not APPROVED by checkpoint
   ``m.communities.plan_approval_due_checkpoint`` is flagged.

``sqis.checkpoints.run.run_checkpoint`` holds a checkpoint with them. No student ID goes
into any output: interim files are aggregated to schools and groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.outputs import InterimIndicatorsFrame, columns, dtypes, empty
from sqis import years
from sqis.errors import SqisError
from sqis.methodology import Methodology
from sqis.plans import APPROVED, DRAFT

INDICATOR_COLUMNS = columns(InterimIndicatorsFrame)  # interim indicators: the indicators frame
# ... with its counts as floats (as the interim rules compute them)
INTERIM_TYPES = {
    c: dtypes(InterimIndicatorsFrame)[c] for c in ("numerator", "denominator", "value")
}
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
        return empty_indicators()
    out = pd.concat(parts, ignore_index=True)
    out = out.astype(INTERIM_TYPES)
    return out.sort_values(["school_code", "indicator", "student_group"]).reset_index(drop=True)


def empty_indicators() -> pd.DataFrame:
    """No interim indicators: the indicators frame's shape, counts as floats."""
    return empty(InterimIndicatorsFrame)


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
