"""Students of one synthetic district, followed from year to year.

A ``Population`` holds one array per student attribute (struct of arrays), for every
student the district has ever had in the generated range (and the pre-range graduation
cohorts). Each year: enrolment rows (mid-year movers get two rows at two schools, with
attendance split), then the transition to next year: grade-12 students leave, some
students transfer out and others in, the rest are promoted (or retained) and move up
ES (K–5) → MS (6–8) → HS (9–12) along the district's feeder pattern; ELs are
redesignated; program flags change a little. Everything is vectorised over students.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqis import codes
from sqis.synthetic.model import SyntheticParams

RACE = {r: i for i, r in enumerate(codes.RACE_CODES)}
EL = {s: i for i, s in enumerate(codes.EL_STATUSES)}
N_RACE = len(codes.RACE_CODES)

# logit shifts of program shares by race (realistic direction, moderate size)
_SED_BY_RACE = {"AA": 0.4, "AI": 0.3, "AS": -0.5, "FI": -0.4, "HI": 0.5, "PI": 0.2,
                "WH": -1.0, "MR": -0.3, "NR": -0.2}  # fmt: skip
_EL_BY_RACE = {"AA": 0.1, "AI": 0.3, "AS": 1.3, "FI": 0.8, "HI": 1.5, "PI": 1.0,
               "WH": 0.2, "MR": 0.3, "NR": 0.8}  # fmt: skip
_SWD_BY_RACE = {"AA": 0.35, "AI": 0.3, "AS": -0.5, "FI": -0.3, "HI": 0.0, "PI": 0.1,
                "WH": 0.0, "MR": 0.0, "NR": 0.0}  # fmt: skip


def _by_race(table: dict[str, float]) -> np.ndarray:
    return np.array([table[r] for r in codes.RACE_CODES])


SED_BY_RACE = _by_race(_SED_BY_RACE)
EL_BY_RACE = _by_race(_EL_BY_RACE)
SWD_BY_RACE = _by_race(_SWD_BY_RACE)

FIELDS: dict[str, type] = {
    "sid": np.int64,
    "race": np.int8,
    "gender": np.int8,
    "el": np.int8,
    "swd": np.bool_,
    "sed": np.bool_,
    "foster": np.bool_,
    "homeless": np.bool_,
    "th_c": np.float32,  # general achievement
    "th_e": np.float32,  # ELA
    "th_m": np.float32,  # math
    "att": np.float32,  # attendance propensity
    "beh": np.float32,  # behaviour (higher = fewer suspensions)
    "selt": np.float32,  # social-emotional trait
    "grade": np.int8,
    "school": np.int32,
    "active": np.bool_,
    "entered": np.int16,  # year index of entry (-1: in the first year's population)
    "sci_grade": np.int8,  # the high-school grade in which the student takes science
    "cohort": np.int16,  # start year of entering grade 9 (-1: not yet)
    "acct_hs": np.int32,  # school of accountability for graduation (-1: none)
    "out": np.bool_,  # transferred out of the consortium (not listed in graduation)
    "ghost": np.bool_,  # pre-range graduation cohort member (never enrolled in range)
    "hs_el": np.bool_,
    "hs_swd": np.bool_,
    "hs_sed": np.bool_,
    "hs_foster": np.bool_,
    "hs_homeless": np.bool_,
    "grad_d": np.int8,  # graduates in school year cohort + grad_d (99: never)
    "grad_term": np.int8,  # outcome when not graduated: index into GRAD_OUTCOMES
    "drop_grade": np.int8,  # dropouts leave after the year in this grade (99: never)
}
NEVER = 99


def logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class IdAllocator:
    """Ten-digit student IDs, unique across the consortium: a block per district.

    Inside a block, a counter is scrambled by multiplying with a number coprime to the
    block size, so consecutive students do not get consecutive IDs.
    """

    def __init__(self, district: int, n_districts: int) -> None:
        self.block = 9_000_000_000 // n_districts
        self.base = 1_000_000_000 + district * self.block
        self.next = 0
        for mult in (7_919_003, 1_000_003, 104_729, 7_919, 97, 1):
            if np.gcd(mult, self.block) == 1:
                self.mult = mult
                break

    def take(self, n: int) -> np.ndarray:
        if self.next + n > self.block:
            raise ValueError("too many students for the district's ID block")
        k = np.arange(self.next, self.next + n, dtype=np.int64)
        self.next += n
        return self.base + (k * self.mult) % self.block


class Population:
    """Struct of arrays: one array per attribute in FIELDS."""

    def __init__(self) -> None:
        self.a: dict[str, np.ndarray] = {k: np.empty(0, dtype=t) for k, t in FIELDS.items()}

    def __getitem__(self, k: str) -> np.ndarray:
        return self.a[k]

    def __setitem__(self, k: str, v: np.ndarray) -> None:
        self.a[k] = np.asarray(v).astype(FIELDS[k], copy=False)

    @property
    def n(self) -> int:
        return len(self.a["sid"])

    def add(self, new: dict[str, np.ndarray]) -> None:
        for k, t in FIELDS.items():
            self.a[k] = np.concatenate([self.a[k], np.asarray(new[k]).astype(t, copy=False)])


@dataclass
class SchoolArrays:
    """The district's schools as arrays (local index = position)."""

    school_type: np.ndarray  # "ES" / "MS" / "HS"
    low: np.ndarray
    high: np.ndarray
    per_grade: np.ndarray
    feeder: np.ndarray
    sed_share: np.ndarray
    el_share: np.ndarray
    swd_share: np.ndarray
    race_cum: np.ndarray  # cumulative race probabilities, n_schools × 9
    is_hs: np.ndarray

    @classmethod
    def from_plan(cls, schools: pd.DataFrame) -> SchoolArrays:
        mix = schools[[f"r_{r}" for r in codes.RACE_CODES]].to_numpy(dtype=float)
        mix = mix / mix.sum(axis=1, keepdims=True)
        st = schools["school_type"].to_numpy().astype(str)
        return cls(
            school_type=st,
            low=schools["low_grade"].to_numpy(dtype=np.int64),
            high=schools["high_grade"].to_numpy(dtype=np.int64),
            per_grade=schools["per_grade"].to_numpy(dtype=float),
            feeder=schools["feeder"].to_numpy(dtype=np.int64),
            sed_share=schools["sed_share"].to_numpy(dtype=float),
            el_share=schools["el_share"].to_numpy(dtype=float),
            swd_share=schools["swd_share"].to_numpy(dtype=float),
            race_cum=np.cumsum(mix, axis=1),
            is_hs=st == "HS",
        )


