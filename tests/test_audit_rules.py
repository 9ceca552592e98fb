"""The audit's edge cases exactly as stated (issue 19), under both methodology versions.

core-2013.1 (the 2013-14 and 2014-15 results) keeps each rule as it was, bug included;
core-2015.1 (from 2015-16) applies the rule as METHODOLOGY.md now states it. Every
expected value is computed by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sqis.designations import achievement_gaps, designate
from sqis.index import school_indicator_levels
from sqis.indicators import compute_indicators
from sqis.levels import assign_levels
from sqis.methodology import Methodology, for_year
from tests import builders as b
from tests.test_designations import make_year

OLD: Methodology = for_year("2014-15")
NEW: Methodology = for_year("2015-16")


def s(i: int) -> str:
    return f"01611190000{i:03d}"


def test_the_versions_by_year() -> None:
    assert OLD.version == "core-2013.1" and for_year("2013-14").version == "core-2013.1"
    assert NEW.version == "core-2015.1" and for_year("2017-18").version == "core-2015.1"


def designations(spec: list[dict], m: Methodology) -> pd.DataFrame:
    schools, index, ind = make_year(spec)
    return designate(index, ind, schools, None, m).set_index("school_code")


def by_designation(d: pd.DataFrame) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in d.groupby("designation").groups.items()}


# ---- REWARD: 19 gaps tied at 1.0 and one at 30 ----------------------------------------
def tied_gaps() -> list[dict]:
    """20 Title I ES schools, SQII 30 + i, gain 1 (S05: gain 10). Gap 1.0 everywhere (SED
    49/49 against ALL 50/50) but S10: 30 (SED 20/20)."""
    spec = []
    for i in range(20):
        gain = 10.0 if i == 5 else 1.0
        vals = (20, 20) if i == 10 else (49, 49)
        spec.append(
            {"code": s(i), "sqii": 30.0 + i, "prior": 30.0 + i - gain, "groups": {"SED": vals}}
        )
    return spec


def test_nineteen_tied_gaps_leave_no_reward_school_under_core_2013() -> None:
    """The audit: the 75th percentile of nineteen 1.0s and a 30 is 1.0, and ``gap >= 1.0``
    excludes every Title I school, so no school can be REWARD."""
    d = by_designation(designations(tied_gaps(), OLD))
    assert d["PRIORITY"] == [s(0)]  # ⌈5% × 20⌉ = 1: the lowest SQII
    assert d["FOCUS"] == [s(1), s(10)]  # ⌈10% × 20⌉ = 2: gap 30, then 1.0 by code
    assert "REWARD" not in d


def test_nineteen_tied_gaps_exclude_only_a_quarter_under_core_2015() -> None:
    """⌈25% × 20⌉ = 5 excluded: S10 (30), then the tied 1.0s by code: S00, S01, S02, S03.
    REWARD's shares are of the 17 schools left after PRIORITY (S00) and FOCUS (S10, S01):
    ⌈5% × 17⌉ = 1 each. Performance: the highest SQII not excluded, S19 (49); progress:
    the largest gain not excluded, S05 (+10)."""
    d = designations(tied_gaps(), NEW)
    got = by_designation(d)
    assert got["PRIORITY"] == [s(0)]
    assert got["FOCUS"] == [s(1), s(10)]  # ⌈10% × 19⌉ = 2
    assert got["REWARD"] == [s(5), s(19)]
    # a school excluded only by the tie-break stays out even with the top gain: S02, S03
    spec = tied_gaps()
    spec[3]["prior"] = 0.0  # S03 gains 33, but is one of the five largest gaps (by code)
    assert by_designation(designations(spec, NEW))["REWARD"] == [s(5), s(19)]
    spec[4]["prior"] = 0.0  # S04 gains 34 and is not excluded: the progress Reward school
    assert by_designation(designations(spec, NEW))["REWARD"] == [s(4), s(19)]


# ---- FOCUS (and REWARD) shares of the schools remaining --------------------------------
def remaining_case() -> list[dict]:
    """21 Title I ES schools, SQII 30 + i, gain 1. Gaps: S02 20, S03 15, S04 10; every other
    school i a gap of i / 100 (SED (50 − i/100) twice), so all 21 gaps differ."""
    big = {2: 20.0, 3: 15.0, 4: 10.0}
    spec = []
    for i in range(21):
        g = big.get(i, i / 100)
        spec.append(
            {"code": s(i), "sqii": 30.0 + i, "prior": 29.0 + i, "groups": {"SED": (50 - g, 50 - g)}}
        )
    return spec


def test_focus_share_is_of_all_title_i_schools_under_core_2013() -> None:
    """PRIORITY ⌈5% × 21⌉ = 2 (S00, S01); FOCUS ⌈10% × 21⌉ = 3: S02, S03, S04.
    REWARD ⌈5% × 21⌉ = 2 each, after excluding gaps ≥ the 75th percentile of the 21 gaps:
    the 16th smallest (index 15 of 0.00, 0.01, 0.05 … 0.20, 10, 15, 20) = 0.18, so S18,
    S19, S20 (and S02–S04) are out. Performance: S17, S16; progress (all gain 1, ties by
    code): S05, S06."""
    got = by_designation(designations(remaining_case(), OLD))
    assert got["PRIORITY"] == [s(0), s(1)]
    assert got["FOCUS"] == [s(2), s(3), s(4)]
    assert got["REWARD"] == [s(5), s(6), s(16), s(17)]


def test_focus_share_is_of_the_schools_left_after_priority_under_core_2015() -> None:
    """PRIORITY 2 (S00, S01); FOCUS ⌈10% × (21 − 2)⌉ = ⌈1.9⌉ = 2: S02, S03 (S04 is not
    FOCUS now). REWARD: ⌈5% × (21 − 2 − 2)⌉ = ⌈0.85⌉ = 1 each; excluded: the ⌈25% × 21⌉ =
    6 largest gaps: S02, S03, S04, S20, S19, S18. Performance S17, progress S05."""
    got = by_designation(designations(remaining_case(), NEW))
    assert got["PRIORITY"] == [s(0), s(1)]
    assert got["FOCUS"] == [s(2), s(3)]
    assert got["REWARD"] == [s(5), s(17)]


# ---- gap groups: HOM and FOS ------------------------------------------------------------
def hom_fos_case() -> list[dict]:
    """10 Title I ES schools (SQII 40 + i) and a Title I high school H1 (SQII 45).

    S03: HOM 20/20 (gap 30) and SED 38/38 (gap 12); S05: FOS 25/25 (gap 25) only; S07: SED
    35/35 (gap 15); the others SED 49/49 (gap 1). H1: GRAD4 ALL 80, HOM 50, SED 70."""
    spec = []
    for i in range(10):
        groups = {"SED": (49, 49)}
        if i == 3:
            groups = {"HOM": (20, 20), "SED": (38, 38)}
        elif i == 5:
            groups = {"FOS": (25, 25)}
        elif i == 7:
            groups = {"SED": (35, 35)}
        spec.append({"code": s(i), "sqii": 40.0 + i, "prior": 40.0 + i, "groups": groups})
    spec.append(
        {
            "code": "01611190000100",
            "type": "HS",
            "sqii": 45.0,
            "prior": 45.0,
            "groups": {"SED": (49, 49)},
            "grad": {"ALL": 80.0, "HOM": 50.0, "SED": 70.0},
        }
    )
    return spec


def test_hom_is_the_largest_gap_and_a_focus_reason_under_core_2013() -> None:
    schools, index, ind = make_year(hom_fos_case())
    gaps = achievement_gaps(ind, OLD).set_index("school_code")
    assert (gaps.loc[s(3), "gap"], gaps.loc[s(3), "gap_group"]) == (30.0, "HOM")
    assert (gaps.loc[s(5), "gap"], gaps.loc[s(5), "gap_group"]) == (25.0, "FOS")
    d = designations(hom_fos_case(), OLD)
    # PRIORITY ⌈5% × 11⌉ = 1: S00. FOCUS ⌈10% × 11⌉ = 2 by gap: S03 (HOM 30), S05 (FOS 25);
    # and H1 by graduation: HOM's GRAD4 50 < 60
    assert by_designation(d)["FOCUS"] == [s(3), s(5), "01611190000100"]
    assert d.loc[s(3), ["reason_group", "reason_indicator"]].tolist() == ["HOM", "ELA_MET"]
    assert d.loc[s(5), "reason_group"] == "FOS"
    assert d.loc["01611190000100", ["reason_group", "reason_indicator"]].tolist() == [
        "HOM",
        "GRAD4",
    ]


def test_gap_groups_are_the_index_subgroups_under_core_2015() -> None:
    schools, index, ind = make_year(hom_fos_case())
    gaps = achievement_gaps(ind, NEW).set_index("school_code")
    assert (gaps.loc[s(3), "gap"], gaps.loc[s(3), "gap_group"]) == (12.0, "SED")  # not HOM
    assert s(5) not in gaps.index  # FOS was its only group: no gap at all
    d = designations(hom_fos_case(), NEW)
    # FOCUS ⌈10% × (11 − 1)⌉ = 1 by gap: S07 (SED 15) before S03 (SED 12); H1's only
    # subgroup under 60 is HOM, which is not a gap group: H1 is not FOCUS
    assert by_designation(d)["FOCUS"] == [s(7)]
    assert d.loc[s(7), ["reason_group", "reason_indicator"]].tolist() == ["SED", "ELA_MET"]
    assert d.loc[s(3), "gap_group"] == "SED" and d.loc[s(3), "gap"] == 12.0
    assert d.loc["01611190000100", "designation"] != "FOCUS"
    assert not d["gap_group"].isin(["HOM", "FOS"]).any()


# ---- climate: 5 staff answering 4 constructs ---------------------------------------------
def staff(n: int, school: str) -> list[dict]:
    """``n`` staff at ``school``, each answering the four constructs (score 4: favourable)."""
    return [
        b.climate_row(f"{school}-t{k}", school, "STAFF", construct)
        for k in range(n)
        for construct in ("CS", "SC", "KF", "SB")
    ]


def climate_year() -> b.YearData:
    return b.make_year(
        schools=[b.school("A"), b.school("B"), b.school("C")],
        students=b.students(25, "A", "a") + b.students(25, "B", "b") + b.students(25, "C", "c"),
        climate=staff(5, "A") + staff(19, "B") + staff(20, "C"),
    )


@pytest.mark.parametrize(
    ("m", "a", "b_", "c"), [(OLD, True, True, True), (NEW, False, False, True)]
)
def test_five_staff_answering_four_constructs(m: Methodology, a: bool, b_: bool, c: bool) -> None:
    """5 staff × 4 constructs = 20 rows: n = 20 under core-2013.1 (meets the n-size, gets a
    level), n = 5 under core-2015.1 (no level). 19 staff (76 rows) likewise; 20 staff meet
    it under both. The value and the denominator (rows) are the same under both."""
    y = climate_year()
    ind = assign_levels(compute_indicators(y, None, None, m), y.schools, m)
    for label, meets, rows in (("A", a, 20), ("B", b_, 76), ("C", c, 80)):
        r = b.value(ind, label, "ALL", "CLIMATE_STAFF")
        assert (r["denominator"], r["numerator"], r["value"]) == (rows, rows, 100.0)
        assert r["meets_nsize"] == meets, label
        assert pd.isna(r["level"]) != meets
    # the culture-climate domain of school A: its climate level counts only under core-2013.1
    sil = school_indicator_levels(ind, y.schools, m)
    assert ((sil["school_code"] == b.code("A")) & (sil["indicator"] == "CLIMATE_STAFF")).any() == a


def test_respondents_are_counted_per_school_and_respondent_type() -> None:
    """The same respondent_id at two schools, or as staff and as a parent, is two
    respondents; one respondent's four rows are one."""
    rows = staff(12, "A") + staff(12, "B")
    rows += [b.climate_row(f"B-t{k}", "A", "STAFF", "CS") for k in range(12)]  # B's ids at A
    rows += [b.climate_row(f"A-t{k}", "A", "PARENT", "CS") for k in range(20)]  # and as parents
    y = b.make_year(schools=[b.school("A"), b.school("B")], climate=rows)
    ind = compute_indicators(y, None, None, NEW)
    a_staff = b.value(ind, "A", "ALL", "CLIMATE_STAFF")
    assert a_staff["denominator"] == 12 * 4 + 12 and a_staff["meets_nsize"]  # 24 respondents
    assert not b.value(ind, "B", "ALL", "CLIMATE_STAFF")["meets_nsize"]  # 12 respondents
    assert b.value(ind, "A", "ALL", "CLIMATE_PARENT")["meets_nsize"]  # 20 parents
    # a district's call (schools=…) counts the same
    part = compute_indicators(y, None, None, NEW, schools=[b.code("A")])
    assert bool(b.value(part, "A", "ALL", "CLIMATE_STAFF")["meets_nsize"])


