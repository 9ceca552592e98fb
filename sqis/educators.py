"""Educator effectiveness: growth measures, growth ratings, summative scores and levels
(METHODOLOGY.md "Educator effectiveness"; the methodology's ``educators`` settings).

The unit is an educator's **assignment** — one row of ``educators``, an educator at a
school (*default*, as a student enrolled at two schools counts at each): an educator at two
schools is evaluated at each, on the practice rating and the students of that school.

1. **Growth measure** (:func:`growth_measures`, consortium-wide, once a year), from the
   residuals of the consortium's growth model (``sqis.growth.fit_growth``, the same fit as
   the school growth indicators; METHODOLOGY.md "Growth"): no second model is fitted.

   - *Teachers*: the mean residual of the students rostered to them at that school in ELA
     and math who have this and last year's score (a student's residual in the subject,
     wherever tested, *default*). A student rostered in both subjects counts in both; a
     co-taught student counts for each of their teachers. At least ``min_students``
     distinct such students (*default* 10), else no measure. Shrunk toward 0 by empirical
     Bayes (``shrinkage``): growth = λ × mean, λ = τ² / (τ² + σ²/n) with n the teacher's
     residuals, σ² the pooled within-teacher variance of the residuals and
     τ² = max(0, mean of the squared means − mean of σ²/n), over the teachers with a
     measure (*default*, method of moments around 0: the model's residuals average 0).
   - *Principals*: their school's ``ALL`` mean residual over both subjects (the residuals
     of assessments at that school), not shrunk; the same minimum of distinct students.

2. **Growth rating** 1–4 (:func:`growth_ratings`): the measure's percentile rank among
   the educators of the same role with a measure, consortium-wide — the mean rank of
   ``sqis.growth.percentile_rank``, so tied measures share a percentile and a rating —
   then 1 + the number of ``rating_cut_points`` (25, 50, 75: quartiles) at or below it.

3. **Summative score, level and flag** (:func:`evaluate`, per district: each district's
   option, ``option_for``):

   - option 2: summative = (1 − w) × practice + w × growth rating; without a measure,
     practice alone and flag ``NO_GROWTH``;
   - option 1: summative = practice; flag ``TRIGGER`` where |round(practice) − growth
     rating| ≥ ``trigger_difference`` (round half up: 2.5 → 3, *default*), ``NO_GROWTH``
     without a measure;
   - level = 1 + the number of ``level_cut_points`` (1.75, 2.5, 3.25) at or below the
     summative score, compared at ``COMPARE_DECIMALS`` decimals so that 0.8 × 2.1875 +
     0.2 × 2 is 2.15 and 2.5 is exactly 2.5 on every machine.

Everything is vectorised: roster rows are linked to residuals by integer codes, sums by
``numpy.bincount``; nothing loops over educators, students or roster rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.outputs import (
    EducatorDistribution,
    EducatorMeasuresFrame,
    EducatorResultsFrame,
    columns,
    empty,
)
from sqis import groups as groups_mod
from sqis.errors import SqisError
from sqis.growth import GROWTH_SUBJECTS, percentile_rank
from sqis.methodology import EducatorSpec, Methodology
from sqis.student_keys import YearKeys

# summative scores are compared with the level cut points at this many decimals
# (floating-point noise only; a unit conversion, not a methodology number)
COMPARE_DECIMALS = 9


def _spec(m: Methodology) -> EducatorSpec:
    if m.educators is None:
        raise ValueError(
            f"methodology {m.version} has no educators section (METHODOLOGY.md "
            '"Educator effectiveness")'
        )
    return m.educators


def _residual_students(residuals: pd.DataFrame, assessments: pd.DataFrame) -> pd.Series:
    """The (pseudonymised) student of each residual row: ``fit_growth``'s index is the
    year's assessments' index."""
    pos = _residual_rows(residuals, assessments)
    return pd.Series(assessments["student_id"].astype("str").array.take(pos))


def _residual_rows(residuals: pd.DataFrame, assessments: pd.DataFrame) -> np.ndarray:
    """The position in ``assessments`` of each residual row (its index is theirs)."""
    pos = assessments.index.get_indexer(residuals.index)
    if (pos < 0).any():
        raise ValueError("residuals do not come from this year's assessments")
    return pos


def _distinct_per(owner: np.ndarray, member: np.ndarray, n_owners: int) -> np.ndarray:
    """How many distinct ``member`` codes each owner (0 … n_owners − 1) has (one sort)."""
    if not len(owner):
        return np.zeros(n_owners, dtype=np.int64)
    width = int(member.max()) + 1
    k = np.sort(owner.astype(np.int64) * width + member)
    first = np.empty(len(k), dtype=bool)
    first[0] = True
    np.not_equal(k[1:], k[:-1], out=first[1:])
    return np.bincount(k[first] // width, minlength=n_owners)


def teacher_sums(
    residuals: pd.DataFrame,
    assessments: pd.DataFrame,
    rosters: pd.DataFrame,
    educators: pd.DataFrame,
    codes: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Per teacher assignment (row of ``educators``): ``n_students`` (distinct rostered
    students with a residual), ``n`` (residuals: a student per subject), ``sum``, ``sumsq``.

    Roster rows link to residuals by (student, subject); a co-taught student's residual
    goes to each of their teachers. Row order and index are ``educators``'. ``codes``: the
    residuals' and the rosters' students as integer codes of one dictionary, when the
    caller has them (:func:`student_codes`).
    """
    n_ed = len(educators)
    zeros = np.zeros(n_ed)
    if residuals.empty or rosters is None or rosters.empty:
        return pd.DataFrame(
            {"n_students": zeros.astype(np.int64), "n": zeros.astype(np.int64), "sum": zeros,
             "sumsq": zeros},
            index=educators.index,
        )  # fmt: skip
    subjects = list(GROWTH_SUBJECTS)
    res_code, ros_code = codes or student_codes(residuals, assessments, rosters)
    res_subj = groups_mod.positions_in(residuals["subject"], subjects)
    ros_subj = groups_mod.positions_in(rosters["subject"], subjects)
    key_res = res_code * len(subjects) + res_subj
    key_ros = ros_code * len(subjects) + ros_subj
    found = pd.Index(key_res).get_indexer(key_ros)  # a student's residual in the subject
    # the roster row's assignment: (educator, school) in educators (a cross-file rule)
    assign = groups_mod.lookup(
        rosters[["educator_id", "school_code"]].rename(columns={"educator_id": "e"}),
        educators[["educator_id", "school_code"]].rename(columns={"educator_id": "e"}),
        ["e", "school_code"],
    )
    keep = (found >= 0) & (assign >= 0)
    a = assign[keep]
    r = residuals["residual"].to_numpy(dtype=float)[found[keep]]
    n = np.bincount(a, minlength=n_ed)
    s = np.bincount(a, weights=r, minlength=n_ed)
    ss = np.bincount(a, weights=r * r, minlength=n_ed)
    # distinct students per assignment (a student in both subjects is one student)
    n_students = _distinct_per(a, ros_code[keep], n_ed)
    return pd.DataFrame(
        {"n_students": n_students.astype(np.int64), "n": n.astype(np.int64), "sum": s,
         "sumsq": ss},
        index=educators.index,
    )  # fmt: skip


