"""Monitoring and alerts on a real Prefect server (issue 21; docs/operations.md "Monitoring
and alerts").

Reuses the session's SQLite server of test_deployments_e2e.py (``shared_server``), its
`make deploy` (given a loopback webhook receiver, ``webhook``) and its worker
(``deploy_and_run``). Here:

- ``sqis run`` against that server (``PREFECT_API_URL``): every stage's log line is in the
  API, the progress artifact reaches 100 %, the command prints the run's UI link;
- the deployments' concurrency limits, the flows' timeouts and the failure automation,
  read back;
- an email block named SQIS_NOTIFY_BLOCK serves the automation as the webhook does;
- a failed and a timed-out deployment run make the automation POST to the loopback webhook
  (one after the other: the deployment's concurrency limit);
- no flow run's parameters (nor logs, state messages, artifacts) hold a credential;
- headless Chromium shows each deployment's run form (the pydantic parameter models):
  titles and descriptions as written, choices with their defaults, no nullable toggles
  (tests/artifacts/forms/); and the run's Logs tab, its progress artifact, the automation
  and a deployment's concurrency limit (tests/artifacts/monitoring/).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_deployments_e2e import (
    BIN,
    DEPLOYMENTS,
    REPO,
    TEST_KEY,
    YEAR,
    Server,
    _client,
    deploy_and_run,
    shared_server,
)

# one worker runs every test of the session's SQLite Prefect server (``shared_server``):
# its start, `make deploy` and the annual run are shared, not repeated per xdist worker
pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.xdist_group("prefect-server")]

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CLI_KEY = "cli-pseudonym-key-K3YK3Y-not-a-secret"
PASSWORD = "S3CRETPASS"
REFUSED_DB = f"postgresql+psycopg://sqis:{PASSWORD}@127.0.0.1:5432/test"
# flows/annual_cycle.py: the stages the sqis.progress logger names, in order (others,
# such as "public edition" between the results store and the reports, may come between)
STAGES = [
    "checks and the year's lock",
    "ingest",
    "growth model",
    "index",
    "designations",
    "communities",
    "results store",
    "reports",
    "exports and calendars",
    "publish",
    "done",
]
FAILED_EVENTS = {
    "prefect.flow-run.Failed",
    "prefect.flow-run.Crashed",
    "prefect.flow-run.TimedOut",
}
NO_DELIVERY = "2015-16"  # a year the synthetic data root has no folder for
NOTIFY_WAIT = 90  # seconds for a failed run's notification to reach the webhook
LINK = re.compile(r"/runs/flow-run/([0-9a-f-]{36})")


# ---- helpers --------------------------------------------------------------------------
def _sqis(server: Server, work: Path, *args: str, timeout: float = 300) -> Any:
    """The ``sqis`` command as an operator runs it: PREFECT_API_URL set, its own SQIS_*
    settings (a fresh store, out root and results store under ``work``), Prefect's
    logging level left to the command."""
    env = {k: v for k, v in server.env.items() if k != "PREFECT_LOGGING_LEVEL"}
    env.update(
        SQIS_PSEUDONYM_KEY=CLI_KEY,
        SQIS_STORE_ROOT=str(work / "store"),
        SQIS_OUT_ROOT=str(work / "out"),
        SQIS_DATABASE_URL=f"sqlite:///{work / 'sqis.db'}",
        COLUMNS="200",
    )
    return subprocess.run(
        [str(BIN / "sqis"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _logs(server: Server, flow_run_id: Any = None) -> list[Any]:
    """Every log of a flow run (of all runs: None), in order, read page by page."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort

    flt = (
        LogFilter(flow_run_id=LogFilterFlowRunId(any_=[uuid.UUID(str(flow_run_id))]))
        if flow_run_id
        else None
    )
    out: list[Any] = []
    with _client(server) as c:
        while True:
            page = c.read_logs(
                log_filter=flt, limit=200, offset=len(out), sort=LogSort.TIMESTAMP_ASC
            )
            out += page
            if len(page) < 200:
                return out


