"""The synthetic consortium generator (sqis.synthetic, ``sqis generate``).

One small consortium (3,000 students, 2 districts, 3 years) is generated once per module;
the tests check it against DATA_CONTRACT.md with pandas, and check that students persist
from year to year the way a real consortium's do.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from sqis import codes, years
from sqis.synthetic import generate, plan_only
from sqis.synthetic import model as sm
from tests.fixtures_s3 import s3  # noqa: F401

YEARS = ["2013-14", "2014-15", "2015-16"]
N_STUDENTS, N_DISTRICTS, SEED = 3000, 2, 11

COLUMNS = {
    "schools": ["school_code", "district_code", "school_name", "district_name", "school_type",
                "title_i", "low_grade", "high_grade"],
    "students": ["student_id", "school_code", "grade", "race_ethnicity", "gender", "el_status",
                 "redesignated", "swd", "sed", "foster", "homeless", "days_enrolled",
                 "days_absent", "suspensions", "expelled", "promoted"],
    "assessments": ["student_id", "school_code", "subject", "grade", "scale_score",
                    "performance_level"],
    "graduation": ["student_id", "school_code", "cohort", "outcome", "grad_year",
                   "race_ethnicity", "el", "swd", "sed", "foster", "homeless"],
    "sel": ["student_id", "school_code", "construct", "score"],
    "climate": ["respondent_id", "school_code", "respondent_type", "construct", "score"],
}  # fmt: skip
FLAGS = {
    "schools": ["title_i"],
    "students": ["redesignated", "swd", "sed", "foster", "homeless", "expelled", "promoted"],
    "graduation": ["el", "swd", "sed", "foster", "homeless"],
}
INTS = {"grade", "low_grade", "high_grade", "days_enrolled", "days_absent", "suspensions",
        "performance_level"}  # fmt: skip
FLOATS = {"scale_score", "score"}


def read(root: Path, year: str, name: str, fmt: str = "csv") -> pd.DataFrame:
    """A generated file with the contract's types: text as str, ints, floats; empty → NA."""
    path = root / year / f"{name}.{fmt}"
    if fmt == "csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df = df.replace({"": pd.NA})
    else:
        df = pd.read_parquet(path)
    for c in df.columns:
        if c in INTS:
            df[c] = df[c].astype("int64")
        elif c in FLOATS:
            df[c] = df[c].astype("float64")
        else:
            df[c] = df[c].astype("str")
    return df


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "csv"
    generate(out, YEARS, N_STUDENTS, N_DISTRICTS, SEED, "csv")
    return out


@pytest.fixture(scope="module")
def data(root: Path) -> dict[str, dict[str, pd.DataFrame]]:
    return {y: {f: read(root, y, f) for f in codes.CONTRACT_FILES} for y in YEARS}


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


# ---- determinism and formats --------------------------------------------------------
def test_same_seed_same_bytes_other_seed_differs(root: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, YEARS, N_STUDENTS, N_DISTRICTS, SEED, "csv")
    first, second = _digests(root), _digests(again)
    # the contract files every year, the educator files from the pilot year (2014-15) on
    assert len(first) == len(YEARS) * len(codes.CONTRACT_FILES) + 2 * len(codes.EDUCATOR_FILES)
    assert first == second
    other = tmp_path / "other"
    generate(other, YEARS, N_STUDENTS, N_DISTRICTS, SEED + 1, "csv")
    third = _digests(other)
    assert third.keys() == first.keys()
    assert all(third[k] != first[k] for k in first if not k.endswith("schools.csv"))


