"""A corpus of malformed deliveries: each breaks one rule of the data contract.

A small valid year (``valid_year``: four schools, nine enrolments, written by hand) is
mutated one way per case; each case asserts the exact rule, column and row reported,
and that ``ingest_year`` then refuses and leaves the store byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

YEAR = "2015-16"

# ---- the valid year ---------------------------------------------------------------------

ES, MS, HS, HS2 = "01123450000001", "01123450000002", "01123450000003", "19647330000004"


def valid_year() -> dict[str, pd.DataFrame]:
    """A small delivery for 2015-16 that satisfies every rule (all values as text)."""
    schools = pd.DataFrame(
        {
            "school_code": [ES, MS, HS, HS2],
            "district_code": ["0112345", "0112345", "0112345", "1964733"],
            "school_name": ["Alder Elementary", "Birch Middle", "Cedar High", "Dogwood High"],
            "district_name": ["Alameda Unified", "Alameda Unified", "Alameda Unified", "LA"],
            "school_type": ["ES", "MS", "HS", "HS"],
            "title_i": ["Y", "Y", "N", "Y"],
            "low_grade": ["0", "6", "9", "9"],
            "high_grade": ["5", "8", "12", "12"],
        }
    )
    # id school grade race gender el redesignated swd sed foster homeless enrolled absent
    # suspensions expelled promoted
    s = [
        line.split()
        for line in """
        1000000001 ES  3  HI F EL   Y N Y N N 180 4   0 N Y
        1000000002 ES  5  WH M EO   N Y N N N 180 20  1 N Y
        1000000003 MS  6  AA X RFEP N N Y Y N 175 0   0 N Y
        1000000004 MS  8  AS F IFEP N N N N Y 90  9   2 Y N
        1000000004 HS  9  AS F IFEP N N N N Y 90  3   0 N Y
        1000000005 HS  11 NR M TBD  N N Y N N 200 200 0 N N
        1000000006 HS  12 MR F EL   N Y Y N N 0   0   0 N Y
        1000000007 HS2 10 PI M EO   N N N N N 150 15  0 N Y
        1000000008 HS2 11 FI F EO   N N N N N 160 1   0 N Y
        """.strip().splitlines()
    ]
    s = [[r[0], {"ES": ES, "MS": MS, "HS": HS, "HS2": HS2}[r[1]], *r[2:]] for r in s]
    students = pd.DataFrame(
        s,
        columns=[
            "student_id",
            "school_code",
            "grade",
            "race_ethnicity",
            "gender",
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
        ],
    )  # fmt: skip
    assessments = pd.DataFrame(
        [
            ("1000000001", ES, "ELA", "3", "2400.5", "2"),
            ("1000000001", ES, "MATH", "3", "2380", "1"),
            ("1000000002", ES, "SCI", "5", "2600", "4"),
            ("1000000004", MS, "ELA", "8", "2550", "3"),
            ("1000000005", HS, "MATH", "11", "2000", "1"),
            ("1000000008", HS2, "SCI", "11", "3000", "4"),
        ],
        columns=[
            "student_id",
            "school_code",
            "subject",
            "grade",
            "scale_score",
            "performance_level",
        ],
    )
    graduation = pd.DataFrame(
        [
            ("1000000006", HS, "2012-13", "GRAD", "2015-16", "MR", "Y", "Y", "Y", "N", "N"),
            ("1000000009", HS, "2011-12", "DROP", "", "WH", "N", "N", "N", "N", "N"),
            ("1000000010", HS2, "2010-11", "GRAD", "2014-15", "HI", "Y", "N", "Y", "N", "Y"),
            ("1000000011", HS2, "2012-13", "CONT", "", "AA", "N", "N", "Y", "Y", "N"),
        ],
        columns=[
            "student_id", "school_code", "cohort", "outcome", "grad_year", "race_ethnicity",
            "el", "swd", "sed", "foster", "homeless",
        ],
    )  # fmt: skip
    sel = pd.DataFrame(
        [
            ("1000000001", ES, "GM", "3.5"),
            ("1000000001", ES, "SE", "4"),
            ("1000000003", MS, "SM", "1"),
            ("1000000004", HS, "SA", "5"),
            ("1000000007", HS2, "GM", "2.25"),
        ],
        columns=["student_id", "school_code", "construct", "score"],
    )
    climate = pd.DataFrame(
        [
            ("R1", ES, "STUDENT", "CS", "4"),
            ("R1", ES, "STUDENT", "SC", "3.5"),
            ("R1", ES, "STAFF", "CS", "5"),
            ("P-17", MS, "PARENT", "KF", "1"),
            ("X9", HS2, "STUDENT", "SB", "4.5"),
        ],
        columns=["respondent_id", "school_code", "respondent_type", "construct", "score"],
    )
    return {
        "schools": schools,
        "students": students,
        "assessments": assessments,
        "graduation": graduation,
        "sel": sel,
        "climate": climate,
    }


def write_year(
    root: Path, frames: dict[str, pd.DataFrame], year: str = YEAR, fmt: str = "csv"
) -> Path:
    """Write a delivery as ``<root>/<year>/<file>.csv`` (or ``.parquet``, all columns text)."""
    folder = Path(root) / year
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        if fmt == "csv":
            df.to_csv(folder / f"{name}.csv", index=False)
        else:
            df.astype("str").to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def tree_digest(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (empty when it does not exist)."""
    root = Path(root)
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# ---- mutations ---------------------------------------------------------------------------