def _flow_runs(server: Server) -> list[Any]:
    out: list[Any] = []
    with _client(server) as c:
        while True:
            page = c.read_flow_runs(limit=200, offset=len(out))
            out += page
            if len(page) < 200:
                return out


def _deployments(server: Server) -> dict[str, Any]:
    with _client(server) as c:
        return {f"{c.read_flow(d.flow_id).name}/{d.name}": d for d in c.read_deployments()}


def _run_id(stderr: str) -> str:
    m = LINK.search(stderr)
    assert m, f"the command printed no flow run link:\n{stderr}"
    return m.group(1)


@pytest.fixture(scope="module")
def server() -> Server:
    s = shared_server("sqlite")
    deploy_and_run(s)  # `make deploy` with the webhook, a worker, a completed run
    return s


@pytest.fixture(scope="module")
def cli_run(server: Server) -> dict[str, Any]:
    """``sqis run`` of the completed year on a fresh store, against the shared server."""
    work = server.home / "cli"
    started = time.monotonic()
    done = _sqis(
        server,
        work,
        "run",
        "--data",
        str(server.data["data"]),
        "--year",
        YEAR,
        "--pdf",
        "none",
        "--force",
        "test: the last year alone on a fresh store",
    )
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    return {"done": done, "id": _run_id(done.stderr), "took": took}


@pytest.fixture(scope="module")
def refused_run(server: Server) -> dict[str, Any]:
    """``sqis run --db <a PostgreSQL URL with a password>``: refused or unreachable."""
    done = _sqis(
        server,
        server.home / "refused",
        "run",
        "--data",
        str(server.data["data"]),
        "--year",
        YEAR,
        "--pdf",
        "none",
        "--db",
        REFUSED_DB,
        "--force",
        "test: a store that refuses the connection",
    )
    assert done.returncode == 1, done.stdout + done.stderr
    return {"done": done, "id": _run_id(done.stderr)}


# ---- a: logs, progress and the link of a `sqis run` ------------------------------------
def test_sqis_run_logs_every_stage_and_its_progress_to_the_api(
    server: Server, cli_run: dict[str, Any]
) -> None:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    done, fr_id = cli_run["done"], cli_run["id"]
    print(f"sqis run {YEAR} against the server: {cli_run['took']:.1f} s; stderr:")
    print(done.stderr)
    # the command's stderr: the run's UI link, then a line per stage
    assert f"{YEAR}: flow run {server.ui}/runs/flow-run/{fr_id}" in done.stderr, done.stderr
    shown = re.findall(r"^\s*\[\s*[\d.]+%\] (.+)$", done.stderr, flags=re.M)
    assert shown[0] == "checks and the year's lock", done.stderr
    assert {s for s in STAGES if s != "done"} <= set(shown), done.stderr
    assert "[100.0%]" in done.stderr, done.stderr
    # the share never goes back (the districts, known after ingest, add steps)
    shares = [float(p) for p in re.findall(r"^\s*\[\s*([\d.]+)%\]", done.stderr, flags=re.M)]
    assert shares == sorted(shares), done.stderr
    # quiet at WARNING: no INFO line of the sqis loggers or of Prefect's run loggers
    assert " | INFO " not in done.stderr and "INFO" not in done.stderr, done.stderr

    logs = _logs(server, fr_id)
    progress = [
        lg.message.split(": ", 1)[1]
        for lg in logs
        if lg.name == "sqis.progress" and lg.message.startswith(f"annual-cycle {YEAR}: ")
    ]
    stages = [p.split(" — ", 1)[0] for p in progress]
    # every stage once, in order, "done" last (stages added since, e.g. "public edition",
    # may come between)
    assert len(stages) == len(set(stages)) and stages[-1] == "done", stages
    assert [s for s in stages if s in STAGES] == STAGES, [lg.message for lg in logs]
    print(f"stages logged: {stages}")
    assert progress[-1].startswith("done — ") and "files published" in progress[-1]
    # the flow's own lines and the sqis loggers' lines besides the stages reach it too
    names = {lg.name for lg in logs}
    messages = "\n".join(lg.message for lg in logs)
    assert f"annual cycle of the {YEAR} results" in messages, sorted(names)
    print(f"{len(logs)} log lines from {sorted(names)}")

    with _client(server) as c:
        arts = c.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[uuid.UUID(fr_id)])
            )
        )
        fr = c.read_flow_run(uuid.UUID(fr_id))
    assert fr.state is not None and fr.state.type.value == "COMPLETED"
    assert fr.name == f"annual-cycle-{YEAR}"
    prog = [a for a in arts if a.key == f"progress-annual-cycle-{YEAR}"]
    assert len(prog) == 1, [(a.key, a.type) for a in arts]
    assert prog[0].type == "progress"
    assert float(prog[0].data) == 100.0, prog[0].data
    assert (prog[0].description or "").startswith(f"annual-cycle {YEAR}: ")
    assert "files published" in (prog[0].description or "")


