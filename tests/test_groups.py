"""Student groups (METHODOLOGY.md "Student groups")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sqis.groups import (
    categorical,
    graduation_groups,
    is_in,
    lookup,
    positions_in,
    student_groups,
)
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


def test_shared_codes_give_equal_strings_equal_codes_across_columns() -> None:
    from sqis.groups import shared_codes

    a = pd.Series(["x", "y", None, "x"], dtype="str")
    b = pd.Series(["y", "z"], dtype="str")
    ca, cb = shared_codes(a, b)
    assert ca[0] == ca[3] and ca[1] == cb[0]
    assert len({ca[0], ca[1], cb[1]}) == 3 and ca[2] == -1
    # an empty column in the middle keeps the others in place
    ce, cm, cb2 = shared_codes(a, pd.Series([], dtype="str"), b)
    assert len(cm) == 0 and ce.tolist() == ca.tolist() and cb2.tolist() == cb.tolist()


def test_first_positions_match_positions_in_on_codes() -> None:
    import numpy as np

    from sqis.groups import first_positions, positions_in, shared_codes

    rng = np.random.default_rng(3)
    universe = pd.Series(rng.choice(list("abcdefgh"), 40), dtype="str")
    values = pd.Series(rng.choice(list("abcdefghij"), 100), dtype="str")
    cv, cu = shared_codes(values, universe)
    assert first_positions(cv, cu).tolist() == positions_in(values, universe).tolist()
    assert first_positions(cv, cu[:0]).tolist() == [-1] * 100


def test_lookup_takes_integer_codes_as_they_are() -> None:
    from sqis.groups import lookup

    left = pd.DataFrame({"k": [5, 1, 9], "school_code": pd.Series(["A", "B", "A"], dtype="str")})
    right = pd.DataFrame({"k": [1, 5, 5], "school_code": pd.Series(["B", "B", "A"], dtype="str")})
    assert lookup(left, right, ["k", "school_code"]).tolist() == [2, 0, -1]


def test_categorical_text_gives_the_positions_and_links_of_the_text_itself() -> None:
    """The district tasks take a year's text columns coded once (``categorical``): every
    look-up on the codes answers as it does on the text — a value missing, a value outside
    the universe, two columns coded with one dtype and with two."""
    values = pd.Series(["B", "A", None, "C", "A", "Z"], dtype="str")
    universe = pd.Series(["A", "B", "C"], dtype="str")
    coded = pd.Series(categorical(values))
    assert list(coded.cat.categories) == ["A", "B", "C", "Z"]
    assert coded.isna().tolist() == values.isna().tolist()
    np.testing.assert_array_equal(positions_in(coded, universe), positions_in(values, universe))
    np.testing.assert_array_equal(positions_in(coded, universe), [1, 0, -1, 2, 0, -1])
    np.testing.assert_array_equal(is_in(coded, ["A", "Z"]), is_in(values, ["A", "Z"]))
    # outside a given dtype's categories: missing
    fixed = categorical(values, pd.CategoricalDtype(["A", "B"]))
    assert pd.Series(fixed).tolist()[:2] == ["B", "A"] and pd.isna(fixed[3])

    one = pd.CategoricalDtype(["A", "B", "C", "Z"])
    left = pd.DataFrame({"k": [1, 2, 1, 3], "s": categorical(pd.Series(["A", "A", "Z", "C"]), one)})
    right = pd.DataFrame({"k": [1, 1, 2], "s": categorical(pd.Series(["Z", "A", "A"]), one)})
    as_text = lookup(left.astype({"s": "str"}), right.astype({"s": "str"}), ["k", "s"])
    np.testing.assert_array_equal(lookup(left, right, ["k", "s"]), as_text)
    np.testing.assert_array_equal(as_text, [1, 2, 0, -1])
    other = right.assign(s=categorical(pd.Series(["Z", "A", "A"])))  # its own categories
    np.testing.assert_array_equal(lookup(left, other, ["k", "s"]), as_text)


def test_lookup_on_categoricals_of_one_set_in_two_orders_links_by_value() -> None:
    """pandas calls two unordered categorical dtypes with the same categories in another
    order equal; their codes are not: ``lookup`` links by value then."""
    left = pd.DataFrame({"k": [1, 2], "s": pd.Categorical(["A", "B"], categories=["A", "B"])})
    right = pd.DataFrame({"k": [1, 2], "s": pd.Categorical(["A", "B"], categories=["B", "A"])})
    np.testing.assert_array_equal(lookup(left, right, ["k", "s"]), [0, 1])
