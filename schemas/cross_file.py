"""Rules of the data contract that look across columns or across files (DATA_CONTRACT.md).

Each rule is a plain function over the year's typed frames (``frames[name]``, indexed by
the row number as delivered, values missing where they failed to parse) and returns its
failures in the error format of ``schemas.base`` (``file, row, column, value, rule``),
rule ``cross_file:<name>``. A rule skips values that are missing: their own failure is
already reported. ``CROSS_FILE_RULES`` lists them in the order they run.

All rules are vectorised: membership tests use hashed keys, never a loop over rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.base import concat_errors, empty_errors, make_errors
from schemas.limits import DISTRICT_CODE_DIGITS
from sqis import codes, years

Frames = dict[str, pd.DataFrame]
STUDENT_LEVEL_FILES: tuple[str, ...] = ("students", "assessments", "graduation", "sel")
# The columns each file's rules read: validation keeps only these of the typed frames.
CROSS_FILE_COLUMNS: dict[str, tuple[str, ...]] = {
    "schools": ("school_code", "district_code", "low_grade", "high_grade", "school_type"),
    "students": (
        "student_id",
        "school_code",
        "grade",
        "el_status",
        "redesignated",
        "days_enrolled",
        "days_absent",
    ),
    "assessments": ("student_id", "school_code", "subject", "grade"),
    "graduation": ("school_code", "cohort", "grad_year", "outcome"),
    "sel": ("student_id", "school_code"),
    "climate": ("school_code",),
    # METHODOLOGY.md "Educator effectiveness": the optional educator files
    "educators": ("educator_id", "school_code", "role"),
    "rosters": ("student_id", "educator_id", "school_code"),
}


def _key(*cols: pd.Series | pa.Array) -> pa.Array:
    """The columns joined into one Arrow string key per row (null where any part is missing)."""
    arrays = [c if isinstance(c, pa.Array) else _text(c) for c in cols]
    return pc.binary_join_element_wise(*arrays, pa.scalar("\x1f", pa.large_string()))


def _key_in(left: pa.Array, right: pa.Array) -> np.ndarray:
    """For each key of ``left``, whether it is among the distinct keys ``right`` (hashed)."""
    found = pc.is_in(left, value_set=right)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def school_code_in_schools(frames: Frames, year: str) -> pd.DataFrame:
    """Every ``school_code`` in a student-level or survey file is in ``schools`` (*Inputs*)."""
    if "schools" not in frames:
        return empty_errors()
    known = frames["schools"]["school_code"].dropna().unique()
    parts = []
    for name in ("students", "assessments", "graduation", "sel", "climate", *codes.EDUCATOR_FILES):
        f = frames.get(name)
        if f is None:
            continue
        sc = f["school_code"]
        bad = sc.notna() & ~sc.isin(known)
        parts.append(
            make_errors(name, f.index[bad], "school_code", sc[bad], _rule("school_code_in_schools"))
        )
    return concat_errors(parts)


def district_code_is_school_prefix(frames: Frames, year: str) -> pd.DataFrame:
    """``district_code`` equals the first 7 digits of ``school_code`` (*schools*)."""
    f = frames.get("schools")
    if f is None:
        return empty_errors()
    prefix = f["school_code"].str[:DISTRICT_CODE_DIGITS]
    bad = f["district_code"].notna() & f["school_code"].notna() & (f["district_code"] != prefix)
    bad = bad.fillna(False).astype(bool)
    return make_errors(
        "schools",
        f.index[bad],
        "district_code",
        f["district_code"][bad],
        _rule("district_code_is_school_prefix"),
    )


def low_grade_not_above_high_grade(frames: Frames, year: str) -> pd.DataFrame:
    """A school's ``low_grade`` ≤ ``high_grade`` (*schools*)."""
    f = frames.get("schools")
    if f is None:
        return empty_errors()
    bad = (f["low_grade"] > f["high_grade"]).fillna(False).astype(bool)
    return make_errors(
        "schools",
        f.index[bad],
        "low_grade",
        f["low_grade"][bad],
        _rule("low_grade_le_high_grade"),
    )


def grade_in_school_span(frames: Frames, year: str) -> pd.DataFrame:
    """A student's ``grade`` lies within the school's ``low_grade``–``high_grade`` (*students*)."""
    st, sc = frames.get("students"), frames.get("schools")
    if st is None or sc is None:
        return empty_errors()
    span = sc.dropna(subset=["school_code"]).drop_duplicates("school_code").set_index("school_code")
    low = st["school_code"].map(span["low_grade"])
    high = st["school_code"].map(span["high_grade"])
    g = st["grade"]
    bad = ((g < low) | (g > high)).fillna(False).astype(bool)
    return make_errors("students", st.index[bad], "grade", g[bad], _rule("grade_in_school_span"))


