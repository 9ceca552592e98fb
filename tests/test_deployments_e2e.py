"""End to end on a real Prefect server: `make deploy`, a worker, a deployment run, its artifacts.

The server is a `prefect server start` subprocess on a free loopback port with its own
PREFECT_HOME; once on SQLite, once on a fresh PostgreSQL database. One server per kind
per test session (``shared_server``): the browser test (test_prefect_ui_browser.py)
and the monitoring test (test_monitoring_e2e.py) reuse the SQLite one and the run made
here. `make deploy` is given a loopback webhook (``webhook``) for its failure automation.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / ".venv" / "bin"
YEAR = "2014-15"
DEPLOYMENTS = {
    "annual-cycle/yearly",
    "community-checkpoint/quarterly",
    "oversight-report/twice-yearly",
}
TEST_KEY = "e2e-pseudonym-key-not-a-secret"

# one worker runs every test of the session's SQLite Prefect server (``shared_server``):
# its start, `make deploy` and the annual run are shared, not repeated per xdist worker
pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.xdist_group("prefect-server")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    kind: str
    home: Path
    url: str  # .../api
    env: dict[str, str]
    procs: list[subprocess.Popen] = field(default_factory=list)
    pg_db: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # what tests made: run ids …

    @property
    def ui(self) -> str:
        return self.url.removesuffix("/api")

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                    p.wait(timeout=20)
                except Exception:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(p.pid, signal.SIGKILL)
        self.procs.clear()
        if self.pg_db:
            _drop_pg(self.pg_db)
        shutil.rmtree(self.home, ignore_errors=True)


_SERVERS: dict[str, Server] = {}


def _pg_admin_url() -> str:
    from tests.conftest import POSTGRES_ADMIN_URL

    return POSTGRES_ADMIN_URL


def _create_pg() -> tuple[str, str]:
    import sqlalchemy as sa

    admin = sa.create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"prefect_e2e_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    base = _pg_admin_url().split("://", 1)[1].rsplit("/", 1)[0]
    return name, f"postgresql+asyncpg://{base}/{name}"


def _drop_pg(name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"prefect server exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"prefect server not healthy after {timeout} s: {log.read_text()[-3000:]}")


def shared_server(kind: str = "sqlite") -> Server:
    """A Prefect server of this kind for the session, started on first use."""
    if kind in _SERVERS:
        return _SERVERS[kind]
    home = Path(tempfile.mkdtemp(prefix=f"sqis-prefect-{kind}-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SQIS_"))}
    env.update(
        PREFECT_HOME=str(home / "prefect"),
        PREFECT_API_URL=url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME="P400D",
        PREFECT_LOGGING_LEVEL="INFO",
        PREFECT_UI_API_URL=url,
    )
    server = Server(kind, home, url, env)
    if kind == "postgres":
        server.pg_db, env["PREFECT_API_DATABASE_CONNECTION_URL"] = _create_pg()
    log = home / "server.log"
    proc = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server.procs.append(proc)
    _SERVERS[kind] = server
    atexit.register(server.stop)
    _wait_healthy(url, proc, log)
    return server


class Webhook:
    """A loopback HTTP receiver run in a thread: records every POST body (the notifications
    the failure automation sends through the ``sqis-alerts`` webhook block)."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.posts: list[bytes] = []
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with hook.lock:
                    hook.posts.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sqis-alerts"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        atexit.register(self.httpd.shutdown)

    def bodies(self) -> list[dict[str, Any]]:
        """The POST bodies received so far, as JSON (a body that is not JSON: ``{"raw": …}``)."""
        with self.lock:
            posts = list(self.posts)
        out = []
        for b in posts:
            try:
                out.append(json.loads(b))
            except ValueError:
                out.append({"raw": b.decode(errors="replace")})
        return out


_WEBHOOK: list[Webhook] = []


def webhook() -> Webhook:
    """The session's loopback webhook receiver, started on first use."""
    if not _WEBHOOK:
        _WEBHOOK.append(Webhook())
    return _WEBHOOK[0]


def _generate(root: Path) -> Path:
    from sqis.synthetic import generate

    generate(root, ["2013-14", YEAR], 1500, 2, 5)
    return root


