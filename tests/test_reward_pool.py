"""The Reward pool and continuity (METHODOLOGY.md "Escalation: partner choice"): this
year's and last year's REWARD schools under core-2015.1, this year's only under
core-2013.1; last year's pair kept while it qualifies; NO_ELIGIBLE_PARTNER."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sqis.methodology import Methodology, MethodologyError, for_year, load_file
from sqis.partners import (
    NO_ELIGIBLE_PARTNER,
    assign_partners,
    partnership_flags,
    reward_pool,
    with_partners,
)

ES = "ES"


@pytest.fixture
def m15() -> Methodology:
    return for_year("2015-16")


@pytest.fixture
def m13() -> Methodology:
    return for_year("2014-15")


def des_frame(rows: list[tuple[str, str, int, str | None, str | None]]) -> pd.DataFrame:
    """rows: (code, designation, years_in_status, reason_group, reason_indicator)."""
    d = pd.DataFrame(
        rows,
        columns=[
            "school_code",
            "designation",
            "years_in_status",
            "reason_group",
            "reason_indicator",
        ],
    )
    return d.assign(escalation="NONE", partner_school_code=None)


def ind_frame(levels: dict[tuple[str, str, str], float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"school_code": s, "student_group": g, "indicator": i, "value": 50.0,
             "meets_nsize": True, "level": lv}
            for (s, g, i), lv in levels.items()
        ]
    )  # fmt: skip


def world(codes: list[str], shares: dict[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """schools (all ES) and shares (SED as given, EL and SWD 0.1)."""
    schools = pd.DataFrame({"school_code": codes, "school_type": ES})
    sh = pd.DataFrame(
        {"school_code": codes, "SED": [shares.get(c, 0.5) for c in codes], "EL": 0.1, "SWD": 0.1}
    )
    return schools, sh


# F needs a partner (3rd FOCUS year, SWD on ELA_MET); R_NEW is this year's REWARD and the
# closer match; R_OLD was REWARD last year (and F's partner), NONE this year
CODES = ["F", "R_NEW", "R_OLD"]
SHARES = {"F": 0.5, "R_NEW": 0.5, "R_OLD": 0.9}  # R_NEW costs 0, R_OLD 0.4


def this_year(r_old: str = "NONE") -> pd.DataFrame:
    return des_frame(
        [("F", "FOCUS", 3, "SWD", "ELA_MET"), ("R_NEW", "REWARD", 1, None, None),
         ("R_OLD", r_old, 1, None, None)]
    )  # fmt: skip


LAST_YEAR = des_frame([("F", "FOCUS", 2, "SWD", "ELA_MET"), ("R_OLD", "REWARD", 1, None, None)])
LAST_PAIRS = pd.DataFrame({"school_code": ["F"], "partner_school_code": ["R_OLD"]})


def pairs(got: pd.DataFrame) -> list[list[str]]:
    return got[["school_code", "partner_school_code"]].values.tolist()


def test_the_methodologies_pool_setting(m13: Methodology, m15: Methodology) -> None:
    assert m13.version == "core-2013.1" and m13.partners.reward_pool == "this_year"
    assert m15.version == "core-2015.1" and m15.partners.reward_pool == "this_and_last_year"


def test_an_unknown_pool_setting_does_not_load(tmp_path: Path) -> None:
    text = Path(for_year("2015-16").source).read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("reward_pool: this_and_last_year", "reward_pool: ever"))
    with pytest.raises(MethodologyError, match="reward_pool"):
        load_file(bad)


def test_pool_is_this_and_last_years_reward_schools(m13: Methodology, m15: Methodology) -> None:
    assert reward_pool(this_year(), LAST_YEAR, m15) == ["R_NEW", "R_OLD"]
    assert reward_pool(this_year(), LAST_YEAR, m13) == ["R_NEW"]
    # last year's Reward school now FOCUS (or gone) is not in the pool
    assert reward_pool(this_year("FOCUS"), LAST_YEAR, m15) == ["R_NEW"]


def test_last_years_pair_is_kept(m13: Methodology, m15: Methodology) -> None:
    schools, sh = world(CODES, SHARES)
    ind = ind_frame({("R_NEW", "SWD", "ELA_MET"): 9, ("R_OLD", "SWD", "ELA_MET"): 7})
    d = this_year()
    got = assign_partners(d, ind, schools, sh, LAST_PAIRS, m15, LAST_YEAR)
    assert pairs(got) == [["F", "R_OLD"]]  # kept although R_NEW is closer (0 vs 0.4 − 0.25)
    # core-2013.1: R_OLD is not in this year's pool: F gets R_NEW
    got13 = assign_partners(d, ind, schools, sh, LAST_PAIRS, m13, LAST_YEAR)
    assert pairs(got13) == [["F", "R_NEW"]]


def test_last_years_partner_out_of_the_pool_gives_a_new_partner(m15: Methodology) -> None:
    schools, sh = world(CODES, SHARES)
    ind = ind_frame({("R_NEW", "SWD", "ELA_MET"): 9, ("R_OLD", "SWD", "ELA_MET"): 9})
    # R_OLD is FOCUS this year: out of the pool
    got = assign_partners(this_year("FOCUS"), ind, schools, sh, LAST_PAIRS, m15, LAST_YEAR)
    assert pairs(got) == [["F", "R_NEW"]]
    # R_OLD was not REWARD last year either (only a partner two years back): out of the pool
    not_reward = LAST_YEAR.assign(designation=["FOCUS", "NONE"])
    got = assign_partners(this_year(), ind, schools, sh, LAST_PAIRS, m15, not_reward)
    assert pairs(got) == [["F", "R_NEW"]]


def test_last_years_partner_no_longer_showing_the_success_is_replaced(m15: Methodology) -> None:
    schools, sh = world(CODES, SHARES)
    ind = ind_frame({("R_NEW", "SWD", "ELA_MET"): 9, ("R_OLD", "SWD", "ELA_MET"): 6})
    got = assign_partners(this_year(), ind, schools, sh, LAST_PAIRS, m15, LAST_YEAR)
    assert pairs(got) == [["F", "R_NEW"]]


def test_last_years_reward_school_serves_when_none_this_year(
    m13: Methodology, m15: Methodology
) -> None:
    schools, sh = world(["F", "R_OLD"], SHARES)
    d = des_frame([("F", "FOCUS", 3, "SWD", "ELA_MET"), ("R_OLD", "NONE", 1, None, None)])
    ind = ind_frame({("R_OLD", "SWD", "ELA_MET"): 8})
    got = assign_partners(d, ind, schools, sh, None, m15, LAST_YEAR)
    assert pairs(got) == [["F", "R_OLD"]]
    assert got["cost"].iloc[0] == pytest.approx(0.4)
    assert partnership_flags(with_partners(d, got), m15).empty
    # core-2013.1: this year's pool is empty
    got13 = assign_partners(d, ind, schools, sh, None, m13, LAST_YEAR)
    assert got13.empty
    flags = partnership_flags(with_partners(d, got13), m13)
    assert flags.values.tolist() == [["F", NO_ELIGIBLE_PARTNER]]


def test_empty_pool_flags_every_required_partnership(m15: Methodology) -> None:
    d = des_frame(
        [("F2", "FOCUS", 2, "SWD", "ELA_MET"), ("F3", "FOCUS", 3, "SWD", "ELA_MET"),
         ("P1", "PRIORITY", 1, "ALL", "MATH_MET"), ("X", "NONE", 0, None, None)]
    )  # fmt: skip
    schools, sh = world(d["school_code"].tolist(), {})
    got = assign_partners(d, ind_frame({("X", "SWD", "ELA_MET"): 9}), schools, sh, None, m15, None)
    assert got.empty
    flags = partnership_flags(with_partners(d, got), m15)
    # F2 (2nd FOCUS year) is not required to partner
    assert flags.values.tolist() == [["F3", NO_ELIGIBLE_PARTNER], ["P1", NO_ELIGIBLE_PARTNER]]
    assert list(flags.columns) == ["school_code", "flag"]


def test_kept_pairs_take_their_partners_places(m15: Methodology) -> None:
    # R_OLD keeps F1 and F2 (its two places); F3, a new need, gets R_NEW though R_OLD is closer
    d = des_frame(
        [("F1", "FOCUS", 3, "SWD", "ELA_MET"), ("F2", "FOCUS", 4, "SWD", "ELA_MET"),
         ("F3", "FOCUS", 3, "SWD", "ELA_MET"), ("R_NEW", "REWARD", 1, None, None),
         ("R_OLD", "REWARD", 2, None, None)]
    )  # fmt: skip
    codes = d["school_code"].tolist()
    schools, sh = world(codes, {"F1": 0.1, "F2": 0.1, "F3": 0.9, "R_NEW": 0.1, "R_OLD": 0.9})
    ind = ind_frame({("R_NEW", "SWD", "ELA_MET"): 9, ("R_OLD", "SWD", "ELA_MET"): 9})
    last = pd.DataFrame({"school_code": ["F1", "F2"], "partner_school_code": ["R_OLD", "R_OLD"]})
    got = assign_partners(d, ind, schools, sh, last, m15, d)
    assert pairs(got) == [["F1", "R_OLD"], ["F2", "R_OLD"], ["F3", "R_NEW"]]
