"""Two runs of the same year at once: the second is refused by the year lock of the results
store; runs of different years proceed (issue 10). Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.consortium import KEY, YEAR, YEARS, private_tmp, run_config

pytestmark = [pytest.mark.slow]


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    from sqis.settings import reset_settings_cache

    monkeypatch.setenv("SQIS_PSEUDONYM_KEY", KEY)
    reset_settings_cache()


def _start(store: Any, year: str, who: str) -> int:
    return store.start_run(year, "core-2013", "0" * 64, {"x": "1"}, who)


def test_simultaneous_start_of_the_same_year_lets_exactly_one_in(db_url: str) -> None:
    """Eight threads start a run of the same year at the same instant: one holds the lock."""
    from sqis.store import ResultsStore, YearLocked

    store = ResultsStore(db_url)
    store.upgrade()
    barrier = threading.Barrier(8)
    won: list[int] = []
    refused: list[str] = []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            won.append(_start(store, YEAR, f"user{i}"))
        except YearLocked as e:
            refused.append(str(e))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(refused) == 7
    assert all(f"{YEAR} is being computed by run {won[0]}" in m for m in refused), refused[0]
    assert all("sqis db unlock --year" in m for m in refused)
    # the refused attempts left no run behind; the winner is the only RUNNING run
    runs = store.runs(YEAR)
    assert list(runs["id"]) == won and list(runs["status"]) == ["RUNNING"]
    # another year is not blocked, and the year is free again once the run finishes
    other = _start(store, YEARS[0], "someone")
    store.finish_run(won[0], "SUCCEEDED", {"a.csv": "1" * 64})
    again = _start(store, YEAR, "later")
    assert again not in (won[0], other)
    store.dispose()


def test_a_second_run_of_the_same_year_is_refused_while_another_year_proceeds(
    db_url: str,
) -> None:
    """Run A of the year pauses after computing the index (holding the lock). Meanwhile a
    second run of the same year is refused with the holder named, and a run of another year
    completes. Run A then completes: nothing of the refused run is in the store."""
    from sqis import pipeline
    from sqis.store import ResultsStore, YearLocked

    work = private_tmp("sqis-conc-")
    cfg = run_config(work, db_url=db_url)
    paused, resume = threading.Event(), threading.Event()
    result: dict[str, Any] = {}

    def on_stage(name: str, info: dict[str, Any]) -> None:
        if name == "compute_index":
            paused.set()
            assert resume.wait(600)

    def run_a() -> None:
        try:
            result["a"] = pipeline.run_year(YEAR, cfg, on_stage=on_stage)
        except BaseException as e:  # reported below
            result["a"] = e

    a = threading.Thread(target=run_a)
    a.start()
    try:
        assert paused.wait(600), "run A never reached the index"
        with pytest.raises(YearLocked) as ei:
            pipeline.run_year(YEAR, cfg)
        assert "is being computed by run" in str(ei.value)
        other = pipeline.run_year(YEARS[1], cfg)  # a different year is not blocked
        assert other.output_checksums
    finally:
        resume.set()
        a.join(600)
    assert not isinstance(result["a"], BaseException), result["a"]

    store = ResultsStore(db_url)
    runs = store.runs()
    assert sorted(zip(runs["year"], runs["status"], strict=True)) == [
        (YEARS[1], "SUCCEEDED"),
        (YEAR, "SUCCEEDED"),
    ]
    assert store.locks().empty
    assert (Path(cfg.out_root) / YEAR / "manifest.json").exists()
    assert (Path(cfg.out_root) / YEARS[1] / "manifest.json").exists()
    store.dispose()


def _hold_the_year(cfg: Any, flag: Path) -> None:
    """In a child process: run the year, pausing after the index until ``flag.go`` exists."""
    import os
    import time

    from sqis import pipeline

    def on_stage(name: str, info: dict[str, Any]) -> None:
        if name == "compute_index":
            (flag.parent / f"{flag.name}.paused").touch()
            deadline = time.monotonic() + 600
            while not (flag.parent / f"{flag.name}.go").exists():
                assert time.monotonic() < deadline
                time.sleep(0.05)

    try:
        pipeline.run_year(YEAR, cfg, on_stage=on_stage)
    except BaseException:
        os._exit(1)
    os._exit(0)


def test_a_run_in_another_live_process_is_not_taken_over() -> None:
    """The lock of a run that is alive in another process stands: the second run is refused
    (a dead holder's lock would be taken over; a live one's never is)."""
    import multiprocessing
    import time

    from sqis import pipeline
    from sqis.store import ResultsStore, YearLocked

    work = private_tmp("sqis-conc-proc-")
    cfg = run_config(work)
    flag = work / "flag"
    p = multiprocessing.get_context("fork").Process(target=_hold_the_year, args=(cfg, flag))
    p.start()
    try:
        deadline = time.monotonic() + 600
        while not (work / "flag.paused").exists():
            assert p.is_alive(), "the first run ended before it held the lock"
            assert time.monotonic() < deadline
            time.sleep(0.1)
        with pytest.raises(YearLocked, match=rf"pid {p.pid}\)"):
            pipeline.run_year(YEAR, cfg)
    finally:
        (work / "flag.go").touch()
        p.join(600)
    assert p.exitcode == 0
    store = ResultsStore(cfg.db_url)
    assert list(store.runs(YEAR)["status"]) == ["SUCCEEDED"]
    assert store.locks().empty
    store.dispose()
