"""Index levels from cut points (METHODOLOGY.md "Index levels")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sqis.levels import (
    add_change,
    assign_levels,
    band,
    bands,
    improvement_needed,
    levels_for,
)
from sqis.methodology import for_year
from tests.builders import code, frame, school

BASE = for_year("2015-16")
TENS = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0)
M = BASE.model_copy(
    update={
        "cut_points": {
            **BASE.cut_points,
            "ELA_MET": {"ES": TENS, "MS": TENS, "HS": TENS},
            "CHRONIC": {"ES": TENS, "MS": TENS, "HS": TENS},
        }
    }
)
SCHOOLS = frame("schools", [school("A", "ES"), school("M", "MS")])


def ind(rows: list[tuple]) -> pd.DataFrame:
    """rows: (school label, group, indicator, value, denominator)."""
    return pd.DataFrame(
        {
            "school_code": [code(r[0]) for r in rows],
            "student_group": [r[1] for r in rows],
            "indicator": [r[2] for r in rows],
            "numerator": pd.array([pd.NA] * len(rows), dtype="Int64"),
            "denominator": [r[4] for r in rows],
            "value": [r[3] for r in rows],
            "meets_nsize": [r[4] >= M.n_size for r in rows],
        }
    )


@pytest.mark.parametrize(
    ("percentile", "level"),
    [(0, 1), (7, 1), (9.99, 1), (10, 2), (57, 6), (88, 9), (89.9, 9), (90, 10), (100, 10)],
)
def test_growth_percentile_to_level(percentile: float, level: int) -> None:
    out = assign_levels(ind([("A", "ALL", "ELA_GROWTH", percentile, 30)]), SCHOOLS, M)
    assert out["level"].iloc[0] == level


def test_higher_is_better_levels_and_improvement() -> None:
    out = assign_levels(
        ind(
            [
                ("A", "ALL", "ELA_MET", 35.0, 30),
                ("A", "HI", "ELA_MET", 85.0, 30),
                ("A", "AA", "ELA_MET", 95.0, 30),
                ("A", "EL", "ELA_MET", 5.0, 30),
            ]
        ),
        SCHOOLS,
        M,
    )
    assert out["level"].tolist() == [4, 9, 10, 1]
    assert out.loc[0, ["improve_1", "improve_2", "improve_3"]].tolist() == [5.0, 15.0, 25.0]
    assert out.loc[1, "improve_1"] == 5.0 and np.isnan(out.loc[1, "improve_2"])
    assert out.loc[2, ["improve_1", "improve_2", "improve_3"]].isna().all()
    assert out.loc[3, "improve_1"] == 5.0


def test_lower_is_better_levels_and_reduction() -> None:
    out = assign_levels(
        ind(
            [
                ("A", "ALL", "CHRONIC", 35.0, 30),
                ("A", "HI", "CHRONIC", 10.0, 30),
                ("A", "AA", "CHRONIC", 90.0, 30),
                ("A", "EL", "CHRONIC", 95.0, 30),
                ("A", "SED", "CHRONIC", 3.0, 30),
            ]
        ),
        SCHOOLS,
        M,
    )
    # 35: cut points ≥ 35 are 40..90 (six) → 7; 10 ≤ all nine → 10; 90 ≤ one → 2; 95 → 1
    assert out["level"].tolist() == [7, 10, 2, 1, 10]
    assert out.loc[0, ["improve_1", "improve_2", "improve_3"]].tolist() == [5.0, 15.0, 25.0]
    assert out.loc[3, "improve_1"] == 5.0  # 95 → 90 reaches level 2
    assert out.loc[1, ["improve_1", "improve_2", "improve_3"]].isna().all()


def test_no_level_under_nsize_or_without_value() -> None:
    out = assign_levels(
        ind(
            [
                ("A", "ALL", "ELA_MET", 50.0, 19),
                ("A", "HI", "ELA_MET", np.nan, 40),
                ("A", "AA", "ELA_MET", 50.0, 20),
            ]
        ),
        SCHOOLS,
        M,
    )
    assert out["level"].isna().tolist() == [True, True, False]
    assert str(out["level"].dtype) == "Int64"
    assert np.isnan(out.loc[0, "improve_1"])


def test_cut_points_per_school_type() -> None:
    ms = {"MS": (1.0, 2, 3, 4, 5, 6, 7, 8, 9)}
    m = M.model_copy(
        update={"cut_points": {**M.cut_points, "SUSP": {**M.cut_points["SUSP"], **ms}}}
    )
    out = assign_levels(ind([("M", "ALL", "SUSP", 4.5, 30)]), SCHOOLS, m)
    assert out["level"].iloc[0] == 6  # cut points ≥ 4.5: 5..9 → 1 + 5


def test_bands() -> None:
    assert [band(lv, M) for lv in (1, 3, 4, 7, 8, 10)] == [
        "below average",
        "below average",
        "average",
        "average",
        "above average",
        "above average",
    ]
    b = bands(pd.Series([3, 8, pd.NA], dtype="Int64"), M)
    assert b.iloc[0] == "below average" and b.iloc[1] == "above average" and pd.isna(b.iloc[2])


def test_add_change() -> None:
    cur = assign_levels(
        ind([("A", "ALL", "ELA_MET", 35.0, 30), ("A", "HI", "ELA_MET", 50, 30)]), SCHOOLS, M
    )
    prior = assign_levels(ind([("A", "ALL", "ELA_MET", 22.0, 30)]), SCHOOLS, M)
    out = add_change(cur, prior)
    assert out.loc[0, "prior_value"] == 22.0 and out.loc[0, "change"] == 13.0
    assert out.loc[0, "prior_level"] == 3 and out.loc[0, "level_change"] == 1
    assert pd.isna(out.loc[1, "prior_value"]) and pd.isna(out.loc[1, "level_change"])
    none = add_change(cur, None)
    assert none["prior_value"].isna().all() and none["level_change"].isna().all()


@given(
    value=st.floats(min_value=-50, max_value=150, allow_nan=False),
    steps=st.integers(min_value=1, max_value=3),
    direction=st.sampled_from(["higher", "lower"]),
)
def test_improvement_reaches_exactly_that_level(value: float, steps: int, direction: str) -> None:
    """Moving by improve_k lands on level + k: the report's promise, for any value."""
    cuts = np.array(TENS)
    level = levels_for(np.array([value]), cuts, direction)
    need = improvement_needed(np.array([value]), level, cuts, direction, steps)[0]
    if level[0] + steps > 10:
        assert np.isnan(need)
        return
    assert need > 0
    # (1e-9: value + (c - value) may miss c by a rounding unit)
    moved = value + need + 1e-9 if direction == "higher" else value - need - 1e-9
    assert levels_for(np.array([moved]), cuts, direction)[0] == level[0] + steps
    # and not a bit less: just short of the move stays below that level
    short = value + need * 0.999 if direction == "higher" else value - need * 0.999
    assert levels_for(np.array([short]), cuts, direction)[0] < level[0] + steps