def redesignated_only_el(frames: Frames, year: str) -> pd.DataFrame:
    """``redesignated`` is ``Y`` only where ``el_status`` is ``EL`` (*students*)."""
    st = frames.get("students")
    if st is None:
        return empty_errors()
    bad = (st["redesignated"] & (st["el_status"] != "EL")).fillna(False).astype(bool)
    bad &= st["el_status"].notna()
    return make_errors(
        "students", st.index[bad], "redesignated", "Y", _rule("redesignated_only_el")
    )


def days_absent_within_enrolled(frames: Frames, year: str) -> pd.DataFrame:
    """``days_absent`` ≤ ``days_enrolled`` (*students*)."""
    st = frames.get("students")
    if st is None:
        return empty_errors()
    bad = (st["days_absent"] > st["days_enrolled"]).fillna(False).astype(bool)
    return make_errors(
        "students",
        st.index[bad],
        "days_absent",
        st["days_absent"][bad],
        _rule("days_absent_le_days_enrolled"),
    )


def _enrolled(
    frames: Frames, name: str, rule: str, enrolled: _Enrolment | None = None
) -> pd.DataFrame:
    f, st = frames.get(name), frames.get("students")
    if f is None or st is None:
        return empty_errors()
    if enrolled is None:
        enrolled = _Enrolment(st)
    present = (f["student_id"].notna() & f["school_code"].notna()).to_numpy(dtype=bool)
    found = enrolled.contains(f["student_id"], f["school_code"])
    bad = present & ~found
    return make_errors(name, f.index[bad], "student_id", f["student_id"][bad], _rule(rule))


_ID_CODE_DIGITS = 17  # an ID of up to 17 digits, times 32, plus its length, fits int64


class _Enrolment:
    """The distinct (student, school) pairs of the students file, for membership tests.

    The pairs are compared as integers where every student ID (here and in the file
    tested) is a short string of ASCII digits: the ID's number and length, and the
    school's position among the students file's schools, identify the pair exactly (and
    an ID without the separator cannot make two pairs join to the same text). Otherwise
    the pairs are compared as their joined text, as ``_key`` builds it.
    """

    def __init__(self, st: pd.DataFrame) -> None:
        self._ids = _text(st["student_id"])
        self._schools_col = _text(st["school_code"])
        self._schools = pc.unique(self._schools_col).drop_null()
        self._text_keys: pa.Array | None = None
        self._int_keys: pa.Array | None = None

    def contains(self, student_id: pd.Series, school_code: pd.Series) -> np.ndarray:
        """For each row, whether its (student, school) pair is enrolled (False where missing)."""
        ids = _text(student_id)
        digits = _numeric_ids(self._ids, ids)
        if digits is not None and 32 * 10**digits * (len(self._schools) + 1) < 2**63:
            if self._int_keys is None:  # (the students file's IDs are numeric: checked above)
                self._int_keys = pc.unique(self._pairs(self._ids, self._schools_col)).drop_null()
            pairs = self._pairs(ids, _text(school_code))
            return _key_in(pairs, self._int_keys)
        if self._text_keys is None:
            self._text_keys = pc.unique(_key(self._ids, self._schools_col)).drop_null()
        return _key_in(_key(ids, _text(school_code)), self._text_keys)

    def _pairs(self, ids: pa.Array, schools: pa.Array) -> pa.Array:
        """``(number × 32 + length) × schools + school position``; null where unknown."""
        number = pc.cast(ids, pa.int64())
        code = pc.add(pc.multiply(number, 32), pc.cast(pc.binary_length(ids), pa.int64()))
        school = pc.cast(pc.index_in(schools, value_set=self._schools), pa.int64())
        return pc.add(pc.multiply(code, max(len(self._schools), 1)), school)


def _numeric_ids(*columns: pa.Array) -> int | None:
    """The most digits of an ID when every present value is 1–17 ASCII digits, else ``None``."""
    longest = 0
    for ids in columns:
        if pc.any(pc.invert(pc.ascii_is_decimal(ids))).as_py():
            return None
        longest = max(longest, pc.max(pc.binary_length(ids)).as_py() or 0)
    return longest if longest <= _ID_CODE_DIGITS else None


def _text(values: pd.Series) -> pa.Array:
    """A column as one Arrow ``large_string`` array (as text, nulls where missing)."""
    arr = pa.array(values.astype("str").array, pa.large_string())
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def assessment_student_enrolled(frames: Frames, year: str) -> pd.DataFrame:
    """An assessment's student is enrolled at that school this year (*assessments*)."""
    return _enrolled(frames, "assessments", "assessment_student_enrolled")


def sel_student_enrolled(frames: Frames, year: str) -> pd.DataFrame:
    """An SEL survey row's student is enrolled at that school this year (*sel*)."""
    return _enrolled(frames, "sel", "sel_student_enrolled")


