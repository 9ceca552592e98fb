"""The synthetic educators (``sqis.synthetic.educators``): staffed like real schools, one
principal per school, co-taught students, teacher effects that persist across years and
correlate with practice ratings — and the other files byte-identical to a generator
without educators (their random streams untouched)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sqis.synthetic import generate

YEARS = ["2013-14", "2014-15", "2015-16", "2016-17"]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = tmp_path_factory.mktemp("edu") / "data"
    generate(r, YEARS, 12000, 2, 5)
    return r


def _read(root: Path, year: str, name: str) -> pd.DataFrame:
    return pd.read_csv(root / year / f"{name}.csv", dtype=str)


def _teacher_gains(root: Path, year: str) -> pd.Series:
    """Each teacher's mean score gain (z this year − z last year, by grade and subject) over
    the students rostered to them in that subject."""

    def z(y: str) -> pd.DataFrame:
        a = _read(root, y, "assessments")
        a = a[a["subject"].isin(["ELA", "MATH"])].copy()
        a["s"] = a["scale_score"].astype(float)
        a["z"] = a.groupby(["subject", "grade"])["s"].transform(lambda x: (x - x.mean()) / x.std())
        return a[["student_id", "subject", "z"]]

    prev = z(str(int(year[:4]) - 1) + "-" + year[2:4])
    gain = z(year).merge(prev, on=["student_id", "subject"], suffixes=("", "_prior"))
    gain["gain"] = gain["z"] - gain["z_prior"]
    r = _read(root, year, "rosters").merge(gain, on=["student_id", "subject"])
    return r.groupby("educator_id")["gain"].mean()


def test_educator_files_from_the_pilot_year_with_one_principal_per_school(root: Path) -> None:
    assert not (root / "2013-14" / "educators.csv").exists()
    for y in YEARS[1:]:
        ed, ro = _read(root, y, "educators"), _read(root, y, "rosters")
        schools = _read(root, y, "schools")
        principals = ed[ed["role"] == "PRINCIPAL"]
        assert sorted(principals["school_code"]) == sorted(schools["school_code"])
        assert not ed.duplicated(["educator_id", "school_code"]).any()
        assert not ro.duplicated(["student_id", "educator_id", "subject"]).any()
        assert ed["educator_id"].str.fullmatch("[A-Za-z0-9]{1,20}").all()
        # like real schools: about one teacher per 20-25 students, most students rostered
        students = _read(root, y, "students")
        teachers = (ed["role"] == "TEACHER").sum()
        assert 15 <= len(students) / teachers <= 35
        assert (
            ro[ro["subject"] == "ELA"]["student_id"].nunique()
            >= 0.95 * students["student_id"].nunique()
        )
        # co-taught: some students have two teachers in a subject
        per = ro.groupby(["student_id", "subject"]).size()
        assert 0.02 < (per > 1).mean() < 0.3


def test_teacher_effects_persist_and_correlate_with_practice(root: Path) -> None:
    g1, g2 = _teacher_gains(root, "2015-16"), _teacher_gains(root, "2016-17")
    both = pd.concat([g1, g2], axis=1, join="inner").dropna()
    assert len(both) > 40
    assert np.corrcoef(both.iloc[:, 0], both.iloc[:, 1])[0, 1] > 0.3  # persists
    ed = _read(root, "2016-17", "educators").drop_duplicates("educator_id")
    practice = ed.set_index("educator_id")["practice"].astype(float)
    joined = pd.concat([g2, practice], axis=1, join="inner").dropna()
    assert np.corrcoef(joined.iloc[:, 0], joined.iloc[:, 1])[0, 1] > 0.2  # and shows in practice


def test_the_engineered_educators_are_placed(root: Path) -> None:
    ed = _read(root, "2015-16", "educators")
    ids = set(ed["educator_id"])
    assert {"HIGHGROWTH1", "TRIGGERCASE1", "UNDERMIN1"} <= ids
    ro = _read(root, "2015-16", "rosters")
    assert (ro["educator_id"] == "UNDERMIN1").sum() == 6
    gains = _teacher_gains(root, "2015-16")
    assert gains["HIGHGROWTH1"] > gains.quantile(0.9)
    assert gains["TRIGGERCASE1"] < gains.quantile(0.1)