def test_band_edges_must_be_ordered() -> None:
    from pydantic import ValidationError

    from sqis.methodology import LevelBandsSpec

    with pytest.raises(ValidationError, match="above_average_from must exceed"):
        LevelBandsSpec(average_from=8, above_average_from=4)


def test_no_row_counted_gives_no_levels_and_a_row_without_an_indicator_none() -> None:
    """A district of small schools: no row meets the n-size, no level, and the stage goes on
    (found attacking the integer-pair rewrite: it raised IndexError on no counted row). A
    row without an indicator name gets no level."""
    from sqis.index import compute_index
    from sqis.indicators import compute_indicators
    from tests.builders import make_year, students

    small = make_year(schools=[school("A")], students=students(10, "A"))
    ind = compute_indicators(small, None, None, M)
    assert len(ind) and not ind["meets_nsize"].any()
    out = assign_levels(ind, small.schools, M)
    assert out["level"].isna().all() and out["improve_1"].isna().all()
    assert compute_index(out, small.schools, M, None)["sqii"].isna().all()
    assert len(assign_levels(ind.head(0), small.schools, M)) == 0

    named = pd.DataFrame(
        {
            "school_code": [code("A")] * 2,
            "student_group": ["ALL", "ALL"],
            "indicator": pd.array(["CHRONIC", None], dtype="str"),
            "value": [50.0, 50.0],
            "meets_nsize": [True, True],
        }
    )
    levels = assign_levels(named, frame("schools", [school("A")]), M)["level"]
    assert levels.iloc[0] == 6 and pd.isna(levels.iloc[1])  # 50 ≤ five cut points: level 6
