"""Designations on small hand-computed cases (METHODOLOGY.md "Designations")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from sqis.designations import achievement_gaps, designate, share_count
from sqis.methodology import Methodology, for_year


@pytest.fixture(params=["core-2013.1", "core-2015.1"])
def m(request: pytest.FixtureRequest) -> Methodology:
    """Both methodology versions: these cases come out the same under each (the cases where
    they differ are in tests/test_methodology_versions.py)."""
    return for_year("2015-16", request.param)


def make_year(spec: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """schools, index, indicators from one dict per school.

    keys: code, type (ES), title_i (True), sqii, prior (prior_sqii), levels ((ELA, MATH) of
    ALL, default (5, 5)), groups ({group: (ELA, MATH)} values next to ALL's 50/50, all at
    the n-size), small ({group: (ELA, MATH)} under the n-size), grad ({group: GRAD4} at
    the n-size, level ``grad_level``), grad_small ({group: GRAD4} under it), group_levels
    ({(group, ind): level}).
    """
    schools, index, rows = [], [], []
    for s in spec:
        code = s["code"]
        schools.append(
            {
                "school_code": code,
                "district_code": code[:7],
                "school_name": code,
                "district_name": code[:7],
                "school_type": s.get("type", "ES"),
                "title_i": s.get("title_i", True),
                "low_grade": 0,
                "high_grade": 5,
            }
        )
        index.append(
            {
                "school_code": code,
                "sqii": s.get("sqii", np.nan),
                "prior_sqii": s.get("prior", np.nan),
                "meets_goal": pd.NA,
            }
        )
        ela_l, math_l = s.get("levels", (5, 5))
        rows += [
            (code, "ALL", "ELA_MET", 50.0, True, ela_l),
            (code, "ALL", "MATH_MET", 50.0, True, math_l),
        ]
        for g, (e, mth) in s.get("groups", {}).items():
            lv = s.get("group_levels", {})
            rows += [
                (code, g, "ELA_MET", e, True, lv.get((g, "ELA_MET"), 5)),
                (code, g, "MATH_MET", mth, True, lv.get((g, "MATH_MET"), 5)),
            ]
        for g, (e, mth) in s.get("small", {}).items():
            rows += [(code, g, "ELA_MET", e, False, None), (code, g, "MATH_MET", mth, False, None)]
        for g, v in s.get("grad", {}).items():
            rows.append((code, g, "GRAD4", v, True, s.get("grad_level", 1)))
        for g, v in s.get("grad_small", {}).items():
            rows.append((code, g, "GRAD4", v, False, None))
    ind = pd.DataFrame(
        rows, columns=["school_code", "student_group", "indicator", "value", "meets_nsize", "level"]
    )
    ind["level"] = ind["level"].astype("Int64")
    ind["numerator"] = np.nan
    ind["denominator"] = 30.0
    return pd.DataFrame(schools), pd.DataFrame(index), ind


def consortium() -> list[dict[str, Any]]:
    """20 Title I schools (18 ES, 2 HS) and 2 that are not Title I.

    Gaps (ALL 50/50 − group): E00 40 (SED 10/10), E05 15 (SED 30/40: ELA trails most),
    E07 17.5 (EL 45/20: MATH), E09 10, E17 12, every other Title I school 1 (SED 49/49).
    Of the 20 Title I gaps, the 75th percentile is 1 + 0.25 × (10 − 1) = 3.25.
    """
    gaps = {
        0: ("SED", (10, 10)),
        5: ("SED", (30, 40)),
        7: ("EL", (45, 20)),
        9: ("SED", (40, 40)),
        17: ("SED", (38, 38)),
    }
    spec = []
    for i in range(18):
        g, vals = gaps.get(i, ("SED", (49, 49)))
        s = {
            "code": f"01611190000{i:03d}",
            "sqii": 30.0 + i,
            "prior": 29.0 + i,
            "groups": {g: vals},
        }
        if g == "EL":
            s["groups"]["SED"] = (49, 49)
        spec.append(s)
    spec[0]["levels"] = (3, 2)  # E00: MATH is ALL's weaker subject
    spec[3]["small"] = {"AA": (0, 0)}  # a gap of 50, but AA is under the n-size
    spec[9]["prior"] = 0.0  # gain 39, but E09's gap is in the top quarter
    spec[10]["prior"] = 20.0  # gain 20: the high-progress Reward school
    spec += [
        {
            "code": "01611190000100",
            "type": "HS",
            "sqii": 90.0,
            "prior": 89.0,
            "groups": {"SED": (49, 49)},
            "grad": {"ALL": 55.0},
        },
        {
            "code": "01611190000101",
            "type": "HS",
            "sqii": 85.0,
            "prior": 84.0,
            "groups": {"SED": (49, 49)},
            "grad": {"ALL": 80.0, "HI": 50.0, "SWD": 58.0},
            "grad_small": {"AA": 40.0},
        },
        {"code": "01611190000200", "title_i": False, "sqii": 10.0, "groups": {"SED": (0, 0)}},
        {"code": "01611190000201", "title_i": False, "sqii": 99.0, "prior": 10.0},
    ]
    return spec


def code(i: int) -> str:
    return f"01611190000{i:03d}"


def test_share_count_rounds_up_without_float_noise() -> None:
    assert share_count(0.05, 20) == 1
    assert share_count(0.05, 21) == 2
    assert share_count(0.10, 20) == 2
    assert share_count(0.07, 100) == 7  # 0.07 × 100 = 7.000000000000001 in floats


def test_gaps_take_the_largest_counted_group(m: Methodology) -> None:
    schools, _, ind = make_year(consortium())
    gaps = achievement_gaps(ind, m).set_index("school_code")
    assert gaps.loc[code(5), "gap"] == pytest.approx(15.0)
    assert gaps.loc[code(5), "gap_group"] == "SED"
    assert gaps.loc[code(5), "gap_indicator"] == "ELA_MET"  # 50 − 30 > 50 − 40
    assert gaps.loc[code(7), "gap"] == pytest.approx(17.5)
    assert (gaps.loc[code(7), "gap_group"], gaps.loc[code(7), "gap_indicator"]) == (
        "EL",
        "MATH_MET",
    )
    assert gaps.loc[code(3), "gap"] == pytest.approx(1.0)  # AA under the n-size is ignored
    assert "01611190000201" not in gaps.index  # no group counted


def test_designations_of_the_consortium(m: Methodology) -> None:
    schools, index, ind = make_year(consortium())
    d = designate(index, ind, schools, None, m).set_index("school_code")
    by = d.groupby("designation").groups
    assert sorted(by["PRIORITY"]) == [code(0), "01611190000100"]
    assert sorted(by["FOCUS"]) == [code(5), code(7), "01611190000101"]
    # performance: E17 (47) has a top-quarter gap, so E16 (46); progress: E10 (+20), not E09
    assert sorted(by["REWARD"]) == [code(10), code(16)]
    assert d.loc["01611190000200", "designation"] == "NONE"  # lowest SQII, not Title I
    assert d.loc["01611190000201", "designation"] == "NONE"
    assert len(d) == 22


def test_reasons(m: Methodology) -> None:
    schools, index, ind = make_year(consortium())
    d = designate(index, ind, schools, None, m).set_index("school_code")

    def reason(c: str) -> tuple[str, str]:
        return d.loc[c, "reason_group"], d.loc[c, "reason_indicator"]

    assert reason(code(0)) == ("ALL", "MATH_MET")  # PRIORITY by SQII: ALL's weaker subject
    assert reason("01611190000100") == ("ALL", "GRAD4")  # PRIORITY by graduation
    assert reason(code(5)) == ("SED", "ELA_MET")
    assert reason(code(7)) == ("EL", "MATH_MET")
    assert reason("01611190000101") == ("HI", "GRAD4")  # lowest counted subgroup (not AA)
    assert d.loc[code(10), ["reason_group", "reason_indicator"]].isna().all()
    assert d.loc[code(5), "gap"] == pytest.approx(15.0)
    assert d.loc[code(7), "gap_group"] == "EL"


def test_graduation_rule_makes_priority_whatever_the_sqii(m: Methodology) -> None:
    spec = consortium()
    schools, index, ind = make_year(spec)
    d = designate(index, ind, schools, None, m).set_index("school_code")
    assert d.loc["01611190000100", "designation"] == "PRIORITY"  # SQII 90, the highest
    # the same school at the threshold exactly is not below it
    spec[18]["grad"] = {"ALL": float(m.designations.grad_threshold)}
    schools, index, ind = make_year(spec)
    d = designate(index, ind, schools, None, m).set_index("school_code")
    assert d.loc["01611190000100", "designation"] == "REWARD"  # then the top SQII
    # a non-Title I high school is never designated
    spec[18]["grad"], spec[18]["title_i"] = {"ALL": 10.0}, False
    schools, index, ind = make_year(spec)
    d = designate(index, ind, schools, None, m).set_index("school_code")
    assert d.loc["01611190000100", "designation"] == "NONE"


def test_priority_ties_go_to_the_lower_school_code(m: Methodology) -> None:
    spec = consortium()
    spec[1]["sqii"] = spec[0]["sqii"]  # E00 and E01 tie at 30
    spec[0], spec[1] = spec[1], spec[0]  # order of delivery must not matter
    schools, index, ind = make_year(spec)
    d = designate(index, ind, schools, None, m).set_index("school_code")
    assert d.loc[code(0), "designation"] == "PRIORITY"
    assert d.loc[code(1), "designation"] == "NONE"


def test_no_sqii_no_designation_by_rank(m: Methodology) -> None:
    spec = consortium()
    spec[0]["sqii"] = np.nan  # E00 has no index: E01 is now the lowest
    schools, index, ind = make_year(spec)
    d = designate(index, ind, schools, None, m).set_index("school_code")
    assert d.loc[code(0), "designation"] == "NONE"
    assert d.loc[code(1), "designation"] == "PRIORITY"


def test_years_in_status_and_exit(m: Methodology) -> None:
    schools, index, ind = make_year(consortium())
    prior = pd.DataFrame(
        {
            "school_code": [code(5), code(7), code(0), code(2), code(16), code(3)],
            "designation": ["FOCUS", "PRIORITY", "PRIORITY", "FOCUS", "REWARD", "NONE"],
            "years_in_status": [2, 1, 4, 3, 1, 0],
        }
    )
    d = designate(index, ind, schools, prior, m).set_index("school_code")
    assert d.loc[code(5), "years_in_status"] == 3  # FOCUS again
    assert d.loc[code(7), "years_in_status"] == 1  # PRIORITY → FOCUS: a new status
    assert not d.loc[code(7), "exited"]  # still PRIORITY-or-FOCUS
    assert d.loc[code(0), "years_in_status"] == 5
    assert d.loc[code(2), "exited"] and d.loc[code(2), "years_in_status"] == 0
    assert d.loc[code(16), "years_in_status"] == 2 and not d.loc[code(16), "exited"]
    assert d.loc[code(10), "years_in_status"] == 1
    assert int(d["exited"].sum()) == 1


def test_progress_reward_needs_a_gain_and_focus_a_positive_gap(m: Methodology) -> None:
    spec = consortium()
    for s in spec:
        s["prior"] = s.get("sqii", 0.0) + 5  # every school fell back
        if s["code"] in (code(5), code(7), code(9), code(17)):
            s["groups"] = {"SED": (55, 55)}  # the group outperforms ALL: gap −5
    schools, index, ind = make_year(spec)
    d = designate(index, ind, schools, None, m).set_index("school_code")
    by = d.groupby("designation").groups
    # gaps left: E00 40 (PRIORITY), −5 at E05/E07/E09/E17 and 1 elsewhere. FOCUS: the two
    # largest positive gaps (1, ties by school code) and the graduation-rule high school
    assert sorted(by["FOCUS"]) == [code(1), code(2), "01611190000101"]
    # the 75th percentile of the gaps is 1, so only the −5 schools may be REWARD; none
    # gained, so only the performance Reward school: E17, the highest SQII of them
    assert list(by["REWARD"]) == [code(17)]
