"""A store knows its consortium and its years; a run changes the validated store, the results
store and the publication together or not at all (issue 17, items 3–5; sqis.run_control).

Every fault is made as it happens: a real second process racing for the year, a real second
database, a real read-only out root, years really run out of order, a real second
methodology file. Each asserts the refusal (one clear message naming what to run first) and
that the stores, the database and the publication are as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sqis import determinations, pipeline, years
from sqis.run_control import RunRefused
from sqis.store import ResultsStore
from tests.consortium import KEY, YEAR, YEARS, copy_consortium, private_tmp, run_config


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqis.settings import reset_settings_cache

    monkeypatch.setenv("SQIS_PSEUDONYM_KEY", KEY)
    reset_settings_cache()


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` by SHA-256 (byte for byte)."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def tables(db_url: str) -> dict[str, pd.DataFrame]:
    store = ResultsStore(db_url)
    try:
        return {t: store.read(t) for t in (*determinations.TABLES, "plans", "runs")}
    finally:
        store.dispose()


def same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for t in a:
        pd.testing.assert_frame_equal(a[t], b[t], check_like=False, obj=t)


def _in_order(work: Path, data: Path | None = None, **kw: object) -> None:
    for y in YEARS:
        pipeline.run_year(y, run_config(work, data, force=None, **kw))


# ---- 4b: years out of order; a year delivered late -----------------------------------------
def test_years_out_of_order_are_refused_and_a_late_year_makes_the_next_stale() -> None:
    work = private_tmp("sqis-order-")
    first, middle, last = YEARS
    cfg = run_config(work, force=None)
    pipeline.run_year(first, cfg)
    before = (tree(work / "out"), tree(work / "store"), tables(cfg.db_url))
    with pytest.raises(RunRefused, match=f"run {middle} first") as e:
        pipeline.run_year(last, cfg)
    assert f"--year {middle}" in str(e.value) and "--force" in str(e.value)
    assert (tree(work / "out"), tree(work / "store")) == before[:2]
    same_tables(tables(cfg.db_url), before[2])

    # forced: it runs, and the run records why
    forced = run_config(work, force="board asked for 2015-16 before 2014-15 arrived")
    pipeline.run_year(last, forced)
    store = ResultsStore(cfg.db_url)
    note = store.runs(last).iloc[-1]["note"]
    assert note.startswith("forced: board asked") and f"run {middle} first" in note
    spurious = set(store.read("plans", [years.service_year(last)])["school_code"])
    # the year delivered late: the year after it is now stale, and says so
    pipeline.run_year(middle, cfg)
    assert store.stale_years() == [last]
    # the next year cannot compute from a stale one
    # (re-running the stale year in order clears it, and drops the plans it no longer calls for)
    pipeline.run_year(last, cfg)
    assert store.stale_years() == []
    des = store.read("designations", [last])
    focus = des[des["designation"] == "FOCUS"]
    starting = set(focus.loc[(focus["years_in_status"] - 1) % 2 == 0, "school_code"])
    plans = set(store.read("plans", [years.service_year(last)])["school_code"])
    assert plans == starting, (spurious, plans, starting)
    store.dispose()


# ---- 4a: an empty or wrong database; another consortium -----------------------------------
def test_an_empty_or_another_consortiums_database_cannot_overwrite_a_publication() -> None:
    work = private_tmp("sqis-wrongdb-")
    _in_order(work)
    published = tree(work / "out")
    store_root = tree(work / "store")
    empty = f"sqlite:///{work / 'empty.db'}"
    with pytest.raises(RunRefused, match="published from another results store") as e:
        pipeline.run_year(YEAR, run_config(work, db_url=empty, force=None))
    assert "point --db at the store that published it" in str(e.value)
    assert tree(work / "out") == published and tree(work / "store") == store_root
    assert ResultsStore(empty).current_revision() is None, "no schema created in it either"

    # the right store, another consortium's key: refused too
    os.environ["SQIS_PSEUDONYM_KEY"] = "another-consortiums-key-0000000000"
    from sqis.settings import reset_settings_cache

    reset_settings_cache()
    right = run_config(work, force=None)
    before = tables(right.db_url)
    with pytest.raises(RunRefused, match="another consortium's results"):
        pipeline.run_year(YEAR, right)
    same_tables(tables(right.db_url), before)
    assert tree(work / "out") == published


# ---- 4c: another methodology than the year was validated under -----------------------------
def test_a_methodology_other_than_the_validated_one_is_refused(tmp_path: Path) -> None:
    from sqis.methodology import for_year

    work = private_tmp("sqis-meth-")
    _in_order(work)
    m = for_year(YEAR)  # the year's own methodology, which validated it
    src = Path(m.source).read_text(encoding="utf-8")
    other = tmp_path / "other.yaml"
    other.write_text(
        src.replace(f"version: {m.version}", f"version: {m.version}-other", 1), encoding="utf-8"
    )
    assert f"{m.version}-other" in other.read_text()
    before = (tree(work / "out"), tree(work / "store"))
    with pytest.raises(RunRefused, match=f"validated under methodology {m.version}"):
        pipeline.run_year(YEAR, run_config(work, methodology=str(other), force=None))
    assert (tree(work / "out"), tree(work / "store")) == before


# ---- 3: two runs of one year with different deliveries, in two processes -------------------
_RACER = """
import sys
from sqis import pipeline
from sqis.store import YearLocked
cfg = pipeline.RunConfig(data_root=sys.argv[1], out_root=sys.argv[2], db_url=sys.argv[3],
                         store_root=sys.argv[4], pdf="none", replace=True)