Frames = dict[str, pd.DataFrame]


def setv(name: str, row: int, column: str, value: str) -> Callable[[Frames], None]:
    """Set one value; ``row`` as delivered (the first data row of a CSV is row 2)."""

    def mutate(f: Frames) -> None:
        f[name].loc[row - 2, column] = value

    return mutate


def append_copy(name: str, row: int, **changes: str) -> Callable[[Frames], None]:
    def mutate(f: Frames) -> None:
        new = f[name].iloc[[row - 2]].assign(**changes)
        f[name] = pd.concat([f[name], new], ignore_index=True)

    return mutate


def add_column(name: str, column: str) -> Callable[[Frames], None]:
    def mutate(f: Frames) -> None:
        f[name] = f[name].assign(**{column: "x"})

    return mutate


def drop_column(name: str, column: str) -> Callable[[Frames], None]:
    def mutate(f: Frames) -> None:
        f[name] = f[name].drop(columns=column)

    return mutate


def both(*mutations: Callable[[Frames], None]) -> Callable[[Frames], None]:
    def mutate(f: Frames) -> None:
        for m in mutations:
            m(f)

    return mutate


D14, D10 = r"str_matches('^[0-9]{14}\Z')", r"str_matches('^[0-9]{10}\Z')"
YN = "isin(['Y', 'N'])"
XF = "cross_file:"

