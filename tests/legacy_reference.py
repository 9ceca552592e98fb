"""A generated consortium computed year by year, for the methodology-version reference.

``compute_years(root, m)`` runs the index, designation, escalation and partner stages
(``sqis.index_stage``, ``sqis.determinations``; no results store, no Prefect) over every
year of a generated data root, each year reading the one before as ``Prior``. ``make_root``
generates the consortium (``sqis.synthetic.generate``) and turns one middle school of every
year into a K-8 school typed ``ES`` (the audit's case: "a K-8 school typed ES has no
MS_PERSIST").

``tests/fixtures/core-2013.1-reference/`` holds what this computed under core-2013.1 with the
code of commit 7fadbbe, before methodology version core-2015.1 and its switches existed
(``python -m tests.legacy_reference`` wrote it). Its ``index_scores`` were written again
when a mean of levels became their sum in indicator order over their count (the SQII
recomputable from the domain scores shown, docs/methodology.md): 17 values of five years
moved by one unit in the last place (at most 4e-16 relative), every other value and frame
is 7fadbbe's, compared before writing. ``tests/test_methodology_versions.py``
computes the same consortium under core-2013.1 with today's code and compares every frame
exactly: the earlier years keep their results.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from sqis import determinations, index_stage, year_inputs
from sqis.methodology import Methodology, for_year
from sqis.yeardata import YearData
from sqis.years import SchoolYear

YEARS = ["2013-14", "2014-15", "2015-16", "2016-17", "2017-18"]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "core-2013.1-reference"
FRAMES = ("indicators", "index_scores", "designations", "partnerships")
GENERATE = {"n_students": 10000, "n_districts": 3, "seed": 19}


def make_root(root: Path, year_list: list[str] | None = None, **generate_args: int) -> str:
    """Generate the consortium under ``root`` (``GENERATE``, or other sizes) and make the
    first middle school a K-8 ``ES``."""
    from sqis.synthetic.writer import generate

    year_list = year_list or YEARS
    generate(root, year_list, fmt="csv", **{**GENERATE, **generate_args})  # type: ignore[arg-type]
    for y in year_list:
        k8_as_es(root / y / "schools.csv")
    return str(root)


def k8_as_es(path: Path) -> str:
    """Rewrite a schools.csv: its first middle school (by code) becomes a K-8 typed ES."""
    schools = pd.read_csv(path, dtype=str, keep_default_na=False)
    ms = schools[schools["school_type"] == "MS"].sort_values("school_code")
    code = ms["school_code"].iloc[0]
    at = schools["school_code"] == code
    schools.loc[at, "school_type"] = "ES"
    schools.loc[at, "low_grade"] = "0"
    schools.to_csv(path, index=False, lineterminator="\n")
    return str(code)


def load(root: str, year: str) -> YearData:
    """A year of the data root as the rules receive it (validated; IDs as delivered)."""
    from sqis.validation import validate_delivery

    report = validate_delivery(root, year, for_year(year, "core-2013.1"))
    assert report.ok, report.errors.head()
    frames = {k: v.reset_index(drop=True) for k, v in report.frames.items()}
    fields = YearData.__dataclass_fields__
    return YearData(year=year, **{k: v for k, v in frames.items() if k in fields})


def compute_years(root: str, m: Methodology, year_list: list[str] | None = None) -> dict:
    """``{year: {frame name: frame}}`` of every year, each year reading the year before."""
    year_list = year_list or YEARS
    data: dict[str, YearData] = {}
    out: dict[str, dict[str, pd.DataFrame]] = {}
    prior = year_inputs.Prior("", *(pd.DataFrame() for _ in FRAMES))
    for k, year in enumerate(year_list):
        data[year] = load(root, year)
        inputs = year_inputs.Inputs(
            SchoolYear(year),
            data[year],
            data[year_list[k - 1]] if k >= 1 else None,
            data[year_list[k - 2]] if k >= 2 else None,
        )
        indicators, index = index_stage.compute_index(inputs, prior, m)
        des, partnerships = determinations.designate(inputs, indicators, index, prior, m)
        frames = {
            "indicators": indicators,
            "index_scores": index,
            "designations": des,
            "partnerships": partnerships,
        }
        out[year] = frames
        prior = year_inputs.Prior(year, *(frames[f] for f in FRAMES))
    return out


def write_reference(root: str) -> None:
    """Compute under core-2013.1 and write the fixture (one Parquet file per year × frame)."""
    m = for_year(YEARS[0], "core-2013.1")
    FIXTURE.mkdir(parents=True, exist_ok=True)
    for year, frames in compute_years(root, m).items():
        for name, frame in frames.items():
            frame.to_parquet(FIXTURE / f"{year}-{name}.parquet", index=False)


if __name__ == "__main__":  # python -m tests.legacy_reference [data root]
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        where = sys.argv[1] if len(sys.argv) > 1 else make_root(Path(tmp) / "data")
        write_reference(where)
    print(f"wrote {FIXTURE}")
