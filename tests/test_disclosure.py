"""Public suppression rule by rule (METHODOLOGY.md "Public suppression"; sqis.disclosure),
with hand-built schools whose answers are worked out in the comments — the worked examples
of docs/reports.md — and the type that keeps anything unsuppressed out of the public
renderers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sqis import disclosure as dc
from sqis import methodology
from sqis.disclosure import (
    BOTTOM,
    HIDDEN,
    SHOWN,
    SMALL,
    TOP,
    UNDER,
    DisclosureError,
    PublicFrames,
    public_frames,
    require_public,
)
from sqis.report_frames import ReportFrames
from sqis.reports import sample

M = methodology.for_year("2015-16")
Y = "2015-16"
SCHOOL = "01611190130001"  # an ES of the sample (its cut points are the sample's)


def rows(cells: dict[tuple[str, str], tuple[float, float | None]], year: str = Y) -> list[dict]:
    """Indicator rows of one school: (group, indicator) → (n, k); value = 100 k / n (a ratio
    for SPED_DISPROP is given as k = None and set below)."""
    out = []
    for (g, ind), (n, k) in cells.items():
        v = np.nan if k is None else 100.0 * k / n
        out.append(
            {
                "year": year,
                "school_code": SCHOOL,
                "student_group": g,
                "indicator": ind,
                "numerator": np.nan if k is None else float(k),
                "denominator": float(n),
                "value": v,
                "meets_nsize": n >= M.n_size,
                "level": 5.0 if n >= M.n_size else np.nan,
            }
        )
    return out


def public(cells: list[dict]) -> pd.DataFrame:
    ind = pd.DataFrame(cells)
    schools = sample.SCHOOLS
    return dc.public_indicators(ind, schools, M)


def at(pub: pd.DataFrame, group: str, indicator: str, year: str = Y) -> pd.Series:
    sel = (pub["student_group"] == group) & (pub["indicator"] == indicator) & (pub["year"] == year)
    assert sel.sum() == 1, (group, indicator)
    return pub[sel].iloc[0]


# ---- the type ----------------------------------------------------------------------------
def _pf() -> PublicFrames:
    f = sample.build(M)
    return public_frames(ReportFrames(Y, f.schools, f.indicators, f.index, f.designations), M)


def test_public_frames_are_made_only_by_the_suppression() -> None:
    pf = _pf()
    with pytest.raises(DisclosureError, match="made only by"):
        PublicFrames(Y, "v", *(getattr(pf, n) for n in dc.FRAMES))
    with pytest.raises(DisclosureError, match="made only by"):
        dataclasses.replace(pf, indicators=pf.indicators)
    # the staff edition's report frames are not public: the renderers refuse them
    f = sample.build(M)
    with pytest.raises(DisclosureError, match="renders only"):
        require_public(f)
    from sqis.reports.public import render_public_edition, render_public_oversight

    with pytest.raises(DisclosureError):
        render_public_edition({"indicators": f.indicators}, M)  # type: ignore[arg-type]
    with pytest.raises(DisclosureError, match="not ReportFrames"):
        render_public_edition(f, M)  # type: ignore[arg-type]
    with pytest.raises(DisclosureError, match="not ReportFrames"):
        render_public_oversight(f, "fall", M)  # type: ignore[arg-type]
    # nothing but public columns: a raw count column cannot ride along
    assert "denominator" not in pf.indicators.columns and "prior_value" not in pf.indicators
    assert set(pf.indicators.columns) == set(dc.INDICATOR_COLUMNS)


def test_public_frames_altered_after_suppression_are_refused() -> None:
    pf = _pf()
    require_public(pf)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pf.indicators = pf.indicators  # type: ignore[misc]
    hidden = pf.indicators.index[pf.indicators["n_code"] == SMALL][0]
    pf.indicators.loc[hidden, "n"] = 8.0  # write a small count back in
    with pytest.raises(DisclosureError, match="changed after suppression"):
        require_public(pf)


def test_for_schools_keeps_the_type() -> None:
    pf = _pf()
    cut = pf.for_schools([SCHOOL])
    require_public(cut)
    assert set(cut.indicators["school_code"]) == {SCHOOL}


# ---- rules 1, 2 and 4 ----------------------------------------------------------------------
def test_rule_1_small_group_and_rule_4_under_the_n_size() -> None:
    pub = public(
        rows(
            {
                ("ALL", "SUSP"): (300, 40),
                ("AA", "SUSP"): (8, 1),  # 1–10 students: "*" everywhere
                ("AS", "SUSP"): (15, 3),  # 11–19: "n<20" everywhere
                ("HI", "SUSP"): (150, 20),
                ("WH", "SUSP"): (127, 16),
            }
        )
    )
    aa, as_ = at(pub, "AA", "SUSP"), at(pub, "AS", "SUSP")
    assert [aa["n_code"], aa["numerator_code"], aa["value_code"]] == [SMALL] * 3
    assert [as_["n_code"], as_["numerator_code"], as_["value_code"]] == [UNDER] * 3
    assert np.isnan(aa["n"]) and np.isnan(as_["value"])


def test_rule_2_ranges_hold_eleven_counts() -> None:
    # 7 of 150 suspended: "<7" holds 0–10 (⌊100 × 10 / 150⌋ + 1 = 7; 11/150 = 7.3% is not <7)
    # 143 of 150 (7 did not): ">93" holds 140–150 (⌈100 × 140 / 150⌉ − 1 = 94 − 1 = 93)
    # 5 of 20: no range fits n = 20 (0–10 and 10–20 meet), so "*"
    pub = public(
        rows(
            {
                ("ALL", "SUSP"): (150, 7),
                ("ALL", "ELA_MET"): (150, 143),
                ("ALL", "MATH_MET"): (20, 5),
                ("ALL", "SCI_MET"): (150, 0),  # 0 is coded too: the range holds 0–10
            }
        )
    )
    susp, ela, math, sci = (at(pub, "ALL", i) for i in ("SUSP", "ELA_MET", "MATH_MET", "SCI_MET"))
    assert susp["value_code"] == BOTTOM and susp["value_bound"] == 7
    assert ela["value_code"] == TOP and ela["value_bound"] == 93
    assert math["value_code"] == HIDDEN and math["n"] == 20  # n shown, the rate not
    assert sci["value_code"] == BOTTOM
    for r in (susp, ela, sci):
        assert r["n_code"] == SHOWN and r["numerator_code"] == HIDDEN
    x, y = dc.coded_bounds(np.array([150.0, 21.0]), M)
    assert list(x) == [7.0, 48.0] and list(y) == [93.0, 52.0]


def test_rule_2_levels_only_where_they_narrow_nothing() -> None:
    """ES SUSP cut points (lower is better) from the methodology: a coded cell's level is
    shown only where every count of its range has that level."""
    cuts = M.cuts("SUSP", "ES")
    # n = 1000: 0–10 suspended is 0–1%; the same level for all 11 counts iff no cut in (0, 1]
    pub = public(rows({("ALL", "SUSP"): (1000, 4), ("ALL", "CHRONIC"): (40, 3)}))
    one = at(pub, "ALL", "SUSP")
    same = len({int(np.searchsorted(cuts, v, side="left")) for v in (0.0, 1.0)}) == 1
    assert (one["level_code"] == SHOWN) == same
    forty = at(pub, "ALL", "CHRONIC")  # n = 40: 0–25%, several levels: the level narrows
    assert forty["value_code"] == BOTTOM and forty["level_code"] == HIDDEN


# ---- rule 3 ------------------------------------------------------------------------------
def test_issue_18_one_race_and_a_small_group() -> None:
    """Every student Hispanic except 8 African American: ALL − HI = AA. HI is the next
    smallest (the only other) race group: it is hidden too, in every column."""
    pub = public(
        rows(
            {
                ("ALL", "ELA_MET"): (200, 90),
                ("HI", "ELA_MET"): (192, 86),
                ("AA", "ELA_MET"): (8, 4),
            }
        )
    )
    assert at(pub, "AA", "ELA_MET")["n_code"] == SMALL
    hi = at(pub, "HI", "ELA_MET")
    assert hi["n_code"] == HIDDEN and hi["value_code"] == HIDDEN and np.isnan(hi["n"])
    assert at(pub, "ALL", "ELA_MET")["value_code"] == SHOWN


def test_small_not_reported_race_hides_the_next_smallest() -> None:
    """NR is never published: ALL − Σ races = 4 NR students. The smallest race group shown
    (WH, 40) is hidden so the four cannot be counted."""
    pub = public(
        rows(
            {
                ("ALL", "SUSP"): (300, 60),
                ("HI", "SUSP"): (256, 50),
                ("WH", "SUSP"): (40, 9 + 2),
            }
        )
    )
    assert at(pub, "WH", "SUSP")["n_code"] == HIDDEN
    assert at(pub, "HI", "SUSP")["n_code"] == SHOWN


def test_a_group_and_its_complement() -> None:
    """196 of 200 students are SED: ALL − SED would count the 4 who are not."""
    pub = public(rows({("ALL", "SUSP"): (200, 30), ("SED", "SUSP"): (196, 29)}))
    assert at(pub, "SED", "SUSP")["n_code"] == HIDDEN
    assert at(pub, "ALL", "SUSP")["n_code"] == SHOWN


def test_nested_denominators_susp_and_chronic() -> None:
    """SUSP n − CHRONIC n = 3 students enrolled under 31 days: CHRONIC (the smaller) is
    hidden; its level stays (a level bounds the rate, not n)."""
    pub = public(rows({("ALL", "SUSP"): (300, 30), ("ALL", "CHRONIC"): (297, 60)}))
    ch = at(pub, "ALL", "CHRONIC")
    assert ch["n_code"] == HIDDEN and ch["value_code"] == HIDDEN and ch["level_code"] == SHOWN
    assert at(pub, "ALL", "SUSP")["value_code"] == SHOWN


def test_hidden_cells_are_not_pinned_by_their_labels() -> None:
    """AA (3, "*") and AS (12, "n<20") are the only hidden race groups and NR is empty:
    AA + AS = 15 with AS in 11–19 gives AA in 1–4, fewer than 11 possible counts, so the
    next smallest shown group (WH) is hidden too."""
    pub = public(
        rows(
            {
                ("ALL", "SUSP"): (315, 50),
                ("AA", "SUSP"): (3, 1),
                ("AS", "SUSP"): (12, 2),
                ("WH", "SUSP"): (60, 9 + 3),
                ("HI", "SUSP"): (240, 35),
            }
        )
    )
    assert at(pub, "WH", "SUSP")["n_code"] == HIDDEN
    assert at(pub, "HI", "SUSP")["n_code"] == SHOWN


def test_sped_disproportionality_derived_values() -> None:
    """SPED_DISPROP = (k / n) ÷ ((SWD − k) / (ALL − n)), 33 students with an IEP of 300:
    HI (30 of 270) is compared with the 30 other students of whom 3 have one — a small count
    the ratio gives away, so hidden; WH (3 of 30) is small; ALL's ratio is the largest race
    group's, HI's, so it is hidden with it."""
    r = rows(
        {
            ("ALL", "SUSP"): (300, 30),
            ("HI", "SUSP"): (270, 27),
            ("WH", "SUSP"): (30, 3 + 8),
            ("SWD", "SUSP"): (33, 12),
            ("ALL", "SPED_DISPROP"): (300, None),
            ("HI", "SPED_DISPROP"): (270, 30),
            ("WH", "SPED_DISPROP"): (30, 3),
        }
    )
    ratio = {"HI": (30 / 270) / (3 / 30), "WH": (3 / 30) / (30 / 270)}
    ratio["ALL"] = max(ratio.values())
    for row in r:
        if row["indicator"] == "SPED_DISPROP":
            row["value"] = ratio[row["student_group"]]
    pub = public(r)
    assert at(pub, "WH", "SPED_DISPROP")["value_code"] == HIDDEN  # 3 of 30: small
    assert at(pub, "HI", "SPED_DISPROP")["value_code"] == HIDDEN  # others: 3 with an IEP
    assert at(pub, "ALL", "SPED_DISPROP")["value_code"] == HIDDEN  # = HI's


def test_change_needs_both_years_shown() -> None:
    """A small group only one year: AA has 8 students last year, 25 this year; this year's
    change (and level change) would give last year's value back."""
    last = rows({("ALL", "SUSP"): (300, 30), ("AA", "SUSP"): (8, 2)}, "2014-15")
    this = rows({("ALL", "SUSP"): (310, 40), ("AA", "SUSP"): (25, 12)})
    for row in this:
        row["change"] = 1.0
        row["level_change"] = 0.0
    pub = public(last + this)
    aa = at(pub, "AA", "SUSP")
    assert aa["value_code"] == SHOWN and aa["change_code"] == HIDDEN
    assert aa["level_change_code"] == HIDDEN and np.isnan(aa["change"])
    assert at(pub, "ALL", "SUSP")["change_code"] == SHOWN