def deploy_and_run(server: Server) -> dict[str, Any]:
    """deploy.sh (make deploy) → worker → `prefect deployment run` of the annual cycle → wait.

    Cached on the server: the browser test calls it again and gets the same run.
    """
    if "flow_run_id" in server.data:
        return server.data
    work = server.home / "work"
    data = _generate(work / "data")
    env = dict(server.env)
    env.update(
        SQIS_PSEUDONYM_KEY=TEST_KEY,
        SQIS_DATA_ROOT=str(data),
        SQIS_OUT_ROOT=str(work / "out"),
        SQIS_STORE_ROOT=str(work / "store"),
        SQIS_DATABASE_URL=f"sqlite:///{work / 'sqis.db'}",
        # the failure automation notifies the loopback receiver (a private address)
        SQIS_NOTIFY_WEBHOOK_URL=webhook().url,
        SQIS_NOTIFY_ALLOW_PRIVATE_URLS="true",
    )
    # what `make deploy` runs (without make's install step, which may pip-install)
    done = subprocess.run(
        ["bash", "deployments/deploy.sh"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    wlog = server.home / "worker.log"
    worker = subprocess.Popen(
        [
            str(BIN / "prefect"),
            "worker",
            "start",
            "--pool",
            "sqis-process",
            "--prefetch-seconds",
            "5",
        ],
        env=env,
        cwd=REPO,
        stdout=wlog.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server.procs.append(worker)
    params = json.dumps(
        {
            "params": {
                "year": YEAR,
                "data_root": str(data),
                "out_root": str(work / "out"),
                "pdf": "none",
                "force": "test: the last year alone on a fresh store",
            }
        }
    )
    started = subprocess.run(
        [
            str(BIN / "prefect"),
            "deployment",
            "run",
            "annual-cycle/yearly",
            "--params",
            params,
            "--tag",
            f"year:{YEAR}",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stdout + started.stderr
    m = re.search(r"UUID:\s*([0-9a-f-]{36})", started.stdout)
    assert m, started.stdout
    fr_id = m.group(1)

    state = _wait_final(server, fr_id, timeout=300, worker_log=wlog)
    server.data.update(
        flow_run_id=fr_id,
        state=state,
        out=work / "out",
        data=data,
        env=env,
        webhook=webhook(),
        deploy_output=done.stdout + done.stderr,
    )
    return server.data


def _client(server: Server) -> Any:
    from prefect.client.orchestration import SyncPrefectClient

    return SyncPrefectClient(api=server.url)


def _wait_final(server: Server, fr_id: str, timeout: float, worker_log: Path) -> str:
    deadline = time.monotonic() + timeout
    with _client(server) as c:
        while time.monotonic() < deadline:
            fr = c.read_flow_run(uuid.UUID(fr_id))
            if fr.state is not None and fr.state.is_final():
                return fr.state.type.value
            time.sleep(2)
    raise AssertionError(
        f"flow run {fr_id} not final after {timeout} s; worker log:\n"
        f"{worker_log.read_text()[-4000:]}"
    )


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_deploy_run_and_read_back_through_the_api(kind: str) -> None:
    server = shared_server(kind)
    out = deploy_and_run(server)
    assert out["state"] == "COMPLETED", (server.home / "worker.log").read_text()[-4000:]

    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with _client(server) as c:
        deps = {f"{c.read_flow(d.flow_id).name}/{d.name}": d for d in c.read_deployments()}
        assert set(deps) >= DEPLOYMENTS
        annual = deps["annual-cycle/yearly"]
        assert annual.work_pool_name == "sqis-process"
        crons = {s.schedule.cron: s.schedule.timezone for s in annual.schedules}
        assert crons == {"0 6 15 8 *": "America/Los_Angeles"}
        cp = {s.schedule.cron for s in deps["community-checkpoint/quarterly"].schedules}
        assert cp == {"0 7 15 10 *", "0 7 15 1 *", "0 7 15 4 *", "0 7 15 6 *"}
        ov = {s.schedule.cron for s in deps["oversight-report/twice-yearly"].schedules}
        assert ov == {"0 7 1 11 *", "0 7 1 5 *"}

        fr = c.read_flow_run(uuid.UUID(out["flow_run_id"]))
        assert fr.name == f"annual-cycle-{YEAR}"
        assert f"year:{YEAR}" in fr.tags
        arts = c.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[fr.id]))
        )
        keys = {a.key for a in arts}
        assert {f"validation-{YEAR}", f"index-distribution-{YEAR}", f"designations-{YEAR}"} <= keys
        assert any(k.startswith("reports-") for k in keys)
    manifest = json.loads((out["out"] / YEAR / "manifest.json").read_text())
    assert any(f["key"] == "designations.csv" for f in manifest["files"])
