"""Rendering in worker processes (``sqis.render_workers``): jobs run in other processes,
errors come back as raised, a run killed outright takes its workers with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from sqis.errors import PipelineError
from sqis.render_workers import RenderWorkers

REPO = Path(__file__).resolve().parents[1]


def pid() -> int:
    return os.getpid()


def refuse(text: str) -> None:
    raise PipelineError(text)


def test_jobs_run_in_worker_processes_and_with_one_worker_in_the_callers() -> None:
    with RenderWorkers(2) as workers:
        pids = {workers.submit(pid).result() for _ in range(6)}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    with RenderWorkers(1) as inline:
        assert inline.submit(pid).result() == os.getpid()
    assert RenderWorkers(0).workers == 1  # never fewer than one


def test_an_error_in_a_worker_is_raised_by_result_with_its_type_and_message() -> None:
    for n in (1, 2):
        with RenderWorkers(n) as workers:
            job = workers.submit(refuse, "district 0110001: no schools")
            with pytest.raises(PipelineError, match="district 0110001: no schools"):
                job.result()


def test_no_worker_is_started_until_a_job_is_submitted() -> None:
    before = set(psutil.Process().children(recursive=True))
    with RenderWorkers(2):
        assert set(psutil.Process().children(recursive=True)) == before


_KILLED = """
import os, sys, time
from sqis.render_workers import RenderWorkers
w = RenderWorkers(2)
jobs = [w.submit(time.sleep, 120) for _ in range(2)]
time.sleep(3)
import psutil
print(" ".join(str(c.pid) for c in psutil.Process().children(recursive=True)), flush=True)
time.sleep(120)
"""


def test_a_run_killed_outright_takes_its_worker_processes_with_it() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.Popen(
        [sys.executable, "-c", _KILLED], stdout=subprocess.PIPE, text=True, env=env
    )
    assert run.stdout is not None
    line = run.stdout.readline()
    children = [psutil.Process(int(p)) for p in line.split()]
    assert children, "the run started no worker process"
    os.kill(run.pid, signal.SIGKILL)
    run.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        if not alive:
            break
        time.sleep(0.5)
    assert not alive, f"worker processes outlived the killed run: {[c.pid for c in alive]}"


def test_start_starts_every_worker_with_the_renderers_imported() -> None:
    with RenderWorkers(2) as workers:
        workers.start()
        # the start jobs are queued first: a job after them finds the renderers imported
        loaded = {workers.submit(_has_renderers).result() for _ in range(4)}
        assert loaded == {True}
        assert len(psutil.Process().children()) >= 2
    with RenderWorkers(1) as inline:
        inline.start()  # nothing to start
        assert inline._pool is None


def _has_renderers() -> bool:
    return "sqis.reports.render" in sys.modules


def _children_during(fn: Callable[[], object]) -> set[int]:
    """The pids of every child process seen (sampled every 20 ms) while ``fn`` runs."""
    import threading

    seen: set[int] = set()
    done = threading.Event()
    me = psutil.Process()

    def watch() -> None:
        while not done.is_set():
            seen.update(c.pid for c in me.children(recursive=True))
            time.sleep(0.02)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        fn()
    finally:
        done.set()
        t.join()
    return seen


def test_a_small_year_renders_in_the_runs_own_process_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """SQIS_RENDER_WORKERS unset (0): below SQIS_RENDER_MIN_SCHOOLS schools no worker is
    spawned (spawning costs more than it saves there); from it, one per core is."""
    from sqis import pipeline
    from sqis.settings import get_settings, reset_settings_cache
    from tests.consortium import YEAR, pseudonym_key, run_config

    monkeypatch.delenv("SQIS_RENDER_WORKERS")  # the tests' setting: the default here
    reset_settings_cache()
    assert get_settings().render_workers == 0
    schools = get_settings().render_min_schools
    assert get_settings().render_processes(schools - 1) == 1
    assert get_settings().render_processes(schools) == (os.cpu_count() or 1)

    before = {c.pid for c in psutil.Process().children(recursive=True)}
    with pseudonym_key():
        small = _children_during(lambda: pipeline.run_year(YEAR, run_config(tmp_path / "default")))
        assert small - before == set()  # the test consortium has a few dozen schools

        monkeypatch.setenv("SQIS_RENDER_MIN_SCHOOLS", "1")
        reset_settings_cache()
        if (os.cpu_count() or 1) > 1:
            spawned = _children_during(
                lambda: pipeline.run_year(YEAR, run_config(tmp_path / "from-one"))
            )
            assert len(spawned - before) == (os.cpu_count() or 1)
    # an explicit SQIS_RENDER_WORKERS is taken as given, whatever the year's size
    monkeypatch.setenv("SQIS_RENDER_WORKERS", "3")
    monkeypatch.setenv("SQIS_RENDER_MIN_SCHOOLS", "100000")
    reset_settings_cache()
    assert get_settings().render_processes(1) == 3
