"""Reward partners: eligibility, cost, capacity, optimality (METHODOLOGY.md "Escalation")."""

from __future__ import annotations

import pandas as pd
import pytest

from sqis.methodology import Methodology, for_year
from sqis.partners import assign_partners, school_shares, with_partners


@pytest.fixture
def m() -> Methodology:
    return for_year("2015-16")


def with_partner_spec(m: Methodology, **changes) -> Methodology:
    return m.model_copy(update={"partners": m.partners.model_copy(update=changes)})


def frames(needers, rewards, levels, shares=None, types=None):
    """needers: (code, designation, years, group, indicator); rewards: codes;
    levels: {(reward, group, indicator): level}; shares: {code: (SED, EL, SWD)}."""
    rows = [
        {
            "school_code": c,
            "designation": d,
            "years_in_status": y,
            "reason_group": g,
            "reason_indicator": i,
        }
        for c, d, y, g, i in needers
    ]
    rows += [
        {
            "school_code": r,
            "designation": "REWARD",
            "years_in_status": 1,
            "reason_group": None,
            "reason_indicator": None,
        }
        for r in rewards
    ]
    des = pd.DataFrame(rows)
    des["escalation"] = "NONE"
    des["partner_school_code"] = None
    ind = pd.DataFrame(
        [
            {
                "school_code": s,
                "student_group": g,
                "indicator": i,
                "value": 50.0,
                "meets_nsize": True,
                "level": lv,
            }
            for (s, g, i), lv in levels.items()
        ]
    )
    codes = des["school_code"].tolist()
    types = types or {}
    schools = pd.DataFrame(
        {"school_code": codes, "school_type": [types.get(c, "ES") for c in codes]}
    )
    shares = shares or {}
    sh = pd.DataFrame(
        [{"school_code": c, "SED": v[0], "EL": v[1], "SWD": v[2]} for c, v in shares.items()]
        or None,
        columns=["school_code", "SED", "EL", "SWD"],
    )
    if sh.empty:
        sh = pd.DataFrame({"school_code": codes, "SED": 0.5, "EL": 0.2, "SWD": 0.1})
    return des, ind, schools, sh


def test_school_shares() -> None:
    students = pd.DataFrame(
        {
            "school_code": ["A", "A", "A", "A", "B"],
            "sed": [True, True, False, False, False],
            "el_status": ["EL", "RFEP", "EO", "EL", "EL"],
            "swd": [False, False, False, True, True],
        }
    )
    got = school_shares(students).set_index("school_code")
    assert got.loc["A"].tolist() == [0.5, 0.5, 0.25]
    assert got.loc["B"].tolist() == [0.0, 1.0, 1.0]


def test_cost_prefers_same_type_and_similar_shares(m: Methodology) -> None:
    des, ind, schools, sh = frames(
        [("F1", "FOCUS", 3, "SED", "ELA_MET")],
        ["R1", "R2", "R3"],
        {("R1", "SED", "ELA_MET"): 8, ("R2", "SED", "ELA_MET"): 9, ("R3", "SED", "ELA_MET"): 7},
        shares={
            "F1": (0.5, 0.2, 0.1),
            "R1": (0.9, 0.2, 0.1),
            "R2": (0.5, 0.2, 0.1),
            "R3": (0.6, 0.3, 0.1),
        },
        types={"R2": "MS"},
    )
    # R1: 0.4; R2: 1 (another type); R3: 0.1 + 0.1 = 0.2
    got = assign_partners(des, ind, schools, sh, None, m)
    assert got[["school_code", "partner_school_code"]].values.tolist() == [["F1", "R3"]]
    assert got["cost"].iloc[0] == pytest.approx(0.2)
    assert got["kind"].tolist() == ["FOCUS"]


def test_only_reward_schools_strong_in_the_reason_are_eligible(m: Methodology) -> None:
    des, ind, schools, sh = frames(
        [("F1", "FOCUS", 3, "SED", "ELA_MET"), ("F2", "FOCUS", 4, "EL", "MATH_MET")],
        ["R1", "R2"],
        # R1 is strong for SED in MATH, not ELA; R2 at 6 is below min_level 7
        {
            ("R1", "SED", "MATH_MET"): 10,
            ("R1", "SED", "ELA_MET"): 6,
            ("R2", "SED", "ELA_MET"): 6,
            ("R2", "EL", "MATH_MET"): 7,
        },
    )
    got = assign_partners(des, ind, schools, sh, None, m)
    assert got[["school_code", "partner_school_code"]].values.tolist() == [["F2", "R2"]]
    # F1 has no eligible Reward school: no partner this year
    out = with_partners(des, got).set_index("school_code")
    assert pd.isna(out.loc["F1", "partner_school_code"])
    assert out.loc["F2", "partner_school_code"] == "R2"


