"""The synthetic consortium's persistent state: districts, schools, their effects and roles.

``plan_consortium`` lays out the whole consortium once (a few rows per school, cheap even
for 10,000 schools): each district's size and CDS code, its elementary (ES), middle (MS)
and high (HS) schools with their grade spans, feeder pattern (ES → MS → HS within the
district), demographic profile, Title I status, the school's *effects* (how it moves
achievement, attendance, behaviour, SEL, climate and graduation) and, for a small share
of Title I schools, an *extreme role* that makes every designation and escalation of
METHODOLOGY.md (*Designations*, *Escalation*) happen over five years.

The generator's numbers (school sizes, group shares, effect sizes) describe a plausible
consortium; they are not methodology numbers and live in ``SyntheticParams``, never in
the methodology file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sqis import codes

# ---- extreme roles (docs/synthetic.md explains each) ---------------------------------
NO_ROLE = "NONE"
PERSIST_LOW = "PERSIST_LOW"  # lowest-performing every year → PRIORITY 5 years → DISTRICT_ACTION
GRAD_PRIORITY = "GRAD_PRIORITY"  # HS with ALL GRAD4 < 60% → PRIORITY by graduation
SUBGROUP_GRAD = "SUBGROUP_GRAD"  # HS with a subgroup GRAD4 < 60%, ALL ≥ 60% → FOCUS
PERSIST_GAP = "PERSIST_GAP"  # huge persistent subgroup gap → FOCUS 5 years → turnaround
CLOSING_GAP = "CLOSING_GAP"  # huge gap that closes after 1–2 years → FOCUS, then exits
REWARD_HIGH = "REWARD_HIGH"  # high-performing, small gaps, strong SWD/EL/SED/HI/AA → REWARD
IMPROVING = "IMPROVING"  # steady gains → high-progress REWARD
ROLES: tuple[str, ...] = (
    NO_ROLE,
    PERSIST_LOW,
    GRAD_PRIORITY,
    SUBGROUP_GRAD,
    PERSIST_GAP,
    CLOSING_GAP,
    REWARD_HIGH,
    IMPROVING,
)

# Counties of the eight CORE districts (Fresno, Long Beach, Los Angeles, Oakland,
# Sacramento, San Francisco, Santa Ana, Sanger): the synthetic districts cycle through them.
_COUNTIES: tuple[str, ...] = ("10", "19", "01", "34", "38", "30")
_PLACE_NAMES: tuple[str, ...] = (
    "Alder", "Bayview", "Cedar", "Delta", "Elm", "Foothill", "Granite", "Harbor", "Iris",
    "Juniper", "Kestrel", "Laurel", "Mesa", "North Fork", "Oakridge", "Pinecrest", "Quail",
    "Riverside", "Sequoia", "Tamarack", "Union", "Valley", "Willow", "Yosemite",
)  # fmt: skip
_SCHOOL_SUFFIX: dict[str, str] = {"ES": "Elementary", "MS": "Middle", "HS": "High"}


@dataclass(frozen=True)
class RoleSpec:
    """How many schools take a role: ``max(minimum, round(share × Title I schools))``.

    ``school_types`` are taken in turn (the k-th school of the role gets type k mod n).
    """

    school_types: tuple[str, ...]
    share: float
    minimum: int


def _default_roles() -> dict[str, RoleSpec]:
    return {
        # in order of precedence: a small consortium gets the first ones
        PERSIST_LOW: RoleSpec(("ES",), 0.02, 1),
        # an HS among the Reward schools partners the graduation-designated high schools
        # (no more than the methodology's 5% Reward slots, so each stays Reward)
        REWARD_HIGH: RoleSpec(("HS", "ES", "ES"), 0.035, 2),
        PERSIST_GAP: RoleSpec(("ES",), 0.03, 2),
        GRAD_PRIORITY: RoleSpec(("HS",), 0.01, 1),
        CLOSING_GAP: RoleSpec(("ES",), 0.02, 2),
        SUBGROUP_GRAD: RoleSpec(("HS",), 0.01, 1),
        IMPROVING: RoleSpec(("ES",), 0.02, 1),
    }


@dataclass(frozen=True)
class SyntheticParams:
    """Every number of the synthetic consortium (a description of a plausible consortium)."""

    school_size: dict[str, int] = field(default_factory=lambda: {"ES": 450, "MS": 800, "HS": 1600})
    grade_span: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {"ES": (0, 5), "MS": (6, 8), "HS": (9, 12)}
    )
    school_size_sd: float = 0.25  # lognormal sd of a school's intake around the even share
    district_size_sd: float = 0.5  # lognormal sd of district sizes
    days_in_year: int = 180
    title_i_share: float = 0.65  # of schools, ranked by SED share (+ noise)
    # consortium demographics (CORE-like: mostly Hispanic/Latino, high SED, many ELs)
    race_mix: dict[str, float] = field(
        default_factory=lambda: {
            "AA": 0.09, "AI": 0.005, "AS": 0.08, "FI": 0.025, "HI": 0.59,
            "PI": 0.01, "WH": 0.12, "MR": 0.035, "NR": 0.045,
        }
    )  # fmt: skip
    race_concentration: float = 25.0  # Dirichlet concentration of a district/school mix
    sed_share_mean: float = 0.66
    sed_share_sd: float = 0.15
    ever_el_share_mean: float = 0.36  # ever-EL share (current EL ≈ 0.7 × this)
    swd_share_mean: float = 0.115
    gender_p: tuple[float, float, float] = (0.49, 0.505, 0.005)  # F, M, X
    # school effects: sd across schools, and correlation with the academic effect
    effect_sd: dict[str, float] = field(
        default_factory=lambda: {
            "acad": 0.25, "att": 0.30, "beh": 0.35, "sel": 0.30, "clim": 0.35, "grad": 0.35,
        }
    )  # fmt: skip
    effect_corr: float = 0.6
    sed_effect_slope: float = -0.6  # schools with more SED students achieve less, on average
    drift_sd: float = 0.05  # yearly random-walk drift of each school effect
    # yearly churn
    leave_rate: float = 0.035
    leave_mid_year_share: float = 0.35  # of those leaving, the share who leave mid-year
    transfer_in_rate: float = 0.04
    move_rate: float = 0.03  # moves to another school of the same type mid-year
    retain_rate: float = 0.012
    late_entry_share: float = 0.3  # of transfers-in, the share arriving mid-year
    test_participation: float = 0.985
    sel_grades: tuple[int, int] = (4, 12)
    sel_response: float = 0.85
    climate_student_grades: tuple[int, ...] = (5, 7, 9, 11)  # the CHKS grades
    climate_student_response: float = 0.7
    climate_staff_per_student: float = 0.05
    climate_staff_response: float = 0.85
    climate_parent_response: float = 0.25
    roles: dict[str, RoleSpec] = field(default_factory=_default_roles)
    # at most this share of Title I schools get a role (small consortia get fewer roles)
    max_role_share: float = 0.35


@dataclass
class ConsortiumPlan:
    """The consortium laid out: one row per district and one row per school."""

    districts: pd.DataFrame  # district, district_code, district_name, n_students
    schools: pd.DataFrame  # see plan_consortium
    years: list[str]
    params: SyntheticParams

    def district_schools(self, d: int) -> pd.DataFrame:
        return self.schools[self.schools["district"] == d].reset_index(drop=True)


def _school_counts(per_grade: float, p: SyntheticParams) -> dict[str, int]:
    out = {}
    for st in codes.SCHOOL_TYPES:
        lo, hi = p.grade_span[st]
        out[st] = max(1, round(per_grade * (hi - lo + 1) / p.school_size[st]))
    return out


def _split(total: float, n: int, sd: float, rng: np.random.Generator) -> np.ndarray:
    w = rng.lognormal(0.0, sd, n)
    return total * w / w.sum()


def _feeders(n_from: int, n_to: int) -> np.ndarray:
    """Contiguous feeder groups: school i of the lower level feeds i·n_to // n_from."""
    return (np.arange(n_from) * n_to) // n_from