# (id, mutation, every failure expected: (file, row or None, column, rule))
FRAME_CASES: list[tuple[str, Callable[[Frames], None], set[tuple]]] = [
    ("school_code_13_digits",
     append_copy("schools", 2, school_code="0112345000009"),
     {("schools", 6, "school_code", D14)}),
    ("school_code_duplicate",
     append_copy("schools", 2),
     {("schools", 2, "school_code", "unique"), ("schools", 6, "school_code", "unique")}),
    ("district_code_not_prefix",
     setv("schools", 5, "district_code", "0112345"),
     {("schools", 5, "district_code", XF + "district_code_is_school_prefix")}),
    ("district_code_6_digits",
     setv("schools", 2, "district_code", "112345"),
     {("schools", 2, "district_code", r"str_matches('^[0-9]{7}\Z')"),
      ("schools", 2, "district_code", XF + "district_code_is_school_prefix")}),
    ("school_type_unknown",
     setv("schools", 3, "school_type", "K8"),
     {("schools", 3, "school_type", "isin(['ES', 'MS', 'HS'])")}),
    ("title_i_not_a_flag",
     setv("schools", 2, "title_i", "yes"),
     {("schools", 2, "title_i", YN)}),
    ("low_grade_above_high_grade",
     setv("schools", 3, "low_grade", "9"),
     {("schools", 3, "low_grade", XF + "low_grade_le_high_grade"),
      ("students", 4, "grade", XF + "grade_in_school_span"),
      ("students", 5, "grade", XF + "grade_in_school_span")}),
    ("high_grade_13",
     setv("schools", 4, "high_grade", "13"),
     {("schools", 4, "high_grade", "less_than_or_equal_to(12)")}),
    ("school_name_empty",
     setv("schools", 2, "school_name", ""),
     {("schools", 2, "school_name", "not_nullable")}),
    ("school_name_blank",
     setv("schools", 2, "school_name", "   "),
     {("schools", 2, "school_name", r"str_matches('\s*\S')")}),
    ("student_id_not_10_digits",
     setv("students", 8, "student_id", "10000000X6"),
     {("students", 8, "student_id", D10)}),
    ("grade_not_an_integer",
     setv("students", 3, "grade", "5.0"),
     {("students", 3, "grade", "integer")}),
    ("grade_missing",
     setv("students", 3, "grade", ""),
     {("students", 3, "grade", "not_nullable")}),
    ("race_unknown",
     setv("students", 4, "race_ethnicity", "XX"),
     {("students", 4, "race_ethnicity",
       "isin(['AA', 'AI', 'AS', 'FI', 'HI', 'PI', 'WH', 'MR', 'NR'])")}),
    ("gender_unknown",
     setv("students", 4, "gender", "U"),
     {("students", 4, "gender", "isin(['F', 'M', 'X'])")}),
    ("el_status_unknown",
     setv("students", 3, "el_status", "LEP"),
     {("students", 3, "el_status", "isin(['EO', 'IFEP', 'EL', 'RFEP', 'TBD'])")}),
    ("redesignated_not_el",
     setv("students", 3, "redesignated", "Y"),
     {("students", 3, "redesignated", XF + "redesignated_only_el")}),
    ("flag_lowercase",
     setv("students", 5, "swd", "y"),
     {("students", 5, "swd", YN)}),
    ("days_absent_above_enrolled",
     setv("students", 3, "days_absent", "181"),
     {("students", 3, "days_absent", XF + "days_absent_le_days_enrolled")}),
    ("days_enrolled_201",
     setv("students", 2, "days_enrolled", "201"),
     {("students", 2, "days_enrolled", "less_than_or_equal_to(200)")}),
    ("suspensions_negative",
     setv("students", 2, "suspensions", "-1"),
     {("students", 2, "suspensions", "greater_than_or_equal_to(0)")}),
    ("grade_outside_school_span",
     setv("students", 2, "grade", "7"),
     {("students", 2, "grade", XF + "grade_in_school_span")}),
    ("enrolment_duplicate",
     append_copy("students", 3),
     {("students", 3, "student_id,school_code", "unique(student_id, school_code)"),
      ("students", 11, "student_id,school_code", "unique(student_id, school_code)")}),
    ("student_school_unknown",
     setv("students", 8, "school_code", "01123450000099"),
     {("students", 8, "school_code", XF + "school_code_in_schools")}),
    ("extra_column",
     add_column("students", "nickname"),
     {("students", None, "nickname", "column_unexpected")}),
    ("assessment_student_not_enrolled_there",
     setv("assessments", 2, "school_code", MS),
     {("assessments", 2, "student_id", XF + "assessment_student_enrolled")}),
    ("assessment_subject_grade_invalid",
     setv("assessments", 4, "grade", "6"),
     {("assessments", 4, "grade", XF + "subject_grade_valid")}),
    ("scale_score_below_range",
     setv("assessments", 2, "scale_score", "1999.9"),
     {("assessments", 2, "scale_score", "greater_than_or_equal_to(2000.0)")}),
    ("scale_score_not_a_number",
     setv("assessments", 3, "scale_score", "n/a"),
     {("assessments", 3, "scale_score", "number")}),
    ("performance_level_5",
     setv("assessments", 5, "performance_level", "5"),
     {("assessments", 5, "performance_level", "isin([1, 2, 3, 4])")}),
    ("two_tests_same_subject",
     append_copy("assessments", 2, scale_score="2410"),
     {("assessments", 2, "student_id,subject", "unique(student_id, subject)"),
      ("assessments", 8, "student_id,subject", "unique(student_id, subject)")}),
    ("graduation_at_middle_school",
     setv("graduation", 2, "school_code", MS),
     {("graduation", 2, "school_code", XF + "graduation_school_is_hs")}),
    ("grad_without_grad_year",
     setv("graduation", 2, "grad_year", ""),
     {("graduation", 2, "grad_year", XF + "grad_year_iff_grad")}),
    ("drop_with_grad_year",
     setv("graduation", 3, "grad_year", "2014-15"),
     {("graduation", 3, "grad_year", XF + "grad_year_iff_grad")}),
    ("grad_year_not_after_cohort",
     setv("graduation", 2, "grad_year", "2012-13"),
     {("graduation", 2, "grad_year", XF + "grad_year_after_cohort")}),
    ("grad_year_after_this_year",
     setv("graduation", 2, "grad_year", "2016-17"),
     {("graduation", 2, "grad_year", XF + "grad_year_not_after_year")}),
    ("cohort_not_measured_this_year",
     setv("graduation", 5, "cohort", "2013-14"),
     {("graduation", 5, "cohort", XF + "graduation_cohort_measured")}),
    ("cohort_not_a_school_year",
     setv("graduation", 3, "cohort", "2011-13"),
     {("graduation", 3, "cohort", XF + "school_year_valid")}),
    ("outcome_unknown",
     setv("graduation", 3, "outcome", "TRANSFER"),
     {("graduation", 3, "outcome", "isin(['GRAD', 'DROP', 'CONT', 'OTHER'])")}),
    ("graduation_duplicate_cohort_row",
     append_copy("graduation", 3, school_code=HS2),
     {("graduation", 3, "student_id,cohort", "unique(student_id, cohort)"),
      ("graduation", 6, "student_id,cohort", "unique(student_id, cohort)")}),
    ("sel_student_not_enrolled_there",
     setv("sel", 5, "school_code", ES),
     {("sel", 5, "student_id", XF + "sel_student_enrolled")}),
    ("sel_score_above_5",
     setv("sel", 3, "score", "5.5"),
     {("sel", 3, "score", "less_than_or_equal_to(5.0)")}),
    ("sel_construct_unknown",
     setv("sel", 4, "construct", "GRIT"),
     {("sel", 4, "construct", "isin(['GM', 'SE', 'SM', 'SA'])")}),
    ("sel_missing_column",
     drop_column("sel", "score"),
     {("sel", None, "score", "column_missing")}),
    ("climate_respondent_type_unknown",
     setv("climate", 4, "respondent_type", "TEACHER"),
     {("climate", 4, "respondent_type", "isin(['STUDENT', 'STAFF', 'PARENT'])")}),
    ("climate_survey_id_duplicate",
     append_copy("climate", 2, score="2"),
     {("climate", 2, "school_code,respondent_type,respondent_id,construct",
       "unique(school_code, respondent_type, respondent_id, construct)"),
      ("climate", 7, "school_code,respondent_type,respondent_id,construct",
       "unique(school_code, respondent_type, respondent_id, construct)")}),
    ("climate_school_unknown",
     setv("climate", 6, "school_code", "19647330000099"),
     {("climate", 6, "school_code", XF + "school_code_in_schools")}),
    ("climate_score_missing",
     setv("climate", 3, "score", ""),
     {("climate", 3, "score", "not_nullable")}),
    ("two_faults_in_two_files",
     both(setv("students", 4, "gender", "Q"), setv("sel", 2, "score", "0")),
     {("students", 4, "gender", "isin(['F', 'M', 'X'])"),
      ("sel", 2, "score", "greater_than_or_equal_to(1.0)")}),
]  # fmt: skip