def test_csv_and_parquet_hold_the_same_data(root: Path, tmp_path: Path) -> None:
    pq_root = tmp_path / "pq"
    generate(pq_root, YEARS[:2], N_STUDENTS, N_DISTRICTS, SEED, "parquet")
    for year in YEARS[:2]:
        for name in codes.CONTRACT_FILES:
            assert (pq_root / year / f"{name}.parquet").exists()
            a = read(root, year, name)
            b = read(pq_root, year, name, "parquet")
            pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_refuses_to_overwrite_a_year_folder_unless_the_same_arguments(root: Path) -> None:
    with pytest.raises(FileExistsError, match="2013-14"):
        generate(root, YEARS[:1], N_STUDENTS, N_DISTRICTS, SEED, "csv")
    with pytest.raises(FileExistsError, match="already exists"):
        generate(root, YEARS, N_STUDENTS, N_DISTRICTS, SEED + 1, "csv")
    before = _digests(root)
    assert generate(root, YEARS, N_STUDENTS, N_DISTRICTS, SEED, "csv").skipped
    assert _digests(root) == before


def test_refuses_too_few_students_for_the_districts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="too few"):
        generate(tmp_path, YEARS[:1], 1000, 5, SEED, "csv")


# ---- the contract: columns, codes, types, ranges --------------------------------------
def test_every_file_has_exactly_the_contract_columns(data) -> None:
    for year in YEARS:
        for name, cols in COLUMNS.items():
            assert list(data[year][name].columns) == cols, (year, name)
            assert len(data[year][name]) > 0, (year, name)


def test_codes_flags_and_ranges(data) -> None:
    for year in YEARS:
        d = data[year]
        for name, flags in FLAGS.items():
            for f in flags:
                assert set(d[name][f]) <= {"Y", "N"}, (name, f)
        sc = d["schools"]
        assert sc["school_code"].str.fullmatch(r"\d{14}").all()
        assert sc["school_code"].is_unique
        assert (sc["district_code"] == sc["school_code"].str[:7]).all()
        assert set(sc["school_type"]) <= set(codes.SCHOOL_TYPES)
        assert (sc["low_grade"] <= sc["high_grade"]).all()
        assert sc["school_name"].str.len().gt(0).all() and sc["district_name"].str.len().gt(0).all()
        st = d["students"]
        assert st["student_id"].str.fullmatch(r"\d{10}").all()
        assert set(st["race_ethnicity"]) <= set(codes.RACE_CODES)
        assert set(st["gender"]) <= set(codes.GENDERS)
        assert set(st["el_status"]) <= set(codes.EL_STATUSES)
        assert st["days_enrolled"].between(0, 200).all()
        assert (st["days_absent"] >= 0).all() and (st["suspensions"] >= 0).all()
        assert not st.duplicated(["student_id", "school_code"]).any()
        a = d["assessments"]
        assert set(a["subject"]) == set(codes.SUBJECTS)
        assert a["scale_score"].between(2000, 3000).all()
        assert set(a["performance_level"]) == {1, 2, 3, 4}
        g = d["graduation"]
        assert set(g["outcome"]) <= set(codes.GRAD_OUTCOMES)
        assert g["cohort"].map(years.is_year).all()
        assert set(codes.CONTRACT_FILES) == set(d)
        se, cl = d["sel"], d["climate"]
        assert set(se["construct"]) == set(codes.SEL_CONSTRUCTS)
        assert se["score"].between(1, 5).all()
        assert set(cl["construct"]) == set(codes.CLIMATE_CONSTRUCTS)
        assert set(cl["respondent_type"]) == set(codes.RESPONDENT_TYPES)
        assert cl["score"].between(1, 5).all()
        # survey IDs are anonymous: never a student ID
        assert not cl["respondent_id"].isin(st["student_id"]).any()


