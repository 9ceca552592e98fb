"""The School Quality Improvement Index (METHODOLOGY.md "The School Quality Improvement Index")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sqis.index import compute_index, school_indicator_levels
from sqis.methodology import DomainSpec, for_year
from tests.builders import code, frame, school

M = for_year("2015-16")
SCHOOLS = frame("schools", [school("A", "ES"), school("B", "ES"), school("H", "HS")])


def leveled(rows: list[tuple]) -> pd.DataFrame:
    """rows: (school label, group, indicator, level or None); None = under the n-size."""
    return pd.DataFrame(
        {
            "school_code": [code(r[0]) for r in rows],
            "student_group": [r[1] for r in rows],
            "indicator": [r[2] for r in rows],
            "numerator": pd.array([pd.NA] * len(rows), dtype="Int64"),
            "denominator": [30 if r[3] is not None else 5 for r in rows],
            "value": [50.0] * len(rows),
            "meets_nsize": [r[3] is not None for r in rows],
            "level": pd.array([r[3] for r in rows], dtype="Int64"),
        }
    )


def test_school_level_all_half_and_counted_subgroups() -> None:
    ind = leveled(
        [
            ("A", "ALL", "ELA_MET", 6),
            ("A", "AA", "ELA_MET", 2),  # the lowest race group
            ("A", "HI", "ELA_MET", 4),
            ("A", "EL", "ELA_MET", 4),
            ("A", "SWD", "ELA_MET", None),  # under the n-size: not counted
            ("A", "SED", "ELA_MET", 6),
            ("A", "FOS", "ELA_MET", 1),  # not a counted subgroup
        ]
    )
    sil = school_indicator_levels(ind, SCHOOLS, M).set_index("indicator")
    r = sil.loc["ELA_MET"]
    assert r["lowest_race_group"] == "AA" and r["subgroup_count"] == 3
    assert r["subgroup_mean"] == pytest.approx(4.0)  # (2 + 4 + 6) / 3
    assert r["school_level"] == pytest.approx(5.0)  # ½ × 6 + ½ × 4


def test_all_level_alone_without_counted_subgroups_and_none_without_all() -> None:
    ind = leveled(
        [
            ("A", "ALL", "ELA_MET", 7),
            ("A", "AA", "ELA_MET", None),
            ("A", "ALL", "MATH_MET", None),
            ("A", "EL", "MATH_MET", 3),
        ]
    )
    sil = school_indicator_levels(ind, SCHOOLS, M).set_index("indicator")
    assert sil.loc["ELA_MET", "school_level"] == 7.0
    assert "MATH_MET" not in sil.index


def test_sqii_weights_60_20_20() -> None:
    ind = leveled(
        [
            ("A", "ALL", "ELA_MET", 5),
            ("A", "ALL", "MATH_MET", 7),  # academic 6
            ("A", "ALL", "CHRONIC", 8),
            ("A", "ALL", "SUSP", 10),  # social-emotional 9
            ("A", "ALL", "CLIMATE_STAFF", 3),  # culture-climate 3
        ]
    )
    idx = compute_index(ind, SCHOOLS, M, None).set_index("school_code")
    a = idx.loc[code("A")]
    assert (a["academic"], a["social_emotional"], a["culture_climate"]) == (6.0, 9.0, 3.0)
    assert a["sqii"] == pytest.approx(10 * (60 * 6 + 20 * 9 + 20 * 3) / 100)  # 60
    assert pd.isna(a["prior_sqii"]) and pd.isna(a["goal"]) and pd.isna(a["meets_goal"])
    # a school with no level has no index
    assert np.isnan(idx.loc[code("B"), "sqii"])


def test_weights_renormalised_when_a_domain_is_missing() -> None:
    ind = leveled([("A", "ALL", "ELA_MET", 5), ("A", "ALL", "CHRONIC", 8)])
    a = compute_index(ind, SCHOOLS, M, None).set_index("school_code").loc[code("A")]
    assert np.isnan(a["culture_climate"])
    assert a["sqii"] == pytest.approx(10 * (60 * 5 + 20 * 8) / 80)  # 57.5


def test_pooled_domain_level_10_indicator_is_worth_13_33_points() -> None:
    pooled = M.model_copy(
        update={
            "domains": (
                DomainSpec(name="academic", weight=60, pools=("academic",)),
                DomainSpec(
                    name="school_climate", weight=40, pools=("social_emotional", "culture_climate")
                ),
            )
        }
    )
    base = [("A", "ALL", "ELA_MET", 5), ("A", "ALL", "SUSP", 1), ("A", "ALL", "EL_RFEP", 1)]
    one = compute_index(leveled([*base, ("A", "ALL", "CHRONIC", 1)]), SCHOOLS, pooled, None)
    ten = compute_index(leveled([*base, ("A", "ALL", "CHRONIC", 10)]), SCHOOLS, pooled, None)
    s1 = one.set_index("school_code").loc[code("A")]
    s10 = ten.set_index("school_code").loc[code("A")]
    # a level-10 indicator in the pooled domain is worth 10 × 40 × 10/3 / 100 = 13.33 points
    assert s10["sqii"] - 10 * 0.6 * 5 - 10 * 0.4 * (1 + 1) / 3 == pytest.approx(40 / 3)
    assert s10["sqii"] - s1["sqii"] == pytest.approx(10 * 0.4 * 9 / 3)
    # the index.csv columns still report each methodology domain's own score
    assert s10["social_emotional"] == pytest.approx(5.5) and s10["culture_climate"] == 1.0


def test_school_type_without_graduation_ignores_grad_rows() -> None:
    ind = leveled(
        [
            ("A", "ALL", "ELA_MET", 5),
            ("A", "ALL", "GRAD4", 10),
            ("H", "ALL", "ELA_MET", 5),
            ("H", "ALL", "GRAD4", 9),
        ]
    )
    idx = compute_index(ind, SCHOOLS, M, None).set_index("school_code")
    assert idx.loc[code("A"), "academic"] == 5.0  # ES: GRAD4 does not apply
    assert idx.loc[code("H"), "academic"] == 7.0


def test_goal_and_meets_goal() -> None:
    ind = leveled(
        [("A", "ALL", "ELA_MET", 6), ("B", "ALL", "ELA_MET", 5), ("H", "ALL", "ELA_MET", 5)]
    )
    prior = pd.DataFrame({"school_code": [code("A"), code("B")], "sqii": [50.0, 50.0]})
    idx = compute_index(ind, SCHOOLS, M, prior).set_index("school_code")
    assert idx.loc[code("A"), "goal"] == pytest.approx(55.0)  # 50 + 10% × 50
    assert bool(idx.loc[code("A"), "meets_goal"]) is True  # 60 ≥ 55
    assert bool(idx.loc[code("B"), "meets_goal"]) is False  # 50 < 55
    assert pd.isna(idx.loc[code("H"), "meets_goal"]) and pd.isna(idx.loc[code("H"), "goal"])
    assert list(idx.reset_index().columns) == [
        "school_code",
        "academic",
        "social_emotional",
        "culture_climate",
        "sqii",
        "prior_sqii",
        "goal",
        "meets_goal",
    ]


def test_meets_goal_exactly_at_goal() -> None:
    ind = leveled([("A", "ALL", "ELA_MET", 5), ("A", "ALL", "MATH_MET", 6)])  # SQII 55
    prior = pd.DataFrame({"school_code": [code("A")], "sqii": [50.0]})  # goal 55
    a = compute_index(ind, SCHOOLS, M, prior).set_index("school_code").loc[code("A")]
    assert a["sqii"] == pytest.approx(55.0) and a["goal"] == pytest.approx(55.0)
    assert bool(a["meets_goal"]) is True


def test_sqii_is_recomputable_from_the_domain_scores_shown() -> None:
    """One mean for a domain's column and its part of the SQII: with one methodology domain
    per weight, 10 × Σ w·score / Σ w over the shown scores gives the SQII to the last bit.
    (pandas' group mean rounded a school's levels differently by where its group fell in
    the frame: 6 % of the 1M bench's schools differed in the last digit. School A's
    academic levels are one such school's: 11/3, 6.5, 19/6, 31/6, 6.5.)"""
    academic = {  # indicator: (ALL, EL, SWD, SED)
        "ELA_MET": (3, 4, 4, 5),
        "MATH_MET": (6, 7, 7, 7),
        "SCI_MET": (3, 3, 3, 4),
        "ELA_GROWTH": (5, 5, 5, 6),
        "MATH_GROWTH": (6, 7, 7, 7),
    }
    others = {"SEL": (5, 4, 3, 2), "CHRONIC": (4, 4, 3, 3), "EL_RFEP": (9, 9, 8, 8)}
    rng = np.random.default_rng(7)
    labels = ["A"] + [f"S{i}" for i in range(40)]
    rows = []
    for label in labels:
        for ind, lv in (academic | others).items():
            if label != "A":
                lv = tuple(int(x) for x in rng.integers(1, 11, 4))
            groups = ("ALL", "EL", "SWD", "SED")
            rows += [(label, g, ind, v) for g, v in zip(groups, lv, strict=True)]
    schools = frame("schools", [school(label, "ES") for label in labels])
    out = compute_index(leveled(rows), schools, M, None)
    domains = ("academic", "social_emotional", "culture_climate")
    assert {d.pools for d in M.domains} == {(d,) for d in domains}
    shown = out.dropna(subset=list(domains))
    assert len(shown) == len(labels)
    weights = {d.pools[0]: d.weight for d in M.domains}
    again = 10.0 * sum(weights[d] * shown[d] for d in domains) / sum(weights.values())
    np.testing.assert_array_equal(again.to_numpy(), shown["sqii"].to_numpy())
