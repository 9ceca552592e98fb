"""A year's student IDs as integer codes (sqis/student_keys.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqis.student_keys import student_keys, student_keys_linking
from sqis.yeardata import YearData
from tests.builders import assessment, make_year, school, student


def _year() -> YearData:
    return make_year(
        "2015-16",
        schools=[school("A"), school("B")],
        students=[student("s1", "A"), student("s2", "A"), student("s3", "B")],
        assessments=[assessment("s2", "A"), assessment("s3", "B"), assessment("s2", "A", "MATH")],
    )


def test_one_code_per_student_across_the_years_files() -> None:
    keys = student_keys(_year())
    st, a = keys["students"], keys["assessments"]
    assert len(set(st.tolist())) == 3
    assert a.tolist() == [st[1], st[2], st[1]]  # s2, s3, s2: the enrolment rows' codes
    assert len(keys["sel"]) == 0


def test_linking_another_year_codes_its_ids_in_the_same_dictionary() -> None:
    yd = _year()
    alone = student_keys(yd)
    keys, other = student_keys_linking(yd, pd.Series(["s3", "gone", "s1", "gone"], dtype="str"))
    for name in alone:  # the year's codes are the same with or without the other year
        np.testing.assert_array_equal(keys[name], alone[name])
    st = keys["students"]
    assert other[0] == st[2] and other[2] == st[0]
    assert other[1] == other[3] and other[1] not in set(st.tolist())


def test_year_keys_are_computed_once_and_linking_fills_them() -> None:
    """``YearKeys``: growth's linking pass gives the year's keys the districts reuse."""
    from sqis.student_keys import YearKeys

    yd = _year()
    shared = YearKeys(yd)
    keys, _ = shared.linking(pd.Series(["s3"], dtype="str"))
    assert shared.keys() is keys  # the linking pass is kept, not redone
    for name, codes in student_keys(yd).items():
        np.testing.assert_array_equal(codes, keys[name])