# ---- the contract's cross-file rules ---------------------------------------------------
def test_cross_file_rules_hold(data) -> None:
    for year in YEARS:
        d = data[year]
        sc, st, a = d["schools"], d["students"], d["assessments"]
        span = sc.set_index("school_code")[["low_grade", "high_grade", "school_type"]]
        # students: school in schools, grade within the school's span
        assert st["school_code"].isin(sc["school_code"]).all()
        s = st.join(span, on="school_code")
        assert s["grade"].between(s["low_grade"], s["high_grade"]).all()
        assert (st.loc[st["redesignated"] == "Y", "el_status"] == "EL").all()
        assert (st["days_absent"] <= st["days_enrolled"]).all()
        # assessments: enrolled at that school that year; grades by subject; unique per subject
        enrolled = st[["student_id", "school_code", "grade"]]
        m = a.merge(enrolled, on=["student_id", "school_code"], how="left", suffixes=("", "_e"))
        assert m["grade_e"].notna().all()
        assert (m["grade"] == m["grade_e"]).all()
        for subject, grades in codes.ASSESSED_GRADES.items():
            assert a.loc[a["subject"] == subject, "grade"].isin(grades).all(), subject
        assert not a.duplicated(["student_id", "subject"]).any()
        # graduation: at HS schools; grad_year only for GRAD, after cohort, not after the year
        g = d["graduation"]
        assert g["school_code"].isin(sc.loc[sc["school_type"] == "HS", "school_code"]).all()
        grad = g["outcome"] == "GRAD"
        assert g.loc[~grad, "grad_year"].isna().all()
        gy = g.loc[grad, "grad_year"].map(years.start_of)
        co = g.loc[grad, "cohort"].map(years.start_of)
        assert (gy > co).all() and (gy <= years.start_of(year)).all()
        # the measured cohorts: entered grade 9 three, four and five years before the year
        expected = {years.shift(year, -k) for k in (3, 4, 5)}
        assert set(g["cohort"]) == expected
        assert not g.duplicated(["student_id", "cohort"]).any()
        # sel: enrolled at that school; (student, school, construct) unique
        se = d["sel"]
        assert (
            se.merge(enrolled, on=["student_id", "school_code"], how="left")["grade"].notna().all()
        )
        assert not se.duplicated(["student_id", "school_code", "construct"]).any()
        cl = d["climate"]
        assert cl["school_code"].isin(sc["school_code"]).all()
        assert not cl.duplicated(
            ["school_code", "respondent_type", "respondent_id", "construct"]
        ).any()


def test_generated_files_pass_the_contract_validation(root: Path) -> None:
    from sqis.validation import validate_delivery

    report = validate_delivery(str(root), YEARS[1])
    assert report.ok, report.errors.head(20).to_string()


# ---- realistic shares and rates ------------------------------------------------------
def test_group_shares_and_rates_in_realistic_ranges(data) -> None:
    for year in YEARS:
        st = data[year]["students"]
        one = st.drop_duplicates("student_id")
        assert 0.10 <= (one["el_status"] == "EL").mean() <= 0.35
        assert 0.08 <= (one["swd"] == "Y").mean() <= 0.18
        assert 0.40 <= (one["sed"] == "Y").mean() <= 0.85
        assert 0.0 < (one["foster"] == "Y").mean() < 0.03
        assert 0.0 < (one["homeless"] == "Y").mean() < 0.08
        assert (one["race_ethnicity"] == "HI").mean() > 0.3  # a CORE-like consortium
        a = data[year]["assessments"]
        for subject in ("ELA", "MATH"):
            met = (a.loc[a["subject"] == subject, "performance_level"] >= 3).mean()
            assert 0.20 <= met <= 0.70, (year, subject, met)
        counted = st[st["days_enrolled"] >= 31]
        chronic = (counted["days_absent"] >= 0.1 * counted["days_enrolled"]).mean()
        assert 0.05 <= chronic <= 0.30
        susp = ((st["suspensions"] > 0) | (st["expelled"] == "Y")).mean()
        assert 0.005 <= susp <= 0.15
        ever = st["el_status"] == "EL"
        assert 0.03 <= (st.loc[ever, "redesignated"] == "Y").mean() <= 0.30
        g = data[year]["graduation"]
        four = g[g["cohort"] == years.shift(year, -3)]
        assert 0.6 <= (four["outcome"] == "GRAD").mean() <= 0.95


