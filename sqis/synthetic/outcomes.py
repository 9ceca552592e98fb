"""What happens to synthetic students in a year: attendance, discipline, scores, surveys.

Also their graduation paths. Every outcome is a draw from a simple model in which the
school's effect of the year
(``sqis.synthetic.model.school_effects``), the student's persistent traits and the
student's groups all count. Group effects give subgroup gaps of realistic size
(students with disabilities and English learners well below ALL on % met; African
American and Hispanic/Latino students below White and Asian students). The numbers
below describe the synthetic population, not the methodology.
"""

from __future__ import annotations

import numpy as np

from sqis import codes
from sqis.synthetic.students import EL, NEVER, RACE, Population, expit, logit

# ---- achievement (standard-deviation units of the latent score) ---------------------
ACH_INTERCEPT = 0.4
ACH_RACE = {"AA": -0.35, "AI": -0.25, "AS": 0.35, "FI": 0.15, "HI": -0.2, "PI": -0.2,
            "WH": 0.15, "MR": 0.0, "NR": 0.0}  # fmt: skip
ACH_SED, ACH_EL, ACH_RFEP, ACH_SWD, ACH_FOSTER, ACH_HOMELESS = (
    -0.3,
    -0.75,
    0.05,
    -0.95,
    -0.25,
    -0.15,
)
SUBJECT_SHIFT = {"ELA": 0.0, "MATH": -0.15, "SCI": -0.1}
NOISE_SD = 0.35
# each year at a school adds this share of the school's achievement effect to what the
# student carries into next year (school value added, which the growth model measures)
VALUE_ADDED_RATE = 0.15
# scale scores: 2400 + 30 per grade above 3 at the "met" cut, 90 points per sd
SCALE_MET_GRADE3, SCALE_PER_GRADE, SCALE_PER_SD = 2400.0, 30.0, 90.0
CUT_NEARLY, CUT_EXCEEDED = -60.0, 80.0  # level-2 and level-4 cuts relative to the met cut
SCALE_RANGE = (2000.0, 3000.0)

_ACH_RACE = np.array([ACH_RACE[r] for r in codes.RACE_CODES])


def met_cut(grade: np.ndarray) -> np.ndarray:
    """The scale score for "met" (level 3) by grade: the synthetic assessment's cut scores."""
    return SCALE_MET_GRADE3 + SCALE_PER_GRADE * (grade - 3)


def performance_level(score: np.ndarray, grade: np.ndarray) -> np.ndarray:
    """Level 1–4 from a scale score, by the grade's cut scores."""
    met = met_cut(grade)
    return (
        1
        + (score >= met + CUT_NEARLY).astype(np.int64)
        + (score >= met).astype(np.int64)
        + (score >= met + CUT_EXCEEDED).astype(np.int64)
    )


def in_role_group(pop: Population, idx: np.ndarray, role_group: np.ndarray) -> np.ndarray:
    """Whether each student belongs to their school's role group (SWD or EL)."""
    return ((role_group == "SWD") & pop["swd"][idx]) | (
        (role_group == "EL") & (pop["el"][idx] == EL["EL"])
    )


def group_effect(
    pop: Population, idx: np.ndarray, school: np.ndarray, eff: dict, role_group: np.ndarray
) -> np.ndarray:
    """Achievement effect of each student's groups at their school (gaps by group)."""
    el = pop["el"][idx]
    g = (
        _ACH_RACE[pop["race"][idx]]
        + ACH_SED * pop["sed"][idx]
        + ACH_EL * (el == EL["EL"])
        + ACH_RFEP * (el == EL["RFEP"])
        + ACH_SWD * pop["swd"][idx]
        + ACH_FOSTER * pop["foster"][idx]
        + ACH_HOMELESS * pop["homeless"][idx]
    )
    return eff["group_scale"][school] * g + eff["gap_penalty"][school] * in_role_group(
        pop, idx, role_group[school]
    )


