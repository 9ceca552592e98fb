"""The Prefect UI, seen by headless Chromium: the three deployments, a completed annual run
and its artifacts. Screenshots go to tests/artifacts/.

Uses the session's SQLite Prefect server and annual-cycle run of test_deployments_e2e.py
(started here when that test did not run). Chromium is driven by its CLI flags only:
``--dump-dom`` after a ``--virtual-time-budget`` lets the single-page app render.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.test_deployments_e2e import YEAR, deploy_and_run, shared_server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = [
    pytest.mark.prefect,
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.xdist_group("prefect-server"),  # the session server of test_deployments_e2e
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is not installed (apt-get install -y chromium)")


def _chrome(url: str, *extra: str, budget_ms: int = 20000) -> str:
    profile = tempfile.mkdtemp(prefix="sqis-chromium-")
    cmd = [
        _chromium(),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
        "--window-size=1400,1000",
        *extra,
        url,
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _page(url: str, shot: str, *needles: str) -> str:
    """The page's DOM once it shows every needle (the single-page app fetches from the API
    in real time: on a busy machine a longer budget is tried), and a screenshot of it."""
    ARTIFACTS.mkdir(exist_ok=True)
    dom = ""
    for budget in (15000, 30000, 60000):
        dom = _chrome(url, "--dump-dom", budget_ms=budget)
        if all(n in dom for n in needles):
            break
    _chrome(url, f"--screenshot={ARTIFACTS / shot}", budget_ms=budget)
    return dom


def test_ui_shows_the_deployments_and_a_completed_run_with_artifacts() -> None:
    server = shared_server("sqlite")
    run = deploy_and_run(server)
    assert run["state"] == "COMPLETED"

    dom = _page(f"{server.ui}/deployments", "prefect-deployments.png", "twice-yearly")
    for name in ("yearly", "quarterly", "twice-yearly"):
        assert name in dom, f"deployment {name} not on the Deployments page"
    assert "annual-cycle" in dom

    fr = run["flow_run_id"]
    dom = _page(
        f"{server.ui}/runs/flow-run/{fr}", "prefect-annual-cycle-run.png", f"annual-cycle-{YEAR}"
    )
    assert f"annual-cycle-{YEAR}" in dom
    assert "Completed" in dom

    # the run page's graph is a canvas: the artifacts' keys are read from the Artifacts page
    keys = (f"validation-{YEAR}", f"index-distribution-{YEAR}", f"designations-{YEAR}")
    dom = _page(f"{server.ui}/artifacts", "prefect-artifacts.png", *keys)
    for key in keys:
        assert key in dom, f"artifact {key} not shown"
    dom = _page(
        f"{server.ui}/artifacts/key/designations-{YEAR}",
        "prefect-designations.png",
        "schools designated",
    )
    # annual_cycle.designations_artifact's description
    assert f"Designations from the {YEAR} results" in dom and "schools designated" in dom
    assert (ARTIFACTS / "prefect-annual-cycle-run.png").stat().st_size > 10_000
