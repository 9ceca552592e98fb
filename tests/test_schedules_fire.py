"""Schedules that fire (issue 16): Prefect's own scheduler creates the deployments' runs.

A real ``prefect server start`` subprocess per backend (SQLite; a fresh PostgreSQL
database), with the scheduler settings production uses (a 400-day horizon, as
docs/operations.md and deployments/serve.sh set) and a one-second scheduler loop. The
deployments are registered the ``make deploy`` way (``deployments/deploy.sh``); nothing
here calls the scheduler or creates a flow run: the test waits until the server's
scheduler service has created SCHEDULED runs for all three deployments and checks their
times in America/Los_Angeles against the methodology's calendar.

With SQLAlchemy 2.1 the scheduler of Prefect 3.8.8 fails on every pass ("Can't evaluate
bulk DML statement") and no run is ever created: this is the test that notices
(docs/operations.md, "Why SQLAlchemy is pinned below 2.1").

The browser test shows the scheduled runs in the Prefect UI of the SQLite server;
screenshots go to tests/artifacts/schedules/ (next to test_prefect_ui_browser.py's).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.prefect_home import migrated_prefect_home
from tests.test_deployments_e2e import BIN, REPO, Server, _free_port, _wait_healthy

TZ = ZoneInfo("America/Los_Angeles")
HORIZON = "P400D"  # PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME of production
HORIZON_DAYS = 400
WAIT_SECONDS = 90  # for the scheduler to create the runs once the deployments exist
ANNUAL = (8, 15, 6)  # deploy.py's default SQIS_ANNUAL_CRON "0 6 15 8 *": 15 August 06:00
REPORT_HOUR = 7  # checkpoints and Oversight reports: 07:00
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


# ---- the expected calendar ------------------------------------------------------------
def _methodology_now() -> Any:
    """The methodology that applies to today's school year (what deploy.py registers)."""
    from sqis import years
    from sqis.methodology import available, for_year

    today = datetime.now(TZ).date()
    starts = available()[-1].communities.school_year_starts_month
    return for_year(years.from_start(today.year if today.month >= starts else today.year - 1))


def _occurrences(month_day_hours: list[tuple[int, int, int]], days: int) -> list[datetime]:
    """Every local time on these (month, day, hour)s from now to ``days`` ahead, in order."""
    now = datetime.now(TZ)
    end = now + timedelta(days=days)
    out = [
        datetime.combine(date(y, mo, d), clock(h), TZ)
        for y in range(now.year, end.year + 1)
        for mo, d, h in month_day_hours
    ]
    return sorted(t for t in out if now < t <= end)


def expected_calendar() -> dict[str, list[tuple[int, int, int]]]:
    """(month, day, hour) of each deployment's runs: the annual date, the methodology's
    checkpoint dates and Oversight Panel dates (core-2013: 15 Oct, 15 Jan, 15 Apr, 15 Jun;
    1 Nov, 1 May)."""
    m = _methodology_now()
    return {
        "annual-cycle/yearly": [ANNUAL],
        "community-checkpoint/quarterly": [
            (c.month, c.day, REPORT_HOUR) for c in m.communities.checkpoints
        ],
        "oversight-report/twice-yearly": [
            (t.month, t.day, REPORT_HOUR) for t in m.oversight.terms.values()
        ],
    }


# ---- the servers ----------------------------------------------------------------------
@dataclass
class Fired:
    """A server whose scheduler was waited for: its scheduled runs per deployment."""

    server: Server
    deployments: dict[str, Any] = field(default_factory=dict)  # by "flow/deployment"
    runs: dict[str, list[Any]] = field(default_factory=dict)  # SCHEDULED flow runs, by time
    waited: float = 0.0  # seconds from `make deploy` done to every run read back
    latency: float = 0.0  # seconds from a deployment's creation to its first run's, at most


def _start(kind: str, pg_url: str | None) -> Server:
    home = Path(tempfile.mkdtemp(prefix=f"sqis-sched-{kind}-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SQIS_"))}
    env.update(
        PREFECT_HOME=str(home / "prefect" if pg_url else migrated_prefect_home(home / "prefect")),
        PREFECT_API_URL=url,
        PREFECT_UI_API_URL=url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME=HORIZON,
        # the scheduler service's pass every second (default 60 s): runs appear quickly
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="1",
        PREFECT_LOGGING_LEVEL="INFO",
    )
    if pg_url:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = pg_url
    server = Server(kind, home, url, env)
    log = home / "server.log"
    server.procs.append(
        subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=home,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    )
    try:
        _wait_healthy(url, server.procs[0], log)
    except Exception:
        server.stop()
        raise
    return server


def _scheduler_errors(server: Server) -> str:
    log = (server.home / "server.log").read_text(errors="replace")
    found = re.findall(r"^\S*(?:Error|Exception): .*$", log, flags=re.M)
    return "\n".join(dict.fromkeys(found)) or log[-3000:]