def test_subgroup_gaps_have_the_realistic_direction(data) -> None:
    d = data[YEARS[-1]]
    a = d["assessments"].merge(
        d["students"].drop_duplicates("student_id")[["student_id", "race_ethnicity", "swd",
                                                      "el_status"]],
        on="student_id",
    )  # fmt: skip
    met = a["performance_level"] >= 3
    all_met = met.mean()
    assert met[a["swd"] == "Y"].mean() < all_met - 0.15
    assert met[a["el_status"] == "EL"].mean() < all_met - 0.10
    assert met[a["race_ethnicity"] == "HI"].mean() < met[a["race_ethnicity"] == "WH"].mean()


def test_typical_schools_have_several_subgroups_at_the_n_size(data) -> None:
    d = data[YEARS[0]]
    st = d["students"].merge(d["schools"][["school_code", "school_type"]], on="school_code")
    es = st[st["school_type"] == "ES"]
    counts = pd.DataFrame({
        "SED": es[es["sed"] == "Y"].groupby("school_code").size(),
        "EL": es[es["el_status"] == "EL"].groupby("school_code").size(),
        "SWD": es[es["swd"] == "Y"].groupby("school_code").size(),
        "HI": es[es["race_ethnicity"] == "HI"].groupby("school_code").size(),
    }).fillna(0)  # fmt: skip
    assert ((counts >= 20).sum(axis=1) >= 3).mean() >= 0.8


def test_title_i_share_and_high_sed_schools(data) -> None:
    plan = plan_only(40000, 8, YEARS, SEED)
    ti = plan.schools["title_i"]
    assert 0.55 <= ti.mean() <= 0.75
    assert plan.schools.loc[ti, "sed_share"].mean() > plan.schools.loc[~ti, "sed_share"].mean()


def test_school_counts_and_sizes_follow_the_student_count() -> None:
    plan = plan_only(1_000_000, 100, YEARS, SEED)
    sc = plan.schools
    size = sc["per_grade"] * (sc["high_grade"] - sc["low_grade"] + 1)
    mean = size.groupby(sc["school_type"]).mean()
    assert 350 < mean["ES"] < 550 and 650 < mean["MS"] < 950 and 1300 < mean["HS"] < 1900
    assert 0.95 < size.sum() / 1_000_000 < 1.1
    assert sc["school_code"].is_unique and sc["school_code"].str.fullmatch(r"\d{14}").all()
    assert sc.groupby("district")["school_type"].nunique().eq(3).all()
    # grade spans: ES K-5, MS 6-8, HS 9-12; feeders stay in the district and go up a level
    spans = sc.groupby("school_type")[["low_grade", "high_grade"]].agg(["min", "max"])
    assert spans.loc["ES"].tolist() == [0, 0, 5, 5] and spans.loc["HS"].tolist() == [9, 9, 12, 12]
    feeder = sc[sc["feeder"] >= 0].merge(
        sc, left_on=["district", "feeder"], right_on=["district", "local"], suffixes=("", "_to")
    )
    assert (feeder["high_grade"] + 1 == feeder["low_grade_to"]).all()
    assert len(feeder) == (sc["school_type"] != "HS").sum()
    # in a large consortium the extreme schools are a small share of Title I schools
    roles = sc[sc["role"] != sm.NO_ROLE]
    assert len(roles) < 0.2 * sc["title_i"].sum()
    assert len(roles[roles["role"] == sm.REWARD_HIGH]) <= 0.05 * sc["title_i"].sum()