def students_enrolled(frames: Frames, year: str) -> pd.DataFrame:
    """Both enrolment rules above, sharing one set of the students file's keys."""
    st = frames.get("students")
    if st is None:
        return empty_errors()
    enrolled = _Enrolment(st)
    return concat_errors(
        [
            _enrolled(frames, "assessments", "assessment_student_enrolled", enrolled),
            _enrolled(frames, "sel", "sel_student_enrolled", enrolled),
            _enrolled(frames, "rosters", "roster_student_enrolled", enrolled),
        ]
    )


def roster_educator_is_teacher(frames: Frames, year: str) -> pd.DataFrame:
    """A roster's educator is a ``TEACHER`` of that school in ``educators`` (*rosters*)."""
    r, ed = frames.get("rosters"), frames.get("educators")
    if r is None or ed is None:
        return empty_errors()
    teachers = ed[(ed["role"] == "TEACHER").fillna(False).astype(bool)]
    known = pc.unique(_key(teachers["educator_id"], teachers["school_code"])).drop_null()
    present = (r["educator_id"].notna() & r["school_code"].notna()).to_numpy(dtype=bool)
    bad = present & ~_key_in(_key(r["educator_id"], r["school_code"]), known)
    return make_errors(
        "rosters",
        r.index[bad],
        "educator_id",
        r["educator_id"][bad],
        _rule("roster_educator_is_teacher"),
    )


def one_principal_per_school(frames: Frames, year: str) -> pd.DataFrame:
    """Each school of ``schools`` has exactly one ``PRINCIPAL`` in ``educators`` (*educators*):
    a second principal is reported on its educators row, a school without one on its
    schools row."""
    ed, sc = frames.get("educators"), frames.get("schools")
    if ed is None:
        return empty_errors()
    is_principal = (ed["role"] == "PRINCIPAL").fillna(False).astype(bool)
    principals = ed.loc[is_principal & ed["school_code"].notna(), "school_code"]
    extra = principals.duplicated(keep="first")
    parts = [
        make_errors(
            "educators",
            principals.index[extra.to_numpy()],
            "role",
            principals[extra].astype("str") + " has another PRINCIPAL",
            _rule("one_principal_per_school"),
        )
    ]
    if sc is not None and not ed["role"].isna().any():
        codes_ = sc["school_code"]
        missing = (codes_.notna() & ~codes_.isin(principals.unique())).to_numpy(dtype=bool)
        parts.append(
            make_errors(
                "schools",
                sc.index[missing],
                "school_code",
                codes_[missing].astype("str") + ": no PRINCIPAL in educators",
                _rule("one_principal_per_school"),
            )
        )
    return concat_errors(parts)


def subject_grade_valid(frames: Frames, year: str) -> pd.DataFrame:
    """The grade is one assessed in the subject: ELA/MATH 3–8 or 11; SCI 5, 8, 10–12."""
    f = frames.get("assessments")
    if f is None:
        return empty_errors()
    ok = pd.Series(False, index=f.index)
    for subject, grades in codes.ASSESSED_GRADES.items():
        ok |= ((f["subject"] == subject) & f["grade"].isin(grades)).fillna(False).astype(bool)
    known = f["subject"].isin(codes.SUBJECTS) & f["grade"].notna()
    bad = known.fillna(False).astype(bool) & ~ok
    return make_errors(
        "assessments",
        f.index[bad],
        "grade",
        f["subject"][bad].astype("str") + " grade " + f["grade"][bad].astype("str"),
        _rule("subject_grade_valid"),
    )


def graduation_school_is_hs(frames: Frames, year: str) -> pd.DataFrame:
    """A graduation row's school of accountability is an ``HS`` school (*graduation*)."""
    g, sc = frames.get("graduation"), frames.get("schools")
    if g is None or sc is None:
        return empty_errors()
    types = sc.dropna(subset=["school_code"]).drop_duplicates("school_code")
    school_type = g["school_code"].map(types.set_index("school_code")["school_type"])
    bad = (school_type.notna() & (school_type != "HS")).fillna(False).astype(bool)
    return make_errors(
        "graduation",
        g.index[bad],
        "school_code",
        g["school_code"][bad],
        _rule("graduation_school_is_hs"),
    )


def _year_start(s: pd.Series) -> pd.Series:
    """``YYYY-YY`` → start year (float, NaN where missing or not a consecutive school year)."""
    arr = pa.array(s.astype("str"))
    shape = pc.fill_null(pc.match_substring_regex(arr, r"^\d{4}-\d{2}$"), False)
    text = pc.if_else(shape, arr, pa.scalar(None, arr.type))
    start = pc.cast(pc.utf8_slice_codeunits(text, 0, 4), pa.float64())
    end = pc.cast(pc.utf8_slice_codeunits(text, 5, 7), pa.float64())
    start_s = pd.Series(start.to_numpy(zero_copy_only=False), index=s.index)
    end_s = pd.Series(end.to_numpy(zero_copy_only=False), index=s.index)
    return start_s.where((start_s + 1) % 100 == end_s)


