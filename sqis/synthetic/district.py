"""One synthetic district, year by year: the six contract files as encoded column arrays.

``simulate_district`` yields ``(year, frames)`` for each generated year, where ``frames``
maps each contract file to a dict of column arrays (codes as integer indices, IDs as
integers, school as the district's local school index); ``sqis.synthetic.writer``
turns them into the contract's text. Only one district is in memory at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqis import codes, years
from sqis.synthetic import outcomes as oc
from sqis.synthetic.model import ConsortiumPlan, SyntheticParams, school_effects
from sqis.synthetic.students import (
    EL,
    NEVER,
    IdAllocator,
    Population,
    SchoolArrays,
    entrants,
    initial_population,
    new_students,
)

EFFECTS: tuple[str, ...] = ("acad", "att", "beh", "sel", "clim", "grad")
Frame = dict[str, np.ndarray]


@dataclass
class _YearState:
    """What the transition to next year needs from the year just generated."""

    act: np.ndarray  # population positions of this year's students
    final_school: np.ndarray
    leave: np.ndarray  # transfers out after (or during) the year
    dropout: np.ndarray
    promoted: np.ndarray
    redesignated: np.ndarray
    value_added: np.ndarray  # the spring school's achievement effect, per student


def simulate_district(
    plan: ConsortiumPlan, d: int, rng: np.random.Generator
) -> Iterator[tuple[str, dict[str, Frame]]]:
    """Yield each year's contract frames for district ``d`` (students persist across years)."""
    p = plan.params
    schools = plan.district_schools(d)
    sa = SchoolArrays.from_plan(schools)
    role_group = schools["role_group"].to_numpy().astype(str)
    ids = IdAllocator(d, len(plan.districts))
    n_s = len(schools)
    drift = {name: np.zeros(n_s) for name in EFFECTS}
    pop = initial_population(rng, sa, ids, p)
    for t, year in enumerate(plan.years):
        if t > 0:
            for name in EFFECTS:
                drift[name] = drift[name] + rng.normal(0, p.drift_sd, n_s)
        eff = school_effects(schools, t, drift)
        start = years.start_of(year)
        if t == 0:
            _pre_range_cohorts(rng, pop, sa, ids, start, eff, role_group, p)
        frames, state = _year(rng, pop, sa, schools, eff, role_group, t, start, p)
        yield year, frames
        _transition(rng, pop, sa, state, t, ids, p)


def _pre_range_cohorts(
    rng: np.random.Generator,
    pop: Population,
    sa: SchoolArrays,
    ids: IdAllocator,
    start: int,
    eff: dict,
    role_group: np.ndarray,
    p: SyntheticParams,
) -> None:
    """Graduation cohorts that finished high school before the first generated year.

    The first years' graduation files need the cohorts that entered grade 9 four and
    five years before the first year: synthesised at each HS, sized like its grades,
    never enrolled in the generated years (``ghost``).
    """
    hs = np.flatnonzero(sa.is_hs)
    for back in (4, 5):
        counts = rng.poisson(sa.per_grade[hs] * (1 - p.leave_rate))
        school = np.repeat(hs, counts)
        new = new_students(rng, school, np.full(len(school), 12), sa, ids, -1, p)
        new["active"] = np.zeros(len(school), dtype=bool)
        new["ghost"] = np.ones(len(school), dtype=bool)
        new["cohort"] = np.full(len(school), start - back)
        new["acct_hs"] = school
        for f in ("swd", "sed", "foster", "homeless"):
            new[f"hs_{f}"] = new[f]
        new["hs_el"] = new["el"] == EL["EL"]
        first = pop.n
        pop.add(new)
        oc.draw_graduation(rng, pop, np.arange(first, pop.n), school, eff, role_group)


def _other_school_same_type(
    rng: np.random.Generator, school: np.ndarray, sa: SchoolArrays
) -> tuple[np.ndarray, np.ndarray]:
    """For each school, a random other school of the same type (and whether one exists)."""
    new = school.copy()
    ok = np.zeros(len(school), dtype=bool)
    for st in codes.SCHOOL_TYPES:
        cand = np.flatnonzero(sa.school_type == st)
        if len(cand) < 2:
            continue
        pos = np.full(len(sa.school_type), -1)
        pos[cand] = np.arange(len(cand))
        mine = sa.school_type[school] == st
        step = rng.integers(1, len(cand), size=int(mine.sum()))
        new[mine] = cand[(pos[school[mine]] + step) % len(cand)]
        ok[mine] = True
    return new, ok