def _deploy(server: Server) -> dict[str, Any]:
    """`make deploy` without make's install step: deployments/deploy.sh."""
    done = subprocess.run(
        ["bash", "deployments/deploy.sh"],
        cwd=REPO,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    from prefect.client.orchestration import SyncPrefectClient

    with SyncPrefectClient(api=server.url) as c:
        return {f"{c.read_flow(d.flow_id).name}/{d.name}": d for d in c.read_deployments()}


def _scheduled_runs(server: Server, deployment_id: uuid.UUID) -> list[Any]:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    with SyncPrefectClient(api=server.url) as c:
        runs = c.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
            ),
            limit=200,
        )
    return sorted(runs, key=lambda r: r.expected_start_time)


def _fire(server: Server) -> Fired:
    """Register the deployments, then wait for the server's scheduler to create their runs."""
    fired = Fired(server, _deploy(server))
    calendar = expected_calendar()
    assert set(fired.deployments) == set(calendar), list(fired.deployments)
    # wait for every run due within the horizon (less a day: the scheduler's "now" and
    # this one differ by seconds), not only the first one of each deployment
    want = {name: len(_occurrences(mdh, HORIZON_DAYS - 1)) for name, mdh in calendar.items()}
    started = time.monotonic()
    while True:
        fired.runs = {n: _scheduled_runs(server, d.id) for n, d in fired.deployments.items()}
        if all(len(fired.runs[n]) >= want[n] for n in calendar):
            break
        if time.monotonic() - started > WAIT_SECONDS:
            counts = {n: len(r) for n, r in fired.runs.items()}
            raise AssertionError(
                f"{server.kind}: after {WAIT_SECONDS} s the server's scheduler created "
                f"{counts} scheduled runs, expected at least {want}. Server log:\n"
                f"{_scheduler_errors(server)}"
            )
        time.sleep(1)
    fired.waited = time.monotonic() - started
    fired.latency = max(
        (min(r.created for r in fired.runs[n]) - d.created).total_seconds()
        for n, d in fired.deployments.items()
    )
    print(
        f"{server.kind}: the scheduler created each deployment's runs at most "
        f"{fired.latency:.1f} s after the deployment ({fired.waited:.1f} s waited here)"
    )
    return fired


@pytest.fixture(scope="module")
def fired() -> Iterator[Callable[[str], Fired]]:
    """``fired(kind)``: a server of that kind with its scheduled runs, started on first use
    and shared by this module's tests (the browser test reuses the SQLite one)."""
    from tests.conftest import _postgres_database

    made: dict[str, Fired] = {}
    failed: dict[str, str] = {}  # a server that failed once is not waited for again
    databases: list[Iterator[str]] = []

    def get(kind: str) -> Fired:
        if kind in failed:
            pytest.fail(f"the {kind} server failed in an earlier test: {failed[kind]}")
        if kind not in made:
            pg_url = None
            if kind == "postgres":
                db = _postgres_database()  # CREATE DATABASE now, DROP at teardown
                databases.append(db)
                pg_url = next(db).replace("postgresql+psycopg://", "postgresql+asyncpg://")
            server = _start(kind, pg_url)
            try:
                made[kind] = _fire(server)
            except BaseException as e:
                failed[kind] = str(e)[-2000:]
                server.stop()
                raise
        return made[kind]

    try:
        yield get
    finally:
        for f in made.values():
            f.server.stop()
        for db in databases:
            next(db, None)