# ---- b: concurrency limits, timeouts, the automation ------------------------------------
def test_deployments_have_a_concurrency_limit_timeouts_and_the_failure_automation(
    server: Server,
) -> None:
    from deployments.deploy import AUTOMATION
    from sqis.settings import get_settings

    deps = _deployments(server)
    assert set(deps) >= DEPLOYMENTS
    for name in DEPLOYMENTS:
        d = deps[name]
        # Prefect 3.8 keeps a deployment's limit as a global concurrency limit of its own
        # (the UI's "Concurrency Limit"); the older field stays empty
        gcl = d.global_concurrency_limit
        assert gcl is not None and gcl.limit == 1 and gcl.active, (name, gcl)
        assert d.concurrency_options is None or d.concurrency_options.collision_strategy.value == (
            "ENQUEUE"
        ), (name, d.concurrency_options)

    # a flow's timeout is on the flow (Prefect's API keeps none with the deployment or the
    # run): the worker's process loads the same flow objects from their entrypoints
    from flows.annual_cycle import annual_cycle
    from flows.checkpoint import community_checkpoint
    from flows.oversight import oversight_report

    s = get_settings()
    assert annual_cycle.timeout_seconds == s.annual_timeout_hours * 3600 == 8 * 3600
    assert community_checkpoint.timeout_seconds == s.calendar_timeout_hours * 3600 == 3600
    assert oversight_report.timeout_seconds == s.calendar_timeout_hours * 3600 == 3600
    for name in DEPLOYMENTS:  # no field of a deployment holds a timeout
        assert not [k for k in deps[name].model_dump() if "timeout" in k.lower()]

    with _client(server) as c:
        autos = c.read_automations_by_name(AUTOMATION)
        block = c.read_block_document_by_name("sqis-alerts", "custom-webhook")
    assert len(autos) == 1, autos
    a = autos[0]
    assert a.enabled
    trig = a.trigger
    assert set(trig.expect) == FAILED_EVENTS
    assert trig.posture.value == "Reactive" and trig.threshold == 1
    related = trig.match_related
    related = related if isinstance(related, list) else [related]
    assert len(related) == 1, related
    rel = related[0].model_dump() if hasattr(related[0], "model_dump") else dict(related[0])
    assert rel["prefect.resource.role"] == "deployment"
    ids = rel["prefect.resource.id"]
    ids = {ids} if isinstance(ids, str) else set(ids)
    assert ids == {f"prefect.deployment.{deps[n].id}" for n in DEPLOYMENTS}, ids
    assert len(a.actions) == 1
    act = a.actions[0]
    assert act.type == "send-notification"
    assert act.block_document_id == block.id
    assert "{{ flow_run.name }}" in act.subject and "{{ flow_run.state.name }}" in act.subject
    assert block.block_type is not None and block.block_type.slug == "custom-webhook"