# ---- MS_PERSIST at a K-8 school typed ES ---------------------------------------------------
def persistence_years() -> tuple[b.YearData, b.YearData]:
    """Two years back: K8 (a K-8 school typed ES) promoted 4 eighth graders, S612 (a 6-12
    school typed HS) 2, M (typed MS, grades 6-8 then) 2. This year M serves grades 6-7 only;
    of K8's four, three are in grade 10 somewhere (k3 was held back in grade 9)."""
    spans = {"K8": ("ES", 0, 8), "S612": ("HS", 6, 12), "M": ("MS", 6, 7), "H": ("HS", 9, 12)}
    then = [
        b.school(k, t, low_grade=lo, high_grade=8 if k == "M" else hi)
        for k, (t, lo, hi) in spans.items()
    ]
    now = [b.school(k, t, low_grade=lo, high_grade=hi) for k, (t, lo, hi) in spans.items()]
    prior2 = b.make_year(
        "2013-14",
        schools=then,
        students=[b.student(f"k{i}", "K8", grade=8, race_ethnicity="AA") for i in range(4)]
        + [b.student(f"s{i}", "S612", grade=8) for i in range(2)]
        + [b.student(f"m{i}", "M", grade=8) for i in range(2)],
    )
    cur = b.make_year(
        "2015-16",
        schools=now,
        students=[b.student(f"k{i}", "H", grade=10) for i in range(3)]
        + [b.student("k3", "H", grade=9)]
        + [b.student(f"s{i}", "S612", grade=10) for i in range(2)]
        + [b.student(f"m{i}", "H", grade=10) for i in range(2)],
    )
    return cur, prior2