def _year(
    rng: np.random.Generator,
    pop: Population,
    sa: SchoolArrays,
    schools: pd.DataFrame,
    eff: dict,
    role_group: np.ndarray,
    t: int,
    start: int,
    p: SyntheticParams,
) -> tuple[dict[str, Frame], _YearState]:
    """One school year: enrolment rows, scores, surveys and graduation, as encoded frames."""
    act = np.flatnonzero(pop["active"])
    n = len(act)
    g = pop["grade"][act].astype(np.int64)
    s = pop["school"][act].astype(np.int64)
    in_hs = sa.is_hs[s]

    # graduation cohorts: students in high school without one join the cohort of the
    # year they entered grade 9 (transfers-in: counted back from their grade)
    new_cohort = in_hs & (pop["cohort"][act] < 0)
    # who leaves: transfers out (some mid-year) and dropouts
    leave = rng.random(n) < p.leave_rate * np.exp(0.3 * pop["sed"][act] - 0.5 * eff["acad"][s])
    leave_mid = leave & (rng.random(n) < p.leave_mid_year_share)
    dropout = in_hs & (pop["drop_grade"][act] == g) & ~leave
    # days enrolled: late arrivals, mid-year leavers, mid-year movers
    full = p.days_in_year
    late = (pop["entered"][act] == t) & (t > 0) & (g > 0) & (rng.random(n) < p.late_entry_share)
    days = np.full(n, full, dtype=np.int64)
    days -= np.where(late, rng.integers(5, full - 10, n), 0)
    days -= np.where(leave_mid, rng.integers(10, full - 30, n), 0)
    days = np.maximum(days, 1)
    other, can_move = _other_school_same_type(rng, s, sa)
    move = can_move & ~leave_mid & ~late & (rng.random(n) < p.move_rate)
    days1 = rng.integers(20, full - 20, n)
    days2 = full - days1 - rng.integers(0, 6, n)
    final_school = np.where(move, other, s)

    # cohorts and graduation paths for students new to high school (at their final school)
    nc = act[new_cohort]
    pop["cohort"][nc] = start - (g[new_cohort] - 9)
    oc.draw_graduation(rng, pop, nc, final_school[new_cohort], eff, role_group)
    hs_now = act[in_hs]
    pop["acct_hs"][hs_now] = final_school[in_hs]
    for f in ("swd", "sed", "foster", "homeless"):
        pop[f"hs_{f}"][hs_now] |= pop[f][hs_now]
    pop["hs_el"][hs_now] |= pop["el"][hs_now] == EL["EL"]

    # promotion: grade 12 students are promoted when they graduate this year
    graduated = pop["grad_d"][act] <= (start - pop["cohort"][act])
    held = oc.retained(rng, pop, act, g, p.retain_rate)
    promoted = np.where(g == 12, graduated & (pop["cohort"][act] >= 0), ~held) & ~leave_mid
    redesignated = oc.redesignation(rng, pop, act, s, g, eff)

    # enrolment rows: every student at their (first) school; movers again at the second
    row_pos = np.concatenate([np.arange(n), np.flatnonzero(move)])
    row_school = np.concatenate([s, other[move]])
    row_days = np.concatenate([np.where(move, days1, days), days2[move]])
    row_final = np.concatenate([~move, np.ones(int(move.sum()), dtype=bool)])
    ridx = act[row_pos]
    absent, susp, expelled = oc.attendance(
        rng, pop, ridx, row_school, row_days, eff, sa.school_type
    )
    order = np.lexsort((pop["sid"][ridx], row_school))
    students = {
        "student_id": pop["sid"][ridx],
        "school_code": row_school,
        "grade": g[row_pos],
        "race_ethnicity": pop["race"][ridx],
        "gender": pop["gender"][ridx],
        "el_status": pop["el"][ridx],
        "redesignated": redesignated[row_pos],
        "swd": pop["swd"][ridx],
        "sed": pop["sed"][ridx],
        "foster": pop["foster"][ridx],
        "homeless": pop["homeless"][ridx],
        "days_enrolled": row_days,
        "days_absent": absent,
        "suspensions": susp,
        "expelled": expelled,
        "promoted": promoted[row_pos] & row_final,
    }
    students = {k: v[order] for k, v in students.items()}

    # assessments: at the spring school, grades tested, not gone mid-year
    tested = ~leave_mid & (rng.random(n) < p.test_participation)
    parts = []
    for subj_i, subject in enumerate(codes.SUBJECTS):
        grades = np.array(codes.ASSESSED_GRADES[subject])
        take = tested & np.isin(g, grades)
        if subject == "SCI":
            take &= (g < 10) | (g == pop["sci_grade"][act])
        pos = np.flatnonzero(take)
        score, level = oc.scale_scores(
            rng, pop, act[pos], final_school[pos], g[pos], subject, eff, role_group
        )
        parts.append((pos, np.full(len(pos), subj_i), score, level))
    pos = np.concatenate([x[0] for x in parts])
    assessments = {
        "student_id": pop["sid"][act[pos]],
        "school_code": final_school[pos],
        "subject": np.concatenate([x[1] for x in parts]),
        "grade": g[pos],
        "scale_score": np.concatenate([x[2] for x in parts]),
        "performance_level": np.concatenate([x[3] for x in parts]),
    }

    # SEL survey: grades 4-12, at the spring school
    lo, hi = p.sel_grades
    resp = np.flatnonzero(~leave_mid & (g >= lo) & (g <= hi) & (rng.random(n) < p.sel_response))
    rpos, cons, score = oc.sel_scores(rng, pop, act[resp], final_school[resp], g[resp], eff)
    sel = {
        "student_id": pop["sid"][act[resp[rpos]]],
        "school_code": final_school[resp[rpos]],
        "construct": cons,
        "score": score,
    }

    climate = _climate(rng, pop, act, g, final_school, leave_mid, sa, eff, p)
    graduation = _graduation(pop, start)
    schools_frame = {c: schools[c].to_numpy() for c in _SCHOOL_COLUMNS}
    schools_frame["school_code"] = np.arange(len(schools))
    frames = {
        "schools": schools_frame,
        "students": students,
        "assessments": assessments,
        "graduation": graduation,
        "sel": sel,
        "climate": climate,
    }
    state = _YearState(
        act, final_school, leave, dropout, promoted, redesignated, eff["acad"][final_school]
    )
    return frames, state