def plan_consortium(
    n_students: int,
    n_districts: int,
    years: list[str],
    rng: np.random.Generator,
    params: SyntheticParams | None = None,
) -> ConsortiumPlan:
    """Lay out districts and schools (sizes, feeders, profiles, Title I, effects, roles)."""
    p = params or SyntheticParams()
    if not 1 <= n_districts <= 90000:
        raise ValueError("the number of districts must be between 1 and 90,000 (CDS codes)")
    n_grades = 13
    d_sizes = _split(float(n_students), n_districts, p.district_size_sd, rng)
    race_codes = list(codes.RACE_CODES)
    base_mix = np.array([p.race_mix[r] for r in race_codes])
    base_mix = base_mix / base_mix.sum()

    d_rows, s_rows = [], []
    for d in range(n_districts):
        county = _COUNTIES[d % len(_COUNTIES)]
        district_code = f"{county}{10000 + d:05d}"
        place = _PLACE_NAMES[d % len(_PLACE_NAMES)]
        series = d // len(_PLACE_NAMES)
        d_name = f"{place} Unified" if series == 0 else f"{place} Unified No. {series + 1}"
        per_grade = d_sizes[d] / n_grades
        counts = _school_counts(per_grade, p)
        d_mix = rng.dirichlet(base_mix * p.race_concentration)
        d_sed = float(np.clip(rng.normal(p.sed_share_mean, p.sed_share_sd * 0.6), 0.2, 0.95))
        d_el = float(np.clip(rng.normal(p.ever_el_share_mean, 0.08), 0.08, 0.6))
        d_rows.append(
            {"district": d, "district_code": district_code, "district_name": d_name,
             "n_students": int(round(d_sizes[d]))}
        )  # fmt: skip
        # intake per grade: ES vary around the even share; MS and HS sum their feeders
        intake_es = _split(per_grade, counts["ES"], p.school_size_sd, rng)
        feed_es = _feeders(counts["ES"], counts["MS"])
        intake_ms = np.bincount(feed_es, weights=intake_es, minlength=counts["MS"])
        feed_ms = _feeders(counts["MS"], counts["HS"])
        intake_hs = np.bincount(feed_ms, weights=intake_ms, minlength=counts["HS"])
        # feeders as local school indices (ES first, then MS, then HS)
        per_type = {
            "ES": (intake_es, feed_es + counts["ES"]),
            "MS": (intake_ms, feed_ms + counts["ES"] + counts["MS"]),
            "HS": (intake_hs, np.full(counts["HS"], -1)),
        }
        local = 0
        school_number = 6000000 + int(rng.integers(1, 90000))
        for st in codes.SCHOOL_TYPES:
            intake, feed = per_type[st]
            lo, hi = p.grade_span[st]
            for i in range(len(intake)):
                school_number += int(rng.integers(1, 40))
                mix = rng.dirichlet(d_mix * p.race_concentration * 2 + 1e-3)
                s_rows.append(
                    {
                        "district": d,
                        "local": local,
                        "school_code": f"{district_code}{school_number:07d}",
                        "district_code": district_code,
                        "school_name": f"{_PLACE_NAMES[(d + local) % len(_PLACE_NAMES)]} "
                        f"{_school_name_word(local)} {_SCHOOL_SUFFIX[st]}",
                        "district_name": d_name,
                        "school_type": st,
                        "low_grade": lo,
                        "high_grade": hi,
                        "per_grade": float(intake[i]),
                        "feeder": int(feed[i]),
                        "sed_share": float(np.clip(rng.normal(d_sed, p.sed_share_sd), 0.05, 0.97)),
                        "el_share": float(np.clip(rng.normal(d_el, 0.1), 0.02, 0.7)),
                        "swd_share": float(np.clip(rng.normal(p.swd_share_mean, 0.02), 0.06, 0.2)),
                        **{f"r_{r}": float(mix[k]) for k, r in enumerate(race_codes)},
                    }
                )
                local += 1
    districts = pd.DataFrame(d_rows)
    schools = pd.DataFrame(s_rows)
    _title_i(schools, p, rng)
    _effects(schools, p, rng)
    _assign_roles(schools, p, rng)
    return ConsortiumPlan(districts, schools, list(years), p)