def persist_rows(m: Methodology) -> dict[str, pd.Series]:
    cur, prior2 = persistence_years()
    ind = compute_indicators(cur, None, prior2, m)
    ms = ind[(ind["indicator"] == "MS_PERSIST") & (ind["student_group"] == "ALL")]
    return {r.school_code: r for r in ms.itertuples()}


def test_a_k8_school_typed_es_has_no_ms_persist_under_core_2013() -> None:
    got = persist_rows(OLD)
    assert set(got) == {b.code("M")}  # the MS type only: neither K8 nor the 6-12 school
    assert (got[b.code("M")].numerator, got[b.code("M")].denominator) == (2, 2)


def test_ms_persist_at_every_school_whose_span_includes_grade_8_under_core_2015() -> None:
    """K8: 3 of 4 = 75%; S612: 2 of 2; M no longer spans grade 8 this year: no row (the
    span is this year's schools file's, *default*)."""
    got = persist_rows(NEW)
    assert set(got) == {b.code("K8"), b.code("S612")}
    k8 = got[b.code("K8")]
    assert (k8.numerator, k8.denominator, k8.value) == (3, 4, 75.0)
    assert (got[b.code("S612")].numerator, got[b.code("S612")].denominator) == (2, 2)


def test_a_k8_school_s_ms_persist_gets_a_level_and_counts_in_its_index() -> None:
    """With 20 promoted eighth graders at K8 (the n-size), 19 of them in grade 10: 95% →
    level 7 on the ES cut points (84 … 98.5: 95 ≥ 84, 87, 89, 91, 92.5, 94), and it is one
    of K8's academic indicators in the index."""
    prior2 = b.make_year(
        "2013-14",
        schools=[b.school("K8", "ES", low_grade=0, high_grade=8), b.school("H", "HS", low_grade=9)],
        students=[b.student(f"k{i}", "K8", grade=8) for i in range(20)],
    )
    cur = b.make_year(
        "2015-16",
        schools=[b.school("K8", "ES", low_grade=0, high_grade=8), b.school("H", "HS", low_grade=9)],
        students=[b.student(f"k{i}", "H", grade=10 if i < 19 else 9) for i in range(20)]
        + b.students(20, "K8", "e"),
    )
    ind = assign_levels(compute_indicators(cur, None, prior2, NEW), cur.schools, NEW)
    r = b.value(ind, "K8", "ALL", "MS_PERSIST")
    assert (r["value"], r["meets_nsize"], r["level"]) == (95.0, True, 7)
    sil = school_indicator_levels(ind, cur.schools, NEW).set_index(["school_code", "indicator"])
    assert sil.loc[(b.code("K8"), "MS_PERSIST"), "school_level"] == 7.0
    assert not np.isnan(sil.loc[(b.code("K8"), "MS_PERSIST"), "all_level"])