def test_a_level_under_the_nsize_does_not_qualify(m: Methodology) -> None:
    des, ind, schools, sh = frames(
        [("P1", "PRIORITY", 1, "ALL", "ELA_MET")], ["R1"], {("R1", "ALL", "ELA_MET"): 9}
    )
    ind["meets_nsize"] = False
    assert assign_partners(des, ind, schools, sh, None, m).empty


def test_who_needs_a_partner(m: Methodology) -> None:
    des, ind, schools, sh = frames(
        [
            ("F2", "FOCUS", 2, "SED", "ELA_MET"),
            ("F5", "FOCUS", 5, "SED", "ELA_MET"),
            ("P1", "PRIORITY", 1, "ALL", "ELA_MET"),
        ],
        ["R1", "R2"],
        {
            ("R1", "SED", "ELA_MET"): 8,
            ("R1", "ALL", "ELA_MET"): 8,
            ("R2", "SED", "ELA_MET"): 8,
            ("R2", "ALL", "ELA_MET"): 8,
        },
    )
    got = assign_partners(des, ind, schools, sh, None, m)
    assert got["school_code"].tolist() == ["F5", "P1"]  # a 2nd-year FOCUS school has none


def test_at_most_max_partners_per_reward_school(m: Methodology) -> None:
    needers = [(f"F{k}", "FOCUS", 3, "SED", "ELA_MET") for k in range(5)]
    levels = {("R1", "SED", "ELA_MET"): 9, ("R2", "SED", "ELA_MET"): 9}
    des, ind, schools, sh = frames(needers, ["R1", "R2"], levels, types={"R2": "MS"})
    got = assign_partners(des, ind, schools, sh, None, m)
    # everyone prefers R1 (same type), R1 takes two, R2 two, the fifth gets none
    assert got.groupby("partner_school_code").size().to_dict() == {"R1": 2, "R2": 2}
    assert len(got) == 4
    # reproducible: ties go by school code, and the same inputs give the same pairs
    assert got["school_code"].tolist() == ["F0", "F1", "F2", "F3"]
    again = assign_partners(des.iloc[::-1], ind, schools, sh, None, m)
    pd.testing.assert_frame_equal(got, again)


def test_pairing_is_optimal_not_greedy(m: Methodology) -> None:
    one = with_partner_spec(m, max_partners=1)
    des, ind, schools, sh = frames(
        [("A", "FOCUS", 3, "SED", "ELA_MET"), ("B", "FOCUS", 3, "EL", "ELA_MET")],
        ["R1", "R2"],
        {("R1", "SED", "ELA_MET"): 9, ("R2", "SED", "ELA_MET"): 9, ("R1", "EL", "ELA_MET"): 9},
        shares={
            "A": (0.5, 0.2, 0.1),
            "B": (0.5, 0.2, 0.1),
            "R1": (0.5, 0.2, 0.1),
            "R2": (0.6, 0.2, 0.1),
        },
    )
    # greedy A→R1 (cost 0) would leave B without a partner; optimal: A→R2, B→R1
    got = assign_partners(des, ind, schools, sh, None, one)
    assert got[["school_code", "partner_school_code"]].values.tolist() == [["A", "R2"], ["B", "R1"]]


def test_last_years_partner_is_kept_when_close(m: Methodology) -> None:
    des, ind, schools, sh = frames(
        [("F1", "FOCUS", 4, "SED", "ELA_MET")],
        ["R1", "R2"],
        {("R1", "SED", "ELA_MET"): 9, ("R2", "SED", "ELA_MET"): 9},
        shares={"F1": (0.5, 0.2, 0.1), "R1": (0.6, 0.2, 0.1), "R2": (0.7, 0.2, 0.1)},
    )
    assert assign_partners(des, ind, schools, sh, None, m)["partner_school_code"].tolist() == ["R1"]
    prior = pd.DataFrame({"school_code": ["F1"], "partner_school_code": ["R2"]})
    got = assign_partners(des, ind, schools, sh, prior, m)
    assert got["partner_school_code"].tolist() == ["R2"]  # 0.2 − 0.25 < 0.1
    assert got["cost"].iloc[0] == pytest.approx(-0.05)


def test_missing_shares_count_as_the_largest_difference(m: Methodology) -> None:
    des, ind, schools, _ = frames(
        [("F1", "FOCUS", 3, "SED", "ELA_MET")],
        ["R1", "R2"],
        {("R1", "SED", "ELA_MET"): 9, ("R2", "SED", "ELA_MET"): 9},
    )
    sh = pd.DataFrame(
        {"school_code": ["F1", "R2"], "SED": [0.5, 0.8], "EL": [0.2, 0.2], "SWD": [0.1, 0.1]}
    )  # R1's shares are unknown: 3 × 1
    got = assign_partners(des, ind, schools, sh, None, m)
    assert got["partner_school_code"].tolist() == ["R2"]
    assert got["cost"].iloc[0] == pytest.approx(0.3)