_NAME_WORDS: tuple[str, ...] = (
    "Lincoln", "Roosevelt", "Cesar Chavez", "Dolores Huerta", "Muir", "Jefferson", "King",
    "Sierra", "Vista", "Hillside", "Parkway", "Lakeview", "Sunset", "Mission", "Central",
    "Westside", "Eastside", "Garfield", "Madison", "Franklin", "Kennedy", "Marshall",
)  # fmt: skip


def _school_name_word(local: int) -> str:
    word = _NAME_WORDS[local % len(_NAME_WORDS)]
    series = local // len(_NAME_WORDS)
    return word if series == 0 else f"{word} {series + 1}"


def _title_i(schools: pd.DataFrame, p: SyntheticParams, rng: np.random.Generator) -> None:
    """Title I: the schools with the highest SED share (plus noise), title_i_share of all."""
    score = schools["sed_share"].to_numpy() + rng.normal(0, 0.08, len(schools))
    n_ti = int(round(p.title_i_share * len(schools)))
    order = np.argsort(-score, kind="stable")
    ti = np.zeros(len(schools), dtype=bool)
    ti[order[:n_ti]] = True
    schools["title_i"] = ti


def _effects(schools: pd.DataFrame, p: SyntheticParams, rng: np.random.Generator) -> None:
    """Base school effects: academic tied to SED share; the others correlated with it."""
    n = len(schools)
    z = rng.normal(0, 1, n)
    sed = schools["sed_share"].to_numpy()
    schools["u_acad"] = p.sed_effect_slope * (sed - p.sed_share_mean) + p.effect_sd["acad"] * z
    rho = p.effect_corr
    for name in ("att", "beh", "sel", "clim", "grad"):
        own = rng.normal(0, 1, n)
        schools[f"u_{name}"] = p.effect_sd[name] * (rho * z + np.sqrt(1 - rho**2) * own)
    schools["role"] = NO_ROLE
    schools["role_group"] = ""
    schools["role_year"] = 0  # CLOSING_GAP: the first year (0-based) the gap is closed