def scale_scores(
    rng: np.random.Generator,
    pop: Population,
    idx: np.ndarray,
    school: np.ndarray,
    grade: np.ndarray,
    subject: str,
    eff: dict,
    role_group: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Scale scores (2000–3000, whole points) and performance levels for one subject."""
    if subject == "ELA":
        theta = pop["th_e"][idx]
    elif subject == "MATH":
        theta = pop["th_m"][idx]
    else:
        theta = 0.5 * (pop["th_e"][idx] + pop["th_m"][idx])
    y = (
        ACH_INTERCEPT
        + SUBJECT_SHIFT[subject]
        + eff["acad"][school]
        + group_effect(pop, idx, school, eff, role_group)
        + theta
        + rng.normal(0, NOISE_SD, len(idx))
    )
    score = np.clip(np.round(met_cut(grade) + SCALE_PER_SD * y), *SCALE_RANGE)
    return score, performance_level(score, grade)


# ---- attendance and discipline ------------------------------------------------------
ABSENCE_BASE = -3.45
SUSP_BASE = -4.4
SUSP_BY_TYPE = {"ES": 0.0, "MS": 1.2, "HS": 0.9}
EXPEL_RATE = 0.0008  # per enrolment at MS/HS, scaled by behaviour


def attendance(
    rng: np.random.Generator,
    pop: Population,
    idx: np.ndarray,
    school: np.ndarray,
    days: np.ndarray,
    eff: dict,
    school_type: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Days absent, suspension incidents and expulsion for enrolment rows."""
    st = school_type[school]
    hs, es = st == "HS", st == "ES"
    x = (
        ABSENCE_BASE
        - 0.75 * pop["att"][idx]
        - 0.5 * eff["att"][school]
        + 0.25 * pop["sed"][idx]
        + 0.2 * pop["homeless"][idx]
        + 0.2 * pop["swd"][idx]
        + 0.3 * hs
        - 0.1 * es
    )
    absent = rng.binomial(days, expit(x))
    type_adj = np.select([st == "MS", hs], [SUSP_BY_TYPE["MS"], SUSP_BY_TYPE["HS"]], 0.0)
    lam = np.exp(
        SUSP_BASE
        - 0.8 * pop["beh"][idx]
        - 0.8 * eff["beh"][school]
        + type_adj
        + 0.4 * pop["swd"][idx]
        + 0.4 * (pop["race"][idx] == RACE["AA"])
        + 0.2 * pop["sed"][idx]
    ) * (days / 180.0)
    susp = rng.poisson(lam)
    expelled = (~es) & (rng.random(len(idx)) < EXPEL_RATE * np.exp(-pop["beh"][idx]))
    return absent, susp, expelled


def redesignation(
    rng: np.random.Generator,
    pop: Population,
    idx: np.ndarray,
    school: np.ndarray,
    grade: np.ndarray,
    eff: dict,
) -> np.ndarray:
    """ELs reclassified to RFEP during the year (more in upper elementary, at strong schools)."""
    grade_adj = np.select([grade <= 2, grade <= 5, grade <= 8], [-1.5, 0.3, 0.0], -0.3)
    x = logit(0.14) + 0.6 * eff["acad"][school] + 0.9 * pop["th_e"][idx] + grade_adj
    return (pop["el"][idx] == EL["EL"]) & (rng.random(len(idx)) < expit(x))


def retained(rng: np.random.Generator, pop: Population, idx: np.ndarray, grade: np.ndarray,
             rate: float) -> np.ndarray:  # fmt: skip
    """Students held back a grade (more often in grade 9 and with low achievement)."""
    p = rate * np.exp(-pop["th_c"][idx] / 0.75) * np.where(grade == 9, 2.5, 1.0)
    return rng.random(len(idx)) < p


# ---- surveys ------------------------------------------------------------------------
SEL_BASE = 3.55
SEL_SHIFT = {"GM": 0.05, "SE": -0.05, "SM": 0.1, "SA": -0.1}
CLIMATE_BASE = {"STUDENT": {"ES": 4.0, "MS": 3.85, "HS": 3.8},
                "STAFF": {"ES": 4.05, "MS": 3.95, "HS": 3.9},
                "PARENT": {"ES": 4.2, "MS": 4.1, "HS": 4.05}}  # fmt: skip
CLIMATE_SHIFT = {"CS": 0.0, "SC": 0.05, "KF": -0.1, "SB": 0.05}


def sel_scores(
    rng: np.random.Generator,
    pop: Population,
    idx: np.ndarray,
    school: np.ndarray,
    grade: np.ndarray,
    eff: dict,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SEL rows: (student position, construct index, score 1–5 as the mean of five items)."""
    n = len(idx)
    k = len(codes.SEL_CONSTRUCTS)
    base = (
        SEL_BASE
        - 0.035 * (grade - 4)
        + 0.33 * pop["selt"][idx]
        + 0.45 * eff["sel"][school]
        - 0.1 * pop["swd"][idx]
    )
    shift = np.array([SEL_SHIFT[c] for c in codes.SEL_CONSTRUCTS])
    score = base[:, None] + shift[None, :] + rng.normal(0, 0.5, (n, k))
    score = np.clip(np.round(score * 5) / 5, 1.0, 5.0)
    return np.repeat(np.arange(n), k), np.tile(np.arange(k), n), score.ravel()


def climate_scores(
    rng: np.random.Generator, school: np.ndarray, rtype: np.ndarray, eff: dict,
    school_type: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Climate rows for respondents: (respondent position, construct index, score 1–5)."""
    n = len(school)
    k = len(codes.CLIMATE_CONSTRUCTS)
    base_tab = np.array(
        [[CLIMATE_BASE[r][st] for st in codes.SCHOOL_TYPES] for r in codes.RESPONDENT_TYPES]
    )
    type_pos = {s: i for i, s in enumerate(codes.SCHOOL_TYPES)}
    st_of_school = np.array([type_pos[s] for s in school_type])
    base = base_tab[rtype, st_of_school[school]] + 0.55 * eff["clim"][school]
    base = base + rng.normal(0, 0.5, n)
    shift = np.array([CLIMATE_SHIFT[c] for c in codes.CLIMATE_CONSTRUCTS])
    score = base[:, None] + shift[None, :] + rng.normal(0, 0.45, (n, k))
    score = np.clip(np.round(score * 4) / 4, 1.0, 5.0)
    return np.repeat(np.arange(n), k), np.tile(np.arange(k), n), score.ravel()


# ---- graduation ---------------------------------------------------------------------
GRAD_BASE = 2.6
GRAD_LATE = (0.3, 0.15)  # of non-4-year graduates: share graduating in year 5, then year 6
GRAD_TERMINAL = {"DROP": 0.55, "OTHER": 0.2, "CONT": 0.25}
DROP_GRADE = {9: 0.1, 10: 0.2, 11: 0.35, 12: 0.35}  # when dropouts leave enrolment


def draw_graduation(
    rng: np.random.Generator,
    pop: Population,
    idx: np.ndarray,
    school: np.ndarray,
    eff: dict,
    role_group: np.ndarray,
) -> None:
    """Fix each new cohort member's graduation path (set once, read every later year).

    ``grad_d``: graduates in school year cohort + grad_d (3 = four-year graduate);
    ``NEVER`` otherwise, with a terminal outcome (DROP, OTHER, CONT) and, for dropouts,
    the grade after which they leave enrolment.
    """
    n = len(idx)
    x = (
        GRAD_BASE
        + eff["grad"][school]
        + 0.35 * eff["acad"][school]
        + 0.6 * pop["th_c"][idx] / 0.75
        - 0.35 * pop["sed"][idx]
        - 0.8 * pop["swd"][idx]
        - 0.5 * (pop["el"][idx] == EL["EL"])
        - 0.3 * (pop["race"][idx] == RACE["AA"])
        - 0.15 * (pop["race"][idx] == RACE["HI"])
        - 0.6 * pop["foster"][idx]
        - 0.4 * pop["homeless"][idx]
        + eff["grad_penalty"][school] * in_role_group(pop, idx, role_group[school])
    )
    u = rng.random(n)
    on_time = u < expit(x)
    v = rng.random(n)
    late5 = ~on_time & (v < GRAD_LATE[0])
    late6 = ~on_time & ~late5 & (v < GRAD_LATE[0] + (1 - GRAD_LATE[0]) * GRAD_LATE[1])
    grad_d = np.select([on_time, late5, late6], [3, 4, 5], NEVER)
    outcomes = list(codes.GRAD_OUTCOMES)
    term_p = np.array([GRAD_TERMINAL.get(o, 0.0) for o in outcomes])
    term = rng.choice(len(outcomes), size=n, p=term_p / term_p.sum())
    term = np.where(grad_d == NEVER, term, outcomes.index("CONT"))
    drop_grades = np.array(list(DROP_GRADE))
    drop_p = np.array(list(DROP_GRADE.values()))
    drop_at = rng.choice(drop_grades, size=n, p=drop_p / drop_p.sum())
    pop["grad_d"][idx] = grad_d
    pop["grad_term"][idx] = term
    pop["drop_grade"][idx] = np.where(
        (grad_d == NEVER) & (term == outcomes.index("DROP")), drop_at, NEVER
    )