# ---- the tests ------------------------------------------------------------------------
def test_installed_sqlalchemy_is_the_constraint_and_below_2_1() -> None:
    """A re-pin of SQLAlchemy to 2.1 must come with test_scheduler_creates_... passing."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    pins = dict(
        line.split("==", 1)
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    installed = Version(version("sqlalchemy"))
    assert installed == Version(pins["SQLAlchemy"]), (installed, pins["SQLAlchemy"])
    assert installed < Version("2.1"), "Prefect's scheduler fails on SQLAlchemy 2.1"
    text = (REPO / "pyproject.toml").read_text()
    spec = re.search(r'^\s*"(sqlalchemy[^"]*)"', text, flags=re.M | re.I)
    assert spec, "pyproject.toml lists no sqlalchemy dependency"
    req = Requirement(spec.group(1))
    assert installed in req.specifier and Version("2.1.0") not in req.specifier, req


@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_scheduler_creates_the_runs_of_all_three_deployments(
    kind: str, fired: Callable[[str], Fired]
) -> None:
    f = fired(kind)
    for name, month_day_hours in expected_calendar().items():
        runs = f.runs[name]
        due = _occurrences(month_day_hours, 2 * 366)
        local = [r.expected_start_time.astimezone(TZ) for r in runs]
        # the next run is the next date of the calendar, at its local hour
        assert local[0] == due[0], f"{name}: next run {local[0]}, expected {due[0]}"
        assert local[0].strftime("%m-%d %H:%M") == due[0].strftime("%m-%d %H:%M")
        print(f"{kind}: {name} next at {local[0]:%Y-%m-%d %H:%M %Z}; {len(runs)} scheduled")
        # every run is on the calendar, one run per date, none beyond the horizon
        assert set(local) <= set(due), f"{name}: {local} not all in {due}"
        assert len(set(local)) == len(local), f"{name}: duplicate runs {local}"
        horizon = datetime.now(TZ) + timedelta(days=HORIZON_DAYS, minutes=5)
        assert all(t <= horizon for t in local), f"{name}: run beyond {HORIZON}: {local}"
        for r in runs:
            assert r.auto_scheduled, f"{name}: {r.name} was not created by the scheduler"
            assert r.state is not None and r.state.type.value == "SCHEDULED"


# ---- headless Chromium over the DevTools protocol ---------------------------------------
class Chromium:
    """Headless Chromium driven over its DevTools protocol (the ``websockets`` Prefect
    installs): a page is read and photographed once it shows what is waited for, so the
    screenshot is of the state the assertions saw (``--screenshot`` after a virtual-time
    budget may catch the single-page app before its run list has arrived)."""

    def __init__(self, timezone: str) -> None:
        import shutil

        exe = next(
            (
                shutil.which(n)
                for n in ("chromium", "chromium-browser", "google-chrome")
                if shutil.which(n)
            ),
            None,
        )
        if exe is None:
            pytest.fail("headless Chromium is not installed (apt-get install -y chromium)")
        self.profile = tempfile.mkdtemp(prefix="sqis-chromium-")
        self.proc = subprocess.Popen(
            [
                exe,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--lang=en-US",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=1400,1000",
                "about:blank",
            ],
            env={**os.environ, "TZ": timezone},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self._id = 0
        self.ws = self._connect()
        self.call("Page.enable")
        self.call("Emulation.setTimezoneOverride", timezoneId=timezone)

    def _connect(self) -> Any:
        import json
        import urllib.request

        from websockets.sync.client import connect

        assert self.proc.stderr is not None
        deadline = time.monotonic() + 30
        port = None
        while port is None and time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            port = m and m.group(1)
        assert port, "Chromium did not open its DevTools port"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(t for t in json.load(r) if t["type"] == "page")
        return connect(page["webSocketDebuggerUrl"], max_size=64 * 2**20, open_timeout=20)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        import json

        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:  # events are skipped
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == self._id:
                assert "error" not in msg, (method, msg["error"])
                return msg["result"]

    def text(self) -> str:
        r = self.call(
            "Runtime.evaluate",
            expression="document.body ? document.body.innerText : ''",
            returnByValue=True,
        )
        return r["result"].get("value") or ""

    def show(self, url: str, needles: list[str], shot: Path, timeout: float = 60) -> str:
        """Open ``url``, wait until its text holds every needle, save a screenshot."""
        import base64

        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        text = self.text()
        while not all(n in text for n in needles) and time.monotonic() < deadline:
            time.sleep(0.5)
            text = self.text()
        time.sleep(0.5)  # let the last render settle before the picture
        png = self.call("Page.captureScreenshot", format="png")["data"]
        shot.parent.mkdir(parents=True, exist_ok=True)
        shot.write_bytes(base64.b64decode(png))
        return self.text()

    def close(self) -> None:
        import contextlib
        import shutil
        import signal

        with contextlib.suppress(Exception):
            self.ws.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.mark.prefect
@pytest.mark.browser
@pytest.mark.slow
def test_ui_lists_the_upcoming_runs_of_each_deployment(fired: Callable[[str], Fired]) -> None:
    """Each deployment's "Upcoming" tab in the Prefect UI (a browser in America/Los_Angeles)
    lists the runs the scheduler created, at their local times. Screenshots:
    tests/artifacts/schedules/upcoming-<flow>-<deployment>.png."""
    f = fired("sqlite")
    browser = Chromium("America/Los_Angeles")
    try:
        for name, dep in f.deployments.items():
            runs = f.runs[name]
            assert runs, name
            when = [
                f"Scheduled for {r.expected_start_time.astimezone(TZ):%Y/%m/%d %I:%M:%S %p}"
                for r in runs
            ]
            names = [r.name for r in runs]
            shot = ARTIFACTS / "schedules" / f"upcoming-{name.replace('/', '-')}.png"
            text = browser.show(
                f"{f.server.ui}/deployments/deployment/{dep.id}?tab=Upcoming",
                [*when, *names],
                shot,
            )
            assert "Upcoming" in text and dep.name in text, f"{name}: not its page:\n{text}"
            missing = [n for n in [*when, *names] if n not in text]
            assert not missing, f"{name}: the Upcoming tab does not show {missing}:\n{text}"
            assert f"{len(runs)} Flow run" in text, f"{name}: run count not shown:\n{text}"
            assert shot.stat().st_size > 10_000, shot
    finally:
        browser.close()