def _assign_roles(schools: pd.DataFrame, p: SyntheticParams, rng: np.random.Generator) -> None:
    """Give a few Title I schools an extreme role (docs/synthetic.md, *Extreme schools*).

    Role schools are spread over districts; a role that finds no free school of its
    type (a tiny consortium) is skipped. Each role sets the school's profile so that its
    subgroups meet the n-size.
    """
    n_ti = int(schools["title_i"].sum())
    cols = {c: schools[c].to_numpy(copy=True) for c in _ROLE_COLUMNS}
    taken = np.zeros(len(schools), dtype=bool)
    gap_groups = ("SWD", "EL")
    budget = int(p.max_role_share * n_ti)
    for role, spec in p.roles.items():
        want = min(max(spec.minimum, round(spec.share * n_ti)), budget - int(taken.sum()))
        if want <= 0:
            break
        kinds = [spec.school_types[k % len(spec.school_types)] for k in range(want)]
        counter = 0
        for st in dict.fromkeys(kinds):
            n_st = kinds.count(st)
            free = np.flatnonzero((schools["school_type"].to_numpy() == st) & ~taken)
            if len(free) == 0:
                continue
            # the larger half of the type: the role's subgroups must meet the n-size
            size = schools["per_grade"].to_numpy()[free]
            free = free[size >= np.median(size)]
            # prefer Title I schools; spread over districts (one per district first)
            ti = schools["title_i"].to_numpy()[free]
            order = np.concatenate([rng.permutation(free[ti]), rng.permutation(free[~ti])])
            dist = schools["district"].to_numpy()[order]
            first = np.unique(dist, return_index=True)[1]
            rest = np.setdiff1d(np.arange(len(order)), first)
            order = np.concatenate([order[np.sort(first)], order[rest]])[:n_st]
            for i in order:
                taken[i] = True
                _set_role(cols, int(i), role, counter, gap_groups)
                counter += 1
    for c, values in cols.items():
        schools[c] = values


_ROLE_COLUMNS: tuple[str, ...] = (
    "role", "role_group", "role_year", "title_i", "sed_share", "el_share", "swd_share",
    "per_grade", *(f"r_{r}" for r in codes.RACE_CODES),
)  # fmt: skip


def _set_role(
    s: dict[str, np.ndarray], i: int, role: str, k: int, gap_groups: tuple[str, ...]
) -> None:
    """Set school ``i``'s role and the profile the role needs (arrays of _ROLE_COLUMNS)."""
    s["role"][i] = role
    s["title_i"][i] = True
    if role == PERSIST_LOW:
        s["sed_share"][i], s["el_share"][i] = 0.92, 0.45
    elif role == GRAD_PRIORITY:
        s["sed_share"][i] = 0.88
    elif role == SUBGROUP_GRAD:
        s["role_group"][i], s["swd_share"][i] = "SWD", 0.18
        s["per_grade"][i] *= 1.2  # an SWD cohort of 20+
    elif role in (PERSIST_GAP, CLOSING_GAP):
        group = gap_groups[k % len(gap_groups)]
        s["role_group"][i] = group
        # enough of the group to meet the n-size, not so many that ALL sinks with it
        if group == "SWD":
            s["swd_share"][i] = 0.16
        else:
            s["el_share"][i] = 0.32
        s["sed_share"][i] = 0.6
        s["role_year"][i] = 1 + (k % 2)  # closes after one or two years
    elif role == REWARD_HIGH:
        s["sed_share"][i], s["el_share"][i], s["swd_share"][i] = 0.75, 0.45, 0.16
        # larger than average so that SWD, EL, AA and HI meet the n-size
        s["per_grade"][i] *= 1.3
        mix = {"HI": 0.55, "AA": 0.2, "AS": 0.08, "WH": 0.1, "FI": 0.03, "MR": 0.04}
        for r in codes.RACE_CODES:
            s[f"r_{r}"][i] = mix.get(r, 0.0)
    elif role == IMPROVING:
        s["sed_share"][i] = 0.8


