"""METHODOLOGY.md "Educator effectiveness", by hand: growth measures from the consortium
model's residuals (shrinkage, the minimum, co-taught students, a principal's school),
quartile ratings with ties, both options, NO_GROWTH, TRIGGER and the level cut points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sqis import educators as edu
from sqis.methodology import EducatorOption, for_year

M = for_year("2015-16")
S1, S2, S3 = "01100010000001", "01100010000002", "01100020000003"  # S3 in another district
D1, D2 = "0110001", "0110002"
SCHOOLS = pd.DataFrame({"school_code": [S1, S2, S3], "district_code": [D1, D1, D2]})


def with_educators(m=M, **changes):
    return m.model_copy(update={"educators": m.educators.model_copy(update=changes)})


def residual_frames(rows):
    """(student, school, subject, residual) → the year's assessments and ``fit_growth``-like
    residuals (indexed by the assessments' index)."""
    a = pd.DataFrame(rows, columns=["student_id", "school_code", "subject", "residual"])
    assessments = a[["student_id", "school_code", "subject"]]
    residuals = a[["school_code", "subject", "residual"]]
    return residuals, assessments


def educator_rows(rows):
    return pd.DataFrame(rows, columns=["educator_id", "school_code", "role", "practice"])


def roster_rows(rows):
    return pd.DataFrame(rows, columns=["student_id", "educator_id", "school_code", "subject"])


def by_key(measures):
    return measures.set_index(["educator_key", "school_code"])


def test_growth_measure_and_empirical_bayes_shrinkage_by_hand():
    # T1: a +4, b +6 → mean 5 (n 2); T2: c −2, d 0, e −4 → mean −2 (n 3);
    # T3: f +1 (ELA) and +3 (MATH), g −1 → mean 1 (n 3 residuals, 2 students)
    residuals, assessments = residual_frames([
        ("a", S1, "ELA", 4.0), ("b", S1, "ELA", 6.0),
        ("c", S1, "ELA", -2.0), ("d", S1, "ELA", 0.0), ("e", S1, "ELA", -4.0),
        ("f", S1, "ELA", 1.0), ("f", S1, "MATH", 3.0), ("g", S1, "ELA", -1.0),
    ])  # fmt: skip
    educators = educator_rows([("T1", S1, "TEACHER", 3.0), ("T2", S1, "TEACHER", 3.0),
                               ("T3", S1, "TEACHER", 3.0)])  # fmt: skip
    rosters = roster_rows([
        ("a", "T1", S1, "ELA"), ("b", "T1", S1, "ELA"),
        ("c", "T2", S1, "ELA"), ("d", "T2", S1, "ELA"), ("e", "T2", S1, "ELA"),
        ("f", "T3", S1, "ELA"), ("f", "T3", S1, "MATH"), ("g", "T3", S1, "ELA"),
    ])  # fmt: skip
    m = with_educators(min_students=2)
    got = by_key(edu.growth_measures(residuals, assessments, educators, rosters, m))
    assert got["n_students"].tolist() == [2, 3, 2]
    assert got["mean_residual"].tolist() == [5.0, -2.0, 1.0]
    # within-teacher squares: T1 2, T2 8, T3 8 → σ² = 18 / (8 − 3) = 3.6
    # noise σ²/n: 1.8, 1.2, 1.2 (mean 1.4); τ² = mean(25, 4, 1) − 1.4 = 8.6
    lam = np.array([8.6 / (8.6 + 1.8), 8.6 / (8.6 + 1.2), 8.6 / (8.6 + 1.2)])
    assert got["growth"].to_numpy() == pytest.approx(lam * np.array([5.0, -2.0, 1.0]))
    assert got["growth"].round(6).tolist() == [4.134615, -1.755102, 0.877551]
    # ranked among the three teachers: percentiles 83.3, 16.7, 50 → ratings 4, 1, 3
    assert got["growth_rating"].tolist() == [4, 1, 3]
    # without shrinkage the measure is the mean residual
    plain = edu.growth_measures(
        residuals, assessments, educators, rosters, with_educators(m, shrinkage="none")
    )
    assert plain["growth"].tolist() == [5.0, -2.0, 1.0]


def test_a_co_taught_student_counts_for_each_teacher_and_the_minimum_applies():
    residuals, assessments = residual_frames([
        ("a", S1, "ELA", 2.0), ("b", S1, "ELA", 4.0), ("c", S1, "ELA", -1.0),
        ("d", S1, "MATH", 7.0),
    ])  # fmt: skip
    educators = educator_rows([("T1", S1, "TEACHER", 3.0), ("T2", S1, "TEACHER", 3.0),
                               ("T3", S1, "TEACHER", 3.0)])  # fmt: skip
    rosters = roster_rows([
        ("a", "T1", S1, "ELA"), ("b", "T1", S1, "ELA"),
        ("a", "T2", S1, "ELA"),  # co-taught with T1
        ("c", "T2", S1, "ELA"),
        ("d", "T3", S1, "MATH"),  # one student: under the minimum of 2
        ("x", "T3", S1, "MATH"),  # no residual (no score last year): not counted
        ("a", "T3", S1, "MATH"),  # a has no MATH residual: not counted
    ])  # fmt: skip
    m = with_educators(min_students=2, shrinkage="none")
    got = by_key(edu.growth_measures(residuals, assessments, educators, rosters, m))
    assert got["n_students"].tolist() == [2, 2, 1]
    assert got["growth"].tolist()[:2] == [3.0, 0.5]
    assert np.isnan(got["growth"].tolist()[2])
    assert got["growth_rating"].isna().tolist() == [False, False, True]


def test_the_default_minimum_is_ten_students():
    rows = [(f"s{i}", S1, "ELA", float(i)) for i in range(10)]
    residuals, assessments = residual_frames(rows)
    educators = educator_rows([("T1", S1, "TEACHER", 3.0), ("T2", S1, "TEACHER", 3.0)])
    rosters = roster_rows([(f"s{i}", "T1", S1, "ELA") for i in range(10)]
                          + [(f"s{i}", "T2", S1, "ELA") for i in range(9)])  # fmt: skip
    got = edu.growth_measures(residuals, assessments, educators, rosters, M)
    assert got["n_students"].tolist() == [10, 9]
    assert got["growth"].notna().tolist() == [True, False]


def test_a_principals_growth_is_the_schools_all_mean_residual_over_both_subjects():
    residuals, assessments = residual_frames([
        ("a", S1, "ELA", 1.0), ("a", S1, "MATH", -2.0), ("b", S1, "ELA", 3.0),
        ("c", S2, "ELA", 9.0),  # one student at S2: under the minimum
        ("d", S3, "MATH", -5.0), ("e", S3, "MATH", -1.0),
    ])  # fmt: skip
    educators = educator_rows([("P1", S1, "PRINCIPAL", 3.0), ("P2", S2, "PRINCIPAL", 3.0),
                               ("P3", S3, "PRINCIPAL", 3.0)])  # fmt: skip
    m = with_educators(min_students=2)  # and shrinkage stays empirical_bayes: not for principals
    got = by_key(edu.growth_measures(residuals, assessments, educators, None, m))
    assert got["n_students"].tolist() == [2, 1, 2]
    assert got["growth"].iloc[0] == pytest.approx((1.0 - 2.0 + 3.0) / 3)
    assert np.isnan(got["growth"].iloc[1])
    assert got["growth"].iloc[2] == -3.0
    # principals are rated among principals: 2 measures → percentiles 75 and 25
    assert got["growth_rating"].tolist()[0] == 4 and got["growth_rating"].tolist()[2] == 2


def _ratings(values, roles=None):
    measures = pd.DataFrame(
        {"growth": values, "role": roles or ["TEACHER"] * len(values)}, dtype="object"
    ).astype({"growth": float})
    return edu.growth_ratings(measures, M).tolist()


def test_quartile_ratings_with_ties():
    assert _ratings([1, 2, 3, 4, 5, 6, 7, 8]) == [1, 1, 2, 2, 3, 3, 4, 4]
    # the three tied 2s share the mean rank: (1 below + 3/2) / 8 = 31.25% → rating 2
    assert _ratings([1, 2, 2, 2, 5, 6, 7, 8]) == [1, 2, 2, 2, 3, 3, 4, 4]
    # a tie across a quartile boundary goes up with it: four 1s at 25%, four 2s at 75%
    assert _ratings([1, 1, 1, 1, 2, 2, 2, 2]) == [2, 2, 2, 2, 4, 4, 4, 4]
    # every measure equal: the middle (50%) → rating 3
    assert _ratings([0.5, 0.5, 0.5]) == [3, 3, 3]
    # per role, consortium-wide; no measure → no rating
    got = _ratings([1.0, 2.0, np.nan, 10.0], ["TEACHER", "TEACHER", "TEACHER", "PRINCIPAL"])
    assert got[0] == 2 and got[1] == 4 and got[2] is pd.NA and got[3] == 3
    # a difference under 10⁻⁹ scale points is a tie (floating-point noise, as for schools)
    assert _ratings([0.1 + 0.2, 0.3]) == [3, 3]


def _evaluate(rows, m=M):
    """rows: (school, practice, growth rating or None) → evaluate()'s frame."""
    measures = pd.DataFrame(
        {
            "educator_key": [f"k{i}" for i in range(len(rows))],
            "school_code": [r[0] for r in rows],
            "role": "TEACHER",
            "practice": [float(r[1]) for r in rows],
            "n_students": 20,
            "mean_residual": 0.0,
            "growth": 0.0,
            "growth_rating": pd.array([r[2] for r in rows], dtype="Int64"),
        }
    )
    return (
        edu.evaluate(measures, SCHOOLS, m).set_index("educator_key").loc[measures["educator_key"]]
    )


def test_option_2_defined_percentage():
    m = with_educators(default_option=EducatorOption(option=2, growth_weight=0.2),
                       districts={D2: EducatorOption(option=2, growth_weight=0.3)})  # fmt: skip
    got = _evaluate([(S1, 3.0, 1), (S3, 2.0, 4), (S1, 2.2, None), (S1, 2.875, 1)], m)
    assert got["summative"].tolist()[:3] == pytest.approx([0.8 * 3 + 0.2 * 1, 0.7 * 2 + 0.3 * 4,
                                                           2.2])  # fmt: skip
    assert got["level"].tolist() == [3, 3, 2, 3]  # 2.6, 2.6, 2.2 and exactly 2.5 → 3
    assert got["flag"].tolist() == ["NONE", "NONE", "NO_GROWTH", "NONE"]
    assert got["option"].tolist() == [2, 2, 2, 2]
    assert got["growth_weight"].tolist() == [0.2, 0.3, 0.2, 0.2]


def test_option_1_trigger():
    m = with_educators(districts={D1: EducatorOption(option=1)})
    got = _evaluate(
        [
            (S1, 3.4, 1),  # round 3 vs 1: differ by 2 → TRIGGER
            (S1, 2.5, 1),  # round half up: 3 vs 1 → TRIGGER (banker's rounding would say 2)
            (S1, 2.5, 4),  # 3 vs 4 → NONE
            (S1, 1.2, 4),  # 1 vs 4 → TRIGGER (growth above practice too)
            (S1, 2.4, None),  # no measure → NO_GROWTH, never TRIGGER
            (S3, 3.4, 1),  # S3's district takes the default option 2 → no trigger
        ],
        m,
    )
    assert got["flag"].tolist() == ["TRIGGER", "TRIGGER", "NONE", "TRIGGER", "NO_GROWTH", "NONE"]
    assert got["summative"].tolist()[:5] == [3.4, 2.5, 2.5, 1.2, 2.4]  # practice alone
    assert got["level"].tolist()[:5] == [4, 3, 3, 1, 2]
    assert got["option"].tolist() == [1, 1, 1, 1, 1, 2]
    assert np.isnan(got["growth_weight"].tolist()[0])


def test_level_cut_points_at_their_edges():
    s = [1.0, 1.7499999, 1.75, 2.4999999, 2.5, 3.2499999, 3.25, 4.0]
    assert edu.levels(np.array(s), M).tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    # floating-point noise under 10⁻⁹ does not move a level: 0.8 × 2.875 + 0.2 × 1 = 2.5
    assert edu.levels(np.array([2.5 - 1e-12, 1.75 - 1e-12]), M).tolist() == [3, 2]


def test_distribution_counts_every_level_per_entity_and_role():
    results = pd.DataFrame(
        {
            "school_code": [S1, S1, S2, S3, S3, S1],
            "role": ["TEACHER"] * 5 + ["PRINCIPAL"],
            "level": [1, 3, 3, 4, 4, 2],
        }
    )
    d = edu.distribution(results, SCHOOLS)
    rows = {(t, c, r): v[3:] for t, c, r, *v in d.itertuples(index=False, name=None)
            for v in [[t, c, r, *v]]}  # fmt: skip
    assert rows[("CONSORTIUM", "ALL", "TEACHER")] == [5, 1, 0, 2, 2]
    assert rows[("DISTRICT", D1, "TEACHER")] == [3, 1, 0, 2, 0]
    assert rows[("SCHOOL", S3, "TEACHER")] == [2, 0, 0, 0, 2]
    assert rows[("SCHOOL", S1, "PRINCIPAL")] == [1, 0, 1, 0, 0]
    assert ("SCHOOL", S2, "PRINCIPAL") not in rows
    assert list(d.columns) == ["entity_type", "entity_code", "role", "rated",
                               "level_1", "level_2", "level_3", "level_4"]  # fmt: skip


# ---- trigger follow-up ------------------------------------------------------------------
def _results(rows):
    """rows: (key, school, flag) → educator_results rows."""
    return pd.DataFrame(rows, columns=["educator_key", "school_code", "flag"])


NO_ACTIONS = pd.DataFrame(columns=["educator_key", "school_code", "action"])


def test_an_action_is_recorded_only_on_a_trigger():
    results = _results([("k1", S1, "TRIGGER"), ("k2", S1, "NONE"), ("k3", S1, "NO_GROWTH")])
    row = edu.action_record(results, NO_ACTIONS, "2015-16", "k1", "ADDENDUM", " why ", "me", M)
    assert (row["school_code"], row["action"], row["reason"], row["in_force_until"]) == (
        S1, "ADDENDUM", "why", None
    )  # fmt: skip
    for key, flag in (("k2", "NONE"), ("k3", "NO_GROWTH")):
        with pytest.raises(edu.ActionRefused, match=f"not a TRIGGER.*flag {flag}"):
            edu.action_record(results, NO_ACTIONS, "2015-16", key, "NO_ACTION", "x", "me", M)
    with pytest.raises(edu.ActionRefused, match="no educator"):
        edu.action_record(results, NO_ACTIONS, "2015-16", "k9", "NO_ACTION", "x", "me", M)


def test_an_improvement_plan_lasts_one_service_year():
    results = _results([("k1", S1, "TRIGGER")])
    row = edu.action_record(results, NO_ACTIONS, "2015-16", "k1", "IMPROVEMENT_PLAN", "r", "me", M)
    assert row["in_force_until"] == "2016-17"  # the service year of the 2015-16 results
    two = with_educators(improvement_plan_years=2)
    row = edu.action_record(
        results, NO_ACTIONS, "2015-16", "k1", "IMPROVEMENT_PLAN", "r", "me", two
    )
    assert row["in_force_until"] == "2017-18"


def test_action_rules_reason_once_and_one_school():
    results = _results([("k1", S1, "TRIGGER"), ("k1", S2, "TRIGGER")])
    with pytest.raises(edu.ActionRefused, match="reason is required"):
        edu.action_record(results, NO_ACTIONS, "2015-16", "k1", "NO_ACTION", "  ", "me", M)
    with pytest.raises(edu.ActionRefused, match="at 2 schools.*--school"):
        edu.action_record(results, NO_ACTIONS, "2015-16", "k1", "NO_ACTION", "r", "me", M)
    row = edu.action_record(
        results, NO_ACTIONS, "2015-16", "k1", "NO_ACTION", "r", "me", M, school_code=S2
    )
    assert row["school_code"] == S2
    done = pd.DataFrame([row])
    with pytest.raises(edu.ActionRefused, match="already recorded.*NO_ACTION"):
        edu.action_record(results, done, "2015-16", "k1", "ADDENDUM", "r", "me", M, school_code=S2)
    with pytest.raises(edu.ActionRefused, match="unknown action"):
        edu.action_record(
            results, NO_ACTIONS, "2015-16", "k1", "FIRE", "r", "me", M, school_code=S1
        )


@pytest.mark.parametrize("growth_first", [True, False])
def test_the_years_student_keys_give_the_same_measures_as_a_hash_pass_of_their_own(growth_first):
    """The pipeline hands growth_measures the year's keys (``YearKeys``: one hash pass for
    growth, the indicators and the rosters); the measures are those of a pass of its own,
    whether growth's linking pass (with last year's IDs) or ``keys()`` ran first, with a
    rostered student who has no residual and a student in sel only."""
    from sqis.student_keys import YearKeys
    from sqis.yeardata import YearData

    residuals, assessments = residual_frames([
        ("a", S1, "ELA", 4.0), ("b", S1, "ELA", 6.0), ("c", S1, "MATH", -2.0),
        ("d", S1, "ELA", 0.0), ("e", S2, "ELA", -4.0), ("f", S2, "MATH", 3.0),
    ])  # fmt: skip
    residuals = residuals.iloc[[0, 1, 2, 4, 5]]  # d took the test, but has no residual
    educators = educator_rows([
        ("T1", S1, "TEACHER", 3.0), ("T2", S1, "TEACHER", 2.0),
        ("T3", S2, "TEACHER", 3.0), ("P1", S1, "PRINCIPAL", 3.0),
    ])  # fmt: skip
    rosters = roster_rows([
        ("a", "T1", S1, "ELA"), ("b", "T1", S1, "ELA"), ("z", "T1", S1, "ELA"),
        ("c", "T2", S1, "MATH"), ("d", "T2", S1, "ELA"), ("b", "T2", S1, "ELA"),
        ("e", "T3", S2, "ELA"), ("f", "T3", S2, "MATH"),
    ])  # fmt: skip
    students = pd.DataFrame({"student_id": ["y", "f", "e", "d", "c", "b", "a"]})
    yd = YearData(
        year="2015-16", schools=SCHOOLS, students=students, assessments=assessments,
        graduation=pd.DataFrame(), sel=pd.DataFrame({"student_id": ["x", "a"]}),
        climate=pd.DataFrame(), educators=educators, rosters=rosters,
    )  # fmt: skip
    keys = YearKeys(yd)
    if growth_first:
        keys.linking(pd.Series(["b", "w", "z", "q"]))
    m = with_educators(min_students=1)
    own = edu.growth_measures(residuals, assessments, educators, rosters, m)
    shared = edu.growth_measures(residuals, assessments, educators, rosters, m, keys)
    pd.testing.assert_frame_equal(shared, own)
    assert by_key(own).loc[("T1", S1), "n_students"] == 2  # z has no residual
    with pytest.raises(ValueError, match="other frames"):
        edu.growth_measures(residuals, assessments.copy(), educators, rosters, m, keys)
