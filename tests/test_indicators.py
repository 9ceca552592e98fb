"""Indicators on small hand-computed cases (METHODOLOGY.md "Indicators")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sqis.indicators import compute_indicators
from sqis.methodology import for_year
from tests.builders import (
    assessment,
    climate_row,
    code,
    graduate,
    make_year,
    school,
    sel_row,
    student,
    students,
    value,
)

M = for_year("2015-16")


def rows(ind: pd.DataFrame, label: str, indicator: str) -> dict[str, pd.Series]:
    sub = ind[(ind["school_code"] == code(label)) & (ind["indicator"] == indicator)]
    return {r.student_group: r for r in sub.itertuples()}


def test_columns_and_types() -> None:
    y = make_year(students=students(3))
    ind = compute_indicators(y, None, None, M)
    assert list(ind.columns) == [
        "school_code",
        "student_group",
        "indicator",
        "numerator",
        "denominator",
        "value",
        "meets_nsize",
    ]
    assert ind["meets_nsize"].dtype == bool
    assert str(ind["numerator"].dtype) == "Int64"
    assert (ind["denominator"] >= 1).all()


def test_nsize_19_vs_20() -> None:
    y = make_year(
        schools=[school("A"), school("B")],
        students=students(20, "A", prefix="a") + students(19, "B", prefix="b"),
    )
    ind = compute_indicators(y, None, None, M)
    a = value(ind, "A", "ALL", "SUSP")
    b = value(ind, "B", "ALL", "SUSP")
    assert (a["denominator"], a["meets_nsize"]) == (20, True)
    assert (b["denominator"], b["meets_nsize"]) == (19, False)
    # the value is stored even under the n-size
    assert b["value"] == 0.0


def test_chronic_30_vs_31_days_and_exactly_ten_percent() -> None:
    y = make_year(
        students=[
            student("d30", days_enrolled=30, days_absent=30),  # too short to count
            student("d31", days_enrolled=31, days_absent=3),  # 3 < 3.1: not chronic
            student("e40", days_enrolled=40, days_absent=4),  # exactly 10%: chronic
            student("e70", days_enrolled=70, days_absent=7),  # exactly 10% (0.1*70 rounds up)
            student("u70", days_enrolled=70, days_absent=6),  # under 10%
        ]
    )
    r = value(compute_indicators(y, None, None, M), "A", "ALL", "CHRONIC")
    assert r["denominator"] == 4
    assert r["numerator"] == 2
    assert r["value"] == pytest.approx(50.0)


def test_suspension_or_expulsion() -> None:
    y = make_year(
        students=[
            student("a", suspensions=2),
            student("b", expelled=True),
            student("c", suspensions=1, expelled=True),
            student("d"),
        ]
    )
    r = value(compute_indicators(y, None, None, M), "A", "ALL", "SUSP")
    assert (r["numerator"], r["denominator"], r["value"]) == (3, 4, 75.0)


def test_student_at_two_schools_counts_at_each() -> None:
    y = make_year(
        schools=[school("A"), school("B")],
        students=[
            student("mover", "A", days_enrolled=90, days_absent=20, race_ethnicity="AA"),
            student("mover", "B", days_enrolled=90, days_absent=0, race_ethnicity="AA"),
            student("stay", "A", days_enrolled=180, days_absent=0),
        ],
    )
    ind = compute_indicators(y, None, None, M)
    a = value(ind, "A", "ALL", "CHRONIC")
    b = value(ind, "B", "ALL", "CHRONIC")
    assert (a["numerator"], a["denominator"]) == (1, 2)
    assert (b["numerator"], b["denominator"]) == (0, 1)
    assert value(ind, "B", "AA", "CHRONIC")["denominator"] == 1


def test_race_nr_is_in_all_only() -> None:
    y = make_year(students=[student("n", race_ethnicity="NR")])
    ind = compute_indicators(y, None, None, M)
    assert set(ind.loc[ind["indicator"] == "SUSP", "student_group"]) == {"ALL"}


def test_student_in_several_groups() -> None:
    y = make_year(
        students=[
            student(
                "x",
                race_ethnicity="AA",
                el_status="EL",
                swd=True,
                sed=True,
                foster=True,
                homeless=True,
                suspensions=1,
            ),
        ]
    )
    ind = compute_indicators(y, None, None, M)
    susp = rows(ind, "A", "SUSP")
    assert set(susp) == {"ALL", "AA", "EL", "SWD", "SED", "FOS", "HOM"}
    assert all(r.numerator == 1 and r.denominator == 1 for r in susp.values())


def test_el_is_census_day_status() -> None:
    y = make_year(students=[student("r", el_status="RFEP"), student("e", el_status="EL")])
    ind = compute_indicators(y, None, None, M)
    assert value(ind, "A", "EL", "SUSP")["denominator"] == 1


def test_achievement_met_is_level_3_or_4_and_groups_from_enrolment() -> None:
    y = make_year(
        students=[student("a", race_ethnicity="AS"), student("b"), student("c"), student("d")],
        assessments=[
            assessment("a", subject="ELA", performance_level=4),
            assessment("b", subject="ELA", performance_level=3),
            assessment("c", subject="ELA", performance_level=2),
            assessment("d", subject="ELA", performance_level=1),
            assessment("a", subject="MATH", performance_level=2),
            assessment("a", subject="SCI", grade=5, performance_level=3),
        ],
    )
    ind = compute_indicators(y, None, None, M)
    ela = value(ind, "A", "ALL", "ELA_MET")
    assert (ela["numerator"], ela["denominator"], ela["value"]) == (2, 4, 50.0)
    assert value(ind, "A", "AS", "ELA_MET")["value"] == 100.0
    assert value(ind, "A", "HI", "ELA_MET")["value"] == pytest.approx(100 / 3)
    assert value(ind, "A", "AS", "MATH_MET")["value"] == 0.0
    assert value(ind, "A", "ALL", "SCI_MET")["denominator"] == 1


def test_graduation_cohort_year_arithmetic() -> None:
    # 2015-16: GRAD4 is the cohort that entered grade 9 in 2012-13, GRAD5 2011-12, GRAD6 2010-11
    y = make_year(
        "2015-16",
        schools=[school("H", "HS")],
        graduation=[
            graduate("g1", cohort="2012-13", outcome="GRAD", grad_year="2015-16"),
            graduate("g2", cohort="2012-13", outcome="DROP"),
            graduate("g3", cohort="2012-13", outcome="CONT", race_ethnicity="AA", el=True),
            graduate("g4", cohort="2012-13", outcome="OTHER"),
            graduate("f1", cohort="2011-12", outcome="GRAD", grad_year="2014-15"),
            graduate("f2", cohort="2011-12", outcome="GRAD", grad_year="2016-17"),  # after
            graduate("s1", cohort="2010-11", outcome="GRAD", grad_year="2015-16"),
            graduate("z1", cohort="2013-14", outcome="GRAD", grad_year="2015-16"),  # not measured
        ],
    )
    ind = compute_indicators(y, None, None, M)
    g4 = value(ind, "H", "ALL", "GRAD4")
    assert (g4["numerator"], g4["denominator"], g4["value"]) == (1, 4, 25.0)
    g5 = value(ind, "H", "ALL", "GRAD5")
    assert (g5["numerator"], g5["denominator"]) == (1, 2)
    g6 = value(ind, "H", "ALL", "GRAD6")
    assert (g6["numerator"], g6["denominator"]) == (1, 1)
    # groups from the graduation file's own flags
    assert value(ind, "H", "EL", "GRAD4")["denominator"] == 1
    assert value(ind, "H", "AA", "GRAD4")["value"] == 0.0


def test_school_type_without_graduation_or_persistence() -> None:
    y = make_year(
        schools=[school("E", "ES")],
        students=students(3, "E"),
        graduation=[graduate("g1", "E", cohort="2012-13", grad_year="2015-16")],
    )
    ind = compute_indicators(y, None, None, M)
    assert not ind["indicator"].isin(["GRAD4", "GRAD5", "GRAD6", "MS_PERSIST"]).any()


def test_middle_school_persistence_two_years_back() -> None:
    prior2 = make_year(
        "2013-14",
        schools=[school("M", "MS")],
        students=[
            student("p1", "M", grade=8, promoted=True, race_ethnicity="AA"),
            student("p2", "M", grade=8, promoted=True),
            student("p3", "M", grade=8, promoted=True),
            student("r1", "M", grade=8, promoted=False),  # not promoted: not counted
            student("g7", "M", grade=7, promoted=True),  # not grade 8
        ],
    )
    cur = make_year(
        "2015-16",
        schools=[school("M", "MS"), school("H", "HS")],
        students=[
            student("p1", "H", grade=10),  # enrolled in grade 10 elsewhere: persists
            student("p2", "H", grade=9),  # held back: does not
            student("r1", "H", grade=10),
        ],
    )
    ind = compute_indicators(cur, None, prior2, M)
    r = value(ind, "M", "ALL", "MS_PERSIST")
    assert (r["numerator"], r["denominator"]) == (1, 3)
    assert value(ind, "M", "AA", "MS_PERSIST")["value"] == 100.0
    assert not ((ind["indicator"] == "MS_PERSIST") & (ind["school_code"] == code("H"))).any()
    # without the year two back there is no persistence
    none = compute_indicators(cur, None, None, M)
    assert not (none["indicator"] == "MS_PERSIST").any()


def test_sel_is_mean_of_student_means() -> None:
    y = make_year(
        students=[student("a", swd=True), student("b")],
        sel=[
            sel_row("a", construct="GM", score=4.0),
            sel_row("a", construct="SE", score=2.0),
            sel_row("a", construct="SM", score=3.0),  # a's mean: 3
            sel_row("b", construct="GM", score=5.0),  # b's mean: 5
        ],
    )
    ind = compute_indicators(y, None, None, M)
    r = value(ind, "A", "ALL", "SEL")
    assert r["denominator"] == 2 and r["value"] == pytest.approx(4.0)
    assert pd.isna(r["numerator"])
    assert value(ind, "A", "SWD", "SEL")["value"] == pytest.approx(3.0)


def test_climate_all_only_and_favourable_is_at_least_4() -> None:
    y = make_year(
        climate=[
            climate_row("t1", respondent_type="STAFF", score=4.0),
            climate_row("t1", respondent_type="STAFF", construct="SC", score=3.99),
            climate_row("t2", respondent_type="STAFF", score=5.0),
            climate_row("s1", respondent_type="STUDENT", score=1.0),
            climate_row("p1", respondent_type="PARENT", score=4.5),
        ]
    )
    ind = compute_indicators(y, None, None, M)
    staff = value(ind, "A", "ALL", "CLIMATE_STAFF")
    assert (staff["numerator"], staff["denominator"]) == (2, 3)
    assert value(ind, "A", "ALL", "CLIMATE_STUDENT")["value"] == 0.0
    assert value(ind, "A", "ALL", "CLIMATE_PARENT")["value"] == 100.0
    assert set(ind.loc[ind["indicator"].str.startswith("CLIMATE"), "student_group"]) == {"ALL"}


def test_el_redesignation() -> None:
    y = make_year(
        students=[
            student("e1", el_status="EL", redesignated=True, sed=True),
            student("e2", el_status="EL"),
            student("e3", el_status="EL"),
            student("e4", el_status="EL"),
            student("o", el_status="EO"),
        ]
    )
    ind = compute_indicators(y, None, None, M)
    r = value(ind, "A", "ALL", "EL_RFEP")
    assert (r["numerator"], r["denominator"], r["value"]) == (1, 4, 25.0)
    assert value(ind, "A", "SED", "EL_RFEP")["value"] == 100.0


def test_sped_disproportionality() -> None:
    aa = [student(f"aa{i}", race_ethnicity="AA", swd=i < 4) for i in range(20)]  # 20%
    hi = [student(f"hi{i}", race_ethnicity="HI", swd=i < 2) for i in range(20)]  # 10%
    wh = [student(f"wh{i}", race_ethnicity="WH", swd=True) for i in range(5)]  # small, 100%
    y = make_year(students=aa + hi + wh)
    ind = compute_indicators(y, None, None, M)
    # AA: 4/20 = 20% vs others 7/25 = 28% → 0.714…; HI: 10% vs 9/25 = 36% → 0.2777…
    assert value(ind, "A", "AA", "SPED_DISPROP")["value"] == pytest.approx(0.2 / 0.28)
    assert value(ind, "A", "HI", "SPED_DISPROP")["value"] == pytest.approx(0.1 / 0.36)
    # WH: 100% vs 6/40 → 6.67, but under the n-size: not the ALL value
    wh_row = value(ind, "A", "WH", "SPED_DISPROP")
    assert wh_row["value"] == pytest.approx(1 / 0.15) and not wh_row["meets_nsize"]
    all_row = value(ind, "A", "ALL", "SPED_DISPROP")
    assert all_row["value"] == pytest.approx(0.2 / 0.28)
    assert pd.isna(all_row["numerator"]) and all_row["denominator"] == 45
    assert "SWD" not in set(ind.loc[ind["indicator"] == "SPED_DISPROP", "student_group"])


def test_sped_disproportionality_others_rate_zero_is_empty() -> None:
    aa = [student(f"aa{i}", race_ethnicity="AA", swd=i < 2) for i in range(20)]
    hi = [student(f"hi{i}", race_ethnicity="HI") for i in range(20)]  # no swd
    y = make_year(students=aa + hi)
    ind = compute_indicators(y, None, None, M)
    assert np.isnan(value(ind, "A", "AA", "SPED_DISPROP")["value"])  # others' rate is 0
    assert value(ind, "A", "HI", "SPED_DISPROP")["value"] == 0.0  # 0% vs 10%
    assert value(ind, "A", "ALL", "SPED_DISPROP")["value"] == 0.0  # AA has no ratio


def test_subset_of_schools() -> None:
    y = make_year(
        schools=[school("A"), school("B")],
        students=students(2, "A", prefix="a") + students(3, "B", prefix="b"),
    )
    ind = compute_indicators(y, None, None, M, schools=[code("B")])
    assert set(ind["school_code"]) == {code("B")}
    assert value(ind, "B", "ALL", "SUSP")["denominator"] == 3


def test_missing_column_is_refused_clearly() -> None:
    from sqis.indicators import IndicatorInputError

    y = make_year(students=students(2))
    y.students = y.students.drop(columns=["days_absent"])
    with pytest.raises(IndicatorInputError, match="2015-16/students: missing column.*days_absent"):
        compute_indicators(y, None, None, M)


def test_linked_rows_without_enrolment_count_in_all_only() -> None:
    y = make_year(
        students=[student("a", race_ethnicity="AA", swd=True)],
        sel=[sel_row("a", score=2.0), sel_row("ghost", score=4.0)],
        assessments=[assessment("ghost", performance_level=4)],
    )
    ind = compute_indicators(y, None, None, M)
    assert value(ind, "A", "ALL", "SEL")["denominator"] == 2
    assert value(ind, "A", "AA", "SEL")["denominator"] == 1
    assert set(ind.loc[ind["indicator"] == "ELA_MET", "student_group"]) == {"ALL"}


def test_sped_disproportionality_without_other_students_is_empty() -> None:
    y = make_year(students=[student(f"h{i}", race_ethnicity="HI", swd=i < 3) for i in range(25)])
    ind = compute_indicators(y, None, None, M)
    assert np.isnan(value(ind, "A", "HI", "SPED_DISPROP")["value"])  # no other students
    assert np.isnan(value(ind, "A", "ALL", "SPED_DISPROP")["value"])
    # SED is a group too: 2 of 5 SED students are swd vs 1 of 20 others
    y = make_year(students=[student(f"s{i}", sed=i < 5, swd=i in (0, 1, 7)) for i in range(25)])
    r = value(compute_indicators(y, None, None, M), "A", "SED", "SPED_DISPROP")
    assert r["value"] == pytest.approx((2 / 5) / (1 / 20)) and r["numerator"] == 2


def test_districts_share_the_years_look_ups_computed_once() -> None:
    """``YearLookups``: made once by the caller holding the years and handed to every
    district; each look-up computed once, on first use, and the districts' rows are
    those of the whole year (the persistence look-up over both years too)."""
    import pickle

    from sqis.indicators import BySchool, YearLookups

    prior2 = make_year(
        "2013-14",
        schools=[school("M", "MS"), school("N", "MS")],
        students=[
            student("p1", "M", grade=8, promoted=True),
            student("p2", "N", grade=8, promoted=True),
        ],
    )
    cur = make_year(
        "2015-16",
        schools=[school("M", "MS"), school("N", "MS"), school("H", "HS")],
        students=[student("p1", "H", grade=10), student("p2", "H", grade=9)]
        + students(2, "M", prefix="m")
        + students(3, "N", prefix="n"),
    )
    whole = compute_indicators(cur, None, prior2, M)
    lookups = YearLookups(cur, prior2)
    parts = [
        compute_indicators(cur, None, prior2, M, schools=[code(s)], lookups=lookups)
        for s in ("M", "N", "H")
    ]
    together = pd.concat(parts, ignore_index=True)
    together = together.sort_values(["school_code", "student_group", "indicator"])
    expected = whole.sort_values(["school_code", "student_group", "indicator"])
    pd.testing.assert_frame_equal(together.reset_index(drop=True), expected.reset_index(drop=True))
    # computed once: the same arrays on every ask
    grade = M.rules.persist_to_grade
    assert lookups.enrolled_later(grade) is lookups.enrolled_later(grade)
    assert lookups.keys.keys() is lookups.keys.keys()
    assert lookups.by_school("students") is lookups.by_school("students")
    assert lookups.by_school("students").groups() is lookups.by_school("students").groups()
    # a copy (a Dask worker's) starts empty and computes the same
    copy = pickle.loads(pickle.dumps(lookups))
    assert copy._once._values == {} and copy.keys._once._values == {}
    np.testing.assert_array_equal(copy.enrolled_later(grade), lookups.enrolled_later(grade))
    # look-ups of other frames are refused, never silently used
    with pytest.raises(ValueError, match="other frames"):
        compute_indicators(cur, None, None, M, schools=[code("M")], lookups=lookups)
    grouped = BySchool(cur.students)
    assert grouped.rows([code("N")]).tolist() == [4, 5, 6]
    assert grouped.rows(["99999999999999"]).tolist() == []


def test_counts_by_group_pattern_equal_the_counts_row_by_row() -> None:
    """``aggregate`` counts whole-number numerators per school × group pattern and spreads
    the patterns over their groups; a fractional numerator (SEL's means) is counted row by
    row. Both give the same rows, counts and values on the same rows (random students:
    several groups each, rows outside the schools and outside the denominator)."""
    from sqis.indicators import _context

    rng = np.random.default_rng(11)
    schools_ = make_year(
        "2015-16", schools=[school(s, "ES") for s in "ABCDEFG"], students=[]
    ).schools
    ctx = _context(schools_, M, None)
    n = 5000
    pos = rng.integers(-1, ctx.n_schools, n)
    bits = np.zeros(n, dtype=np.int64)
    for g in range(ctx.n_groups):
        bits |= (rng.random(n) < 0.3).astype(np.int64) << g
    in_den = rng.random(n) < 0.8
    met = rng.random(n) < 0.4
    for kind in ("percent", "counts"):
        by_pattern = ctx.aggregate("ELA_MET", pos, bits, in_den, met, kind=kind)
        by_row = ctx.aggregate("ELA_MET", pos, bits, in_den, met.astype(float), kind=kind)
        assert len(by_row) > 20
        for attr in ("school_pos", "group_code", "numerator", "denominator", "value"):
            np.testing.assert_array_equal(getattr(by_pattern, attr), getattr(by_row, attr))


def test_a_district_reads_a_flag_column_as_the_whole_year_does_whatever_its_dtype() -> None:
    """The district tasks code only text columns (``YearLookups.coded``): a flag held as
    objects counts as the whole year counts it (found attacking: coded as text, every
    student was in SWD)."""
    from dataclasses import replace

    cur = make_year(
        schools=[school("A")],
        students=students(20, "A", prefix="a") + students(5, "A", prefix="w", swd=True),
    )
    cur = replace(cur, students=cur.students.assign(swd=cur.students["swd"].astype(object)))
    whole = compute_indicators(cur, None, None, M)
    district = compute_indicators(cur, None, None, M, schools=[code("A")])
    pd.testing.assert_frame_equal(district, whole)
    assert rows(district, "A", "SUSP")["SWD"].denominator == 5