def graduation_years(frames: Frames, year: str) -> pd.DataFrame:
    """``grad_year`` present iff ``GRAD``; after the cohort year and not after this year.

    DATA_CONTRACT.md, *graduation*. Also: ``cohort`` and ``grad_year`` are real school
    years (the second part is the year after the first).
    """
    g = frames.get("graduation")
    if g is None:
        return empty_errors()
    this_year = years.start_of(year)
    parts = []
    cohort = _year_start(g["cohort"])
    bad_cohort = g["cohort"].notna() & cohort.isna()
    bad_cohort = bad_cohort.fillna(False).astype(bool)
    parts.append(
        make_errors(
            "graduation",
            g.index[bad_cohort],
            "cohort",
            g["cohort"][bad_cohort],
            _rule("school_year_valid"),
        )
    )
    gy = _year_start(g["grad_year"])
    has_gy = g["grad_year"].notna()
    bad_gy = (has_gy & gy.isna()).fillna(False).astype(bool)
    parts.append(
        make_errors(
            "graduation",
            g.index[bad_gy],
            "grad_year",
            g["grad_year"][bad_gy],
            _rule("school_year_valid"),
        )
    )
    is_grad = (g["outcome"] == "GRAD").fillna(False).astype(bool)
    known_outcome = g["outcome"].isin(codes.GRAD_OUTCOMES).fillna(False).astype(bool)
    missing = is_grad & ~has_gy
    extra = known_outcome & ~is_grad & has_gy
    parts.append(
        make_errors("graduation", g.index[missing], "grad_year", "", _rule("grad_year_iff_grad"))
    )
    parts.append(
        make_errors(
            "graduation",
            g.index[extra],
            "grad_year",
            g["grad_year"][extra],
            _rule("grad_year_iff_grad"),
        )
    )
    not_after_cohort = (gy <= cohort).fillna(False).astype(bool)
    parts.append(
        make_errors(
            "graduation",
            g.index[not_after_cohort],
            "grad_year",
            g["grad_year"][not_after_cohort],
            _rule("grad_year_after_cohort"),
        )
    )
    after_year = (gy > this_year).fillna(False).astype(bool)
    parts.append(
        make_errors(
            "graduation",
            g.index[after_year],
            "grad_year",
            g["grad_year"][after_year],
            _rule("grad_year_not_after_year"),
        )
    )
    return concat_errors(parts)


def graduation_cohort_measured(
    frames: Frames, year: str, cohort_offsets: dict[str, int] | None = None
) -> pd.DataFrame:
    """The cohorts measured this year only: entered grade 9 the methodology's offsets before.

    DATA_CONTRACT.md, *graduation* ("holds the cohorts measured this year");
    METHODOLOGY.md, *Indicators* (``GRAD4/5/6``; offsets ``rules.grad_cohort_offsets``).
    """
    g = frames.get("graduation")
    if g is None or not cohort_offsets:
        return empty_errors()
    measured = [years.shift(year, -k) for k in sorted(set(cohort_offsets.values()))]
    cohort = _year_start(g["cohort"])
    bad = (cohort.notna() & ~g["cohort"].isin(measured)).fillna(False).astype(bool)
    return make_errors(
        "graduation", g.index[bad], "cohort", g["cohort"][bad], _rule("graduation_cohort_measured")
    )


def _rule(name: str) -> str:
    return f"cross_file:{name}"


CROSS_FILE_RULES: tuple[Callable[[Frames, str], pd.DataFrame], ...] = (
    district_code_is_school_prefix,
    low_grade_not_above_high_grade,
    school_code_in_schools,
    grade_in_school_span,
    redesignated_only_el,
    days_absent_within_enrolled,
    students_enrolled,  # assessment_, sel_ and roster_student_enrolled
    subject_grade_valid,
    graduation_school_is_hs,
    graduation_years,
    roster_educator_is_teacher,
    one_principal_per_school,
)


def check_cross_file(
    frames: Frames, year: str, cohort_offsets: dict[str, int] | None = None
) -> pd.DataFrame:
    """Every cross-file rule over a year's typed frames; their failures, concatenated."""
    parts = [rule(frames, year) for rule in CROSS_FILE_RULES]
    parts.append(graduation_cohort_measured(frames, year, cohort_offsets))
    return concat_errors(parts)


__all__ = ["CROSS_FILE_COLUMNS", "CROSS_FILE_RULES", "STUDENT_LEVEL_FILES", "check_cross_file"]
