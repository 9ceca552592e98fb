"""Earlier years keep their methodology: core-2013.1 through today's code gives exactly what
the code gave before core-2015.1 existed (tests/fixtures/core-2013.1-reference, written by
``python -m tests.legacy_reference`` at commit 7fadbbe), and core-2015.1 differs from it on
the same consortium exactly where the audit said (issue 19)."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sqis import methodology
from sqis.exports import to_csv_bytes
from sqis.methodology import for_year
from tests.legacy_reference import FIXTURE, FRAMES, YEARS, compute_years, make_root

OLD = for_year(YEARS[0], "core-2013.1")
NEW = for_year(YEARS[-1], "core-2015.1")
KEY = ["school_code", "student_group", "indicator"]


@pytest.fixture(scope="module")
def root() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="sqis-versions-") as d:
        yield make_root(Path(d) / "data")


@pytest.fixture(scope="module")
def old(root: str) -> dict:
    return compute_years(root, OLD)


@pytest.fixture(scope="module")
def new(root: str) -> dict:
    return compute_years(root, NEW)


def reference(year: str, name: str) -> pd.DataFrame:
    return pd.read_parquet(FIXTURE / f"{year}-{name}.parquet")


def as_stored(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame through the same Parquet round trip as the fixture."""
    return pd.read_parquet(io.BytesIO(frame.to_parquet(index=False)))


def test_core_2013_reproduces_the_reference_exactly(old: dict) -> None:
    """Every frame of every year, value for value and type for type, and the contract CSVs
    a re-run would publish, byte for byte."""
    for year in YEARS:
        for name in FRAMES:
            pd.testing.assert_frame_equal(
                as_stored(old[year][name]), reference(year, name), check_exact=True, obj=name
            )
        for csv, table in (
            ("indicators", "indicators"),
            ("index", "index_scores"),
            ("designations", "designations"),
        ):
            assert to_csv_bytes(csv, old[year][table]) == to_csv_bytes(
                csv, reference(year, table)
            ), f"{year} {csv}.csv"


def test_the_reference_consortium_exercises_what_changed(root: str) -> None:
    """Not a vacuous comparison: the consortium has a K-8 school typed ES and climate rows
    of schools with at least 20 rows but fewer than 20 respondents."""
    climate = pd.read_csv(Path(root) / YEARS[2] / "climate.csv", dtype=str)
    per = climate.groupby(["school_code", "respondent_type"]).agg(
        rows=("respondent_id", "size"), respondents=("respondent_id", "nunique")
    )
    assert ((per["rows"] >= 20) & (per["respondents"] < 20)).any()
    schools = pd.read_csv(Path(root) / YEARS[2] / "schools.csv", dtype=str)
    k8 = schools[(schools["school_type"] == "ES") & (schools["high_grade"] == "8")]
    assert len(k8) == 1


def test_core_2015_changes_exactly_the_audited_rules(root: str, new: dict) -> None:
    """The same consortium under core-2015.1: the K-8 ES gains MS_PERSIST (once there is a
    year two back); a climate row meets the n-size exactly where its school has 20 distinct
    respondents of the type (counted here from climate.csv, not by the code under test);
    every other indicator row is the reference's, value for value."""
    schools = pd.read_csv(Path(root) / YEARS[0] / "schools.csv", dtype=str)
    k8_code = schools.loc[
        (schools["school_type"] == "ES") & (schools["high_grade"] == "8"), "school_code"
    ].iloc[0]
    for k, year in enumerate(YEARS):
        ref = reference(year, "indicators")
        got = as_stored(new[year]["indicators"])
        persist = (got["indicator"] == "MS_PERSIST") & (got["school_code"] == k8_code)
        assert persist.any() == (k >= 2), year  # MS_PERSIST needs the year two back
        assert not ((ref["indicator"] == "MS_PERSIST") & (ref["school_code"] == k8_code)).any()
        got = got[~persist.to_numpy()].reset_index(drop=True)
        assert len(got) == len(ref)
        climate = ref["indicator"].str.startswith("CLIMATE_")
        # outside the climate n-size, only the K-8 school's index rows may differ
        same = ["numerator", "denominator", "value", "meets_nsize", "level"]
        pd.testing.assert_frame_equal(got.loc[~climate, KEY + same], ref.loc[~climate, KEY + same])
        # the climate n-size: distinct respondents, from the delivered file
        delivered = pd.read_csv(Path(root) / year / "climate.csv", dtype=str)
        n = delivered.groupby(["school_code", "respondent_type"])["respondent_id"].nunique()
        c = got[climate.to_numpy()]
        rtype = c["indicator"].str.removeprefix("CLIMATE_")
        respondents = pd.Series(list(zip(c["school_code"], rtype, strict=True))).map(n)
        np.testing.assert_array_equal(c["meets_nsize"].to_numpy(), (respondents >= 20).to_numpy())
        np.testing.assert_array_equal(
            c["denominator"].to_numpy(), ref.loc[climate, "denominator"].to_numpy()
        )
        assert (c["meets_nsize"].to_numpy() != ref.loc[climate, "meets_nsize"].to_numpy()).any()


def _data(name: str) -> dict:
    return yaml.safe_load((methodology.BUILTIN_DIR / name).read_text())


def _load(tmp_path: Path, data: dict) -> methodology.Methodology:
    p = tmp_path / "m.yaml"
    p.write_text(yaml.safe_dump(data))
    return methodology.load_file(p)


def test_the_switches_default_to_core_2013_and_are_validated(tmp_path: Path) -> None:
    """core-2013.yaml names none of the switches: their defaults are its rules. A setting
    that cannot work is refused at load."""
    raw = _data("core-2013.yaml")
    assert "shares_of" not in raw["designations"] and "persist_schools" not in raw["rules"]
    assert (OLD.designations.shares_of, OLD.designations.reward_gap_exclusion) == (
        "all",
        "quantile",
    )
    assert (OLD.rules.persist_schools, OLD.rules.climate_nsize_counts) == ("type", "rows")
    assert set(OLD.designations.gap_groups) >= {"FOS", "HOM"}
    assert not {"FOS", "HOM"} & set(NEW.designations.gap_groups)
    new = _data("core-2015.yaml")
    bad = {**new, "designations": {**new["designations"]}}
    del bad["designations"]["reward_gap_exclusion_share"]
    with pytest.raises(
        methodology.MethodologyError, match="needs designations.reward_gap_exclusion_share"
    ):
        _load(tmp_path, bad)
    bad = {**new, "indicators": {**new["indicators"]}}
    bad["indicators"]["MS_PERSIST"] = {**new["indicators"]["MS_PERSIST"], "school_types": ["MS"]}
    with pytest.raises(
        methodology.MethodologyError, match="MS_PERSIST.school_types must list every"
    ):
        _load(tmp_path, bad)
    bad = {**new, "designations": {**new["designations"], "gap_groups": ["SED", "XX"]}}
    with pytest.raises(methodology.MethodologyError, match="gap_groups names groups not formed"):
        _load(tmp_path, bad)
