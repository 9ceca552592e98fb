"""Every indicator per school and student group (METHODOLOGY.md "Indicators").

``compute_indicators`` returns one row per (school, student group, indicator) with at
least one student in the denominator:

    school_code, student_group, indicator, numerator, denominator, value, meets_nsize

Rates are percentages 0–100, unrounded; ``numerator`` is empty where the value is a
mean (SEL), a percentile (growth) or a ratio of rates (SPED_DISPROP for ALL).
``meets_nsize`` = denominator ≥ the methodology's n-size (the climate indicators under
``rules.climate_nsize_counts: respondents``: distinct respondents ≥ the n-size). Only
indicators applying to the school's type (and, for MS_PERSIST under
``rules.persist_schools: span``, its grade span), and groups the indicator exists for, get
rows. A student enrolled at two schools counts at each.

How it is fast: each row's groups are a bit mask decided once on the enrolment row
(``sqis.groups``); rows linked to an enrolment (assessments, SEL) take its bits; every
indicator is then two ``np.bincount`` over an integer key school × group.

Why one module over 500 lines: every indicator is computed from one context
(``_Context``: the selected schools, each row's group bits, the school × group key), which
the indicator functions share; split, the context's internals would become a public API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from schemas.outputs import IndicatorsFrame, empty
from sqis import codes, years
from sqis import groups as groups_mod
from sqis.errors import SqisError
from sqis.growth import fit_growth, growth_indicators
from sqis.methodology import Methodology
from sqis.once import Once
from sqis.student_keys import STUDENT_KEY, YearKeys
from sqis.yeardata import YearData

# Vocabulary: the indicator measuring each subject's achievement, and each survey.
MET_INDICATOR: dict[str, str] = {"ELA": "ELA_MET", "MATH": "MATH_MET", "SCI": "SCI_MET"}
CLIMATE_INDICATOR: dict[str, str] = {
    "STUDENT": "CLIMATE_STUDENT",
    "STAFF": "CLIMATE_STAFF",
    "PARENT": "CLIMATE_PARENT",
}
# Percent of a whole: a unit conversion, not a methodology number.
PERCENT = 100.0
# Days are integers and shares decimals: 0.10 × 30 is 3.0000000000000004 in binary
# floating point, so "absent ≥ 10% of 30 days" must allow for that rounding.
FLOAT_TOLERANCE = 1e-9


@dataclass
class _Context:
    """The schools computed, as integer positions, and what applies where."""

    m: Methodology
    school_codes: np.ndarray  # object array of the selected schools' codes
    school_type: np.ndarray
    # per indicator, a further per-school condition (MS_PERSIST: the grade span)
    only_at: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_schools(self) -> int:
        return len(self.school_codes)

    @property
    def n_groups(self) -> int:
        return len(self.m.student_groups)

    def positions(self, school_code: pd.Series) -> np.ndarray:
        """Each row's school as a position among the selected schools (-1: not selected)."""
        return groups_mod.positions_in(school_code, self.school_codes)

    def applies(self, indicator: str) -> tuple[np.ndarray, np.ndarray]:
        """(per school: indicator applies to its type; per group: indicator exists for it)."""
        spec = self.m.indicators[indicator]
        by_type = np.isin(self.school_type, list(spec.school_types))
        if indicator in self.only_at:
            by_type &= self.only_at[indicator]
        allowed = set(spec.groups) if spec.groups is not None else set(self.m.student_groups)
        by_group = np.array([g in allowed for g in self.m.student_groups], dtype=bool)
        return by_type, by_group

    def aggregate(
        self,
        indicator: str,
        school_pos: np.ndarray,
        bits: np.ndarray,
        in_denominator: np.ndarray,
        numerator: np.ndarray,
        *,
        kind: str = "percent",
    ) -> Part:
        """Sum ``numerator`` and count ``in_denominator`` rows per school × group.

        ``kind``: ``percent`` (value = 100 × num / den), ``mean`` (value = num / den, the
        numerator column left empty) or ``counts`` (value left empty for the caller).
        """
        by_type, by_group = self.applies(indicator)
        ok = in_denominator & (school_pos >= 0)
        ok[ok] &= by_type[school_pos[ok]]
        if numerator.dtype.kind in "bi":  # whole numbers: exact in any order of addition
            return self._aggregate_by_pattern(
                indicator, school_pos[ok], bits[ok], numerator[ok], by_group, kind
            )
        rows, gcodes = groups_mod.membership_from_bits(bits[ok], self.n_groups)
        keep = by_group[gcodes]
        rows, gcodes = rows[keep], gcodes[keep]
        sp = school_pos[ok][rows]
        key = sp * self.n_groups + gcodes
        size = self.n_schools * self.n_groups
        den = np.bincount(key, minlength=size)
        num = np.bincount(key, weights=numerator[ok][rows].astype(float), minlength=size)
        present = np.flatnonzero(den > 0)
        return self.frame(indicator, present, num[present], den[present], kind)

    def _aggregate_by_pattern(
        self,
        indicator: str,
        school_pos: np.ndarray,
        bits: np.ndarray,
        numerator: np.ndarray,
        by_group: np.ndarray,
        kind: str,
    ) -> Part:
        """``aggregate`` for whole-number numerators: rows are counted per school × group
        pattern (the distinct bit masks, a few hundred), and the patterns then spread over
        their groups by one small matrix product, instead of a row per (row, group)."""
        pattern, masks = pd.factorize(bits)
        n_pat = len(masks)
        cell = school_pos.astype(np.int64) * n_pat + pattern
        size = self.n_schools * n_pat
        den_p = np.bincount(cell, minlength=size).reshape(self.n_schools, n_pat)
        num_p = np.bincount(cell, weights=numerator, minlength=size)
        spread = ((masks[:, None] >> np.arange(self.n_groups)) & 1).astype(float) * by_group
        den = (den_p @ spread).ravel()  # counts and sums below 2**53: exact
        num = (num_p.reshape(self.n_schools, n_pat) @ spread).ravel()
        present = np.flatnonzero(den > 0)
        return self.frame(indicator, present, num[present], den[present], kind)

    def frame(
        self, indicator: str, key: np.ndarray, num: np.ndarray, den: np.ndarray, kind: str
    ) -> Part:
        den = den.astype(np.int64)
        if kind == "percent":
            value = PERCENT * num / den
        elif kind == "mean":
            value = num / den
        else:
            value = np.full(len(key), np.nan)
        return Part(
            indicator=indicator,
            school_pos=key // self.n_groups,
            group_code=key % self.n_groups,
            numerator=np.full(len(key), np.nan) if kind == "mean" else np.rint(num),
            denominator=den,
            value=value,
        )