def _write_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        (folder / f"{name}.csv").write_bytes(data)

    return mutate


def _append_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        with (folder / f"{name}.csv").open("ab") as fh:
            fh.write(data)

    return mutate


def _schools_parquet_int_codes(folder: Path) -> None:
    df = pd.read_csv(folder / "schools.csv", dtype=str, keep_default_na=False)
    df = df.assign(school_code=df["school_code"].astype("int64"))
    (folder / "schools.csv").unlink()
    df.to_parquet(folder / "schools.parquet", index=False)


def _students_also_parquet(folder: Path) -> None:
    pd.read_csv(folder / "students.csv", dtype=str).to_parquet(folder / "students.parquet")


def _dup_header(folder: Path) -> None:
    p = folder / "sel.csv"
    lines = p.read_bytes().split(b"\n")
    lines[0] = lines[0].replace(b"construct", b"school_code")
    p.write_bytes(b"\n".join(lines))


def _truncate_last_line(folder: Path) -> None:
    p = folder / "assessments.csv"
    data = p.read_bytes().rstrip(b"\n")
    p.write_bytes(data[: data.rfind(b",")])  # the last row loses its last field


# (id, mutation of the written folder, the one failure expected)
BYTE_CASES: list[tuple[str, Callable[[Path], None], tuple]] = [
    ("not_utf8", _append_bytes("climate", b"Z\xff9," + ES.encode() + b",STAFF,SB,4\n"),
     ("climate", 7, "", "file:encoding")),
    ("truncated_last_line", _truncate_last_line, ("assessments", 7, "", "file:field_count")),
    ("empty_file", _write_bytes("sel", b""), ("sel", None, "", "file:empty")),
    ("header_only", _write_bytes("sel", b"student_id,school_code,construct,score\n"),
     ("sel", None, "", "file:no_rows")),
    ("duplicate_column_name", _dup_header, ("sel", 1, "school_code", "file:duplicate_column")),
    ("csv_and_parquet", _students_also_parquet, ("students", None, "", "file:ambiguous")),
    ("missing_file", lambda folder: (folder / "climate.csv").unlink(),
     ("climate", None, "", "file:missing")),
    ("parquet_codes_as_integers", _schools_parquet_int_codes,
     ("schools", None, "school_code", "file:parquet_type")),
    ("unterminated_quote", _append_bytes("climate", b'"R7,' + ES.encode() + b",STAFF,SB,4\n"),
     ("climate", 7, "", "file:csv_syntax")),
]  # fmt: skip


