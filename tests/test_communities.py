"""Communities of practice: grouping, size limit, even split, determinism, the schedule."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sqis.communities import CommunityError, even_split, form_communities, schedule
from sqis.methodology import for_year

M = for_year("2015-16")


def _code(i: int) -> str:
    return f"01611190{i:06d}"


def _frames(spec: list[tuple[str, str, str, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """spec rows: (school_code, designation, reason_group, school_type)."""
    des = pd.DataFrame(
        {
            "school_code": [s[0] for s in spec],
            "designation": [s[1] for s in spec],
            "reason_group": [s[2] for s in spec],
        }
    )
    schools = pd.DataFrame(
        {"school_code": [s[0] for s in spec], "school_type": [s[3] for s in spec]}
    )
    return des, schools


def test_groups_by_reason_group_and_school_type_and_only_focus_schools():
    des, schools = _frames(
        [
            (_code(1), "FOCUS", "SWD", "MS"),
            (_code(2), "FOCUS", "SWD", "ES"),
            (_code(3), "FOCUS", "EL", "MS"),
            (_code(4), "FOCUS", "SWD", "MS"),
            (_code(5), "PRIORITY", "", "MS"),
            (_code(6), "REWARD", "", "MS"),
            (_code(7), "NONE", "", "MS"),
        ]
    )
    c = form_communities(des, schools, "2015-16", M)
    assert list(c.columns) == ["community_id", "school_code", "reason_group", "school_type"]
    got = {r.school_code: r.community_id for r in c.itertuples()}
    assert got == {
        _code(1): "2015-16-SWD-MS-1",
        _code(4): "2015-16-SWD-MS-1",
        _code(2): "2015-16-SWD-ES-1",
        _code(3): "2015-16-EL-MS-1",
    }


def test_nine_schools_split_five_and_four_sorted_by_school_code():
    spec = [(_code(i), "FOCUS", "AA", "HS") for i in (9, 3, 7, 1, 5, 2, 8, 4, 6)]
    des, schools = _frames(spec)
    c = form_communities(des, schools, "2015-16", M)
    first = c.loc[c["community_id"] == "2015-16-AA-HS-1", "school_code"].tolist()
    second = c.loc[c["community_id"] == "2015-16-AA-HS-2", "school_code"].tolist()
    assert first == [_code(i) for i in (1, 2, 3, 4, 5)]
    assert second == [_code(i) for i in (6, 7, 8, 9)]


def test_size_limit_from_the_methodology_and_even_split():
    small = M.model_copy(update={"communities": M.communities.model_copy(update={"max_size": 3})})
    des, schools = _frames([(_code(i), "FOCUS", "EL", "ES") for i in range(1, 8)])
    sizes = form_communities(des, schools, "2016-17", small)["community_id"].value_counts()
    # 7 schools, at most 3 → 3 communities of 3, 2, 2 (not 3, 3, 1)
    assert sizes.to_dict() == {"2016-17-EL-ES-1": 3, "2016-17-EL-ES-2": 2, "2016-17-EL-ES-3": 2}
    assert even_split(9, 8) == [5, 4]
    assert even_split(16, 8) == [8, 8]
    assert even_split(17, 8) == [6, 6, 5]
    assert even_split(0, 8) == []


def test_deterministic_whatever_the_row_order():
    spec = [(_code(i), "FOCUS", "SED" if i % 2 else "HI", "MS") for i in range(1, 21)]
    des, schools = _frames(spec)
    a = form_communities(des, schools, "2015-16", M)
    b = form_communities(des.sample(frac=1, random_state=3), schools.iloc[::-1], "2015-16", M)
    pd.testing.assert_frame_equal(a, b)
    assert a.groupby("community_id").size().max() <= M.communities.max_size


def test_focus_school_without_reason_group_or_school_is_a_clear_error():
    des, schools = _frames([(_code(1), "FOCUS", "", "MS")])
    with pytest.raises(CommunityError, match=f"{_code(1)} has no reason_group"):
        form_communities(des, schools, "2015-16", M)
    des, schools = _frames([(_code(1), "FOCUS", "EL", "MS")])
    with pytest.raises(CommunityError, match="not in the schools file"):
        form_communities(des, schools.iloc[0:0], "2015-16", M)


def test_no_focus_schools_no_communities():
    des, schools = _frames([(_code(1), "NONE", "", "MS")])
    assert form_communities(des, schools, "2015-16", M).empty


def test_checkpoint_dates_from_the_methodology():
    assert M.checkpoint_dates("2015-16") == {
        1: date(2015, 10, 15),
        2: date(2016, 1, 15),
        3: date(2016, 4, 15),
        4: date(2016, 6, 15),
    }


def test_schedule_has_the_contract_layout_and_marks_held_checkpoints():
    des, schools = _frames([(_code(1), "FOCUS", "SWD", "MS"), (_code(2), "FOCUS", "SWD", "MS")])
    c = form_communities(des, schools, "2015-16", M)
    s = schedule(c, "2015-16", M, held=[("2015-16-SWD-MS-1", 1)])
    assert list(s.columns) == [
        "community_id",
        "school_code",
        "reason_group",
        "checkpoint",
        "date",
        "status",
    ]
    assert len(s) == 8
    one = s[s["school_code"] == _code(1)]
    assert one["date"].tolist() == [
        date(2015, 10, 15),
        date(2016, 1, 15),
        date(2016, 4, 15),
        date(2016, 6, 15),
    ]
    assert one["status"].tolist() == ["HELD", "SCHEDULED", "SCHEDULED", "SCHEDULED"]
    held = pd.DataFrame({"community_id": ["2015-16-SWD-MS-1"] * 2, "checkpoint": [1, 2]})
    s2 = schedule(c, "2015-16", M, held=held)
    assert (s2["status"] == "HELD").sum() == 4


def test_schedule_takes_the_stored_checkpoints_table():
    des, schools = _frames([(_code(1), "FOCUS", "EL", "HS")])
    c = form_communities(des, schools, "2015-16", M)
    stored = pd.DataFrame(
        {
            "community_id": ["2015-16-EL-HS-1", "2015-16-EL-HS-1"],
            "number": [1, 2],
            "school_code": [_code(1), _code(1)],
            "status": ["HELD", "SCHEDULED"],
        }
    )
    s = schedule(c, "2015-16", M, held=stored)
    assert s["status"].tolist() == ["HELD", "SCHEDULED", "SCHEDULED", "SCHEDULED"]


@given(
    n=st.integers(min_value=1, max_value=60),
    max_size=st.integers(min_value=1, max_value=12),
)
@settings(max_examples=40, deadline=None)
def test_split_properties(n: int, max_size: int):
    m = M.model_copy(
        update={"communities": M.communities.model_copy(update={"max_size": max_size})}
    )
    des, schools = _frames([(_code(i), "FOCUS", "SED", "ES") for i in range(n)])
    sizes = form_communities(des, schools, "2015-16", m)["community_id"].value_counts()
    assert sizes.sum() == n  # every Focus school in exactly one community
    assert sizes.max() <= max_size
    assert len(sizes) == -(-n // max_size)  # the fewest communities the limit allows
    assert sizes.max() - sizes.min() <= 1  # as even as possible
