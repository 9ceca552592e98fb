"""The district index and goal on a hand-computed case (METHODOLOGY.md "District index")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from schemas.outputs import DistrictsFrame, columns
from sqis.districts import district_index, enrolment
from sqis.methodology import for_year

M = for_year("2015-16")
D1, D2, D3 = "0161119", "0161120", "0161121"
A, B, C = f"{D1}0000001", f"{D1}0000002", f"{D1}0000003"
E, F, Z = f"{D2}0000001", f"{D3}0000001", f"{D1}0000009"


def schools() -> pd.DataFrame:
    rows = [(A, D1), (B, D1), (C, D1), (E, D2), (F, D3)]
    return pd.DataFrame(rows, columns=["school_code", "district_code"])


def index(rows: list[tuple]) -> pd.DataFrame:
    cols = ["school_code", "academic", "social_emotional", "culture_climate", "sqii"]
    return pd.DataFrame(rows, columns=cols)


def susp(enrolled: dict[str, int]) -> pd.DataFrame:
    """SUSP rows: ALL with the enrolment as denominator, and a SED row that must not count."""
    rows = []
    for code, n in enrolled.items():
        rows.append((code, "ALL", "SUSP", float(n)))
        rows.append((code, "SED", "SUSP", float(n) / 2))
        rows.append((code, "ALL", "CHRONIC", float(n) - 1))
    return pd.DataFrame(rows, columns=["school_code", "student_group", "indicator", "denominator"])


def this_year() -> tuple[pd.DataFrame, pd.DataFrame]:
    """D1: A (100 students, SQII 50, domains 5/6/4), B (300, SQII 70, domains 7/–/8), C (50
    students, no SQII). D2: E (SQII 40, no SUSP row: no enrolment). D3: F (nothing)."""
    idx = index(
        [
            (A, 5.0, 6.0, 4.0, 50.0),
            (B, 7.0, np.nan, 8.0, 70.0),
            (C, np.nan, np.nan, np.nan, np.nan),
            (E, 4.0, 4.0, 4.0, 40.0),
        ]
    )
    return idx, susp({A: 100, B: 300, C: 50})


def test_enrolment_is_the_all_denominator_of_susp() -> None:
    _, ind = this_year()
    assert enrolment(ind).to_dict() == {A: 100.0, B: 300.0, C: 50.0}


def test_weighted_by_enrolment_with_prior_goal_and_meets_goal() -> None:
    """D1: SQII (100 × 50 + 300 × 70) / 400 = 65; academic (100 × 5 + 300 × 7) / 400 = 6.5;
    social-emotional A's alone: 6; culture-climate (400 + 2400) / 400 = 7; C (no SQII)
    takes no part. Last year: A 40 (200 students), B 60 (200), Z 80 (100; a school closed
    since, of D1 by its code) → prior (8000 + 12000 + 8000) / 500 = 56; goal 56 + 10% ×
    (100 − 56) = 60.4; 65 ≥ 60.4 meets it. D2: E has no enrolment: no score; D3: none."""
    idx, ind = this_year()
    prior_idx = index([(A, 4.0, 4.0, 4.0, 40.0), (B, 6.0, 6.0, 6.0, 60.0), (Z, 8.0, 8, 8, 80.0)])
    prior_ind = susp({A: 200, B: 200, Z: 100})
    out = district_index(
        idx, ind, schools(), M, prior_index=prior_idx, prior_indicators=prior_ind
    ).set_index("district_code")
    assert list(out.reset_index().columns) == columns(DistrictsFrame)
    assert list(out.index) == [D1, D2, D3]
    d1 = out.loc[D1]
    assert (d1["sqii"], d1["academic"], d1["social_emotional"]) == (65.0, 6.5, 6.0)
    assert d1["culture_climate"] == 7.0
    assert d1["prior_sqii"] == 56.0
    assert d1["goal"] == pytest.approx(60.4)
    assert bool(d1["meets_goal"]) is True
    assert (d1["schools"], d1["enrolment"]) == (2, 400)
    for d in (D2, D3):
        assert out.loc[d, ["sqii", "prior_sqii", "goal"]].isna().all()
        assert pd.isna(out.loc[d, "meets_goal"])
        assert out.loc[d, "schools"] == 0


def test_missing_the_goal_and_no_prior() -> None:
    """Last year D1 was at 70 (A alone): goal 70 + 3 = 73 > 65: meets_goal N. Without last
    year's results there is no prior SQII and no goal."""
    idx, ind = this_year()
    out = district_index(
        idx,
        ind,
        schools(),
        M,
        prior_index=index([(A, 7, 7, 7, 70.0)]),
        prior_indicators=susp({A: 10}),
    ).set_index("district_code")
    assert out.loc[D1, "goal"] == 73.0 and bool(out.loc[D1, "meets_goal"]) is False
    none = district_index(idx, ind, schools(), M).set_index("district_code")
    assert none["prior_sqii"].isna().all() and none["meets_goal"].isna().all()
    assert none.loc[D1, "sqii"] == 65.0
