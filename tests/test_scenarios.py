"""Five years of designations, escalation and partners, stored year by year.

Built from small hand-made index/indicator frames (not the whole pipeline). The
consortium: 20 Title I schools (18 ES + 2 HS) under core-2013.

- E00: the lowest SQII every year → PRIORITY (ALL, MATH_MET: ALL's weaker subject).
- H1: a high school with SQII 90 but a 4-year graduation rate of 55 → PRIORITY.
- H3: a high school, SQII 88, strong everywhere → the performance REWARD school.
- FX (E05): a SED gap of 15 every year → FOCUS five years running.
- EX (E07): an EL gap of 17.5, except in year 3 (gap 1) → FOCUS, exits, FOCUS again.
- E09: a gap of 13 and the largest SQII gain (+39) → never REWARD (top-quarter gap);
  FOCUS in year 3, when EX's gap closes.
- E10 (an MS): gain +20 → the progress REWARD school; strong for SED in ELA.

Title I gaps in years 1, 2, 4, 5: 0, 0 (H3, E10), 0.5 × 5, 1, 2, 3, 4, 13 (E09), 15, 17.5,
40 → 75th percentile 4 + 0.5 × 9 = 8.5, so E09 (13) is in the top quarter.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sqis.designations import designate
from sqis.escalation import escalate
from sqis.methodology import Methodology, for_year
from sqis.partners import assign_partners, with_partners
from sqis.store import ResultsStore
from tests.test_designations import make_year

YEARS = ["2013-14", "2014-15", "2015-16", "2016-17", "2017-18"]


def c(i: int) -> str:
    return f"01611190000{i:03d}"


E00, FX, EX, E09, E10, E16 = c(0), c(5), c(7), c(9), c(10), c(16)
H1, H3 = "01611190000100", "01611190000103"


def spec(year_no: int) -> list[dict]:
    gaps = {
        0: (10, 10),
        1: (49, 49),
        2: (48, 48),
        3: (47, 47),
        4: (46, 46),
        5: (30, 40),
        9: (37, 37),
        10: (50, 50),
        11: (49.5, 49.5),
        12: (49.5, 49.5),
        13: (49.5, 49.5),
        14: (49.5, 49.5),
        15: (49.5, 49.5),
    }
    out = []
    for i in range(18):
        s = {"code": c(i), "sqii": 30.0 + i, "prior": 29.0 + i}
        if i in gaps:
            s["groups"] = {"SED": gaps[i]}
        out.append(s)
    out[7]["groups"] = {"EL": (49, 49) if year_no == 3 else (45, 20)}
    out[0]["levels"] = (3, 2)
    out[9]["prior"] = 39.0 - 39  # gain 39
    out[10].update(type="MS", prior=40.0 - 20, group_levels={("SED", "ELA_MET"): 8})
    out += [
        {"code": H1, "type": "HS", "sqii": 90.0, "prior": 89.0, "grad": {"ALL": 55.0}},
        {
            "code": H3,
            "type": "HS",
            "sqii": 88.0,
            "prior": 87.0,
            "levels": (9, 9),
            "groups": {"SED": (50, 50)},
            "group_levels": {("SED", "ELA_MET"): 9},
            "grad": {"ALL": 95.0},
            "grad_level": 9,
        },
    ]
    return out


def shares(schools: pd.DataFrame) -> pd.DataFrame:
    sh = pd.DataFrame({"school_code": schools["school_code"], "SED": 0.5, "EL": 0.2, "SWD": 0.1})
    sh.loc[sh["school_code"] == E10, "SED"] = 0.9
    return sh


def compute(year_no: int, store: ResultsStore, m: Methodology, shift: float = 0.0) -> dict:
    schools, index, ind = make_year(spec(year_no))
    index["sqii"] = index["sqii"] + shift
    prior_year = YEARS[year_no - 2] if year_no > 1 else None
    prior_d = store.read("designations", prior_year) if prior_year else None
    prior_p = store.read("partnerships", prior_year) if prior_year else None
    d = escalate(designate(index, ind, schools, prior_d, m), m)
    partners = assign_partners(d, ind, schools, shares(schools), prior_p, m)
    d = with_partners(d, partners)
    return {
        "schools": schools,
        "indicators": ind,
        "index_scores": index,
        "designations": d,
        "partnerships": partners,
    }


def run(year_no: int, store: ResultsStore, m: Methodology, shift: float = 0.0) -> None:
    year = YEARS[year_no - 1]
    deps = {}
    if year_no > 1:
        deps = {YEARS[year_no - 2]: store.dependency(YEARS[year_no - 2])}
    rid = store.start_run(
        year, m.version, m.checksum, {"students.csv": "0" * 64}, "scenario", depends_on=deps
    )
    store.replace_year(rid, year, compute(year_no, store, m, shift))
    store.finish_run(rid, "SUCCEEDED")


@pytest.fixture
def five_years(db_url: str) -> ResultsStore:
    store = ResultsStore(db_url)
    store.upgrade()
    m = for_year(YEARS[0])
    for k in range(1, 6):
        run(k, store, m)
    yield store
    store.dispose()


def status(store: ResultsStore, code: str) -> list[tuple]:
    d = store.read("designations")
    d = d[d["school_code"] == code].sort_values("year")
    return [
        (
            r.designation,
            int(r.years_in_status),
            r.escalation,
            None if pd.isna(r.partner_school_code) else r.partner_school_code,
            bool(r.exited),
        )
        for r in d.itertuples()
    ]


def check_focus_school_that_never_exits_escalates_with_the_right_partner(
    five_years: ResultsStore,
) -> None:
    assert status(five_years, FX) == [
        ("FOCUS", 1, "NONE", None, False),
        ("FOCUS", 2, "NONE", None, False),
        # H3 would suit FX best but already partners E00 and H1: E10 (strong for SED in ELA)
        ("FOCUS", 3, "REWARD_PARTNERSHIP", E10, False),
        ("FOCUS", 4, "REWARD_PARTNERSHIP", E10, False),
        ("FOCUS", 5, "DISTRICT_TURNAROUND", E10, False),
    ]
    p = five_years.read("partnerships")
    kept = p[(p["school_code"] == FX) & (p["year"] == YEARS[3])]
    assert kept["cost"].iloc[0] == pytest.approx(1 + 0.4 - 0.25)  # type, SED share, kept


def check_a_school_that_exits_resets_its_count(five_years: ResultsStore) -> None:
    assert status(five_years, EX) == [
        ("FOCUS", 1, "NONE", None, False),
        ("FOCUS", 2, "NONE", None, False),
        ("NONE", 0, "NONE", None, True),
        ("FOCUS", 1, "NONE", None, False),
        ("FOCUS", 2, "NONE", None, False),
    ]
    assert [s[0] for s in status(five_years, E09)] == ["NONE", "NONE", "FOCUS", "NONE", "NONE"]
    assert status(five_years, E09)[3][4] is True  # exited in year 4


def check_priority_schools_escalate_and_graduation_rule_holds(five_years: ResultsStore) -> None:
    assert [s[:4] for s in status(five_years, E00)] == [
        ("PRIORITY", k, "PEER_REVIEW", H3) for k in range(1, 5)
    ] + [("PRIORITY", 5, "DISTRICT_ACTION", H3)]
    # H1 has the second-highest SQII and is PRIORITY every year for its graduation rate
    assert [s[:3] for s in status(five_years, H1)][-1] == ("PRIORITY", 5, "DISTRICT_ACTION")
    d = five_years.read("designations")
    assert (d.loc[d["school_code"] == H1, "reason_indicator"] == "GRAD4").all()


def check_reward_excludes_top_quarter_gaps(five_years: ResultsStore) -> None:
    d = five_years.read("designations")
    for year in YEARS:
        rewards = sorted(d.loc[(d["year"] == year) & (d["designation"] == "REWARD"), "school_code"])
        assert rewards == [E10, H3]
    # E09 gains the most every year but its gap is in the top quarter
    assert E09 not in set(d.loc[d["designation"] == "REWARD", "school_code"])


def check_a_reward_school_never_takes_three_partners(five_years: ResultsStore) -> None:
    p = five_years.read("partnerships")
    per = p.groupby(["year", "partner_school_code"]).size()
    assert per.max() == 2
    assert per[(YEARS[2], H3)] == 2  # E00, H1 and FX all need H3 most in year 3
    assert sorted(
        p.loc[(p["year"] == YEARS[2]) & (p["partner_school_code"] == H3), "school_code"]
    ) == [E00, H1]


def test_five_years_of_designations_escalation_and_partners(five_years) -> None:
    """One five-year story per backend (building it is the slow part); each check names
    the rule it shows."""
    check_focus_school_that_never_exits_escalates_with_the_right_partner(five_years)
    check_a_school_that_exits_resets_its_count(five_years)
    check_priority_schools_escalate_and_graduation_rule_holds(five_years)
    check_reward_excludes_top_quarter_gaps(five_years)
    check_a_reward_school_never_takes_three_partners(five_years)


def _contents(store: ResultsStore) -> dict[str, pd.DataFrame]:
    out = {}
    for t in ("schools", "indicators", "index_scores", "designations", "partnerships"):
        out[t] = store.read(t).drop(columns=["run_id"], errors="ignore")
    return out


def test_rerunning_a_year_with_the_same_inputs_changes_nothing(five_years) -> None:
    store, m = five_years, for_year(YEARS[0])
    before = _contents(store)
    run(3, store, m)  # year 3 again, after year 5
    after = _contents(store)
    for t in before:
        pd.testing.assert_frame_equal(after[t], before[t], check_like=False)
    keys = {"indicators": ["year", "school_code", "student_group", "indicator"]}
    for t, frame in after.items():
        assert not frame.duplicated(keys.get(t, ["year", "school_code"])).any(), t
    assert len(after["designations"]) == 5 * 20
    assert store.stale_years() == []  # years 4 and 5 read the same year 3
    assert store.runs(YEARS[2])["status"].tolist() == ["SUCCEEDED", "SUCCEEDED"]


def test_rerunning_a_year_with_other_results_makes_later_years_stale(five_years) -> None:
    store, m = five_years, for_year(YEARS[0])
    run(3, store, m, shift=0.5)  # a corrected delivery: every SQII half a point higher
    assert store.stale_years() == [YEARS[3], YEARS[4]]
    run(4, store, m)
    run(5, store, m)
    assert store.stale_years() == []