def test_thresholds_are_the_methodologys() -> None:
    """A methodology with max_count 15: a count of 13 is coded and the range holds 16."""
    m15 = M.model_copy(
        update={"suppression": M.suppression.model_copy(update={"max_count": 15}), "n_size": 20}
    )
    ind = pd.DataFrame(rows({("ALL", "SUSP"): (200, 13)}))
    pub = dc.public_indicators(ind, sample.SCHOOLS, m15)
    assert pub.iloc[0]["value_code"] == BOTTOM and pub.iloc[0]["value_bound"] == 8  # ⌊7.5⌋+1
    pub10 = dc.public_indicators(ind, sample.SCHOOLS, M)
    assert pub10.iloc[0]["value_code"] == SHOWN


def test_the_floor_is_enforced_by_the_methodology() -> None:
    """METHODOLOGY.md: a methodology cannot publish counts under 11 (sqis.methodology)."""
    if not hasattr(methodology, "PUBLIC_MIN_COUNT"):
        pytest.skip("the methodology's floor validator has not landed yet")
    with pytest.raises(ValueError):
        M.suppression.model_validate({"min_count": 1, "max_count": 5})


def test_the_staff_edition_shows_a_schools_own_level() -> None:
    """Issue 18's over-suppression: Science at n = 20, 9 met, counts in the school's SQII;
    the staff edition shows its count, rate and level; the public edition shows n only (no
    range of 11 counts fits n = 20, and the level would narrow 9)."""
    from sqis.suppression import staff_cells

    ind = pd.DataFrame(rows({("ALL", "SCI_MET"): (20, 9)}))
    staff = staff_cells(ind, M).iloc[0]
    assert [staff["n_display"], staff["count_display"], staff["value_display"]] == [
        "20",
        "9",
        "45.0%",
    ]
    assert staff["level_display"] == "5"
    pub = public(rows({("ALL", "SCI_MET"): (20, 9)})).iloc[0]
    assert pub["n_code"] == SHOWN and pub["value_code"] == HIDDEN
    assert pub["level_code"] == HIDDEN