@dataclass
class Part:
    """One rule's rows, as arrays (a frame per indicator per district costs more than the
    arithmetic): school position × group code, with ``numerator`` (NaN: empty, as for a
    mean), ``denominator``, ``value`` and, where the rule decided it, ``meets_nsize``.
    ``indicator`` is one name, or a name per row (the growth rows)."""

    indicator: str | np.ndarray
    school_pos: np.ndarray
    group_code: np.ndarray
    numerator: np.ndarray
    denominator: np.ndarray
    value: np.ndarray
    meets_nsize: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.school_pos)


def _context(schools: pd.DataFrame, m: Methodology, subset: Iterable[str] | None) -> _Context:
    sch = schools
    if subset is not None:
        sch = sch[sch["school_code"].isin(list(subset))]
    only_at = {}
    if m.rules.persist_schools == "span":  # METHODOLOGY "Indicators": MS_PERSIST
        grade = m.rules.persist_from_grade
        low = sch["low_grade"].to_numpy(dtype=np.int64)
        high = sch["high_grade"].to_numpy(dtype=np.int64)
        only_at["MS_PERSIST"] = (low <= grade) & (grade <= high)
    return _Context(
        m=m,
        school_codes=sch["school_code"].to_numpy(dtype=object),
        school_type=sch["school_type"].to_numpy(dtype=object),
        only_at=only_at,
    )


# ---- the indicators, one function per METHODOLOGY.md row ------------------------------


def achievement(ctx: _Context, cur: YearData, student_bits: np.ndarray) -> list[Part]:
    """ELA_MET, MATH_MET, SCI_MET (METHODOLOGY "Indicators"): % of students tested in the
    subject at performance level ``rules.met_min_performance_level`` or above (3 met, 4
    exceeded). Groups come from the student's enrolment row at the school tested."""
    a = cur.assessments
    if a.empty:
        return []
    pos = ctx.positions(a["school_code"])
    enr = groups_mod.lookup(a, cur.students, [STUDENT_KEY, "school_code"])
    bits = _linked_bits(enr, student_bits, ctx.m)
    met = a["performance_level"].to_numpy() >= ctx.m.rules.met_min_performance_level
    subject = a["subject"].to_numpy(dtype=object)
    return [
        ctx.aggregate(ind, pos, bits, subject == subj, met) for subj, ind in MET_INDICATOR.items()
    ]