def test_an_email_block_of_the_settings_name_serves_the_automation(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/operations.md: an email notification block (Prefect's SendGrid Email) created
    in the UI under the name SQIS_NOTIFY_BLOCK is the one `make deploy` gives the
    automation; a block of that name that cannot notify is not."""
    from prefect.blocks.notifications import SendgridEmail
    from prefect.blocks.system import Secret
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from deployments.deploy import notification_block
    from sqis.settings import reset_settings_cache

    with temporary_settings(updates={PREFECT_API_URL: server.url}):
        email = SendgridEmail(
            api_key="not-a-key", sender_email="sqis@example.org", to_emails=["ops@example.org"]
        ).save("sqis-email-test", overwrite=True)
        Secret(value="not a notification block").save("sqis-secret-test", overwrite=True)
        monkeypatch.setenv("SQIS_NOTIFY_BLOCK", "sqis-email-test")
        reset_settings_cache()
        assert notification_block() == email
        monkeypatch.setenv("SQIS_NOTIFY_BLOCK", "sqis-secret-test")
        reset_settings_cache()
        assert notification_block() is None


# ---- c: a failed deployment run calls the webhook ---------------------------------------
def _start(server: Server, params: dict[str, Any], job_env: dict[str, str] | None = None) -> str:
    deps = _deployments(server)
    with _client(server) as c:
        fr = c.create_flow_run_from_deployment(
            deps["annual-cycle/yearly"].id,
            parameters={"params": params},
            job_variables={"env": job_env} if job_env else None,
        )
    return str(fr.id)


def _wait_notified(server: Server, fr_ids: list[str], timeout: float) -> dict[str, dict]:
    hook = server.data["webhook"]
    deadline = time.monotonic() + timeout
    found: dict[str, dict] = {}
    while time.monotonic() < deadline:
        for body in hook.bodies():
            for i in fr_ids:
                if i in json.dumps(body):
                    found[i] = body
        if len(found) == len(fr_ids):
            return found
        time.sleep(1)
    with _client(server) as c:
        states = {i: c.read_flow_run(uuid.UUID(i)).state for i in fr_ids}
    raise AssertionError(
        f"after {timeout} s the webhook got {hook.bodies()}; the runs: {states}; "
        f"worker log:\n{(server.home / 'worker.log').read_text()[-3000:]}"
    )


def test_a_failed_and_a_timed_out_deployment_run_notify_the_webhook(
    server: Server, refused_run: dict[str, Any]
) -> None:
    data, out = server.data["data"], server.data["out"]
    # a year without a delivery fails
    failed = _start(server, {"year": NO_DELIVERY, "data_root": str(data), "out_root": str(out)})
    # a run past its timeout (SQIS_ANNUAL_TIMEOUT_HOURS in the run's environment: 1.8 s)
    # times out; forced, so that no refusal ends it first. The deployment runs one run at
    # a time: this one starts once the first has failed
    timed_out = _start(
        server,
        {
            "year": "2013-14",
            "data_root": str(data),
            "out_root": str(out),
            "pdf": "none",
            "force": "test: a run that times out",
        },
        {"SQIS_ANNUAL_TIMEOUT_HOURS": "0.0005"},
    )
    started = time.monotonic()
    got = _wait_notified(server, [failed, timed_out], NOTIFY_WAIT)
    print(f"both notifications {time.monotonic() - started:.1f} s after the runs were created")

    with _client(server) as c:
        runs = {i: c.read_flow_run(uuid.UUID(i)) for i in (failed, timed_out)}
    assert runs[failed].state.name == "Failed", runs[failed].state
    assert runs[timed_out].state.name == "TimedOut", runs[timed_out].state
    for i, body in got.items():
        fr = runs[i]
        print(f"webhook POST for {fr.name} ({fr.state.name}): {json.dumps(body)}")
        assert set(body) == {"subject", "text"}, body
        assert body["subject"] == f"sqis: {fr.name} is {fr.state.name}", body
        assert f"Flow run {fr.name} of deployment yearly ended {fr.state.name}" in body["text"]
        assert f"{server.ui}/runs/flow-run/{i}" in body["text"], body
    assert f"no delivery for {NO_DELIVERY}" in got[failed]["text"], got[failed]
    assert "exceeded timeout of 1.8 second(s)" in got[timed_out]["text"], got[timed_out]
    # the two runs did not overlap: the deployment's concurrency limit of one
    a, b = runs[failed], runs[timed_out]
    assert a.end_time is not None and b.start_time is not None
    assert b.start_time >= a.end_time or a.start_time >= b.end_time, (a, b)
    # a run started by the command (not a deployment's) does not notify
    assert not any(refused_run["id"] in json.dumps(x) for x in server.data["webhook"].bodies())


# ---- d: no credential in any flow run's parameters --------------------------------------
def test_no_flow_run_on_the_server_holds_a_credential(
    server: Server, cli_run: dict[str, Any], refused_run: dict[str, Any]
) -> None:
    done = refused_run["done"]
    err = done.stderr.strip().splitlines()
    assert err[-1].startswith(f"error: {YEAR}: "), done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    with _client(server) as c:
        fr = c.read_flow_run(uuid.UUID(refused_run["id"]))
    assert fr.state is not None and fr.state.type.value == "FAILED", fr.state

    secrets = [PASSWORD, CLI_KEY, TEST_KEY]
    url = re.compile(r"(postgresql|sqlite)[+\w]*:", re.I)
    runs = _flow_runs(server)
    assert {refused_run["id"], cli_run["id"], server.data["flow_run_id"]} <= {
        str(r.id) for r in runs
    }
    for r in runs:
        params = json.dumps(r.parameters)
        for s in secrets:
            assert s not in params, (r.name, r.parameters)
        assert not url.search(params), (r.name, r.parameters)
        state = json.dumps(r.state.model_dump(mode="json") if r.state else {})
        for s in secrets:
            assert s not in state, (r.name, state)
    # the logs name the results store without its password (annual_cycle._safe_url)
    logs = _logs(server)
    text = "\n".join(lg.message for lg in logs)
    for s in secrets:
        assert s not in text, [lg.message for lg in logs if s in lg.message]
    shown = re.findall(r"postgresql[+\w]*://([^@\s]*)@", text)
    assert all(u in ("sqis", "sqis:***") for u in shown), shown
    # nor the artifacts
    with _client(server) as c:
        arts = c.read_artifacts(limit=200)
    blob = json.dumps([a.model_dump(mode="json") for a in arts])
    for s in secrets:
        assert s not in blob
    print(f"{len(runs)} flow runs, {len(logs)} log lines, {len(arts)} artifacts: no credential")


# ---- the UI, seen by headless Chromium ---------------------------------------------------
@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium over its DevTools protocol (test_schedules_fire.Chromium), with a window
    tall enough for a whole run form in one screenshot."""
    from tests.test_schedules_fire import Chromium

    b = Chromium("America/Los_Angeles")
    _viewport(b, FORM_HEIGHT)
    try:
        yield b
    finally:
        b.close()


FORM_HEIGHT = 1750  # px: the annual cycle's whole form


def _viewport(browser: Any, height: int) -> None:
    """The page's size (and the screenshot's): 1400 px wide, ``height`` tall."""
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        width=1400,
        height=height,
        deviceScaleFactor=1,
        mobile=False,
    )


FORMS = {
    "annual-cycle/yearly": "AnnualCycleParams",
    "community-checkpoint/quarterly": "CheckpointParams",
    "oversight-report/twice-yearly": "OversightParams",
}
# a nullable field or parameter: pydantic's "X | None" shown as a toggle of types
TOGGLES = ("str | None", "Property is type None", "Params | None", "Db Url", "Pdf")


def _selects(browser: Any) -> list[dict[str, Any]]:
    """Every choice field of the page (a select with options): its options and the one
    shown."""
    r = browser.call(
        "Runtime.evaluate",
        expression=(
            "Array.from(document.querySelectorAll('select')).filter(s => s.options.length)"
            ".map(s => ({"
            "options: Array.from(s.options).map(o => o.value), value: s.value,"
            "placeholder: s.className.includes('placeholder')}))"
        ),
        returnByValue=True,
    )
    return r["result"]["value"]


@pytest.mark.browser
def test_each_deployments_run_form_shows_titled_described_fields(
    server: Server, browser: Any
) -> None:
    """ "Run" → "Custom run" of each deployment: the form Prefect renders from the flow's
    parameter model shows every field's title and description as written (the UI renders
    descriptions as Markdown), every choice with its default shown, and no nullable toggle.
    Screenshots: tests/artifacts/forms/<flow>-<deployment>.png."""
    import flows.params

    deps = _deployments(server)
    for name, model_name in FORMS.items():
        model = getattr(flows.params, model_name)
        schema = model.model_json_schema()
        needles = [schema["description"]]
        choices = {}
        for prop in schema["properties"].values():
            needles += [prop["title"], prop["description"]]
            if "enum" in prop:
                choices[prop["title"]] = ([str(v) for v in prop["enum"]], str(prop["default"]))
        shot = ARTIFACTS / "forms" / f"{name.replace('/', '-')}.png"
        url = f"{server.ui}/deployments/deployment/{deps[name].id}/run"
        text = browser.show(url, needles, shot)
        missing = [n for n in needles if n not in text]
        assert not missing, f"{name}: the run form does not show {missing}:\n{text}"
        lines = set(text.splitlines())
        for t in TOGGLES:
            assert t not in text, f"{name}: the run form shows {t!r}:\n{text}"
        assert model_name not in text and "None" not in lines, f"{name}: a toggle:\n{text}"
        shown = _selects(browser)
        assert len(shown) == len(choices), (name, shown, choices)
        for sel, (title, (options, default)) in zip(shown, choices.items(), strict=True):
            assert sel["options"] == options, f"{name}: {title} offers {sel['options']}"
            assert sel["value"] == default and not sel["placeholder"], (name, title, sel)
        assert shot.stat().st_size > 10_000, shot
    # a run's job variables (e.g. {"env": {"SQIS_ANNUAL_TIMEOUT_HOURS": "12"}}) are in the
    # form's Additional Options (docs/operations.md, Timeouts)
    browser.call(
        "Runtime.evaluate",
        expression=(
            "Array.from(document.querySelectorAll('*')).filter(e => e.children.length === 0 "
            "&& e.textContent.trim() === 'Additional Options').forEach(e => e.click())"
        ),
    )
    deadline = time.monotonic() + 20
    while "Job Variables" not in browser.text() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "Job Variables" in browser.text(), browser.text()


@pytest.mark.browser
def test_ui_shows_the_runs_stage_logs_its_progress_and_the_automation(
    server: Server, cli_run: dict[str, Any], browser: Any
) -> None:
    """What docs/operations.md "Monitoring and alerts" shows: the Logs tab of the run
    ``sqis run`` made, its progress artifact, the automation. Screenshots:
    tests/artifacts/monitoring/."""
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from deployments.deploy import AUTOMATION

    shots = ARTIFACTS / "monitoring"
    fr_id = cli_run["id"]
    stages = [f"annual-cycle {YEAR}: {s}" for s in STAGES[:-1]]
    _viewport(browser, 1500)
    text = browser.show(f"{server.ui}/runs/flow-run/{fr_id}?tab=Logs", stages, shots / "logs.png")
    assert f"annual-cycle-{YEAR}" in text and "Completed" in text, text
    missing = [s for s in stages if s not in text]
    assert not missing, f"the Logs tab does not show {missing}:\n{text}"

    with _client(server) as c:
        (art,) = [
            a
            for a in c.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[uuid.UUID(fr_id)])
                )
            )
            if a.type == "progress"
        ]
    _viewport(browser, 600)
    text = browser.show(
        f"{server.ui}/artifacts/artifact/{art.id}",
        [f"progress-annual-cycle-{YEAR}", "100%"],
        shots / "progress.png",
    )
    assert f"progress-annual-cycle-{YEAR}" in text and "100%" in text, text

    _viewport(browser, 450)
    text = browser.show(f"{server.ui}/automations", [AUTOMATION], shots / "automations.png")
    assert AUTOMATION in text and "sqis-alerts" in text, text

    # the deployment's page shows its concurrency limit
    annual = _deployments(server)["annual-cycle/yearly"]
    _viewport(browser, 1000)
    text = browser.show(
        f"{server.ui}/deployments/deployment/{annual.id}",
        ["Concurrency Limit"],
        shots / "deployment.png",
    )
    assert re.search(r"Concurrency Limit\s+1\b", text), text