def shrink_toward_zero(n: np.ndarray, total: np.ndarray, sumsq: np.ndarray) -> np.ndarray:
    """Empirical-Bayes estimates of the units' true means, shrunk toward 0 (module docstring):
    ``n`` residuals per unit, their ``total`` and sum of squares ``sumsq``."""
    n = np.asarray(n, dtype=float)
    if len(n) == 0:
        return np.zeros(0)
    mean = np.asarray(total, dtype=float) / n
    within = float((np.asarray(sumsq, dtype=float) - n * mean**2).sum())
    dof = float(n.sum()) - len(n)
    sigma2 = max(within, 0.0) / dof if dof > 0 else 0.0
    noise = sigma2 / n
    tau2 = max(0.0, float(np.mean(mean**2)) - float(np.mean(noise)))
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.where(tau2 + noise > 0, tau2 / (tau2 + noise), 1.0)
    return lam * mean


def student_codes(
    residuals: pd.DataFrame,
    assessments: pd.DataFrame,
    rosters: pd.DataFrame | None,
    keys: YearKeys | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The residuals' students and the rosters' as integer codes of one dictionary: the
    year's keys (``keys``: ``sqis.student_keys.YearKeys`` of the year these frames are,
    already computed once for growth), else one Arrow hash pass over both."""
    if keys is not None:
        yd = keys.year_data
        if yd.assessments is not assessments or yd.rosters is not rosters:
            raise ValueError("student_codes: the student keys given are of other frames")
        pos = _residual_rows(residuals, assessments)
        ros = keys.rosters() if rosters is not None and not rosters.empty else np.zeros(0, np.int64)
        return keys.keys()["assessments"][pos], ros
    res_student = _residual_students(residuals, assessments)
    if rosters is None or rosters.empty:
        (res_code,) = groups_mod.shared_codes(res_student)
        return res_code, np.zeros(0, dtype=np.int64)
    res_code, ros_code = groups_mod.shared_codes(res_student, rosters["student_id"])
    return res_code, ros_code


def principal_sums(
    residuals: pd.DataFrame,
    assessments: pd.DataFrame,
    schools: pd.Series,
    res_code: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per school of ``schools``: ``n_students`` (distinct students with a residual there),
    ``n`` (residuals over both subjects) and their ``sum``."""
    n_s = len(schools)
    if residuals.empty:
        z = np.zeros(n_s)
        return pd.DataFrame({"n_students": z.astype(np.int64), "n": z.astype(np.int64), "sum": z})
    sch = groups_mod.positions_in(residuals["school_code"], schools.to_numpy())
    ok = sch >= 0
    r = residuals["residual"].to_numpy(dtype=float)
    n = np.bincount(sch[ok], minlength=n_s)
    s = np.bincount(sch[ok], weights=r[ok], minlength=n_s)
    if res_code is None:
        (res_code,) = groups_mod.shared_codes(_residual_students(residuals, assessments))
    n_students = _distinct_per(sch[ok], res_code[ok], n_s)
    return pd.DataFrame({"n_students": n_students.astype(np.int64), "n": n, "sum": s})