def graduation(ctx: _Context, cur: YearData) -> list[Part]:
    """GRAD4, GRAD5, GRAD6 (METHODOLOGY "Indicators"): of the cohort that entered grade 9
    ``rules.grad_cohort_offsets`` years before this year, the % with outcome ``GRAD`` and
    grad_year not after this year. Groups from the graduation file's own race and flags."""
    g = cur.graduation
    if g.empty:
        return []
    pos = ctx.positions(g["school_code"])
    bits = groups_mod.group_bits(g, ctx.m, graduation=True)
    this_year = years.start_of(cur.year)
    grad_start = pd.to_numeric(g["grad_year"].astype("str").str.slice(0, 4), errors="coerce")
    graduated = (g["outcome"].to_numpy(dtype=object) == "GRAD") & (
        grad_start.to_numpy(dtype=float) <= this_year
    )
    cohort = g["cohort"].to_numpy(dtype=object)
    out = []
    for ind, offset in ctx.m.rules.grad_cohort_offsets.items():
        in_cohort = cohort == years.shift(cur.year, -offset)
        out.append(ctx.aggregate(ind, pos, bits, in_cohort, graduated))
    return out


def persistence(
    ctx: _Context,
    cur: YearData,
    prior2: YearData | None,
    rows: np.ndarray | None = None,
    enrolled: np.ndarray | None = None,
) -> list[Part]:
    """MS_PERSIST (METHODOLOGY "Indicators"): of the students promoted from grade
    ``rules.persist_from_grade`` at this school ``rules.persist_years_back`` years ago, the %
    enrolled in grade ``rules.persist_to_grade`` anywhere in this year's data. Groups come
    from that earlier enrolment row. Under ``rules.persist_schools: span`` it exists at any
    school whose grade span in this year's schools file includes ``persist_from_grade``
    (K-8 and 6-12 schools too); under ``type``, at the types listed for it.

    ``rows``: positions of the earlier enrolment rows to count (a district's);
    ``enrolled``: the "anywhere this year" look-up for the whole earlier year
    (``YearLookups.enrolled_later``, done once a year and handed to every district;
    default: done here).
    """
    if prior2 is None or prior2.students.empty:
        return []
    r = ctx.m.rules
    if enrolled is None:
        enrolled = enrolled_in_grade(prior2.students, cur.students, r.persist_to_grade)
    p = prior2.students
    if rows is not None:
        p = p.take(rows).reset_index(drop=True)
        enrolled = enrolled[rows]
    pos = ctx.positions(p["school_code"])
    bits = groups_mod.group_bits(p, ctx.m)
    promoted = (p["grade"].to_numpy() == r.persist_from_grade) & p["promoted"].to_numpy(bool)
    return [ctx.aggregate("MS_PERSIST", pos, bits, promoted, enrolled)]


def enrolled_in_grade(earlier: pd.DataFrame, later: pd.DataFrame, grade: int) -> np.ndarray:
    """For each row of ``earlier``: is its student enrolled in ``grade`` anywhere in ``later``.

    One hash pass over both years: the district tasks share it through
    ``YearLookups.enrolled_later`` (computed once a year), so that every district's
    MS_PERSIST does not hash the whole year again.
    """
    in_grade = later.loc[later["grade"] == grade, "student_id"]
    out = groups_mod.is_in(earlier["student_id"], in_grade)
    out.setflags(write=False)
    return out


def attendance_and_discipline(
    ctx: _Context, cur: YearData, student_bits: np.ndarray, pos: np.ndarray
) -> list[Part]:
    """CHRONIC and SUSP (METHODOLOGY "Indicators"), per enrolment.

    CHRONIC: of enrolments with days_enrolled ≥ ``rules.chronic_min_days_enrolled``, the %
    with days_absent ≥ ``rules.chronic_absent_share`` × days_enrolled (exactly the share
    counts). SUSP: of all enrolments, the % with at least one suspension or an expulsion.
    """
    s = cur.students
    r = ctx.m.rules
    enrolled = s["days_enrolled"].to_numpy(dtype=float)
    absent = s["days_absent"].to_numpy(dtype=float)
    counted = enrolled >= r.chronic_min_days_enrolled
    chronic = absent + FLOAT_TOLERANCE >= r.chronic_absent_share * enrolled
    suspended = (s["suspensions"].to_numpy() > 0) | s["expelled"].to_numpy(dtype=bool)
    everyone = np.ones(len(s), dtype=bool)
    return [
        ctx.aggregate("CHRONIC", pos, student_bits, counted, chronic),
        ctx.aggregate("SUSP", pos, student_bits, everyone, suspended),
    ]


def redesignation(
    ctx: _Context, cur: YearData, student_bits: np.ndarray, pos: np.ndarray
) -> list[Part]:
    """EL_RFEP (METHODOLOGY "Indicators"): of census-day ELs (el_status ``EL``), the %
    redesignated during the year."""
    s = cur.students
    el = s["el_status"].to_numpy(dtype=object) == "EL"
    return [ctx.aggregate("EL_RFEP", pos, student_bits, el, s["redesignated"].to_numpy(bool))]