_SCHOOL_COLUMNS = (
    "school_code", "district_code", "school_name", "district_name", "school_type", "title_i",
    "low_grade", "high_grade",
)  # fmt: skip


def _climate(
    rng: np.random.Generator,
    pop: Population,
    act: np.ndarray,
    g: np.ndarray,
    final_school: np.ndarray,
    leave_mid: np.ndarray,
    sa: SchoolArrays,
    eff: dict,
    p: SyntheticParams,
) -> Frame:
    """Climate survey respondents: students of the survey grades, staff and parents."""
    n_s = len(sa.school_type)
    enrolled = np.bincount(final_school[~leave_mid], minlength=n_s)
    stu = np.flatnonzero(
        ~leave_mid
        & np.isin(g, np.array(p.climate_student_grades))
        & (rng.random(len(act)) < p.climate_student_response)
    )
    n_staff = rng.poisson(enrolled * p.climate_staff_per_student * p.climate_staff_response)
    n_parent = rng.binomial(enrolled, p.climate_parent_response)
    school = np.concatenate(
        [final_school[stu], np.repeat(np.arange(n_s), n_staff), np.repeat(np.arange(n_s), n_parent)]
    )
    rtype = np.concatenate(
        [np.zeros(len(stu), np.int64), np.ones(n_staff.sum(), np.int64),
         np.full(n_parent.sum(), 2, np.int64)]
    )  # fmt: skip
    # anonymous respondent numbers: a random permutation, unique within the district-year
    number = rng.permutation(len(school)) + 1
    rpos, cons, score = oc.climate_scores(rng, school, rtype, eff, sa.school_type)
    order = np.lexsort((number[rpos], rtype[rpos], school[rpos]))
    return {
        "respondent_id": number[rpos][order],
        "school_code": school[rpos][order],
        "respondent_type": rtype[rpos][order],
        "construct": cons[order],
        "score": score[order],
    }


