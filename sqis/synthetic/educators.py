"""Synthetic educators and rosters (DATA_CONTRACT.md `educators`, `rosters`; METHODOLOGY.md
"Educator effectiveness"), year by year beside one district's other files.

Schools are staffed as real schools are (*synthetic*, not methodology numbers; every
number is an :class:`EducatorParams` field):

- **elementary** schools: self-contained classrooms of about 24 per grade, one teacher
  teaching a class both ELA and math;
- **middle and high** schools: ELA and math teachers per grade, about 120 students
  (five sections) each; other subjects' teachers (about one per 40 students) are in
  ``educators`` without rosters (no growth measure: ``NO_GROWTH``);
- a **special-education teacher** per 300 students co-teaches: most students with
  disabilities are rostered to them too, in both subjects (co-taught rows);
- **one principal** per school.

Teachers **persist**: each keeps an ID, a school, a slot and a latent effect θ ~ N(0, 1)
from year to year (about 8% leave each year and are replaced). The files of scores are
generated first and must stay as they were (their random streams are untouched), so a
teacher's effect shows the other way round: each year students are placed in classes by
their score gain (this year's score against last year's, as z-scores within grade and
subject) plus noise, and classes go to teachers in the order of θ plus noise — a teacher
with a high θ tends to get the students who gained most, every year. The practice rating
correlates with θ: ``practice_mean + practice_theta × θ`` plus a persistent and a yearly
noise, between 1 and 4.

**Engineered educators** whose outcomes are known (:data:`ENGINEERED`), from the first
educator year on:

- ``HIGHGROWTH1``: an elementary grade-4 teacher of district 0 given, each year, the
  students who gained most (no noise), practice 3.7 → growth rating 4, level 4 (option 2);
- ``TRIGGERCASE1``: the same in district 1 with the students who gained least and practice
  3.6 → growth rating 1: a ``TRIGGER`` where the district takes option 1 (the builtin
  methodology gives the demo's district 1, Bayview Unified, option 1);
- ``UNDERMIN1``: an intervention teacher of district 0 co-teaching ELA to 6 tested grade-4
  students: under the minimum of 10 students, ``NO_GROWTH``.

Randomness comes from the district's own child seed (``writer.generate``: spawned after
the other files' seeds), so the other files are byte-identical with or without educators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sqis import codes, years
from sqis.synthetic.model import ConsortiumPlan

Frame = dict[str, np.ndarray]

ENGINEERED: dict[str, str] = {
    "high_growth": "HIGHGROWTH1",
    "trigger": "TRIGGERCASE1",
    "under_minimum": "UNDERMIN1",
}
_ELA, _MATH = codes.SUBJECTS.index("ELA"), codes.SUBJECTS.index("MATH")
# slot kinds
_CLASS, _SUBJECT, _OTHER, _SPED, _INTERVENTION = range(5)


@dataclass(frozen=True)
class EducatorParams:
    """Every number of the synthetic staffing (a plausible consortium, not methodology)."""

    first_year: str = "2014-15"  # educator files from this year (the methodology's pilot)
    class_size: int = 24  # elementary self-contained classes
    subject_load: int = 120  # middle/high ELA or math teacher: students per grade
    other_per_students: int = 40  # middle/high teachers of other subjects
    sped_per_students: int = 300  # special-education co-teachers
    sped_min_school: int = 150
    cotaught_share: float = 0.6  # students with disabilities rostered to the co-teacher too
    attrition: float = 0.08  # teachers leaving each year
    principal_attrition: float = 0.1
    key_noise: float = 0.9  # class placement: gain + this × N(0, 1)
    theta_noise: float = 0.5  # class order: θ + this × N(0, 1)
    practice_mean: float = 2.9
    practice_theta: float = 0.45
    practice_sd: float = 0.35  # persistent per teacher
    practice_year_sd: float = 0.15
    engineered_high_practice: float = 3.7
    engineered_trigger_practice: float = 3.6
    engineered_under_min_students: int = 6
    engineered_other_practice: float = 3.0


class EducatorSim:
    """One district's educators over the years (module docstring)."""

    def __init__(
        self,
        plan: ConsortiumPlan,
        d: int,
        rng: np.random.Generator,
        params: EducatorParams | None = None,
    ) -> None:
        self.p = params or EducatorParams()
        self.d = d
        self.rng = rng
        schools = plan.district_schools(d)
        self.school_type = schools["school_type"].to_numpy().astype(str)
        self.first = years.start_of(self.p.first_year)
        # the teacher table (grows as teachers are hired)
        self.ids: list[str] = []
        self.theta: list[float] = []
        self.base: list[float] = []
        self.pools: dict[tuple[int, int, int, int], list[int]] = {}  # slot → teachers
        self.principals: dict[int, int] = {}
        self.counter = 0
        self.prior_z: dict[int, pd.Series] = {s: pd.Series(dtype=float) for s in (_ELA, _MATH)}
        self.active: set[tuple[int, int, int, int]] = set()
        self._under_min_slot = (0, 4)
        self.engineered: dict[str, int] = {}
        self.fixed_practice: dict[int, float] = {}
        self.sorted_slots: dict[tuple[int, int, int, int], int] = {}  # slot → +1 / −1

    # ---- people ------------------------------------------------------------------
    def _hire(self, theta: float | None = None, ident: str | None = None) -> int:
        p = self.p
        self.counter += 1
        self.ids.append(ident or f"T{self.d:04d}{self.counter:06d}")
        th = float(self.rng.normal()) if theta is None else theta
        self.theta.append(th)
        self.base.append(
            p.practice_mean + p.practice_theta * th + float(self.rng.normal(0, p.practice_sd))
        )
        return len(self.ids) - 1

    def _staff(self, slot: tuple[int, int, int, int], needed: int) -> list[int]:
        """The slot's teachers this year: last year's who stay, then new hires."""
        pool = self.pools.get(slot, [])
        if pool:
            stay = self.rng.random(len(pool)) >= self.p.attrition
            keep = set(self.engineered.values())
            pool = [t for t, s in zip(pool, stay, strict=True) if s or t in keep]
        while len(pool) < needed:
            pool.append(self._hire())
        pool = pool[:needed] if needed else []
        self.pools[slot] = pool
        self.active.add(slot)
        return pool

    # ---- a year ------------------------------------------------------------------
    def _classes(self, slot_of: np.ndarray, key: np.ndarray, load: int) -> np.ndarray:
        """Each enrolment row's teacher: rows placed in their slot's classes by ``key``
        (with noise), classes given to the slot's teachers in the order of θ (with noise);
        in an engineered slot, neither has noise."""
        p = self.p
        slots, inv = np.unique(slot_of, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        counts = np.bincount(inv, minlength=len(slots))
        teachers: list[list[int]] = []
        sorted_slot = np.zeros(len(slots), dtype=bool)
        for i, s in enumerate(tuple(int(v) for v in row) for row in slots):  # per slot
            sorted_slot[i] = s in self.sorted_slots
            need = max(1, round(counts[i] / load), 2 if sorted_slot[i] else 1)
            pool = self._staff(s, need)
            th = np.array([self.theta[t] for t in pool])
            noise = 0.0 if sorted_slot[i] else p.theta_noise
            order = np.argsort(-(th + noise * self.rng.normal(size=len(pool))), kind="stable")
            teachers.append([pool[j] for j in order])
        noise = np.where(sorted_slot[inv], 0.0, p.key_noise) * self.rng.normal(size=len(key))
        order = np.lexsort((-(key + noise), inv))
        g_sorted = inv[order]
        start = np.searchsorted(g_sorted, np.arange(len(slots)))
        rank = np.arange(len(order)) - start[g_sorted]
        n_t = np.array([len(t) for t in teachers])
        cls = (rank * n_t[g_sorted]) // counts[g_sorted]
        flat = np.concatenate([np.array(t, dtype=np.int64) for t in teachers])
        offsets = np.concatenate([[0], np.cumsum(n_t)[:-1]])
        teacher = np.empty(len(order), dtype=np.int64)
        teacher[order] = flat[offsets[g_sorted] + cls]
        return teacher

    def year(self, year: str, frames: dict[str, Frame]) -> dict[str, Frame]:
        """This year's ``educators`` and ``rosters`` frames (encoded as the writer's), or
        nothing before the first educator year. Reads the year's students and assessments;
        call it before the writer frees them."""
        st, a = frames["students"], frames["assessments"]
        gains = self._gains(a)
        if years.start_of(year) < self.first:
            return {}
        p = self.p
        self.active = set()
        school = st["school_code"].astype(np.int64)
        grade = st["grade"].astype(np.int64)
        sid = st["student_id"].astype(np.int64)
        n_schools = len(self.school_type)
        is_es = self.school_type[school] == "ES"
        if not self.engineered:
            self._engineer(school, grade, is_es)
        parts: list[tuple[np.ndarray, np.ndarray, int]] = []  # enrolment rows, teacher, subject

        # elementary: one class teacher for ELA and math; key: the mean of the two gains
        es = np.flatnonzero(is_es)
        if len(es):
            both = np.stack([gains[_ELA](sid[es]), gains[_MATH](sid[es])])
            n_known = (~np.isnan(both)).sum(axis=0)
            key = np.where(n_known > 0, np.nansum(both, axis=0) / np.maximum(n_known, 1), 0.0)
            zeros = np.zeros(len(es), dtype=np.int64)
            slot = np.stack([zeros + _CLASS, school[es], grade[es], zeros], axis=1)
            t = self._classes(slot, key, p.class_size)
            parts += [(es, t, _ELA), (es, t, _MATH)]
        # middle and high: a teacher per subject and grade
        ms = np.flatnonzero(~is_es)
        for subj in (_ELA, _MATH) if len(ms) else ():
            g = gains[subj](sid[ms])
            zeros = np.zeros(len(ms), dtype=np.int64)
            slot = np.stack([zeros + _SUBJECT, school[ms], grade[ms], zeros + subj], axis=1)
            parts.append((ms, self._classes(slot, np.nan_to_num(g), p.subject_load), subj))
        # co-teachers: special education (most students with disabilities, both subjects)
        swd = st["swd"].astype(bool)
        enrol = np.bincount(school, minlength=n_schools)
        for s in range(n_schools):  # a loop over schools
            n_sped = enrol[s] // p.sped_per_students if enrol[s] >= p.sped_min_school else 0
            pool = self._staff((_SPED, s, 0, 0), int(n_sped))
            if not pool:
                continue
            who = np.flatnonzero((school == s) & swd)
            who = who[self.rng.random(len(who)) < p.cotaught_share]
            t = np.array(pool, dtype=np.int64)[self.rng.integers(0, len(pool), len(who))]
            parts += [(who, t, _ELA), (who, t, _MATH)]
        # the engineered intervention teacher: ELA with a few tested grade-4 students
        if "under_minimum" in self.engineered:
            s, g4 = self._under_min_slot
            u = self.engineered["under_minimum"]
            self.active.add((_INTERVENTION, s, g4, 0))
            tested = ~np.isnan(gains[_ELA](sid))
            who = np.flatnonzero((school == s) & (grade == g4) & tested)
            who = who[: p.engineered_under_min_students]
            parts.append((who, np.full(len(who), u, dtype=np.int64), _ELA))
        # other subjects' teachers (middle and high schools): in educators, no rosters
        for s in range(n_schools):
            if self.school_type[s] != "ES":
                self._staff((_OTHER, s, 0, 0), max(1, int(enrol[s] // p.other_per_students)))
        return self._frames(sid, school, parts, n_schools)

    def _gains(self, a: Frame) -> dict[int, Callable[[np.ndarray], np.ndarray]]:
        """Per subject, a function of student IDs: this year's z-score (within grade) minus
        last year's, NaN where either is missing. Keeps this year's for next year."""
        out = {}
        for subj in (_ELA, _MATH):
            m = a["subject"] == subj
            sid = a["student_id"][m].astype(np.int64)
            score = a["scale_score"][m].astype(float)
            grade = a["grade"][m].astype(np.int64)
            z = np.zeros(len(score))
            for g in np.unique(grade):  # a loop over grades
                at = grade == g
                sd = score[at].std() or 1.0
                z[at] = (score[at] - score[at].mean()) / sd
            now = pd.Series(z, index=sid)
            now = now[~now.index.duplicated()]
            gain = now - self.prior_z[subj].reindex(now.index)
            self.prior_z[subj] = now

            def lookup(ids: np.ndarray, gain: pd.Series = gain) -> np.ndarray:
                return gain.reindex(ids).to_numpy(dtype=float)

            out[subj] = lookup
        return out

    def _engineer(self, school: np.ndarray, grade: np.ndarray, is_es: np.ndarray) -> None:
        """Place the engineered educators in the largest elementary grade 4 of district 0
        (high growth, under the minimum) and of district 1 (the trigger case)."""
        p = self.p
        four = is_es & (grade == 4)
        if not four.any():
            self.engineered = {"none": -1}
            return
        s = int(np.bincount(school[four]).argmax())
        slot = (_CLASS, s, 4, 0)
        if self.d == 0:
            t = self._hire(theta=4.0, ident=ENGINEERED["high_growth"])
            self.fixed_practice[t] = p.engineered_high_practice
            self.pools[slot] = [t]
            self.sorted_slots[slot] = 1
            self.engineered["high_growth"] = t
            u = self._hire(theta=0.0, ident=ENGINEERED["under_minimum"])
            self.fixed_practice[u] = p.engineered_other_practice
            self.pools[(_INTERVENTION, s, 4, 0)] = [u]
            self.engineered["under_minimum"] = u
            self._under_min_slot = (s, 4)
        elif self.d == 1:
            t = self._hire(theta=-4.0, ident=ENGINEERED["trigger"])
            self.fixed_practice[t] = p.engineered_trigger_practice
            self.pools[slot] = [t]
            self.sorted_slots[slot] = -1
            self.engineered["trigger"] = t
        else:
            self.engineered = {"none": -1}

    def _frames(
        self,
        sid: np.ndarray,
        school: np.ndarray,
        parts: list[tuple[np.ndarray, np.ndarray, int]],
        n_schools: int,
    ) -> dict[str, Frame]:
        """The year's encoded ``educators`` and ``rosters``."""
        p = self.p
        rows = np.concatenate([r for r, _, _ in parts]) if parts else np.zeros(0, np.int64)
        r_t = np.concatenate([t for _, t, _ in parts]) if parts else np.zeros(0, np.int64)
        r_sub = np.concatenate([np.full(len(r), s) for r, _, s in parts]) if parts else rows
        r_sid, r_s = sid[rows], school[rows]
        # one row per (student, teacher, subject) (a co-teacher drawn twice is one row)
        _, first = np.unique(np.stack([r_sid, r_t, r_sub], axis=1), axis=0, return_index=True)
        first = np.sort(first)
        r_sid, r_t, r_s, r_sub = r_sid[first], r_t[first], r_s[first], r_sub[first]
        # educators: this year's teachers of each school (every slot staffed this year)
        pairs = sorted({(t, s[1]) for s in self.active for t in self.pools.get(s, [])})
        t_arr = np.array([t for t, _ in pairs], dtype=np.int64)
        s_arr = np.array([s for _, s in pairs], dtype=np.int64)
        base = np.array(self.base)[t_arr] if len(t_arr) else np.zeros(0)
        practice = base + self.rng.normal(0, p.practice_year_sd, len(t_arr))
        for t, v in self.fixed_practice.items():
            practice[t_arr == t] = v
        # a principal per school of the district (METHODOLOGY.md: one principal per school)
        p_idx, p_pr = [], []
        for s in range(n_schools):  # a loop over schools
            cur = self.principals.get(s)
            if cur is None or self.rng.random() < p.principal_attrition:
                self.counter += 1
                cur = len(self.ids)
                self.ids.append(f"P{self.d:04d}{self.counter:06d}")
                self.theta.append(0.0)
                self.base.append(float(self.rng.normal(p.practice_mean, p.practice_sd)))
                self.principals[s] = cur
            p_idx.append(cur)
            p_pr.append(self.base[cur] + float(self.rng.normal(0, p.practice_year_sd)))
        ids = np.array(self.ids, dtype=object)
        role = {r: codes.EDUCATOR_ROLES.index(r) for r in codes.EDUCATOR_ROLES}
        all_t = np.concatenate([t_arr, np.array(p_idx, dtype=np.int64)])
        educators = {
            "educator_id": ids[all_t].astype(str),
            "school_code": np.concatenate([s_arr, np.arange(n_schools, dtype=np.int64)]),
            "role": np.concatenate(
                [np.full(len(t_arr), role["TEACHER"]), np.full(n_schools, role["PRINCIPAL"])]
            ).astype(np.int64),
            "practice": np.round(np.clip(np.concatenate([practice, p_pr]), 1.0, 4.0), 2),
        }
        order = np.lexsort((educators["educator_id"], educators["school_code"]))
        educators = {k: v[order] for k, v in educators.items()}
        to_roster = np.array(
            [codes.ROSTER_SUBJECTS.index(s) if s in codes.ROSTER_SUBJECTS else -1
             for s in codes.SUBJECTS]
        )  # fmt: skip
        rosters = {
            "student_id": r_sid,
            "educator_id": ids[r_t].astype(str),
            "school_code": r_s,
            "subject": to_roster[r_sub].astype(np.int64),
        }
        order = np.lexsort((rosters["subject"], rosters["student_id"], rosters["school_code"]))
        return {"educators": educators, "rosters": {k: v[order] for k, v in rosters.items()}}
