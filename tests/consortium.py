"""A small generated consortium, generated once per test session, for the reliability tests.

``consortium()`` writes 1,500 students in 2 districts over 3 school years (2013-14 to
2015-16) into a private temporary folder the first time it is called and returns that
folder afterwards (about a second; removed at exit). ``clean_run()`` runs the last year
once, uninterrupted, through ``sqis.pipeline.run_year`` and keeps its outputs: the
reference the fault tests compare a killed-and-re-run year against.

Helpers read what a run leaves behind: the manifest's checksums, the out root's file
list, the results store's year tables, the raw student IDs of a delivery.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

YEARS = ("2013-14", "2014-15", "2015-16")
YEAR = YEARS[-1]
STUDENTS = 1500
DISTRICTS = 2
SEED = 20131
KEY = "reliability-test-key-not-a-secret-8c1f"
RESULT_TABLES = (
    "schools",
    "indicators",
    "index_scores",
    "designations",
    "partnerships",
    "communities",
)

_ROOT: Path | None = None
_CLEAN: CleanRun | None = None


def private_tmp(prefix: str) -> Path:
    """A temporary folder removed at exit (pytest's basetemp is shared by concurrent sessions)."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, d, ignore_errors=True)
    return d


def consortium() -> Path:
    """The data root of the session's small consortium (generated on first use)."""
    global _ROOT
    if _ROOT is None:
        from sqis.synthetic import generate

        root = private_tmp("sqis-consortium-") / "data"
        generate(root, list(YEARS), STUDENTS, DISTRICTS, SEED)
        _ROOT = root
    return _ROOT


def copy_consortium(dst: Path) -> Path:
    """A private, editable copy of the consortium's data root."""
    shutil.copytree(consortium(), dst)
    return dst


def run_config(work: Path, data: Path | None = None, **kw: Any) -> Any:
    """A ``RunConfig`` whose out root, store root and results store are all under ``work``."""
    from sqis.pipeline import RunConfig

    args: dict[str, Any] = {
        "data_root": str(data or consortium()),
        "out_root": str(work / "out"),
        "db_url": f"sqlite:///{work / 'results.db'}",
        "store_root": str(work / "store"),
        "pdf": "none",
        # these tests run the last year alone, on a fresh store, with the years before it
        # delivered: sqis.run_control refuses that unforced (tests/test_run_control.py)
        "force": "test: the last year alone on a fresh store",
    }
    args.update(kw)
    return RunConfig(**args)


@dataclass
class CleanRun:
    work: Path
    db_url: str
    manifest: dict[str, str]
    tables: dict[str, pd.DataFrame]
    files: list[str]


@contextmanager
def pseudonym_key(key: str = KEY) -> Iterator[None]:
    """``SQIS_PSEUDONYM_KEY`` set to ``key`` (the settings re-read), restored afterwards."""
    from sqis.settings import reset_settings_cache

    saved = os.environ.get("SQIS_PSEUDONYM_KEY")
    os.environ["SQIS_PSEUDONYM_KEY"] = key
    reset_settings_cache()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("SQIS_PSEUDONYM_KEY", None)
        else:
            os.environ["SQIS_PSEUDONYM_KEY"] = saved
        reset_settings_cache()


def clean_run() -> CleanRun:
    """The last year run once without interruption (cached for the session)."""
    global _CLEAN
    if _CLEAN is None:
        from sqis import pipeline

        work = private_tmp("sqis-clean-")
        cfg = run_config(work)
        with pseudonym_key():  # whichever test asks first
            pipeline.run_year(YEAR, cfg)
        _CLEAN = CleanRun(
            work,
            cfg.db_url,
            manifest_checksums(work / "out"),
            year_tables(cfg.db_url),
            out_files(work / "out"),
        )
    return _CLEAN


def manifest_checksums(out: Path, year: str = YEAR) -> dict[str, str]:
    """``{key: sha256}`` from ``<out>/<year>/manifest.json``."""
    files = json.loads((out / year / "manifest.json").read_text())["files"]
    return {f["key"]: f["sha256"] for f in files}


def verify_manifest(out: Path, year: str = YEAR) -> dict[str, str]:
    """Every file the manifest lists exists with its SHA-256; returns the checksums."""
    sums = manifest_checksums(out, year)
    for key, sha in sums.items():
        got = hashlib.sha256((out / year / key).read_bytes()).hexdigest()
        assert got == sha, f"{key} does not match the manifest"
    return sums


def out_files(out: Path) -> list[str]:
    """Every file under the out root, hidden ones included (staging leftovers show here).

    A publication's run folder ``<year>/.runs/<run_id>/`` (the public edition's too,
    ``public/<year>/.runs/<run_id>/``) is named ``.runs/RUN/`` so that two runs' trees
    compare equal; a second run folder (a leftover) still shows.
    """
    names = []
    for p in out.rglob("*"):
        if p.is_file():
            parts = list(p.relative_to(out).parts)
            for i in (1, 2):
                if len(parts) > i + 1 and parts[i] == ".runs":
                    parts[i + 1] = "RUN"
            names.append("/".join(parts))
    return sorted(names)


def year_tables(db_url: str, year: str = YEAR) -> dict[str, pd.DataFrame]:
    """The year's rows of every result table, without the run id (it differs by run)."""
    from sqis.store import ResultsStore

    s = ResultsStore(db_url)
    try:
        return {
            t: s.read(t, [year]).drop(columns=["run_id"], errors="ignore").reset_index(drop=True)
            for t in RESULT_TABLES
        }
    finally:
        s.dispose()


def raw_student_ids(data: Path) -> set[str]:
    """Every raw student ID delivered, in any year and file."""
    ids: set[str] = set()
    for year in YEARS:
        for name in ("students", "assessments", "graduation", "sel"):
            f = data / year / f"{name}.csv"
            ids.update(pd.read_csv(f, dtype=str, usecols=["student_id"])["student_id"])
    return ids
