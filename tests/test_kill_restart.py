"""A `sqis run` killed (SIGKILL) during the reports stage; running it again completes it.

The re-run must take over the lock the dead run left, and its outputs must equal a
clean run's: the manifest's checksums and the results store's tables.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.prefect_home import migrated_prefect_home

REPO = Path(__file__).resolve().parents[1]
SQIS = REPO / ".venv" / "bin" / "sqis"
YEAR = "2014-15"
TABLES = ("schools", "indicators", "index_scores", "designations", "partnerships", "communities")

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def own_tmp() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sqis-kill-") as d:
        yield Path(d)


@pytest.fixture(scope="module")
def data(own_tmp: Path) -> Path:
    from sqis.synthetic import generate

    generate(own_tmp / "data", ["2013-14", YEAR], 2000, 2, 3)
    return own_tmp / "data"


def _env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SQIS_"))}
    env.update(
        SQIS_PSEUDONYM_KEY="kill-test-key-not-a-secret",
        SQIS_STORE_ROOT=str(work / "store"),
        # its own temporary Prefect server database (a copy of one migrated already)
        PREFECT_HOME=str(migrated_prefect_home(work / "prefect")),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    return env


def _cmd(data: Path, work: Path) -> list[str]:
    return [
        str(SQIS),
        "run",
        "--data",
        str(data),
        "--year",
        YEAR,
        "--out",
        str(work / "out"),
        "--db",
        f"sqlite:///{work / 'sqis.db'}",
        "--pdf",
        "none",
        "--force",
        "test: the last year alone on a fresh store",
    ]


def _run(data: Path, work: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        _cmd(data, work), env=_env(work), cwd=work, capture_output=True, text=True, timeout=600
    )


def _results_stored(db: Path) -> bool:
    """The store holds the year's results (the transaction committed): reports come next."""
    if not db.exists():
        return False
    eng = sa.create_engine(f"sqlite:///{db}")
    try:
        with eng.connect() as c:
            n = c.execute(
                sa.text("SELECT count(*) FROM indicators WHERE year = :y"), {"y": YEAR}
            ).scalar()
            return bool(n)
    except sa.exc.OperationalError:  # tables not there yet, or the writer holds the lock
        return False
    finally:
        eng.dispose()


def _tables(db: Path) -> dict[str, pd.DataFrame]:
    from sqis.store import ResultsStore

    s = ResultsStore(f"sqlite:///{db}")
    return {t: s.read(t, [YEAR]).drop(columns=["run_id"], errors="ignore") for t in TABLES}


def _manifest(out: Path) -> dict[str, str]:
    files = json.loads((out / YEAR / "manifest.json").read_text())["files"]
    return {f["key"]: f["sha256"] for f in files}


def test_killed_during_reports_then_rerun_equals_a_clean_run(data: Path, own_tmp: Path) -> None:
    clean, killed = own_tmp / "clean", own_tmp / "killed"
    clean.mkdir()
    killed.mkdir()
    done = _run(data, clean)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{YEAR}: done" in done.stdout

    # the same run, killed (with its temporary Prefect server) once its results are stored
    proc = subprocess.Popen(
        _cmd(data, killed),
        env=_env(killed),
        cwd=killed,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    try:
        while not _results_stored(killed / "sqis.db"):
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the results were never stored"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (killed / "out" / YEAR / "manifest.json").exists()  # killed before publishing

    from sqis.store import ResultsStore

    store = ResultsStore(f"sqlite:///{killed / 'sqis.db'}")
    dead = store.locks()
    assert list(dead["year"]) == [YEAR]  # the dead run still holds the lock

    again = _run(data, killed)
    assert again.returncode == 0, again.stderr[-3000:]
    runs = store.runs(YEAR)
    assert list(runs["status"]) == ["FAILED", "SUCCEEDED"]  # taken over, then completed
    assert store.locks().empty

    assert _manifest(killed / "out") == _manifest(clean / "out")
    a, b = _tables(clean / "sqis.db"), _tables(killed / "sqis.db")
    for t in TABLES:
        pd.testing.assert_frame_equal(a[t], b[t])