def growth_ratings(measures: pd.DataFrame, m: Methodology) -> pd.Series:
    """Growth rating 1–4 of each row with a ``growth`` measure, by role, consortium-wide
    (METHODOLOGY.md "Educator effectiveness"): 1 + the number of ``rating_cut_points`` at or
    below the measure's mean percentile rank among the role's measures (ties share it)."""
    e = _spec(m)
    out = pd.Series(pd.array([pd.NA] * len(measures), dtype="Int64"), index=measures.index)
    g = measures["growth"].to_numpy(dtype=float)
    roles = measures["role"].to_numpy(dtype=object)
    cuts = np.asarray(e.rating_cut_points, dtype=float)
    for role in np.unique(roles):  # two roles: a loop over roles, not rows
        sel = (roles == role) & ~np.isnan(g)
        if not sel.any():
            continue
        pct = percentile_rank(g[sel], g[sel])
        rating = 1 + (pct[:, None] >= cuts[None, :]).sum(axis=1)
        out.iloc[np.flatnonzero(sel)] = rating
    return out


def growth_measures(
    residuals: pd.DataFrame,
    assessments: pd.DataFrame,
    educators: pd.DataFrame | None,
    rosters: pd.DataFrame | None,
    m: Methodology,
    keys: YearKeys | None = None,
) -> pd.DataFrame:
    """Every educator assignment's growth measure and rating, consortium-wide (steps 1–2).

    ``residuals`` from ``sqis.growth.fit_growth`` for the year (the school indicators'
    fit), ``assessments`` the year's (its index is the residuals'), ``educators`` and
    ``rosters`` the year's pseudonymised files (``None``: the year has none, no rows).
    Columns of ``schemas.outputs.EducatorMeasuresFrame``; ``educator_key`` is the
    pseudonymised educator ID.
    ``keys``: the year's student keys, when the caller holds them (no second hash pass).
    """
    e = _spec(m)
    if educators is None or educators.empty:
        return empty(EducatorMeasuresFrame)
    ed = educators.reset_index(drop=True)
    role = ed["role"].astype("str")
    teacher = (role == "TEACHER").to_numpy()
    codes = student_codes(residuals, assessments, rosters, keys) if len(residuals) else None
    t = teacher_sums(residuals, assessments, rosters, ed, codes)
    schools = pd.Series(pd.unique(ed["school_code"].astype("str")))
    p = principal_sums(residuals, assessments, schools, codes[0] if codes else None)
    at = groups_mod.positions_in(ed["school_code"], schools.to_numpy())
    n_students = np.where(teacher, t["n_students"].to_numpy(), p["n_students"].to_numpy()[at])
    n = np.where(teacher, t["n"].to_numpy(), p["n"].to_numpy()[at]).astype(float)
    total = np.where(teacher, t["sum"].to_numpy(), p["sum"].to_numpy()[at])
    has = (n_students >= e.min_students) & (n > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(has, total / n, np.nan)
    growth = mean.copy()
    if e.shrinkage == "empirical_bayes":  # teachers only (METHODOLOGY.md)
        sel = has & teacher
        growth[sel] = shrink_toward_zero(n[sel], total[sel], t["sumsq"].to_numpy()[sel])
    out = pd.DataFrame(
        {
            "educator_key": ed["educator_id"].astype("str"),
            "school_code": ed["school_code"].astype("str"),
            "role": role,
            "practice": ed["practice"].astype("float64"),
            "n_students": n_students.astype(np.int64),
            "mean_residual": mean,
            "growth": growth,
        }
    )
    out["growth_rating"] = growth_ratings(out, m)
    return out


def round_half_up(x: np.ndarray) -> np.ndarray:
    """Round to whole numbers, halves up (2.5 → 3; METHODOLOGY.md "rounded", *default*)."""
    return np.floor(np.asarray(x, dtype=float) + 0.5)


def levels(summative: np.ndarray, m: Methodology) -> np.ndarray:
    """Level 1–4: 1 + the number of ``level_cut_points`` at or below the summative score."""
    cuts = np.asarray(_spec(m).level_cut_points, dtype=float)
    s = np.round(np.asarray(summative, dtype=float), COMPARE_DECIMALS)
    return (1 + (s[:, None] >= cuts[None, :]).sum(axis=1)).astype(np.int64)


# The order of every educator results frame (and of the measures, so that no district's
# results need a sort).
RESULTS_ORDER: tuple[str, ...] = ("school_code", "role", "educator_key")


def results_order(frame: pd.DataFrame) -> np.ndarray:
    """Row positions putting ``frame`` in ``RESULTS_ORDER``, ties in their order (a stable
    sort on each key's sorted codes)."""
    return np.lexsort([pd.factorize(frame[c], sort=True)[0] for c in RESULTS_ORDER[::-1]])


def evaluate(measures: pd.DataFrame, schools: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """Summative score, level and flag of each assignment under its district's option
    (step 3; METHODOLOGY.md "Educator effectiveness", options 1 and 2). ``measures`` from
    :func:`growth_measures` (any subset: one district's rows give that district's
    results); ``schools`` gives each school's district. Columns of ``EducatorResultsFrame``,
    sorted by school, role and educator key."""
    e = _spec(m)
    if measures.empty:
        return empty(EducatorResultsFrame)
    # each row's district by its school's position (arrays, not a map per column: this
    # runs once per district task); the option and weight once per district
    at = groups_mod.positions_in(measures["school_code"], schools["school_code"])
    names, of_school = pd.factorize(schools["district_code"].to_numpy(dtype=object))
    d_code = np.append(names, -1)[at]  # -1: a school not in ``schools``
    chosen = [e.option_for(d) for d in of_school]
    option = np.asarray([o.option for o in chosen], dtype=np.int64)[d_code]
    weight = np.asarray([o.growth_weight for o in chosen], dtype=float)[d_code]
    district = pd.array(np.asarray(of_school, dtype=object)[d_code], dtype="str")
    practice = measures["practice"].to_numpy(dtype=float)
    rating = measures["growth_rating"].to_numpy(dtype=float, na_value=np.nan)
    has = ~np.isnan(rating)
    two = option == 2
    summative = np.where(two & has, (1 - weight) * practice + weight * rating, practice)
    trigger = ~two & has & (np.abs(round_half_up(practice) - rating) >= e.trigger_difference)
    flag = np.where(~has, "NO_GROWTH", np.where(trigger, "TRIGGER", "NONE"))
    out = measures.assign(
        district_code=district,
        option=option,
        growth_weight=np.where(two, weight, np.nan),
        summative=summative,
        level=levels(summative, m),
        flag=pd.array(flag, dtype="str"),
    )
    out = out[columns(EducatorResultsFrame)].reset_index(drop=True)
    # measures come in that order (``sqis.index_stage.educator_measures``): then no take
    order = results_order(out)
    if np.array_equal(order, np.arange(len(order))):
        return out
    return out.take(order).reset_index(drop=True)


def distribution(results: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
    """Educators rated and counts by level per consortium, district and school, for each
    role (METHODOLOGY.md "Educator effectiveness", public distribution; unsuppressed: the
    staff edition's ``educator-distribution.csv``). Columns ``entity_type, entity_code,
    role, rated, level_1 … level_4``; a row per entity with at least one educator of the
    role; assignments are counted (an educator at two schools counts at each, and so in
    the district and consortium sums, which stay sums of the rows below them)."""
    cols = columns(EducatorDistribution)
    if results.empty:
        return empty(EducatorDistribution)
    r = results
    if "district_code" not in r.columns:
        r = r.assign(
            district_code=r["school_code"].map(schools.set_index("school_code")["district_code"])
        )
    lvl = pd.get_dummies(r["level"].astype("int64")).reindex(columns=[1, 2, 3, 4], fill_value=0)
    lvl.columns = [f"level_{k}" for k in range(1, 5)]
    base = pd.concat([r[["district_code", "school_code", "role"]], lvl.astype("int64")], axis=1)
    parts = []
    for entity_type, key in (("CONSORTIUM", None), ("DISTRICT", "district_code"),
                             ("SCHOOL", "school_code")):  # fmt: skip
        keys = ["role"] if key is None else [key, "role"]
        g = base.groupby(keys, sort=True)[list(lvl.columns)].sum().reset_index()
        g["entity_code"] = "ALL" if key is None else g[key].astype("str")
        g["entity_type"] = entity_type
        parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    out["rated"] = out[list(lvl.columns)].sum(axis=1).astype("int64")
    order = {"CONSORTIUM": 0, "DISTRICT": 1, "SCHOOL": 2}
    out = out.assign(_o=out["entity_type"].map(order)).sort_values(
        ["_o", "entity_code", "role"], kind="mergesort"
    )
    return out[cols].reset_index(drop=True).astype({"entity_type": "str", "entity_code": "str"})


# ---- trigger follow-up (METHODOLOGY.md "Educator effectiveness", option 1) ----------------
class ActionRefused(ValueError, SqisError):
    """An action the rules do not allow: not on a ``TRIGGER``, already recorded, no reason."""


def action_record(
    results: pd.DataFrame,
    actions: pd.DataFrame,
    year: str,
    educator_key: str,
    action: str,
    reason: str,
    by: str,
    m: Methodology,
    school_code: str | None = None,
) -> dict[str, object]:
    """The ``educator_actions`` row recording a district's action on a ``TRIGGER``
    (METHODOLOGY.md: "the district records its action (``ADDENDUM``, ``IMPROVEMENT_PLAN``
    for one year, or ``NO_ACTION`` with a reason)").

    ``results``: the results year's ``educator_results``; ``actions``: its recorded
    actions. Refused (:class:`ActionRefused`, one line) unless the educator's result that
    year is a ``TRIGGER``, the action is one of ``codes.EDUCATOR_ACTIONS``, a reason is
    given and no action is recorded yet. An ``IMPROVEMENT_PLAN`` lasts
    ``improvement_plan_years`` (one) service years: ``in_force_until`` is the last.
    """
    from datetime import UTC, datetime

    from sqis import codes, years

    e = _spec(m)
    if action not in codes.EDUCATOR_ACTIONS:
        raise ActionRefused(f"unknown action {action!r}: {', '.join(codes.EDUCATOR_ACTIONS)}")
    if not reason.strip():
        raise ActionRefused("a reason is required (--reason)")
    mine = results[results["educator_key"] == educator_key]
    if school_code is not None:
        mine = mine[mine["school_code"] == school_code]
    short = educator_key[:12]
    if mine.empty:
        raise ActionRefused(f"no educator {short}… in the {year} results")
    triggered = mine[mine["flag"] == "TRIGGER"]
    if triggered.empty:
        raise ActionRefused(
            f"educator {short}… is not a TRIGGER in {year} (flag "
            f"{'/'.join(sorted(set(mine['flag'])))}): an action is recorded only on a trigger"
        )
    if len(triggered) > 1:
        raise ActionRefused(
            f"educator {short}… is a TRIGGER at {len(triggered)} schools in {year}: name one "
            "with --school"
        )
    row = triggered.iloc[0]
    done = actions[
        (actions["educator_key"] == educator_key) & (actions["school_code"] == row["school_code"])
    ]
    if not done.empty:
        raise ActionRefused(
            f"an action is already recorded for educator {short}… in {year}: "
            f"{done.iloc[0]['action']}"
        )
    until = None
    if action == "IMPROVEMENT_PLAN":
        until = years.shift(years.service_year(year), e.improvement_plan_years - 1)
    return {
        "year": year,
        "educator_key": educator_key,
        "school_code": str(row["school_code"]),
        "action": action,
        "reason": reason.strip(),
        "recorded_by": by,
        "recorded_at": datetime.now(UTC),
        "in_force_until": until,
    }
