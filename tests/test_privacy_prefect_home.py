"""No raw student ID anywhere under PREFECT_HOME or on the console, after real `sqis run`
processes that fail validation, are killed mid-run, or succeed (issue 17, item 1).

Each run is a separate `sqis` process with its own PREFECT_HOME (Prefect's temporary
server keeps its database, logs and result storage there). Every file under it is read
whole — and, where it is base64 text (Prefect writes pickled results that way), decoded —
and searched for every delivered ID, including IDs packed back to back in an Arrow or
NumPy buffer (a plain ``\\b[0-9]{10}\\b`` search misses those).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.consortium import KEY, YEAR, copy_consortium, raw_student_ids
from tests.prefect_home import migrated_prefect_home

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

SQIS = [sys.executable, "-c", "from sqis_cli import main; main()"]
_DIGIT_RUN = re.compile(rb"[0-9]{10,}")


def ids_in(blob: bytes, ids: set[str]) -> set[str]:
    """Every ID of ``ids`` found in ``blob``, also inside longer runs of digits."""
    found: set[str] = set()
    for m in _DIGIT_RUN.finditer(blob):
        run = m.group().decode()
        found.update(run[i : i + 10] for i in range(len(run) - 9))
    return found & ids


def _decoded(blob: bytes) -> list[bytes]:
    """The file, and its base64 decoding when it is base64 text."""
    out = [blob]
    compact = blob.strip()
    if len(compact) > 64 and re.fullmatch(rb"[A-Za-z0-9+/=\s]+", compact):
        with contextlib.suppress(binascii.Error, ValueError):
            out.append(base64.b64decode(compact, validate=False))
    return out


def scan_tree(root: Path, ids: set[str]) -> dict[str, set[str]]:
    """``{file: IDs found}`` over every file under ``root``."""
    hits: dict[str, set[str]] = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        for body in _decoded(p.read_bytes()):
            found = ids_in(body, ids)
            if found:
                hits.setdefault(str(p.relative_to(root)), set()).update(found)
    return hits


def _flow_runs(home: Path) -> int:
    """Flow runs in the Prefect database under ``home`` (a copy of a migrated one, empty)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(home / "prefect.db")) as c:
        return int(c.execute("SELECT count(*) FROM flow_run").fetchone()[0])


def _env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SQIS_"))}
    env.update(
        PREFECT_HOME=str(migrated_prefect_home(work / "prefect-home")),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        SQIS_PSEUDONYM_KEY=KEY,
        SQIS_STORE_ROOT=str(work / "store"),
        SQIS_OUT_ROOT=str(work / "out"),
        SQIS_DATABASE_URL=f"sqlite:///{work / 'results.db'}",
    )
    return env


def _run_args(data: Path) -> list[str]:
    return [
        *SQIS, "run", "--data", str(data), "--year", YEAR, "--pdf", "none",
        "--force", "test: the last year alone on a fresh store",
    ]  # fmt: skip


def _corrupt(data: Path) -> None:
    """Rules broken on known rows of the year's students file (the run must fail)."""
    f = data / YEAR / "students.csv"
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    df.loc[3, "days_absent"] = str(int(df.loc[3, "days_enrolled"]) + 5)
    df = pd.concat([df, df.iloc[[3]]], ignore_index=True)
    df.to_csv(f, index=False)


@pytest.fixture(scope="module")
def ids(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    data = copy_consortium(tmp_path_factory.mktemp("ids") / "data")
    return raw_student_ids(data)


def test_a_failed_validation_leaves_no_raw_id_under_prefect_home(
    tmp_path: Path, ids: set[str]
) -> None:
    data = copy_consortium(tmp_path / "data")
    _corrupt(data)
    res = subprocess.run(
        _run_args(data), env=_env(tmp_path), capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 1, res.stderr
    assert "does not meet the data contract" in res.stderr
    home = tmp_path / "prefect-home"
    assert _flow_runs(home) >= 1, "the run used its own PREFECT_HOME"
    assert not ids_in((res.stdout + res.stderr).encode(), ids)
    assert scan_tree(home, ids) == {}
    # the exception Prefect keeps for the failed flow is small and carries no delivery
    storage = home / "storage"
    stored = [p for p in storage.rglob("*") if p.is_file()] if storage.exists() else []
    assert all(p.stat().st_size < 64_000 for p in stored), [p.stat().st_size for p in stored]
    assert not (tmp_path / "store").exists() or scan_tree(tmp_path / "store", ids) == {}


def test_a_killed_run_leaves_no_raw_id_under_prefect_home(tmp_path: Path, ids: set[str]) -> None:
    data = copy_consortium(tmp_path / "data")
    proc = subprocess.Popen(
        _run_args(data),
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    home = tmp_path / "prefect-home"
    deadline = time.monotonic() + 240
    # killed once the run is past ingest: the validated store exists, the flow is running
    while time.monotonic() < deadline and proc.poll() is None:
        if (tmp_path / "store").exists() and any((tmp_path / "store").rglob("*.parquet")):
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    console, _ = proc.communicate(timeout=60)
    assert not ids_in(console, ids)
    assert scan_tree(home, ids) == {}
    assert scan_tree(tmp_path / "store", ids) == {}


def test_a_successful_run_leaves_no_raw_id_anywhere(tmp_path: Path, ids: set[str]) -> None:
    data = copy_consortium(tmp_path / "data")
    res = subprocess.run(
        _run_args(data), env=_env(tmp_path), capture_output=True, text=True, timeout=900
    )
    assert res.returncode == 0, res.stderr
    assert not ids_in((res.stdout + res.stderr).encode(), ids)
    assert (tmp_path / "out" / YEAR / "manifest.json").exists()
    for root in ("prefect-home", "store", "out"):
        assert scan_tree(tmp_path / root, ids) == {}, root
    assert not ids_in((tmp_path / "results.db").read_bytes(), ids)


def test_the_scan_finds_ids_packed_in_a_buffer_and_in_base64() -> None:
    """The scan itself can fail: IDs back to back, and inside base64 text, are found."""
    ids = {"1000000001", "1000000002"}
    assert ids_in(b"xx10000000011000000002yy", ids) == ids
    packed = base64.b64encode(b"\x00\x01" + b"10000000011000000002" * 4)
    assert ids_in(_decoded(packed)[1], ids) == ids
