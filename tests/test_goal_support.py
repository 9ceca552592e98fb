"""Support partners for schools missing their goal (METHODOLOGY.md "Support for schools
missing their goal"): hand-computed small cases."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from schemas.outputs import GoalSupport, columns
from sqis.goal_support import assign_goal_support, supported_by, weakest_indicators
from sqis.methodology import Methodology, MethodologyError, for_year, load_file


@pytest.fixture
def m() -> Methodology:
    return for_year("2015-16")


def with_spec(m: Methodology, **changes: object) -> Methodology:
    assert m.goal_support is not None
    return m.model_copy(update={"goal_support": m.goal_support.model_copy(update=changes)})


def frames(
    schools: dict[str, tuple[str, str, bool | None, float]],
    levels: dict[tuple[str, str], float],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """schools: code → (school_type, designation, meets_goal, SED share); levels: (code,
    indicator) → the ALL level (= the school indicator level: no subgroup counts)."""
    codes = list(schools)
    des = pd.DataFrame(
        {
            "school_code": codes,
            "designation": [v[1] for v in schools.values()],
            "meets_goal": pd.array([v[2] for v in schools.values()], dtype="boolean"),
        }
    )
    ind = pd.DataFrame(
        [
            {"school_code": s, "student_group": "ALL", "indicator": i, "value": 50.0,
             "meets_nsize": True, "level": lv}
            for (s, i), lv in levels.items()
        ]
    )  # fmt: skip
    sch = pd.DataFrame({"school_code": codes, "school_type": [v[0] for v in schools.values()]})
    sh = pd.DataFrame(
        {"school_code": codes, "SED": [v[3] for v in schools.values()], "EL": 0.1, "SWD": 0.1}
    )
    return des, ind, sch, sh


def rows(got: pd.DataFrame) -> list[list[object]]:
    return [[None if pd.isna(v) else v for v in r] for r in got.values.tolist()]


def test_the_methodology_section(m: Methodology) -> None:
    for mm in (m, for_year("2013-14")):
        assert mm.goal_support is not None
        assert (mm.goal_support.min_level, mm.goal_support.max_supported) == (8, 2)


def test_share_weights_name_only_sed_el_swd(tmp_path: Path, m: Methodology) -> None:
    text = Path(m.source).read_text()
    bad = tmp_path / "bad.yaml"
    anchor = "goal_support:                      # Support"
    assert anchor in text
    head, tail = text.split(anchor)
    tail = tail.replace(
        "share_weights: {SED: 1.0, EL: 1.0, SWD: 1.0}", "share_weights: {HOM: 1}", 1
    )
    bad.write_text(head + anchor + tail)
    with pytest.raises(MethodologyError, match="goal_support.share_weights"):
        load_file(bad)


def test_weakest_indicator_ties_go_by_indicator_code() -> None:
    sil = pd.DataFrame(
        {
            "school_code": ["A", "A", "A", "B", "B"],
            "indicator": ["MATH_MET", "ELA_MET", "SUSP", "SUSP", "CHRONIC"],
            "school_level": [3.0, 3.0, 5.0, 2.5, 4.0],
        }
    )
    assert weakest_indicators(sil).to_dict() == {"A": "ELA_MET", "B": "SUSP"}


def test_who_is_offered_support_and_by_whom(m: Methodology) -> None:
    des, ind, sch, sh = frames(
        {
            "M1": ("ES", "NONE", False, 0.50),  # weakest: ELA_MET and MATH_MET tie → ELA_MET
            "M2": ("ES", "REWARD", False, 0.50),  # a REWARD school missing its goal is offered
            "M4": ("MS", "NONE", False, 0.50),  # no MS school met its goal: unmatched
            "M5": ("ES", "PRIORITY", False, 0.50),  # PRIORITY: not offered
            "M6": ("ES", "FOCUS", False, 0.50),  # FOCUS: not offered
            "M7": ("ES", "NONE", None, 0.50),  # no goal (no prior SQII): not offered
            "S1": ("ES", "NONE", True, 0.50),  # 8 on ELA_MET
            "S2": ("ES", "FOCUS", True, 0.60),  # 9 on MATH_MET (its designation does not matter)
            "S3": ("ES", "NONE", True, 0.50),  # 7.5: below 8
            "S9": ("HS", "NONE", True, 0.50),  # 10 on ELA_MET, another type
        },
        {
            ("M1", "ELA_MET"): 3, ("M1", "MATH_MET"): 3, ("M1", "SUSP"): 6,
            ("M2", "MATH_MET"): 5, ("M2", "ELA_MET"): 6,
            ("M4", "ELA_MET"): 2, ("M5", "ELA_MET"): 1, ("M6", "ELA_MET"): 1,
            ("S1", "ELA_MET"): 8, ("S1", "MATH_MET"): 7,
            ("S2", "ELA_MET"): 7, ("S2", "MATH_MET"): 9,
            ("S3", "ELA_MET"): 7.5, ("S3", "MATH_MET"): 7.5, ("S9", "ELA_MET"): 10,
        },
    )  # fmt: skip
    got = assign_goal_support(des, ind, sch, sh, m)
    assert list(got.columns) == columns(GoalSupport)
    assert rows(got) == [
        ["M1", "ELA_MET", "S1"],
        ["M2", "MATH_MET", "S2"],
        ["M4", "ELA_MET", None],
    ]
    assert rows(supported_by(got)) == [["S1", "M1", "ELA_MET"], ["S2", "M2", "MATH_MET"]]


def test_a_support_school_helps_at_most_two(m: Methodology) -> None:
    des, ind, sch, sh = frames(
        {
            "M1": ("ES", "NONE", False, 0.50),
            "M2": ("ES", "NONE", False, 0.90),  # the farthest from S1: left unmatched
            "M3": ("ES", "NONE", False, 0.52),
            "S1": ("ES", "NONE", True, 0.50),
            "S2": ("ES", "NONE", True, 0.90),  # 7 on ELA_MET: not eligible
        },
        {
            ("M1", "ELA_MET"): 2, ("M2", "ELA_MET"): 2, ("M3", "ELA_MET"): 2,
            ("S1", "ELA_MET"): 9, ("S2", "ELA_MET"): 7,
        },
    )  # fmt: skip
    got = assign_goal_support(des, ind, sch, sh, m)
    assert rows(got) == [["M1", "ELA_MET", "S1"], ["M2", "ELA_MET", None], ["M3", "ELA_MET", "S1"]]
    # max_supported 3: all three
    three = assign_goal_support(des, ind, sch, sh, with_spec(m, max_supported=3))
    assert three["support_school_code"].tolist() == ["S1", "S1", "S1"]


def test_the_assignment_minimises_the_total_cost(m: Methodology) -> None:
    des, ind, sch, sh = frames(
        {
            "A": ("ES", "NONE", False, 0.50),
            "B": ("ES", "NONE", False, 0.55),
            "S1": ("ES", "NONE", True, 0.50),
            "S2": ("ES", "NONE", True, 0.60),
        },
        {("A", "ELA_MET"): 1, ("B", "ELA_MET"): 1, ("S1", "ELA_MET"): 9, ("S2", "ELA_MET"): 9},
    )
    # one place each: A→S1 (0) + B→S2 (0.05) = 0.05 beats A→S2 (0.10) + B→S1 (0.05)
    got = assign_goal_support(des, ind, sch, sh, with_spec(m, max_supported=1))
    assert got["support_school_code"].tolist() == ["S1", "S2"]
    # a zero weight on SED: every pair costs the same; ties resolve by school code
    flat = with_spec(m, max_supported=1, share_weights={"SED": 0.0, "EL": 1.0, "SWD": 1.0})
    assert assign_goal_support(des, ind, sch, sh, flat)["support_school_code"].tolist() == [
        "S1",
        "S2",
    ]


def test_optimal_where_greedy_fails(m: Methodology) -> None:
    des, ind, sch, sh = frames(
        {
            "A": ("ES", "NONE", False, 0.50),  # eligible for S1 and S2; S1 is closer
            "B": ("ES", "NONE", False, 0.50),  # weakest MATH_MET: only S1 qualifies
            "S1": ("ES", "NONE", True, 0.50),
            "S2": ("ES", "NONE", True, 0.60),
        },
        {
            ("A", "ELA_MET"): 1, ("A", "MATH_MET"): 5, ("B", "MATH_MET"): 1, ("B", "ELA_MET"): 5,
            ("S1", "ELA_MET"): 9, ("S1", "MATH_MET"): 9, ("S2", "ELA_MET"): 9,
        },
    )  # fmt: skip
    # greedy by code: A→S1 leaves B unmatched; optimal: A→S2, B→S1
    got = assign_goal_support(des, ind, sch, sh, with_spec(m, max_supported=1))
    assert rows(got) == [["A", "ELA_MET", "S2"], ["B", "MATH_MET", "S1"]]


def test_nothing_to_offer(m: Methodology) -> None:
    des, ind, sch, sh = frames(
        {"S1": ("ES", "NONE", True, 0.5), "X": ("ES", "NONE", None, 0.5)},
        {("S1", "ELA_MET"): 9},
    )
    got = assign_goal_support(des, ind, sch, sh, m)
    assert got.empty and list(got.columns) == columns(GoalSupport)
    assert assign_goal_support(des, ind, sch, sh, m.model_copy(update={"goal_support": None})).empty