def new_students(
    rng: np.random.Generator,
    school: np.ndarray,
    grade: np.ndarray,
    sa: SchoolArrays,
    ids: IdAllocator,
    t: int,
    p: SyntheticParams,
) -> dict[str, np.ndarray]:
    """Draw ``len(school)`` new students at the given schools and grades (school profiles)."""
    n = len(school)
    u = rng.random(n)
    race = np.minimum((u[:, None] > sa.race_cum[school]).sum(axis=1), N_RACE - 1)
    gender = rng.choice(3, size=n, p=np.array(p.gender_p) / sum(p.gender_p))
    sed = rng.random(n) < expit(logit(sa.sed_share[school]) + SED_BY_RACE[race])
    ever_el = rng.random(n) < expit(logit(sa.el_share[school]) + EL_BY_RACE[race] - 1.0)
    still_el = rng.random(n) < np.clip(0.95 - 0.06 * grade, 0.25, 0.95)
    other = rng.random(n)
    el = np.where(
        ever_el,
        np.where(still_el, EL["EL"], EL["RFEP"]),
        np.where(other < 0.06, EL["IFEP"], np.where(other < 0.066, EL["TBD"], EL["EO"])),
    )
    male = gender == 1
    swd = rng.random(n) < expit(logit(sa.swd_share[school]) + SWD_BY_RACE[race] + 0.45 * male - 0.2)
    foster = rng.random(n) < np.where(sed, 0.007, 0.001)
    homeless = rng.random(n) < np.where(sed, 0.045, 0.004)
    th_c = rng.normal(0, 0.75, n)
    z = th_c / 0.75
    return {
        "sid": ids.take(n),
        "race": race,
        "gender": gender,
        "el": el,
        "swd": swd,
        "sed": sed,
        "foster": foster,
        "homeless": homeless,
        "th_c": th_c,
        "th_e": th_c + rng.normal(0, 0.35, n),
        "th_m": th_c + rng.normal(0, 0.35, n),
        "att": 0.25 * z + rng.normal(0, 0.97, n),
        "beh": 0.3 * z + rng.normal(0, 0.95, n),
        "selt": 0.3 * z + rng.normal(0, 0.95, n),
        "grade": grade,
        "school": school,
        "active": np.ones(n, dtype=bool),
        "entered": np.full(n, t),
        "sci_grade": rng.choice(np.array([10, 11, 12]), size=n, p=[0.1, 0.6, 0.3]),
        "cohort": np.full(n, -1),
        "acct_hs": np.full(n, -1),
        "out": np.zeros(n, dtype=bool),
        "ghost": np.zeros(n, dtype=bool),
        "hs_el": np.zeros(n, dtype=bool),
        "hs_swd": np.zeros(n, dtype=bool),
        "hs_sed": np.zeros(n, dtype=bool),
        "hs_foster": np.zeros(n, dtype=bool),
        "hs_homeless": np.zeros(n, dtype=bool),
        "grad_d": np.zeros(n),
        "grad_term": np.zeros(n),
        "drop_grade": np.full(n, NEVER),
    }


def seats(sa: SchoolArrays) -> tuple[np.ndarray, np.ndarray]:
    """Every (school, grade) pair of the district's schools, as two aligned arrays."""
    spans = sa.high - sa.low + 1
    school = np.repeat(np.arange(len(spans)), spans)
    grade = np.concatenate([np.arange(lo, hi + 1) for lo, hi in zip(sa.low, sa.high, strict=True)])
    return school, grade


def initial_population(
    rng: np.random.Generator, sa: SchoolArrays, ids: IdAllocator, p: SyntheticParams
) -> Population:
    """The first year's students: each school's grades filled to its intake."""
    school, grade = seats(sa)
    counts = rng.poisson(sa.per_grade[school])
    pop = Population()
    pop.add(new_students(rng, np.repeat(school, counts), np.repeat(grade, counts), sa, ids, -1, p))
    return pop


def entrants(
    rng: np.random.Generator, sa: SchoolArrays, ids: IdAllocator, t: int, p: SyntheticParams
) -> dict[str, np.ndarray]:
    """New students for year ``t``: kindergarten at every ES, transfers-in at every school."""
    school, grade = seats(sa)
    lam = sa.per_grade[school] * p.transfer_in_rate
    lam = np.where(grade == 0, sa.per_grade[school], lam)
    counts = rng.poisson(lam)
    return new_students(rng, np.repeat(school, counts), np.repeat(grade, counts), sa, ids, t, p)
