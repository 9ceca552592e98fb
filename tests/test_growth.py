"""Growth on data with a known answer (METHODOLOGY.md "Growth")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sqis.growth import fit_growth, group_growth, growth_indicators, percentile_rank
from sqis.indicators import compute_indicators
from sqis.methodology import for_year
from tests.builders import assessment, code, make_year, school, student, value

M = for_year("2015-16")
EFFECTS = {"A": -10.0, "B": 0.0, "C": 10.0}


def consortium(effects: dict[str, float] = EFFECTS, n: int = 20, missing_math_for: int = -1):
    """Every school has the same students' profiles; this year's ELA score is an exact
    linear function of last year's ELA and MATH scores and the SED flag, plus the school's
    effect. Effects sum to zero and are orthogonal to the predictors, so each student's
    residual is exactly the school's effect."""
    prior_rows, cur_rows, cur_students, prior_students = [], [], [], []
    for label, effect in effects.items():
        for i in range(n):
            sid = f"{label}{i}"
            ela0 = 2400.0 + 10 * i
            math0 = 2450.0 + 7 * (i % 5)
            sed = i % 2 == 0
            prior_students.append(student(sid, "P", grade=4, sed=sed))
            prior_rows.append(assessment(sid, "P", "ELA", grade=4, scale_score=ela0))
            if i != missing_math_for:
                prior_rows.append(assessment(sid, "P", "MATH", grade=4, scale_score=math0))
            y = 100 + 0.9 * ela0 + 0.05 * math0 - 12 * sed + effect
            if i == missing_math_for:
                y = 100 + 0.9 * ela0 + 3.0 - 12 * sed + effect
            cur_students.append(
                student(sid, label, grade=5, sed=sed, race_ethnicity="AA" if i < 4 else "HI")
            )
            cur_rows.append(assessment(sid, label, "ELA", grade=5, scale_score=y))
    # prior year at another school "P": prior scores link by student at any school
    prior = make_year(
        "2014-15", schools=[school("P")], students=prior_students, assessments=prior_rows
    )
    cur = make_year(
        "2015-16", schools=[school(s) for s in effects], students=cur_students, assessments=cur_rows
    )
    return cur, prior


def test_residuals_recover_the_school_effect_exactly() -> None:
    cur, prior = consortium()
    res = fit_growth(cur, prior, M)
    assert len(res) == 60
    for label, effect in EFFECTS.items():
        r = res.loc[res["school_code"] == code(label), "residual"]
        np.testing.assert_allclose(r.to_numpy(), effect, atol=1e-6)
    assert "student_id" not in res.columns


def test_missing_other_subject_keeps_the_student() -> None:
    cur, prior = consortium(missing_math_for=3)
    res = fit_growth(cur, prior, M)
    assert len(res) == 60  # nobody dropped
    for label, effect in EFFECTS.items():
        r = res.loc[res["school_code"] == code(label), "residual"]
        np.testing.assert_allclose(r.to_numpy(), effect, atol=1e-6)


def test_growth_percentiles_and_denominator() -> None:
    cur, prior = consortium()
    ind = compute_indicators(cur, prior, None, M)
    # three schools meeting the n-size: mean percentile ranks 1/6, 3/6, 5/6
    assert value(ind, "A", "ALL", "ELA_GROWTH")["value"] == pytest.approx(100 / 6)
    assert value(ind, "B", "ALL", "ELA_GROWTH")["value"] == pytest.approx(50.0)
    c = value(ind, "C", "ALL", "ELA_GROWTH")
    assert c["value"] == pytest.approx(500 / 6)
    assert c["denominator"] == 20 and c["meets_nsize"]
    # AA groups (4 students each) are all under the n-size: no reference, no percentile
    assert np.isnan(value(ind, "C", "AA", "ELA_GROWTH")["value"])
    assert not (ind["indicator"] == "MATH_GROWTH").any()


def test_small_group_placed_against_reference() -> None:
    cur, prior = consortium(effects={"A": -10.0, "B": 0.0, "C": 10.0, "D": 0.0})
    res = fit_growth(cur, prior, M)
    res = res[~((res["school_code"] == code("D")) & (res["race_ethnicity"] == "HI"))]
    # D keeps 4 students (AA), mean residual 0 → ALL under the n-size, placed among A, B, C
    ind = growth_indicators(res, cur.schools, M)
    d = ind[(ind["school_code"] == code("D")) & (ind["student_group"] == "ALL")].iloc[0]
    assert d["denominator"] == 4 and not d["meets_nsize"]
    assert d["value"] == pytest.approx(50.0)


def test_model_needs_min_students() -> None:
    cur, prior = consortium(effects={"A": 0.0}, n=M.growth.min_students_per_model - 1)
    assert fit_growth(cur, prior, M).empty
    assert fit_growth(cur, None, M).empty


def test_percentile_rank_definition() -> None:
    ref = np.array([1.0, 2.0, 2.0, 3.0])
    got = percentile_rank(np.array([0.0, 1.0, 2.0, 3.0, 9.0]), ref)
    np.testing.assert_allclose(got, [0.0, 12.5, 50.0, 87.5, 100.0])
    assert np.isnan(percentile_rank(np.array([1.0]), np.array([]))).all()


def residual_frame(by_school: dict[str, list[float]]) -> pd.DataFrame:
    rows = [
        {
            "school_code": code(k),
            "subject": "ELA",
            "grade": 5,
            "scale_score": 0.0,
            "predicted": 0.0,
            "residual": r,
            "race_ethnicity": "HI",
            "el_status": "EO",
            "swd": False,
            "sed": False,
            "foster": False,
            "homeless": False,
        }
        for k, rs in by_school.items()
        for r in rs
    ]
    return pd.DataFrame(rows)


def test_empirical_bayes_by_hand() -> None:
    # means 10, -10, 0 with n 2, 2, 4; within SS 2 + 2 + 4 = 8 on 8 - 3 dof: sigma2 = 1.6;
    # mu = 0; var of means = 200/3; mean sigma2/n = (0.8 + 0.8 + 0.4)/3; tau2 = 66
    res = residual_frame({"A": [9, 11], "B": [-11, -9], "C": [-1, 1, -1, 1]})
    eb = M.model_copy(
        update={"growth": M.growth.model_copy(update={"shrinkage": "empirical_bayes"})}
    )
    gg = group_growth(res, eb)
    gg = gg[gg["student_group"] == "ALL"].set_index("school_code")
    assert gg.loc[code("A"), "mean_residual"] == pytest.approx(10.0)
    assert gg.loc[code("A"), "growth"] == pytest.approx(10 * 66 / 66.8)
    assert gg.loc[code("B"), "growth"] == pytest.approx(-10 * 66 / 66.8)
    assert gg.loc[code("C"), "growth"] == pytest.approx(0.0)
    plain = group_growth(res, M)
    assert (plain["growth"] == plain["mean_residual"]).all()


def test_district_subset_uses_consortium_wide_growth() -> None:
    cur, prior = consortium()
    growth = growth_indicators(fit_growth(cur, prior, M), cur.schools, M)
    only_a = compute_indicators(cur, prior, None, M, growth=growth, schools=[code("A")])
    rows = only_a[only_a["indicator"] == "ELA_GROWTH"]
    assert set(rows["school_code"]) == {code("A")}
    # A is still ranked among all three schools, not alone (which would give 50)
    assert value(only_a, "A", "ALL", "ELA_GROWTH")["value"] == pytest.approx(100 / 6)
