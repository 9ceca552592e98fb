"""Calibration of cut points from a baseline year (METHODOLOGY.md "Index levels")."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sqis.calibrate import (
    calibrate_cut_points,
    calibrated_methodology,
    methodology_yaml,
    strictly_ascending,
)
from sqis.methodology import for_year, load_file
from tests.builders import code, frame, random_consortium, school, write_delivery

BASE = for_year("2013-14")


def all_rows(values: dict[str, float], indicator: str = "ELA_MET", den: int = 30) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "school_code": [code(k) for k in values],
            "student_group": "ALL",
            "indicator": indicator,
            "numerator": pd.array([pd.NA] * len(values), dtype="Int64"),
            "denominator": den,
            "value": list(values.values()),
            "meets_nsize": den >= BASE.n_size,
        }
    )


LABELS = [f"E{i}" for i in range(10)]
SCHOOLS = frame("schools", [school(lb, "ES") for lb in LABELS] + [school("M0", "MS")])


def test_deciles_of_school_all_values() -> None:
    ind = pd.concat(
        [
            all_rows({lb: 10.0 * (i + 1) for i, lb in enumerate(LABELS)}),  # 10, 20, …, 100
            all_rows({"E0": 99.0}, den=5).assign(student_group="AA"),  # not ALL: ignored
        ]
    )
    cal = calibrate_cut_points(ind, SCHOOLS, BASE, "2013-14")
    # numpy's linear quantile of 10..100 at 0.1: position 0.9 → 19; 0.2 → 28; …
    assert cal.cut_points["ELA_MET"]["ES"] == [19.0, 28.0, 37.0, 46.0, 55.0, 64.0, 73.0, 82.0, 91.0]
    # MS has a single school: fewer than min_schools, the base cut points stay
    assert cal.cut_points["ELA_MET"]["MS"] == list(BASE.cut_points["ELA_MET"]["MS"])
    assert ("ELA_MET", "MS", 0) in cal.kept_base
    assert "ELA_GROWTH" not in cal.cut_points


def test_schools_under_the_nsize_do_not_set_cut_points() -> None:
    ind = pd.concat(
        [
            all_rows({lb: 10.0 * (i + 1) for i, lb in enumerate(LABELS)}),
            all_rows({"X1": 0.0}, den=19),
        ]
    )
    schools = pd.concat([SCHOOLS, frame("schools", [school("X1", "ES")])])
    cal = calibrate_cut_points(ind, schools, BASE, "2013-14")
    assert cal.cut_points["ELA_MET"]["ES"][0] == 19.0
    assert cal.schools_used["ELA_MET"]["ES"] == 10


def test_ties_are_nudged_to_strictly_ascend() -> None:
    assert strictly_ascending(pd.Series([50.0] * 9).to_numpy(), 2) == [
        50.0,
        50.01,
        50.02,
        50.03,
        50.04,
        50.05,
        50.06,
        50.07,
        50.08,
    ]
    assert strictly_ascending(pd.Series([1.004, 1.001, 2.0]).to_numpy(), 2) == [1.0, 1.01, 2.0]
    ind = all_rows(dict.fromkeys(LABELS, 0.0), indicator="SUSP")
    cal = calibrate_cut_points(ind, SCHOOLS, BASE, "2013-14")
    assert cal.cut_points["SUSP"]["ES"][:3] == [0.0, 0.01, 0.02]


def test_new_methodology_validates_and_round_trips(tmp_path: Path) -> None:
    ind = all_rows({lb: 10.0 * (i + 1) for i, lb in enumerate(LABELS)})
    cal = calibrate_cut_points(ind, SCHOOLS, BASE, "2013-14")
    new = calibrated_methodology(BASE, cal, "2013-14")
    assert new.version == f"{BASE.version}-cal2013-14"
    assert new.applies_from == "2014-15"
    assert new.growth.percentile_cut_points == BASE.growth.percentile_cut_points
    assert new.cut_points["SUSP"] == BASE.cut_points["SUSP"]  # no data: unchanged
    path = tmp_path / "core-cal.yaml"
    path.write_text(methodology_yaml(new, "2013-14"), encoding="utf-8")
    loaded = load_file(path)
    assert loaded.cut_points["ELA_MET"]["ES"] == (
        19.0,
        28.0,
        37.0,
        46.0,
        55.0,
        64.0,
        73.0,
        82.0,
        91.0,
    )
    assert loaded.version == new.version
    assert loaded.domains == BASE.domains and loaded.n_size == BASE.n_size


def test_explicit_version_and_year() -> None:
    ind = all_rows({lb: 10.0 * (i + 1) for i, lb in enumerate(LABELS)})
    cal = calibrate_cut_points(ind, SCHOOLS, BASE, "2013-14")
    new = calibrated_methodology(
        BASE, cal, "2013-14", version="core-2014.1", applies_from="2013-14"
    )
    assert (new.version, new.applies_from) == ("core-2014.1", "2013-14")
    with pytest.raises(ValueError):
        calibrate_cut_points(ind, SCHOOLS, BASE, "2013-2014")


def test_cli_writes_a_methodology_that_loads(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sqis_cli import app

    cur, _, _ = random_consortium(n_students=1500, n_schools=30, seed=3, year="2013-14")
    write_delivery(tmp_path / "data", cur)  # only the baseline year is delivered
    out = tmp_path / "core-cal.yaml"
    res = CliRunner().invoke(
        app, ["calibrate", "--data", str(tmp_path / "data"), "--year", "2013-14", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output
    new = load_file(out)
    assert new.version == "core-2013.1-cal2013-14" and new.applies_from == "2014-15"
    es = new.cut_points["CHRONIC"]["ES"]
    assert es != BASE.cut_points["CHRONIC"]["ES"]  # ten ES schools: calibrated
    assert all(b > a for a, b in zip(es, es[1:], strict=False))
    # the run ingested the year: a second run reads it from the store
    again = CliRunner().invoke(
        app,
        [
            "calibrate",
            "--data",
            str(tmp_path / "data"),
            "--year",
            "2013-14",
            "--out",
            str(tmp_path / "again.yaml"),
        ],
    )
    assert again.exit_code == 0, again.output
    assert load_file(tmp_path / "again.yaml").cut_points == new.cut_points
    # a written methodology is not overwritten by accident
    before = out.read_bytes()
    refused = CliRunner().invoke(
        app,
        [
            "calibrate",
            "--data",
            str(tmp_path / "data"),
            "--year",
            "2013-14",
            "--out",
            str(out),
            "--version",
            "x",
        ],
    )
    assert refused.exit_code == 2 and "--force" in refused.output
    assert out.read_bytes() == before


def test_cli_without_a_delivery_fails_clearly(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from sqis_cli import app

    (tmp_path / "data").mkdir()
    res = CliRunner().invoke(
        app,
        [
            "calibrate",
            "--data",
            str(tmp_path / "data"),
            "--year",
            "2013-14",
            "--out",
            str(tmp_path / "x.yaml"),
        ],
    )
    assert res.exit_code == 2
    assert "no delivery for 2013-14" in res.output
    assert not (tmp_path / "x.yaml").exists()


def test_quantiles_must_be_nine_ascending_shares() -> None:
    from pydantic import ValidationError

    from sqis.methodology import CalibrationSpec

    with pytest.raises(ValidationError, match="nine strictly ascending"):
        CalibrationSpec(quantiles=(0.1, 0.2))
    with pytest.raises(ValidationError, match="nine strictly ascending"):
        CalibrationSpec(quantiles=(0.9, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.1))