def sel(ctx: _Context, cur: YearData, student_bits: np.ndarray) -> list[Part]:
    """SEL (METHODOLOGY "Indicators"): the mean over students of their mean construct
    score; denominator = students with at least one construct. Groups from the student's
    enrolment row at the school surveyed."""
    x = cur.sel
    if x.empty:
        return []
    enr = groups_mod.lookup(x, cur.students, [STUDENT_KEY, "school_code"])
    # one unit per (student, school): the enrolment row, or the survey key if none
    key = _combined_codes(x, [STUDENT_KEY, "school_code"])
    student, first = np.unique(key, return_index=True)
    unit = np.searchsorted(student, key)
    n = np.bincount(unit)
    mean_score = np.bincount(unit, weights=x["score"].to_numpy(dtype=float)) / n
    pos = ctx.positions(x["school_code"].iloc[first])
    bits = _linked_bits(enr[first], student_bits, ctx.m)
    everyone = np.ones(len(first), dtype=bool)
    return [ctx.aggregate("SEL", pos, bits, everyone, mean_score, kind="mean")]


def climate(ctx: _Context, cur: YearData) -> list[Part]:
    """CLIMATE_STUDENT, CLIMATE_STAFF, CLIMATE_PARENT (METHODOLOGY "Indicators"): % of
    respondent-construct rows with score ≥ ``rules.climate_favourable_score``, per
    respondent type; the denominator is those rows. Respondents are anonymous: ``ALL`` only.

    The n-size (``meets_nsize``) counts the rows under ``rules.climate_nsize_counts: rows``
    (core-2013.1: 5 staff answering 4 constructs make n = 20), and distinct respondents
    (``respondent_id``) under ``respondents`` (5 staff are n = 5): ``_respondents_meet``.
    """
    c = cur.climate
    if c.empty or "ALL" not in ctx.m.student_groups:
        return []
    pos = ctx.positions(c["school_code"])
    all_bit = np.int64(1 << ctx.m.student_groups.index("ALL"))
    bits = np.full(len(c), all_bit, dtype=np.int64)
    favourable = c["score"].to_numpy(dtype=float) >= ctx.m.rules.climate_favourable_score
    # each row's respondent type as its position in CLIMATE_INDICATOR (-1: none of them)
    rtype = groups_mod.positions_in(c["respondent_type"], list(CLIMATE_INDICATOR))
    parts = [
        ctx.aggregate(ind, pos, bits, rtype == k, favourable)
        for k, ind in enumerate(CLIMATE_INDICATOR.values())
    ]
    if ctx.m.rules.climate_nsize_counts == "respondents":
        meets = _respondents_meet(ctx, c, pos, rtype, parts)
        for k, part in enumerate(parts):
            part.meets_nsize = meets[part.school_pos * len(parts) + k]
    return parts


# A respondent has at most one row per construct at a school (DATA_CONTRACT.md: (school_code,
# respondent_type, respondent_id, construct) is unique, construct one of these).
CLIMATE_ROWS_PER_RESPONDENT = len(codes.CLIMATE_CONSTRUCTS)


