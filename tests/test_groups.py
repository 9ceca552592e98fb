"""Student groups (METHODOLOGY.md "Student groups")."""

from __future__ import annotations

import pandas as pd
import pytest

from sqis.groups import graduation_groups, lookup, student_groups
from sqis.methodology import for_year
from tests.builders import frame, graduate, student

M = for_year("2015-16")


def groups_of(long: pd.DataFrame, index: int) -> list[str]:
    return [str(g) for g in long.loc[[index], "student_group"]]


def test_all_race_and_program_groups() -> None:
    s = frame(
        "students",
        [
            student("a", race_ethnicity="AA", el_status="EL", swd=True, sed=True),
            student("b", race_ethnicity="NR"),
            student("c", race_ethnicity="WH", el_status="RFEP", foster=True, homeless=True),
        ],
    ).set_axis([10, 11, 12])
    long = student_groups(s, M)
    assert groups_of(long, 10) == ["ALL", "AA", "EL", "SWD", "SED"]
    assert groups_of(long, 11) == ["ALL"]  # NR: no race group
    assert groups_of(long, 12) == ["ALL", "WH", "FOS", "HOM"]  # RFEP is not EL
    assert len(long) == 10


def test_only_the_methodologys_groups() -> None:
    m = M.model_copy(update={"student_groups": ("ALL", "SWD")})
    s = frame("students", [student("a", race_ethnicity="AA", swd=True, sed=True)])
    assert groups_of(student_groups(s, m), 0) == ["ALL", "SWD"]


def test_graduation_uses_its_own_el_flag() -> None:
    g = frame(
        "graduation",
        [graduate("a", race_ethnicity="HI", el=True, swd=True), graduate("b", race_ethnicity="MR")],
    )
    long = graduation_groups(g, M)
    assert groups_of(long, 0) == ["ALL", "HI", "EL", "SWD"]
    assert groups_of(long, 1) == ["ALL", "MR"]


def test_lookup_links_rows_by_key() -> None:
    left = pd.DataFrame({"student_id": ["x", "y", "z"], "school_code": ["1", "2", "1"]})
    right = pd.DataFrame({"student_id": ["y", "x", "x"], "school_code": ["2", "2", "1"]})
    assert lookup(left, right, ["student_id", "school_code"]).tolist() == [2, 0, -1]


def test_lookup_refuses_duplicate_keys() -> None:
    left = pd.DataFrame({"student_id": ["x"], "school_code": ["1"]})
    right = pd.DataFrame({"student_id": ["x", "x"], "school_code": ["1", "1"]})
    with pytest.raises(ValueError, match=r"not unique on \(student_id, school_code\)"):
        lookup(left, right, ["student_id", "school_code"])