# ---- persistence across years --------------------------------------------------------
def _enrolled(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return d["students"].drop_duplicates("student_id", keep="last").set_index("student_id")


def test_students_move_up_a_grade_from_year_to_year(data) -> None:
    for y0, y1 in zip(YEARS, YEARS[1:], strict=False):
        s0, s1 = data[y0]["students"], _enrolled(data[y1])
        for grade in (3, 8):
            promoted = s0[(s0["grade"] == grade) & (s0["promoted"] == "Y")]["student_id"]
            next_grade = s1["grade"].reindex(promoted)
            assert (next_grade == grade + 1).mean() > 0.8, (y0, grade)
        # grade 8 → 9 means ES/MS → HS within the district
        p8 = s0[(s0["grade"] == 8) & (s0["promoted"] == "Y")]["student_id"]
        moved = s1.reindex(p8).dropna(subset=["school_code"])
        assert (moved["school_code"].str[:7] == s0.set_index("student_id").loc[moved.index,
                "school_code"].str[:7]).all()  # fmt: skip


def test_middle_school_persistence_most_promoted_8th_graders_in_grade_10(data) -> None:
    s0, s2 = data[YEARS[0]]["students"], _enrolled(data[YEARS[2]])
    p8 = s0[(s0["grade"] == 8) & (s0["promoted"] == "Y")]["student_id"].unique()
    in10 = (s2["grade"].reindex(p8) == 10).mean()
    assert 0.8 < in10 < 1.0


def test_scores_correlate_across_years_and_subjects(data) -> None:
    a0, a1 = data[YEARS[0]]["assessments"], data[YEARS[1]]["assessments"]
    for subject in ("ELA", "MATH"):
        m = a0[a0["subject"] == subject].merge(
            a1[a1["subject"] == subject], on="student_id", suffixes=("_0", "_1")
        )
        m = m[m["grade_1"] == m["grade_0"] + 1]
        assert len(m) > 200
        assert np.corrcoef(m["scale_score_0"], m["scale_score_1"])[0, 1] > 0.5
    both = a0[a0["subject"] == "ELA"].merge(a0[a0["subject"] == "MATH"], on="student_id")
    assert np.corrcoef(both["scale_score_x"], both["scale_score_y"])[0, 1] > 0.5


def test_performance_level_follows_the_scale_score_within_a_grade(data) -> None:
    a = data[YEARS[0]]["assessments"]
    for (_, _), grp in a.groupby(["subject", "grade"]):
        by_level = grp.groupby("performance_level")["scale_score"].agg(["min", "max"])
        # levels do not overlap: the highest score of a level is below the lowest of the next
        assert (by_level["max"].iloc[:-1].to_numpy() < by_level["min"].iloc[1:].to_numpy()).all()


def test_mid_year_movers_have_two_rows_with_split_attendance(data) -> None:
    st = data[YEARS[1]]["students"]
    rows = st.groupby("student_id").agg(
        n=("school_code", "size"), schools=("school_code", "nunique"), days=("days_enrolled", "sum")
    )
    movers = rows[rows["n"] == 2]
    assert len(movers) > 0.004 * len(rows)  # only where the district has two schools of a type
    assert (movers["schools"] == 2).all() and (movers["days"] <= 200).all()
    assert rows["n"].max() <= 2
    # the school left mid-year does not promote the student; attendance is counted at each
    mv = st[st["student_id"].isin(movers.index)]
    assert (mv.groupby("student_id")["promoted"].apply(lambda s: (s == "Y").sum()) <= 1).all()


def test_els_are_redesignated_and_then_rfep(data) -> None:
    s0, s1 = data[YEARS[0]]["students"], _enrolled(data[YEARS[1]])
    redesig = s0[s0["redesignated"] == "Y"]["student_id"].unique()
    assert len(redesig) > 10
    assert (s1["el_status"].reindex(redesig).dropna() == "RFEP").all()
    still_el = s0[(s0["el_status"] == "EL") & (s0["redesignated"] == "N")]["student_id"].unique()
    assert (s1["el_status"].reindex(still_el).dropna() == "EL").mean() > 0.9


def test_students_leave_and_new_ones_enter(data) -> None:
    ids0 = set(data[YEARS[0]]["students"]["student_id"])
    ids1 = set(data[YEARS[1]]["students"]["student_id"])
    s0 = data[YEARS[0]]["students"]
    not_seniors = set(s0.loc[s0["grade"] < 12, "student_id"])
    left = len(not_seniors - ids1) / len(not_seniors)
    entered = ids1 - ids0
    assert 0.01 < left < 0.12
    k = data[YEARS[1]]["students"]
    assert (k[k["student_id"].isin(entered)]["grade"] == 0).mean() > 0.5


def test_graduation_outcomes_are_consistent_across_years(data) -> None:
    g0, g1 = data[YEARS[0]]["graduation"], data[YEARS[1]]["graduation"]
    both = g0.merge(g1, on=["student_id", "cohort"], suffixes=("_0", "_1"))
    assert len(both) > 100  # cohorts measured in both years (5- then 6-year, 4- then 5-year)
    grads = both[both["outcome_0"] == "GRAD"]
    assert (grads["outcome_1"] == "GRAD").all()
    assert (grads["grad_year_0"] == grads["grad_year_1"]).all()
    # some students still enrolled after four years graduate in their fifth
    later = both[(both["outcome_0"] == "CONT") & (both["outcome_1"] == "GRAD")]
    assert len(later) > 0
    # the newest cohort is the grade-12 students of the year before... who entered grade 9
    # three years before the year: they were enrolled in HS in the generated years
    newest = g1[g1["cohort"] == years.shift(YEARS[1], -3)]["student_id"]
    assert newest.isin(data[YEARS[0]]["students"]["student_id"]).mean() > 0.8


# ---- extreme schools -----------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_year(tmp_path_factory: pytest.TempPathFactory):
    """The demo consortium's first year (40,000 students, 8 districts) and its plan."""
    out = tmp_path_factory.mktemp("demo")
    generate(out, ["2013-14"], 40000, 8, 2013, "parquet")
    plan = plan_only(40000, 8, ["2013-14"], 2013)
    d = {f: read(out, "2013-14", f, "parquet") for f in ("schools", "students", "assessments",
                                                         "graduation")}  # fmt: skip
    return d, plan.schools.set_index("school_code")


def test_every_extreme_role_is_placed_at_a_title_i_school(demo_year) -> None:
    d, plan = demo_year
    roles = plan[plan["role"] != sm.NO_ROLE]
    assert set(roles["role"]) == set(sm.ROLES) - {sm.NO_ROLE}
    assert roles["title_i"].all()
    assert len(roles) <= 0.35 * plan["title_i"].sum()
    sc = d["schools"].set_index("school_code")
    assert (sc.loc[roles.index, "title_i"] == "Y").all()


def _met(d, group_mask=None) -> pd.Series:
    a = d["assessments"]
    a = a[a["subject"].isin(["ELA", "MATH"])]
    if group_mask is not None:
        a = a[a["student_id"].isin(group_mask)]
    return (a["performance_level"] >= 3).groupby(a["school_code"]).mean() * 100


def test_extreme_schools_show_their_pattern(demo_year) -> None:
    d, plan = demo_year
    st = d["students"]
    ti_es = plan[(plan["title_i"]) & (plan["school_type"] == "ES")].index
    met_all = _met(d)
    low = plan.index[plan["role"] == sm.PERSIST_LOW]
    assert met_all.reindex(ti_es).nsmallest(len(low)).index.isin(low).all()
    # a persistent-gap school: its group's gap to ALL (% met) is among the largest 10%
    for code in plan.index[plan["role"] == sm.PERSIST_GAP]:
        group = plan.loc[code, "role_group"]
        mask = st["swd"] == "Y" if group == "SWD" else st["el_status"] == "EL"
        gaps = (met_all - _met(d, st.loc[mask, "student_id"])).reindex(ti_es).dropna()
        assert gaps[code] > 30, (code, group, gaps[code])
        assert gaps[code] >= gaps.quantile(0.9), (code, group, gaps[code])
    # graduation: ALL GRAD4 < 60 at GRAD_PRIORITY; SWD < 60 with ALL ≥ 60 at SUBGROUP_GRAD
    g = d["graduation"]
    four = g[g["cohort"] == "2010-11"]
    rate = (four["outcome"] == "GRAD").groupby(four["school_code"]).mean() * 100
    for code in plan.index[plan["role"] == sm.GRAD_PRIORITY]:
        assert rate[code] < 60
    for code in plan.index[plan["role"] == sm.SUBGROUP_GRAD]:
        swd = four[(four["school_code"] == code) & (four["swd"] == "Y")]
        assert len(swd) >= 20
        assert (swd["outcome"] == "GRAD").mean() * 100 < 60 <= rate[code]
    # the Reward-role schools are among the best Title I ES on % met
    high = plan.index[plan["role"] == sm.REWARD_HIGH]
    assert (met_all[high] > met_all.reindex(ti_es).quantile(0.8)).all()


# ---- the command ---------------------------------------------------------------------
def test_cli_generate_writes_every_file_and_refuses_bad_arguments(tmp_path: Path) -> None:
    import sqis_cli  # noqa: F401  (registers the commands)
    from sqis_cli.app import app

    runner = CliRunner()
    out = tmp_path / "cli"
    args = ["generate", "--out", str(out), "--years", "2014-15..2015-16", "--students", "1200",
            "--districts", "1", "--seed", "5", "--format", "parquet"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Title I" in res.output
    for y in ("2014-15", "2015-16"):
        assert sorted(p.name for p in (out / y).iterdir()) == sorted(
            f"{n}.parquet" for n in (*codes.CONTRACT_FILES, *codes.EDUCATOR_FILES)
        )
    before = _digests(out)
    again = runner.invoke(app, args)  # the same arguments: nothing to do
    assert again.exit_code == 0 and "nothing to do" in again.output
    other = runner.invoke(app, [*args[:-4], "--seed", "6", "--format", "parquet"])
    assert other.exit_code == 2 and "already exists" in other.output
    assert _digests(out) == before
    replaced = runner.invoke(app, [*args[:-4], "--seed", "6", "--format", "parquet",
                                   "--overwrite"])  # fmt: skip
    assert replaced.exit_code == 0, replaced.output
    assert _digests(out) != before
    assert not any(p.name.startswith(".generating") for p in out.iterdir())
    bad = runner.invoke(app, ["generate", "--out", str(tmp_path / "x"), "--years", "2015-17"])
    assert bad.exit_code == 2 and "2015-17" in bad.output
    fmt = runner.invoke(app, ["generate", "--out", str(tmp_path / "y"), "--format", "xlsx"])
    assert fmt.exit_code == 2 and "'parquet'" in fmt.output and "--format" in fmt.output


def test_generate_into_s3(s3, tmp_path: Path) -> None:  # noqa: F811
    from sqis.storage import open_storage

    uri = s3.uri("synthetic")
    summary = generate(uri, ["2015-16"], 1200, 1, 3, "csv")
    assert summary.root == uri
    keys = s3.keys("synthetic/")
    assert sorted(keys) == sorted(
        [f"synthetic/2015-16/{n}.csv" for n in (*codes.CONTRACT_FILES, *codes.EDUCATOR_FILES)]
        + ["synthetic/.sqis-generate.json"]
    )
    local = tmp_path / "local"
    generate(local, ["2015-16"], 1200, 1, 3, "csv")
    st = open_storage(uri)
    for n in codes.CONTRACT_FILES:
        assert st.read_bytes(f"2015-16/{n}.csv") == (local / "2015-16" / f"{n}.csv").read_bytes()
    with pytest.raises(FileExistsError, match="already exists"):
        generate(uri, ["2015-16"], 1200, 1, 4, "csv")
    generate(uri, ["2015-16"], 1200, 1, 4, "csv", overwrite=True)
    replaced = st.read_bytes("2015-16/students.csv")
    assert replaced != (local / "2015-16" / "students.csv").read_bytes()
