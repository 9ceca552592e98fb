"""The Dask task runner (a local two-process cluster) gives the default runner's results."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

YEAR = "2014-15"
TABLES = ("schools", "indicators", "index_scores", "designations", "partnerships", "communities")

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def own_tmp() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sqis-dask-") as d:
        yield Path(d)


@pytest.fixture(scope="module")
def data(own_tmp: Path) -> Path:
    from sqis.synthetic import generate

    generate(own_tmp / "data", ["2013-14", YEAR], 2000, 3, 4)
    return own_tmp / "data"


def _run(data: Path, work: Path, runner: str) -> dict[str, Any]:
    from flows.annual_cycle import with_task_runner
    from flows.params import AnnualCycleParams
    from sqis.settings import reset_settings_cache

    os.environ["SQIS_STORE_ROOT"] = str(work / "store")  # conftest restores it per test
    os.environ["SQIS_DATABASE_URL"] = f"sqlite:///{work / 'r.db'}"
    reset_settings_cache()
    flow = with_task_runner(runner)
    params = AnnualCycleParams(
        year=YEAR,
        data_root=str(data),
        out_root=str(work / "out"),
        pdf="none",
        force="test: the last year alone on a fresh store",
    )
    return flow(params)


def _tables(work: Path) -> dict[str, pd.DataFrame]:
    from sqis.store import ResultsStore

    s = ResultsStore(f"sqlite:///{work / 'r.db'}")
    return {t: s.read(t, [YEAR]).drop(columns=["run_id"], errors="ignore") for t in TABLES}


def test_dask_runner_equals_default_runner(harness: None, data: Path, own_tmp: Path) -> None:
    default = _run(data, own_tmp / "default", "default")
    dask = _run(data, own_tmp / "dask", "dask")

    a, b = _tables(own_tmp / "default"), _tables(own_tmp / "dask")
    for t in TABLES:
        pd.testing.assert_frame_equal(a[t], b[t])
    assert len(a["schools"]["district_code"].unique()) == 3  # three district tasks fanned out
    # every published file is there in both; the contract exports are byte-identical
    assert set(default["output_checksums"]) == set(dask["output_checksums"])
    for name in ("indicators.csv", "index.csv", "designations.csv", "communities.csv"):
        assert default["output_checksums"][name] == dask["output_checksums"][name]
    assert default["designations"] == dask["designations"]