def test_climate_nsize_by_respondents_on_random_surveys() -> None:
    """Respondents answering 1–4 constructs, 3–60 of them per school and type: meets_nsize
    is exactly "at least 20 distinct respondent_id" (counted here by pandas' nunique), on
    either side of the row bounds the code uses (fewer than 20 rows, 80 rows or more)."""
    rng = np.random.default_rng(19)
    labels = [f"S{i}" for i in range(40)]
    rows = []
    for label in labels:
        for rtype in ("STUDENT", "STAFF", "PARENT"):
            for r in range(int(rng.integers(3, 61))):
                k = int(rng.integers(1, 5))
                for construct in rng.choice(["CS", "SC", "KF", "SB"], k, replace=False):
                    rows.append(b.climate_row(f"{rtype}{r}", label, rtype, str(construct)))
    y = b.make_year(schools=[b.school(x) for x in labels], climate=rows)
    ind = compute_indicators(y, None, None, NEW)
    c = ind[ind["indicator"].str.startswith("CLIMATE_")]
    n = y.climate.groupby(["school_code", "respondent_type"])["respondent_id"].nunique()
    keys = list(zip(c["school_code"], c["indicator"].str.removeprefix("CLIMATE_"), strict=True))
    expected = pd.Series(keys).map(n).to_numpy() >= 20
    np.testing.assert_array_equal(c["meets_nsize"].to_numpy(), expected)
    rows_n = c["denominator"].to_numpy()
    band = (rows_n >= 20) & (rows_n < 80)
    assert (band & expected).any() and (band & ~expected).any()  # counted in the band
    assert (rows_n >= 80).any() and (rows_n < 20).any()  # decided by the bounds