def _respondents_meet(
    ctx: _Context, c: pd.DataFrame, pos: np.ndarray, rtype: np.ndarray, parts: list[Part]
) -> np.ndarray:
    """Per (school position × respondent type), flattened: at least ``n_size`` distinct
    ``respondent_id``.

    A cell of r rows has between r / 4 and r respondents (one row per construct), so fewer
    than n_size rows never meet it and 4 × n_size rows or more always do; the respondents
    are counted (one hash pass over their rows) only in the cells between, which at scale
    are a small share of the survey. Vectorised: no loop over rows.
    """
    n_size, n_types = ctx.m.n_size, len(parts)
    rows = np.zeros(ctx.n_schools * n_types, dtype=np.int64)
    for k, part in enumerate(parts):  # the denominators: rows per cell
        rows[part.school_pos * n_types + k] = part.denominator
    unsure = (rows >= n_size) & (rows < CLIMATE_ROWS_PER_RESPONDENT * n_size)
    meets = rows >= CLIMATE_ROWS_PER_RESPONDENT * n_size
    cell = np.where((pos >= 0) & (rtype >= 0), pos * n_types + rtype, -1)
    at = np.flatnonzero(cell >= 0)
    at = at[unsure[cell[at]]]
    if len(at):
        (rid,) = groups_mod.shared_codes(c["respondent_id"].take(at))
        width = np.int64(max(int(rid.max(initial=-1)), 0) + 2)  # -1 (missing) → 0
        distinct = pd.unique(cell[at] * width + (rid + 1))
        count = np.bincount(distinct // width, minlength=len(rows))
        meets[unsure] = count[unsure] >= n_size
    return meets


def sped_disproportionality(
    ctx: _Context, cur: YearData, student_bits: np.ndarray, pos: np.ndarray
) -> list[Part]:
    """SPED_DISPROP (METHODOLOGY "Indicators"), lower is better.

    For a race group, EL or SED: the group's identification rate (% swd) ÷ the rate of all
    other students at the school; numerator = the group's swd students. Where the other
    students' rate is 0, or there are no other students, the ratio is undefined and the
    value is left empty (*default*: no level, no part in the index).
    For ALL: the largest such ratio among race groups meeting the n-size (empty where
    none has one); numerator empty, denominator = all enrolments.
    """
    s = cur.students
    swd = s["swd"].to_numpy(dtype=bool)
    everyone = np.ones(len(s), dtype=bool)
    counts = ctx.aggregate("SPED_DISPROP", pos, student_bits, everyone, swd, kind="counts")
    # the school's totals: every enrolment (ALL), whether or not ALL is a listed group
    total_n = np.bincount(pos[pos >= 0], minlength=ctx.n_schools)
    total_swd = np.bincount(pos[pos >= 0], weights=swd[pos >= 0], minlength=ctx.n_schools)
    sp = counts.school_pos
    n_g = counts.denominator.astype(float)
    swd_g = counts.numerator
    other_n = total_n[sp] - n_g
    other_swd = total_swd[sp] - swd_g
    with np.errstate(divide="ignore", invalid="ignore"):
        other_rate = np.where(other_n > 0, other_swd / other_n, np.nan)
        ratio = np.where(other_rate > 0, (swd_g / n_g) / other_rate, np.nan)
    groups = np.asarray(ctx.m.student_groups, dtype=object)[counts.group_code]
    is_all = groups == "ALL"
    value = np.where(is_all, np.nan, ratio)
    # ALL: the largest ratio among race groups that meet the n-size
    race = np.isin(groups, list(codes.RACE_GROUPS)) & (n_g >= ctx.m.n_size) & ~np.isnan(ratio)
    best = np.full(ctx.n_schools, -np.inf)
    np.maximum.at(best, sp[race], ratio[race])
    best = np.where(np.isinf(best), np.nan, best)
    value[is_all] = best[sp[is_all]]
    counts.value = value
    counts.numerator = np.where(is_all, np.nan, swd_g)
    return [counts]


# ---- helpers ------------------------------------------------------------------------


class IndicatorInputError(ValueError, SqisError):
    """A year's frames lack a column the indicators read (not validated contract data)."""


# The contract columns each rule reads (DATA_CONTRACT.md), by file; ``reads(m)`` adds the
# ones a methodology's settings need.
READS: dict[str, tuple[str, ...]] = {
    "schools": ("school_code", "school_type"),
    "students": (
        "student_id",
        "school_code",
        "grade",
        "race_ethnicity",
        "el_status",
        "redesignated",
        "swd",
        "sed",
        "foster",
        "homeless",
        "days_enrolled",
        "days_absent",
        "suspensions",
        "expelled",
        "promoted",
    ),
    "assessments": (
        "student_id",
        "school_code",
        "subject",
        "grade",
        "scale_score",
        "performance_level",
    ),
    "graduation": (
        "school_code",
        "cohort",
        "outcome",
        "grad_year",
        "race_ethnicity",
        "el",
        "swd",
        "sed",
        "foster",
        "homeless",
    ),
    "sel": ("student_id", "school_code", "score"),
    "climate": ("school_code", "respondent_type", "score"),
}


def reads(m: Methodology | None = None) -> dict[str, tuple[str, ...]]:
    """``READS``, plus ``respondent_id`` for the climate n-size by respondents and the grade
    span for MS_PERSIST by span (``rules.climate_nsize_counts``, ``rules.persist_schools``)."""
    out = dict(READS)
    if m is not None and m.rules.climate_nsize_counts == "respondents":
        out["climate"] = (*out["climate"], "respondent_id")
    if m is not None and m.rules.persist_schools == "span":
        out["schools"] = (*out["schools"], "low_grade", "high_grade")
    return out


def check_columns(yd: YearData, m: Methodology | None = None) -> None:
    """Refuse frames that lack a column a rule reads, naming the year, file and columns."""
    for name, cols in reads(m).items():
        missing = [c for c in cols if c not in yd.frame(name).columns]
        if missing:
            raise IndicatorInputError(
                f"{yd.year}/{name}: missing column(s) {', '.join(missing)} needed by the "
                "indicators (is this a validated delivery? see DATA_CONTRACT.md)"
            )


def _linked_bits(enrolment_pos: np.ndarray, student_bits: np.ndarray, m: Methodology) -> np.ndarray:
    """Group bits of rows linked to an enrolment row; a row without one is in ALL only."""
    all_bit = np.int64(1 << m.student_groups.index("ALL")) if "ALL" in m.student_groups else 0
    if len(student_bits) == 0:
        return np.full(len(enrolment_pos), all_bit, dtype=np.int64)
    return np.where(enrolment_pos >= 0, student_bits[np.maximum(enrolment_pos, 0)], all_bit)


def _combined_codes(frame: pd.DataFrame, on: list[str]) -> np.ndarray:
    key = np.zeros(len(frame), dtype=np.int64)
    for c in on:
        codes_, uniques = pd.factorize(frame[c])
        key = key * (len(uniques) + 1) + codes_
    return key


def empty_indicators() -> pd.DataFrame:
    """The indicators frame with no rows (``schemas.outputs.IndicatorsFrame``)."""
    return empty(IndicatorsFrame)


def _finish(ctx: _Context, parts: list[Part]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_indicators()
    names = list(codes.INDICATORS)
    for p in parts:  # indicators outside the vocabulary are named after it
        for name in [p.indicator] if isinstance(p.indicator, str) else pd.unique(p.indicator):
            if name not in names:
                names.append(name)
    ind_code = np.concatenate(
        [
            np.full(len(p), names.index(p.indicator), dtype=np.int64)
            if isinstance(p.indicator, str)
            else pd.Index(names).get_indexer(p.indicator)
            for p in parts
        ]
    )
    # order: the vocabulary's; every indicator outside it first, in the order given
    in_order = np.where(ind_code < len(codes.INDICATORS), ind_code, -1)

    def joined(attr: str) -> np.ndarray:
        return np.concatenate([getattr(p, attr) for p in parts])

    school_pos, group_code = joined("school_pos"), joined("group_code")
    denominator = joined("denominator").astype(np.int64)
    # the n-size: the denominator, unless the rule decided it (climate by respondents)
    meets = denominator >= ctx.m.n_size
    decided = [p.meets_nsize for p in parts]
    if any(d is not None for d in decided):
        meets = np.concatenate(
            [
                np.asarray(d, dtype=bool) if d is not None else meets_p
                for d, meets_p in zip(
                    decided, np.split(meets, np.cumsum([len(p) for p in parts])[:-1]), strict=True
                )
            ]
        )
    order = np.lexsort((group_code, in_order, school_pos))
    numerator = joined("numerator")[order]
    empty_num = np.isnan(numerator)
    groups = np.asarray(ctx.m.student_groups, dtype=object)
    return pd.DataFrame(
        {
            "school_code": pd.array(ctx.school_codes[school_pos[order]], dtype="str"),
            "student_group": pd.array(groups[group_code[order]], dtype="str"),
            "indicator": pd.array(np.asarray(names, dtype=object)[ind_code[order]], dtype="str"),
            "numerator": pd.arrays.IntegerArray(
                np.where(empty_num, 0, numerator).astype(np.int64), empty_num
            ),
            "denominator": denominator[order],
            "value": joined("value").astype("float64")[order],
            "meets_nsize": meets[order],
        }
    )


def compute_indicators(
    cur: YearData,
    prior: YearData | None,
    prior2: YearData | None,
    m: Methodology,
    growth: pd.DataFrame | BySchool | None = None,
    schools: Iterable[str] | None = None,
    lookups: YearLookups | None = None,
) -> pd.DataFrame:
    """Every indicator of METHODOLOGY.md "Indicators" for every school and student group.

    ``cur`` is the year; ``prior`` last year (growth), ``prior2`` the year
    ``rules.persist_years_back`` back (MS_PERSIST); either may be ``None``, and then the
    indicators needing it have no rows. ``growth`` takes precomputed ELA_GROWTH and
    MATH_GROWTH rows (``sqis.growth.growth_indicators``, fitted once over the whole
    consortium; as ``BySchool`` when every district is handed the same rows); without it
    they are fitted on ``cur`` and ``prior`` as given.
    ``schools`` restricts the output to those school codes (a district's task): pass the
    whole year's data, since MS_PERSIST looks for grade-10 students anywhere.
    ``lookups``: the year's look-ups over ``cur`` and ``prior2`` that every district of the
    year shares (``YearLookups``, made once by the caller holding the years); default:
    this call's own.
    """
    for yd in (cur, prior, prior2):
        if yd is not None:
            check_columns(yd, m)
    if lookups is None:
        lookups = YearLookups(cur, prior2)
    elif not lookups.serves(cur, prior2):
        raise ValueError("compute_indicators: the look-ups given are of other frames")
    ctx = _context(cur.schools, m, schools)
    # A district's task reads only its schools' rows (every rule but MS_PERSIST's "grade
    # 10 anywhere" is per school): so the districts together cost one pass, not one each.
    here = (
        with_student_keys(cur, lookups.keys)
        if schools is None
        else at_schools(cur, ctx.school_codes, m, lookups)
    )
    rows2 = None
    enrolled2 = None
    if prior2 is not None and not prior2.students.empty:
        enrolled2 = lookups.enrolled_later(m.rules.persist_to_grade)
        if schools is not None:
            rows2 = lookups.prior2_students().rows(ctx.school_codes)
    student_pos = ctx.positions(here.students["school_code"])
    student_bits = groups_mod.group_bits(here.students, m)
    parts: list[Part] = []
    parts += achievement(ctx, here, student_bits)
    parts += graduation(ctx, here)
    parts += persistence(ctx, cur, prior2, rows2, enrolled2)
    parts += attendance_and_discipline(ctx, here, student_bits, student_pos)
    parts += sel(ctx, here, student_bits)
    parts += climate(ctx, here)
    parts += redesignation(ctx, here, student_bits, student_pos)
    parts += sped_disproportionality(ctx, here, student_bits, student_pos)
    if growth is None:  # fitted over the whole consortium, never one district
        growth = growth_indicators(fit_growth(cur, prior, m, lookups.keys), cur.schools, m)
    parts.append(_growth_parts(ctx, growth))
    return _finish(ctx, parts)


# ---- a district's rows, without a pass over the whole year per district ---------------

# The files whose rows belong to a school (``school_code``); ``schools`` is the universe.
_SCHOOL_FILES: tuple[str, ...] = ("students", "assessments", "graduation", "sel", "climate")


class BySchool:
    """A frame and its rows grouped by school, to take any schools' rows without a pass
    over the frame: one stable sort, on first use (frames are never mutated,
    ``sqis.yeardata``). Whoever hands the same frame to every district wraps it once."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._once = Once()

    def groups(self) -> tuple[pd.Index, np.ndarray, np.ndarray]:
        """``(codes, order, starts)``: ``codes`` the distinct school codes, ``order`` row
        positions grouped by school (stable), and school ``codes[i]``'s rows are
        ``order[starts[i]:starts[i + 1]]``."""
        return self._once.get("groups", self._group)

    def _group(self) -> tuple[pd.Index, np.ndarray, np.ndarray]:
        idx, codes_ = pd.factorize(self.frame["school_code"])
        order = np.argsort(idx, kind="stable")
        starts = np.searchsorted(idx[order], np.arange(len(codes_) + 1))
        return pd.Index(codes_), order, starts

    def rows(self, school_codes: Iterable[str]) -> np.ndarray:
        """Positions (ascending) of the rows whose ``school_code`` is one of these."""
        codes_, order, starts = self.groups()
        at = codes_.get_indexer(pd.Index(list(dict.fromkeys(school_codes)), dtype=codes_.dtype))
        at = at[at >= 0]
        if len(at) == 0:
            return np.zeros(0, dtype=np.int64)
        pieces = [order[starts[i] : starts[i + 1]] for i in at]  # a loop over schools
        # each piece is ascending: a stable sort (timsort) merges the runs
        return np.sort(np.concatenate(pieces), kind="stable")


class YearLookups:
    """The look-ups over a whole year that every district's ``compute_indicators`` shares,
    each computed once, on first use, by the first district needing it: the year's
    student keys (``sqis.student_keys.YearKeys``, which growth fills when it runs first),
    each school file's rows by school (``BySchool``) and, for MS_PERSIST, each enrolment
    of ``prior2`` (the year ``rules.persist_years_back`` back) enrolled in a grade anywhere
    in ``cur``. The caller holding the years (``sqis.year_inputs.Inputs``) makes one and
    hands it down; nothing is kept anywhere else.
    """

    def __init__(
        self, cur: YearData, prior2: YearData | None = None, keys: YearKeys | None = None
    ) -> None:
        if keys is not None and keys.year_data is not cur:
            raise ValueError("YearLookups: the student keys given are of another year's frames")
        self.cur = cur
        self.prior2 = prior2
        self.keys = keys if keys is not None else YearKeys(cur)
        self._once = Once()

    def serves(self, cur: YearData, prior2: YearData | None) -> bool:
        """Whether these are the look-ups of these years' frames."""
        return self.cur is cur and self.prior2 is prior2

    def by_school(self, name: str) -> BySchool:
        """``cur``'s file ``name`` (one of ``_SCHOOL_FILES``) grouped by school."""
        return self._once.get(("by_school", name), lambda: BySchool(self.cur.frame(name)))

    def coded(self, name: str, column: str) -> np.ndarray | pd.Categorical:
        """``cur``'s column as an array to take rows of: text (the contract's ``str``) as a
        ``pd.Categorical`` (``school_code`` with one dtype for every file:
        ``school_codes``), except the respondent IDs (nearly one per row); anything else
        (numbers, flags, an object column) as it is."""
        return self._once.get(("coded", name, column), lambda: self._coded(name, column))

    def _coded(self, name: str, column: str) -> np.ndarray | pd.Categorical:
        col = self.cur.frame(name)[column]
        if column == "school_code":
            return groups_mod.categorical(col, self.school_codes())
        if isinstance(col.dtype, pd.StringDtype) and column != "respondent_id":
            return groups_mod.categorical(col)
        return col.array  # type: ignore[return-value]

    def school_codes(self) -> pd.CategoricalDtype:
        """Every school code of the year's files, as one categorical dtype: a row's school
        is then the same integer code in every file (assessments link to enrolments by it)."""

        def union() -> pd.CategoricalDtype:
            seen = [self.cur.schools["school_code"]]
            seen += [self.cur.frame(n)["school_code"] for n in _SCHOOL_FILES]
            values = pd.unique(pd.concat([pd.Series(s.unique()) for s in seen]).dropna())
            return pd.CategoricalDtype(sorted(values))

        return self._once.get("school_codes", union)

    def prior2_students(self) -> BySchool:
        """``prior2``'s enrolment grouped by school."""
        prior2 = self.prior2
        assert prior2 is not None
        return self._once.get("prior2_students", lambda: BySchool(prior2.students))

    def enrolled_later(self, grade: int) -> np.ndarray:
        """Per enrolment row of ``prior2``: its student is enrolled in ``grade`` anywhere in
        ``cur`` (``enrolled_in_grade``)."""
        prior2 = self.prior2
        assert prior2 is not None
        return self._once.get(
            ("enrolled_later", int(grade)),
            lambda: enrolled_in_grade(prior2.students, self.cur.students, grade),
        )


def rows_at_schools(frame: pd.DataFrame | BySchool, school_codes: Iterable[str]) -> np.ndarray:
    """Positions (ascending) of the frame's rows whose ``school_code`` is one of these
    (a frame handed to many districts: as ``BySchool``, grouped once)."""
    grouped = frame if isinstance(frame, BySchool) else BySchool(frame)
    return grouped.rows(school_codes)


def at_schools(
    yd: YearData,
    school_codes: Iterable[str],
    m: Methodology | None = None,
    lookups: YearLookups | None = None,
) -> YearData:
    """The year restricted to the rows of the given schools (every school-level file).

    What a district's indicators read: each rule aggregates per school, and an
    assessment or survey row links only to an enrolment at the same school. Only the
    columns the rules read (``reads(m)``) are taken, with the student ID as the year's
    integer code (``STUDENT_KEY``) instead of its 64-character pseudonym. ``lookups``:
    the year's, shared by its districts (default: this call's own).
    """
    if lookups is None:
        lookups = YearLookups(yd)
    elif lookups.cur is not yd:
        raise ValueError("at_schools: the look-ups given are of another year's frames")
    codes_ = list(school_codes)
    keys = lookups.keys.keys()
    columns = reads(m)
    frames = {}
    for name in _SCHOOL_FILES:
        rows = lookups.by_school(name).rows(codes_)
        part = {c: lookups.coded(name, c).take(rows) for c in columns[name] if c != "student_id"}
        if name in keys:
            part[STUDENT_KEY] = keys[name][rows]
        frames[name] = pd.DataFrame(part)
    return YearData(year=yd.year, schools=yd.schools, checksums=yd.checksums, **frames)


def with_student_keys(yd: YearData, keys: YearKeys | None = None) -> YearData:
    """The whole year with ``STUDENT_KEY`` beside ``student_id`` (see ``at_schools``);
    ``keys``: the year's, when shared (default: computed here)."""
    if keys is not None and keys.year_data is not yd:
        raise ValueError("with_student_keys: the student keys given are of another year")
    codes_ = (keys if keys is not None else YearKeys(yd)).keys()
    return replace(
        yd, **{name: yd.frame(name).assign(**{STUDENT_KEY: k}) for name, k in codes_.items()}
    )


def _growth_parts(ctx: _Context, growth: pd.DataFrame | BySchool) -> Part:
    """Precomputed growth rows, re-keyed to the selected schools (others dropped)."""
    rows = growth.frame if isinstance(growth, BySchool) else growth
    if len(rows):  # the consortium's rows, grouped by school once (see BySchool)
        rows = rows.take(rows_at_schools(growth, ctx.school_codes))
    pos = ctx.positions(rows["school_code"])
    gcode = pd.Index(list(ctx.m.student_groups)).get_indexer(rows["student_group"])
    keep = (pos >= 0) & (gcode >= 0)
    g = rows[keep]
    return Part(
        indicator=g["indicator"].to_numpy(dtype=object),
        school_pos=pos[keep],
        group_code=gcode[keep],
        numerator=g["numerator"].to_numpy(dtype="float64", na_value=np.nan),
        denominator=g["denominator"].to_numpy(dtype=np.int64),
        value=g["value"].to_numpy(dtype=float),
    )