# ---- the school's effects in a given year -------------------------------------------
# sd units of student achievement (acad), or of the outcome's own latent scale
_ROLE_LEVEL: dict[str, dict[str, float]] = {
    PERSIST_LOW: {"acad": -1.0, "att": -1.0, "beh": -1.0, "sel": -1.0, "clim": -1.2,
                  "grad": -0.5},
    GRAD_PRIORITY: {"acad": -0.3, "grad": -2.2, "att": -0.3},
    SUBGROUP_GRAD: {"acad": 0.1, "grad": 0.6},
    PERSIST_GAP: {"acad": 0.8, "att": 0.2, "sel": 0.2, "clim": 0.2},
    CLOSING_GAP: {"acad": 0.8, "att": 0.2, "sel": 0.2, "clim": 0.2},
    REWARD_HIGH: {"acad": 0.9, "att": 0.9, "beh": 0.9, "sel": 0.9, "clim": 1.0, "grad": 1.0},
}  # fmt: skip
_IMPROVING_START = -0.6
_IMPROVING_STEP = 0.3
_IMPROVING_GROUP_SCALE = (0.8, 0.12)  # share of the usual gaps in the first year, yearly fall
GAP_PENALTY = -1.6  # extra achievement effect for the role group at a gap school
SUBGROUP_GRAD_PENALTY = -3.0  # extra graduation logit for the role group
REWARD_GROUP_SCALE = 0.3  # REWARD_HIGH: subgroup gaps shrunk to this share


def school_effects(schools: pd.DataFrame, t: int, drift: dict[str, np.ndarray]) -> dict:
    """The schools' effects in year index ``t`` (0 = first generated year).

    Returns arrays over the district's schools: ``acad, att, beh, sel, clim, grad`` (base +
    drift, replaced by the role's level for extreme schools), ``group_scale`` (how much
    of the usual subgroup gaps applies), ``gap_penalty`` (extra achievement effect for
    the school's ``role_group``) and ``grad_penalty`` (extra graduation logit for it).
    """
    role = schools["role"].to_numpy()
    out: dict[str, np.ndarray] = {}
    for name in ("acad", "att", "beh", "sel", "clim", "grad"):
        u = schools[f"u_{name}"].to_numpy() + drift[name]
        for r, levels in _ROLE_LEVEL.items():
            if name in levels:
                u = np.where(role == r, levels[name] + 0.2 * drift[name], u)
        improving = _IMPROVING_START + _IMPROVING_STEP * t
        if name != "grad":
            u = np.where(role == IMPROVING, improving * (1.0 if name == "acad" else 0.8), u)
        out[name] = u
    out["group_scale"] = np.where(role == REWARD_HIGH, REWARD_GROUP_SCALE, 1.0)
    # an improving school improves for every group: its gaps narrow as it rises
    improving_scale = max(_IMPROVING_GROUP_SCALE[0] - _IMPROVING_GROUP_SCALE[1] * t, 0.0)
    out["group_scale"] = np.where(role == IMPROVING, improving_scale, out["group_scale"])
    gap_on = (role == PERSIST_GAP) | ((role == CLOSING_GAP) & (t < schools["role_year"].to_numpy()))
    closed = (role == CLOSING_GAP) & (t >= schools["role_year"].to_numpy())
    out["gap_penalty"] = np.where(gap_on, GAP_PENALTY, 0.0)
    # a closed gap: the group now does better than it usually does
    out["group_scale"] = np.where(closed, 0.4, out["group_scale"])
    out["grad_penalty"] = np.where(role == SUBGROUP_GRAD, SUBGROUP_GRAD_PENALTY, 0.0)
    return out