def _graduation(pop: Population, start: int) -> Frame:
    """The cohorts measured this year (entered grade 9 three, four and five years before)."""
    cohort = pop["cohort"].astype(np.int64)
    k = start - cohort
    listed = (cohort >= 0) & (k >= 3) & (k <= 5) & (pop["acct_hs"] >= 0) & ~pop["out"]
    idx = np.flatnonzero(listed)
    k = k[idx]
    grad_d = pop["grad_d"][idx].astype(np.int64)
    outcomes = list(codes.GRAD_OUTCOMES)
    done = grad_d <= k
    later = (grad_d != NEVER) & ~done
    outcome = np.select(
        [done, later], [outcomes.index("GRAD"), outcomes.index("CONT")], pop["grad_term"][idx]
    )
    grad_year = np.where(done, cohort[idx] + grad_d, -1)
    order = np.lexsort((pop["sid"][idx], cohort[idx], pop["acct_hs"][idx]))
    out = {
        "student_id": pop["sid"][idx],
        "school_code": pop["acct_hs"][idx].astype(np.int64),
        "cohort": cohort[idx],
        "outcome": outcome,
        "grad_year": grad_year,
        "race_ethnicity": pop["race"][idx],
        "el": pop["hs_el"][idx],
        "swd": pop["hs_swd"][idx],
        "sed": pop["hs_sed"][idx],
        "foster": pop["hs_foster"][idx],
        "homeless": pop["hs_homeless"][idx],
    }
    return {c: v[order] for c, v in out.items()}


def _transition(
    rng: np.random.Generator,
    pop: Population,
    sa: SchoolArrays,
    st: _YearState,
    t: int,
    ids: IdAllocator,
    p: SyntheticParams,
) -> None:
    """From this year to next: leavers, promotion, feeder moves, EL status, flags, entrants."""
    act = st.act
    pop["school"][act] = st.final_school
    g = pop["grade"][act]
    gone = st.leave | st.dropout | (g == 12)
    pop["active"][act[gone]] = False
    pop["out"][act[st.leave]] = True
    stay = act[~gone]
    # value added: a year at a school moves what the student carries into next year
    learned = (oc.VALUE_ADDED_RATE * st.value_added[~gone]).astype(np.float32)
    for theta in ("th_c", "th_e", "th_m"):
        pop[theta][stay] += learned
    up = act[~gone & st.promoted]
    pop["grade"][up] = pop["grade"][up] + 1
    over = stay[pop["grade"][stay] > sa.high[pop["school"][stay]]]
    pop["school"][over] = sa.feeder[pop["school"][over]]
    # EL: redesignated → RFEP; TBD resolved after assessment
    el = pop["el"]
    el[act[st.redesignated]] = EL["RFEP"]
    tbd = stay[el[stay] == EL["TBD"]]
    el[tbd] = rng.choice(
        np.array([EL["EL"], EL["EO"], EL["IFEP"]]), size=len(tbd), p=[0.6, 0.3, 0.1]
    )
    # program flags: a few changes a year
    m = len(stay)
    r = rng.random((5, m))
    swd, sed = pop["swd"][stay], pop["sed"][stay]
    # flows in and out balance at the school's share (shares stay stable over the years)
    sch = pop["school"][stay]
    swd_on = 0.04 * sa.swd_share[sch] / (1 - sa.swd_share[sch])
    sed_on = 0.05 * sa.sed_share[sch] / (1 - sa.sed_share[sch])
    pop["swd"][stay] = np.where(swd, r[0] > 0.04, r[0] < swd_on)
    pop["sed"][stay] = np.where(sed, r[1] > 0.05, r[1] < sed_on)
    pop["foster"][stay] = np.where(pop["foster"][stay], r[2] > 0.4, r[2] < 0.003 * (1 + sed))
    pop["homeless"][stay] = np.where(
        pop["homeless"][stay], r[3] > 0.45, r[3] < 0.012 * (1 + 2 * sed)
    )
    # newcomers for next year
    pop.add(entrants(rng, sa, ids, t + 1, p))