try:
    pipeline.run_year(sys.argv[5], cfg)
except YearLocked as e:
    print("LOCKED", e)
    sys.exit(3)
print("DONE")
"""


def test_the_run_that_loses_the_lock_has_written_nothing() -> None:
    work = private_tmp("sqis-race-")
    _in_order(work)
    # a second delivery of the year: one school renamed
    other = copy_consortium(work / "other")
    f = other / YEAR / "schools.csv"
    schools = pd.read_csv(f, dtype=str, keep_default_na=False)
    schools.loc[0, "school_name"] = "Renamed Academy"
    schools.to_csv(f, index=False)
    cfg = run_config(work)
    env = {**os.environ, "SQIS_PSEUDONYM_KEY": KEY}

    def start(data: Path) -> subprocess.Popen[str]:
        args = [str(data), cfg.out_root, cfg.db_url, cfg.store_root, YEAR]
        return subprocess.Popen(
            [sys.executable, "-c", _RACER, *args], env=env, text=True, stdout=subprocess.PIPE
        )

    store = ResultsStore(cfg.db_url)
    winner = start(other)
    while store.locks().empty and winner.poll() is None:  # the winner holds the year
        time.sleep(0.02)
    loser = start(Path(cfg.data_root))
    out_l, _ = loser.communicate(timeout=600)
    out_w, _ = winner.communicate(timeout=600)
    assert winner.returncode == 0, out_w
    assert loser.returncode == 3 and "LOCKED" in out_l, out_l
    # the store and the publication come from the winner's delivery, and only from it
    from sqis import ingest

    delivered = ingest.delivery_manifest(YEAR, cfg.store_root)
    renamed = hashlib.sha256(f.read_bytes()).hexdigest()
    assert delivered["files"]["schools"]["sha256"] == renamed
    names = set(store.read("schools", [YEAR])["school_name"])
    assert "Renamed Academy" in names
    index = (Path(cfg.out_root) / YEAR / "index.html").read_text(encoding="utf-8")
    assert index
    runs = store.runs(YEAR)
    assert list(runs["status"]).count("RUNNING") == 0
    store.dispose()


# ---- 5: a failure after the results were stored puts all three back ------------------------
def test_a_publication_that_fails_puts_the_results_and_the_validated_store_back() -> None:
    from sqis import publish as pub

    work = private_tmp("sqis-undo-")
    _in_order(work)
    # a new delivery of the year (replace): the run will store it, then fail to publish
    other = copy_consortium(work / "other")
    f = other / YEAR / "schools.csv"
    schools = pd.read_csv(f, dtype=str, keep_default_na=False)
    schools.loc[0, "school_name"] = "Renamed Academy"
    schools.to_csv(f, index=False)
    cfg = run_config(work, other, replace=True, force=None)
    before = (tree(work / "out"), tree(work / "store"), tables(cfg.db_url))
    year_dir = work / "out" / YEAR
    # a real read-only out root: staging the publication fails
    for p in [year_dir, *year_dir.rglob("*")]:
        if p.is_dir():
            p.chmod(0o555)
    try:
        if os.geteuid() == 0:  # root writes anywhere: the failure is made where it starts
            real = pub._write

            def refuse(path: Path, data: bytes) -> None:
                raise PermissionError(13, "Read-only file system", str(path))

            pub._write = refuse  # type: ignore[assignment]
        with pytest.raises(pub.PublishError):
            pipeline.run_year(YEAR, cfg)
    finally:
        if os.geteuid() == 0:
            pub._write = real  # type: ignore[assignment]
        for p in [year_dir, *year_dir.rglob("*")]:
            if p.is_dir():
                p.chmod(0o755)
    after = tables(cfg.db_url)
    runs = after.pop("runs")
    assert runs.iloc[-1]["status"] == "FAILED"
    same_tables({k: v for k, v in before[2].items() if k != "runs"}, after)
    assert tree(work / "out") == before[0]
    assert tree(work / "store") == before[1], "the validated store is the previous delivery"
    assert json.loads((year_dir / "manifest.json").read_text())["store_id"]