def _failures(errors: pd.DataFrame) -> set[tuple]:
    return {
        (r.file, None if pd.isna(r.row) else int(r.row), r.column, r.rule)
        for r in errors.itertuples(index=False)
    }


# ---- the tests ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store that already holds the valid 2015-16 delivery (ingested once per module)."""
    from sqis.ingest import ingest_year
    from sqis.settings import reset_settings_cache
    from tests.conftest import TEST_KEY

    base = tmp_path_factory.mktemp("template")
    write_year(base / "data", valid_year())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SQIS_PSEUDONYM_KEY", TEST_KEY)
        reset_settings_cache()
        ingest_year(str(base / "data"), YEAR, store_root=str(base / "store"))
    reset_settings_cache()
    return base / "store"


def _refused_report(data: Path, store_template: Path, tmp_path: Path):
    """Ingest (with --replace) into a copy of the template store: it must refuse, the store
    must be byte-for-byte unchanged; returns the validation report the refusal carries."""
    import shutil

    from sqis.ingest import DeliveryInvalid, ingest_year

    store = tmp_path / "store"
    shutil.copytree(store_template, store)
    before = tree_digest(store)
    assert before, "the store holds the earlier delivery"
    with pytest.raises(DeliveryInvalid) as e:
        ingest_year(str(data), YEAR, store_root=str(store), replace=True)
    assert tree_digest(store) == before
    return e.value.report


