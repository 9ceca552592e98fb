"""Five generated years through ``sqis.pipeline.run_cycle`` on SQLite and PostgreSQL:
2013-14 and 2014-15 under core-2013.1, 2015-16 on under core-2015.1 (issue 19), and the
district index of every year.

The consortium is ``sqis.synthetic.generate``'s with one middle school turned into a K-8
school typed ES (``tests.legacy_reference.make_root``). Each rule is checked against the
stored results by an independent restatement (plain pandas over the delivered files and
the stored rows), not by calling the code under test.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from schemas.outputs import check_output
from sqis import pipeline
from sqis.store import ResultsStore
from tests.legacy_reference import YEARS, make_root

CHANGED_FROM = 2  # YEARS[2] = 2015-16: core-2015.1
N_SIZE = 20


@pytest.fixture(scope="module")
def root() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="sqis-scenario-2015-") as d:
        yield make_root(Path(d) / "data", n_students=6000, n_districts=2, seed=23)


def delivered(root: str, year: str, name: str) -> pd.DataFrame:
    return pd.read_csv(Path(root) / year / f"{name}.csv", dtype=str, keep_default_na=False)


def ceil_share(share: float, n: int) -> int:
    return math.ceil(round(share * n, 9))


def check_versions(store: ResultsStore) -> None:
    runs = store.runs()
    by_year = runs.groupby("year")["methodology_version"].agg(set).to_dict()
    assert by_year == {
        y: {"core-2013.1" if k < CHANGED_FROM else "core-2015.1"} for k, y in enumerate(YEARS)
    }


def check_ms_persist_at_the_k8_school(store: ResultsStore, root: str) -> None:
    schools = delivered(root, YEARS[0], "schools")
    k8 = schools.loc[
        (schools["school_type"] == "ES") & (schools["high_grade"] == "8"), "school_code"
    ].iloc[0]
    ind = store.read("indicators")
    at = ind[(ind["indicator"] == "MS_PERSIST") & (ind["school_code"] == k8)]
    # the first two years have no year two back delivered; from 2015-16 the span counts
    assert sorted(set(at["year"])) == YEARS[CHANGED_FROM:]
    # denominator: the K-8 school's promoted eighth graders two years back
    for k in range(CHANGED_FROM, len(YEARS)):
        before = delivered(root, YEARS[k - 2], "students")
        promoted = before[
            (before["school_code"] == k8) & (before["grade"] == "8") & (before["promoted"] == "Y")
        ]
        now = delivered(root, YEARS[k], "students")
        tenth = set(now.loc[now["grade"] == "10", "student_id"])
        row = at[(at["year"] == YEARS[k]) & (at["student_group"] == "ALL")].iloc[0]
        assert row["denominator"] == len(promoted)
        assert row["numerator"] == promoted["student_id"].isin(tenth).sum()


def check_climate_nsize(store: ResultsStore, root: str) -> None:
    ind = store.read("indicators")
    for k, year in enumerate(YEARS):
        c = ind[(ind["year"] == year) & ind["indicator"].str.startswith("CLIMATE_")]
        survey = delivered(root, year, "climate")
        grouped = survey.groupby(["school_code", "respondent_type"])["respondent_id"]
        n = grouped.nunique() if k >= CHANGED_FROM else grouped.size()
        keys = list(zip(c["school_code"], c["indicator"].str.removeprefix("CLIMATE_"), strict=True))
        expected = pd.Series(keys).map(n).to_numpy() >= N_SIZE
        np.testing.assert_array_equal(c["meets_nsize"].to_numpy(dtype=bool), expected)


def check_designation_rules(store: ResultsStore) -> None:
    """From 2015-16: FOCUS-by-gap takes ⌈10%⌉ of the Title I schools with an SQII left after
    PRIORITY; no REWARD school is among the ⌈25%⌉ largest Title I gaps (ties by code); no
    gap group is FOS or HOM."""
    des, idx, sch = store.read("designations"), store.read("index_scores"), store.read("schools")
    for year in YEARS[CHANGED_FROM:]:
        d = des[des["year"] == year].merge(
            idx.loc[idx["year"] == year, ["school_code", "sqii"]], on="school_code"
        )
        d = d.merge(sch.loc[sch["year"] == year, ["school_code", "title_i"]], on="school_code")
        t1 = d[d["title_i"].astype(bool)]
        ranked = t1[t1["sqii"].notna()]
        left = ranked[ranked["designation"] != "PRIORITY"]
        by_gap = ranked[
            (ranked["designation"] == "FOCUS") & (ranked["reason_indicator"] != "GRAD4")
        ]
        candidates = left[left["gap"] > 0]
        assert len(by_gap) == min(ceil_share(0.10, len(left)), len(candidates)), year
        gaps = t1[t1["gap"].notna()].assign(neg=lambda f: -f["gap"])
        top = gaps.sort_values(["neg", "school_code"]).head(ceil_share(0.25, len(gaps)))
        assert not (top["designation"] == "REWARD").any(), year
        assert not d["gap_group"].isin(["FOS", "HOM"]).any(), year
        assert (d["designation"] == "REWARD").any(), year


def check_district_index(store: ResultsStore, out: Path) -> None:
    """Per district and year: SQII = Σ enrolment × SQII / Σ enrolment over schools with an
    SQII (enrolment: SUSP's ALL denominator), prior = last year's, goal = prior + 10% of
    the gap to 100; districts.csv holds exactly the stored rows."""
    di = store.read("district_index")
    idx, ind, sch = store.read("index_scores"), store.read("indicators"), store.read("schools")
    susp = ind[(ind["indicator"] == "SUSP") & (ind["student_group"] == "ALL")]
    previous: dict[str, float] = {}
    for year in YEARS:
        f = idx[idx["year"] == year].merge(
            susp.loc[susp["year"] == year, ["school_code", "denominator"]], on="school_code"
        )
        f = f.merge(sch.loc[sch["year"] == year, ["school_code", "district_code"]])
        f = f[f["sqii"].notna()]
        mine = di[di["year"] == year].set_index("district_code")
        assert sorted(mine.index) == sorted(sch.loc[sch["year"] == year, "district_code"].unique())
        for code, part in f.groupby("district_code"):
            w = part["denominator"].astype(float)
            expected = float((w * part["sqii"]).sum() / w.sum())
            assert mine.loc[code, "sqii"] == pytest.approx(expected, rel=1e-12)
            assert mine.loc[code, "enrolment"] == w.sum()
            prior = previous.get(code)
            if prior is None:
                assert pd.isna(mine.loc[code, "prior_sqii"])
            else:
                assert mine.loc[code, "prior_sqii"] == pytest.approx(prior, rel=1e-12)
                goal = prior + 0.10 * (100 - prior)
                assert mine.loc[code, "goal"] == pytest.approx(goal, rel=1e-12)
                assert bool(mine.loc[code, "meets_goal"]) == (mine.loc[code, "sqii"] >= goal)
            previous[code] = float(mine.loc[code, "sqii"])
        data = (out / year / "districts.csv").read_bytes()
        assert check_output("districts", data).empty  # DATA_CONTRACT.md "Outputs"
        csv = pd.read_csv(io.BytesIO(data), dtype={"district_code": str})
        assert list(csv.columns) == [
            "district_code",
            "academic",
            "social_emotional",
            "culture_climate",
            "sqii",
            "prior_sqii",
            "goal",
            "meets_goal",
        ]
        for col in ("academic", "social_emotional", "culture_climate", "sqii", "prior_sqii"):
            np.testing.assert_array_equal(
                csv[col].to_numpy(dtype=float), mine.loc[csv["district_code"], col].to_numpy(float)
            )
    assert di["meets_goal"].notna().any()


def published(out: Path, year: str) -> dict[str, str]:
    files = json.loads((out / year / "manifest.json").read_text())["files"]
    return {f["key"]: f["sha256"] for f in files}


def test_five_years_across_the_methodology_change(root: str, db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cfg = pipeline.RunConfig(data_root=root, out_root=str(out), db_url=db_url, pdf="none")
    pipeline.run_cycle(YEARS, cfg)
    store = ResultsStore(db_url)
    check_versions(store)
    check_ms_persist_at_the_k8_school(store, root)
    check_climate_nsize(store, root)
    check_designation_rules(store)
    check_district_index(store, out)

    # re-running an earlier year gives what it gave: its stored rows and its CSVs
    year = YEARS[1]
    tables = ("indicators", "index_scores", "designations", "district_index")
    before = {t: store.read(t, [year]).drop(columns="run_id") for t in tables}
    sums = published(out, year)
    pipeline.run_year(year, cfg)
    for t in tables:
        pd.testing.assert_frame_equal(store.read(t, [year]).drop(columns="run_id"), before[t])
    again = published(out, year)
    for name in ("indicators.csv", "index.csv", "designations.csv", "districts.csv"):
        assert again[name] == sums[name], name
    assert store.runs(year)["methodology_version"].tolist() == ["core-2013.1"] * 2
    store.dispose()


def test_the_scenario_csvs_read_back(root: str) -> None:
    """The generated consortium is as the scenario needs: a K-8 ES and two districts."""
    schools = pd.read_csv(io.StringIO((Path(root) / YEARS[0] / "schools.csv").read_text()))
    assert ((schools["school_type"] == "ES") & (schools["high_grade"] == 8)).sum() == 1
    assert schools["district_code"].nunique() == 2
