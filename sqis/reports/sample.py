"""A small hand-built consortium for tests, documentation and `sqis` previews of the reports.

Six schools in two districts over three school years, as report frames (``ReportFrames``:
no educator, support or review frames; docs/reports.md). The numbers are written out by
formula so that a test can compute what a report must show by hand; a few groups are
deliberately small so that suppression shows (``*`` and ``n<20``). Nothing here is real data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqis import years
from sqis.methodology import Methodology
from sqis.report_frames import ReportFrames

YEARS = ("2013-14", "2014-15", "2015-16")
TRICKY_NAME = 'Escuela Niños & "Hermanos" <b>'

SCHOOLS = pd.DataFrame(
    [
        # school_code, district_code, school_name, district_name, type, title_i, low, high
        ("01611190130001", "0161119", "Alameda Elementary", "Alameda Unified", "ES", True, 0, 5),
        ("01611190130002", "0161119", TRICKY_NAME, "Alameda Unified", "ES", True, 0, 5),
        ("01611190130003", "0161119", "Bay Middle", "Alameda Unified", "MS", True, 6, 8),
        ("19647330100004", "1964733", "Los Angeles High", "Los Angeles Unified", "HS", True, 9, 12),
        (
            "19647330100005",
            "1964733",
            "Echo Park Elementary",
            "Los Angeles Unified",
            "ES",
            True,
            0,
            5,
        ),
        (
            "19647330100006",
            "1964733",
            "Silver Lake Middle",
            "Los Angeles Unified",
            "MS",
            False,
            6,
            8,
        ),
    ],
    columns=[
        "school_code",
        "district_code",
        "school_name",
        "district_name",
        "school_type",
        "title_i",
        "low_grade",
        "high_grade",
    ],
)

# (group, denominator, share of the ALL rate): the composition of every school
GROUPS = (
    ("ALL", 200, 1.0),
    ("HI", 120, 0.9),
    ("AA", 8, 0.7),  # under the n-size and a small count: n<20
    ("EL", 60, 0.6),
    ("SWD", 25, 0.5),
    ("SED", 150, 0.85),
)
# a school × group × indicator whose numerator is small (4 of 25) and one whose complement
# is small (95 of 100): both are suppressed with "*"
SMALL_NUMERATOR = ("01611190130001", "SWD", "ELA_MET")
SMALL_COMPLEMENT = ("19647330100004", "SED", "GRAD4")


def _level(value: float, cuts: tuple[float, ...], direction: str) -> int:
    if direction == "higher":
        return 1 + sum(value >= c for c in cuts)
    return 1 + sum(value <= c for c in cuts)


def _improve(value: float, level: int, cuts: tuple[float, ...], direction: str, k: int) -> float:
    target = level + k
    if target > 10:
        return float("nan")
    if direction == "higher":
        return max(cuts[target - 2] - value, 0.0)
    return max(value - cuts[10 - target], 0.0)


def build(m: Methodology) -> ReportFrames:
    """The sample consortium's report frames of the last of ``YEARS``: schools; indicators,
    index and designations of every year in ``YEARS`` (with a ``year`` column); the service
    year's communities, plans in force and checkpoints."""
    rows = []
    for yi, year in enumerate(YEARS):
        for si, sch in enumerate(SCHOOLS.itertuples()):
            for ind, spec in m.indicators.items():
                if sch.school_type not in spec.school_types:
                    continue
                cuts = m.cuts(ind, sch.school_type)
                base = {"percent": 40.0, "mean": 3.5, "percentile": 50.0, "ratio": 1.2}[spec.scale]
                step = {"percent": 3.0, "mean": 0.05, "percentile": 6.0, "ratio": 0.05}[spec.scale]
                for group, den, share in GROUPS:
                    if spec.groups is not None and group not in spec.groups:
                        continue
                    v = (base + step * (si - 2) + step * yi) * share
                    if spec.direction == "lower":
                        v = (base - step * (si - 2) - step * yi) / share
                    v = float(round(v, 3))
                    d = den + 5 * yi if den >= 20 else den
                    numer: float = np.nan
                    if spec.scale == "percent":
                        numer = round(v * d / 100.0)
                        v = 100.0 * numer / d
                    if (sch.school_code, group, ind) == SMALL_NUMERATOR:
                        d, numer = 25, 4
                        v = 16.0
                    if (sch.school_code, group, ind) == SMALL_COMPLEMENT:
                        d, numer = 100, 95
                        v = 95.0
                    meets = d >= m.n_size
                    lvl = _level(v, cuts, spec.direction) if meets else np.nan
                    rows.append(
                        {
                            "year": year,
                            "school_code": sch.school_code,
                            "student_group": group,
                            "indicator": ind,
                            "numerator": numer,
                            "denominator": float(d),
                            "value": v,
                            "meets_nsize": meets,
                            "level": lvl,
                            **{
                                f"improve_{k}": (
                                    _improve(v, int(lvl), cuts, spec.direction, k)
                                    if meets
                                    else np.nan
                                )
                                for k in (1, 2, 3)
                            },
                        }
                    )
    ind = pd.DataFrame(rows)
    key = ["school_code", "student_group", "indicator"]
    prior = ind[["year", *key, "value", "level"]].copy()
    prior["year"] = prior["year"].map(lambda y: years.shift(y, 1))
    prior = prior.rename(columns={"value": "prior_value", "level": "prior_level"})
    ind = ind.merge(prior, on=["year", *key], how="left")
    ind["change"] = ind["value"] - ind["prior_value"]
    ind["level_change"] = ind["level"] - ind["prior_level"]

    # index: SQII rises 2 points a year; school 2 (the tricky name) is lowest
    idx = []
    for yi, year in enumerate(YEARS):
        for si, code in enumerate(SCHOOLS["school_code"]):
            sqii = 30.0 + 8.0 * si + 2.0 * yi
            prior = 30.0 + 8.0 * si + 2.0 * (yi - 1) if yi else np.nan
            goal = prior + m.goal.improvement_share * (100 - prior) if yi else np.nan
            idx.append(
                {
                    "year": year,
                    "school_code": code,
                    "academic": sqii / 10 - 0.5,
                    "social_emotional": sqii / 10 + 0.5,
                    "culture_climate": sqii / 10 + 1.0,
                    "sqii": sqii,
                    "prior_sqii": prior,
                    "goal": goal,
                    "meets_goal": bool(yi and sqii >= goal),
                }
            )
    index = pd.DataFrame(idx)

    codes = list(SCHOOLS["school_code"])
    des = []
    for yi, year in enumerate(YEARS):
        for code in codes:
            d = {
                "year": year,
                "school_code": code,
                "designation": "NONE",
                "reason_group": None,
                "reason_indicator": None,
                "years_in_status": 0,
                "escalation": "NONE",
                "partner_school_code": None,
                "exited": False,
                "gap": np.nan,
                "gap_group": None,
            }
            if code == codes[1]:  # FOCUS all three years: escalates in year 3
                d.update(
                    designation="FOCUS",
                    reason_group="EL",
                    reason_indicator="MATH_MET",
                    years_in_status=yi + 1,
                    escalation="REWARD_PARTNERSHIP" if yi >= 2 else "NONE",
                    partner_school_code=codes[4] if yi >= 2 else None,
                    gap=14.0,
                    gap_group="EL",
                )
            elif code == codes[0] and yi >= 1:  # PRIORITY from year 2
                d.update(
                    designation="PRIORITY",
                    reason_group=None,
                    years_in_status=yi,
                    escalation="PEER_REVIEW",
                    partner_school_code=codes[4],
                    gap=10.0,
                    gap_group="SWD",
                )
            elif code == codes[4]:
                d.update(designation="REWARD", years_in_status=yi + 1, gap=3.0, gap_group="EL")
            elif code == codes[3] and yi == 1:
                d.update(
                    designation="FOCUS",
                    reason_group="SED",
                    reason_indicator="ELA_MET",
                    years_in_status=1,
                    gap=12.0,
                    gap_group="SED",
                )
            elif code == codes[3] and yi == 2:
                d.update(exited=True, gap=6.0, gap_group="SED")
            des.append(d)
    designations = pd.DataFrame(des)

    # the last results year decides the service year after it: its communities, plans in
    # force and checkpoints (METHODOLOGY.md "Results year and service year"), as
    # sqis.report_reads.report_frames reads them
    last = YEARS[-1]
    service = years.service_year(last)
    dates = m.checkpoint_dates(service)
    comm = []
    for n, dt in dates.items():
        comm.append(
            {
                "community_id": f"{service}-EL-ES-1",
                "school_code": codes[1],
                "reason_group": "EL",
                "checkpoint": n,
                "date": dt,
                "status": "HELD" if n <= 2 else "SCHEDULED",
            }
        )
    communities = pd.DataFrame(comm)
    plans = pd.DataFrame(
        [
            {
                "school_code": codes[1],
                "plan_year": service,
                "plan_year_number": 1,
                "status": "SUBMITTED",
                "submitted_by": "principal",
                "submitted_at": pd.Timestamp(f"{years.start_of(service)}-12-01T10:00:00Z"),
                "approved_by": None,
                "approved_at": pd.NaT,
                "deadline": dates[m.communities.plan_approval_due_checkpoint],
            },
            {
                "school_code": codes[0],
                "plan_year": service,
                "plan_year_number": 1,
                "status": "APPROVED",
                "submitted_by": "principal",
                "submitted_at": pd.Timestamp(f"{years.start_of(service)}-10-01T10:00:00Z"),
                "approved_by": "superintendent",
                "approved_at": pd.Timestamp(f"{years.start_of(service)}-11-01T10:00:00Z"),
                "deadline": dates[m.communities.plan_approval_due_checkpoint],
            },
        ]
    )
    checkpoints = pd.DataFrame(
        [
            {
                "community_id": f"{service}-EL-ES-1",
                "number": n,
                "status": "HELD" if n <= 2 else "SCHEDULED",
                "school_code": codes[1],
                "plan_status": "SUBMITTED" if n >= 2 else "DRAFT",
                "flags": "PLAN_NOT_APPROVED" if n == 2 else "",
            }
            for n in dates
        ]
    )
    return ReportFrames(
        year=last,
        schools=SCHOOLS.copy(),
        indicators=ind,
        index=index,
        designations=designations,
        communities=communities,
        plans=plans,
        checkpoints=checkpoints,
    )