def test_the_valid_year_is_clean(tmp_path: Path) -> None:
    from sqis.validation import validate_delivery

    write_year(tmp_path, valid_year())
    report = validate_delivery(str(tmp_path), YEAR)
    assert report.ok, report.errors.to_string()
    assert set(report.frames) == {
        "schools", "students", "assessments", "graduation", "sel", "climate"
    }  # fmt: skip
    st = report.frames["students"]
    assert st["swd"].dtype == bool and st["grade"].dtype == "int64"
    assert st["swd"].tolist() == [False, True, False, False, False, False, True, False, False]
    assert report.frames["assessments"]["scale_score"].tolist()[0] == 2400.5


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in FRAME_CASES],
                         ids=[c[0] for c in FRAME_CASES])  # fmt: skip
def test_malformed_values_are_reported_exactly(
    tmp_path: Path, store_template: Path, mutate: Callable[[Frames], None], expected: set[tuple]
) -> None:
    frames = valid_year()
    mutate(frames)
    write_year(tmp_path / "data", frames)
    report = _refused_report(tmp_path / "data", store_template, tmp_path)
    assert _failures(report.errors) == expected


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in BYTE_CASES],
                         ids=[c[0] for c in BYTE_CASES])  # fmt: skip
def test_unreadable_files_are_reported_exactly(
    tmp_path: Path, store_template: Path, mutate: Callable[[Path], None], expected: tuple
) -> None:
    folder = write_year(tmp_path / "data", valid_year())
    mutate(folder)
    report = _refused_report(tmp_path / "data", store_template, tmp_path)
    assert _failures(report.errors) == {expected}
    assert list(report.unreadable) == [expected[0]]


def test_student_ids_are_masked_in_the_report(tmp_path: Path) -> None:
    from sqis.validation import validate_delivery

    frames = valid_year()
    setv("assessments", 2, "school_code", MS)(frames)  # 1000000001 not enrolled at MS
    append_copy("students", 3)(frames)  # 1000000002 twice at ES
    write_year(tmp_path, frames)
    report = validate_delivery(str(tmp_path), YEAR)
    values = set(report.errors["value"])
    assert "******0001" in values
    assert f"******0002|{ES}" in values
    out = tmp_path / "report.csv"
    report.write_csv(out)
    text = out.read_text()
    assert "1000000001" not in text and "1000000002" not in text
    assert text.splitlines()[0] == "file,row,column,value,rule"


def test_optional_columns_are_allowed_when_the_methodology_lists_them(tmp_path: Path) -> None:
    from sqis.methodology import for_year
    from sqis.validation import validate_delivery

    frames = valid_year()
    add_column("students", "local_note")(frames)
    write_year(tmp_path, frames)
    m = for_year(YEAR)
    assert not validate_delivery(str(tmp_path), YEAR, m).ok
    m2 = m.model_copy(update={"optional_columns": {"students": ("local_note",)}})
    report = validate_delivery(str(tmp_path), YEAR, m2)
    assert report.ok
    assert report.frames["students"]["local_note"].tolist() == ["x"] * 9


def test_summary_counts_per_file_rule_and_column(tmp_path: Path) -> None:
    from sqis.validation import validate_delivery

    frames = valid_year()
    both(setv("students", 2, "gender", "Q"), setv("students", 3, "gender", "Q"),
         setv("sel", 2, "score", "9"))(frames)  # fmt: skip
    write_year(tmp_path, frames)
    summary = validate_delivery(str(tmp_path), YEAR).summary()
    assert summary.to_dict("records") == [
        {"file": "students", "rule": "isin(['F', 'M', 'X'])", "column": "gender", "count": 2},
        {"file": "sel", "rule": "less_than_or_equal_to(5.0)", "column": "score", "count": 1},
    ]


def test_corpus_is_large_enough() -> None:
    assert len(FRAME_CASES) + len(BYTE_CASES) >= 30
