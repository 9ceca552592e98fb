"""The annual-cycle flow under Prefect's test harness: names, tags, artifacts, task-run counts."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from sqis import publish as publication
from sqis import school_calendar, years
from tests.test_pipeline import generate

YEAR = "2015-16"


@pytest.fixture(scope="module")
def own_tmp() -> Iterator[Path]:
    """A private temporary folder (pytest's basetemp is rotated by concurrent sessions)."""
    with tempfile.TemporaryDirectory(prefix="sqis-flows-") as d:
        yield Path(d)


@pytest.fixture(scope="module")
def small(own_tmp: Path) -> Path:
    return generate(own_tmp / "small", students=1500, districts=2, seed=11)


@pytest.fixture(scope="module")
def large(own_tmp: Path) -> Path:
    return generate(own_tmp / "large", students=4000, districts=2, seed=11)


@pytest.fixture
def work(own_tmp: Path, request: pytest.FixtureRequest) -> Path:
    d = own_tmp / request.node.name
    d.mkdir()
    return d


def _run(data: Path, tmp: Path, **kw: Any) -> Any:
    """One annual cycle with its own results store, store root and out root under ``tmp``."""

    from flows.annual_cycle import annual_cycle
    from flows.params import AnnualCycleParams
    from sqis.settings import reset_settings_cache

    os.environ["SQIS_STORE_ROOT"] = str(tmp / "store")  # conftest restores it per test
    os.environ["SQIS_DATABASE_URL"] = f"sqlite:///{tmp / 'r.db'}"  # a setting, not a parameter
    reset_settings_cache()

    params = AnnualCycleParams(
        year=YEAR,
        data_root=str(data),
        out_root=str(tmp / "out"),
        pdf="none",
        force="test: the last year alone on a fresh store",
        **kw,
    )
    return annual_cycle(params, return_state=True)


def _flow_run(state: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as c:
        return c.read_flow_run(state.state_details.flow_run_id)


def _task_runs(flow_run_id: Any) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as c:
        return c.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )


def _artifacts(flow_run_id: Any) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as c:
        arts = c.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a for a in arts}


def _districts(data: Path) -> list[str]:
    import pandas as pd

    s = pd.read_csv(data / YEAR / "schools.csv", dtype=str)
    return sorted(s["district_code"].unique())


def test_annual_cycle_completes_named_tagged_with_artifacts(
    harness: None, small: Path, work: Path
) -> None:
    from prefect import tags

    with tags("sqis", "cli"):  # as `sqis run` starts it
        state = _run(small, work)
    assert state.is_completed(), state.message
    fr = _flow_run(state)
    assert fr.name == f"annual-cycle-{YEAR}"
    assert {f"year:{YEAR}", "sqis", "cli"} <= set(fr.tags)

    runs = _task_runs(fr.id)
    # task runs carry no tags, not even the caller's: Prefect would ask the API for a
    # concurrency slot per tag and task run (flows/tagging.py); their names tell the stage
    assert [r.name for r in runs if r.tags] == []
    names = {r.name for r in runs}
    stages = ("ingest", "growth", "designate", "support", "communities", "store-results", "publish")
    for stage in stages:
        assert f"{stage}-{YEAR}" in names
    assert {f"index-{YEAR}-{d}" for d in _districts(small)} <= names
    # METHODOLOGY.md "Educator effectiveness": a task per district, none per educator
    assert {f"educators-{YEAR}-{d}" for d in _districts(small)} <= names
    assert sum(n.startswith(f"educators-{YEAR}-") for n in names) == len(_districts(small))
    assert f"educator-files-{YEAR}" in names
    assert all(r.state.is_completed() for r in runs)

    arts = _artifacts(fr.id)
    districts = _districts(small)
    expected = {f"validation-{YEAR}", f"index-distribution-{YEAR}", f"designations-{YEAR}"}
    expected |= {f"reports-{YEAR}"}
    assert expected <= set(arts)
    assert arts[f"index-distribution-{YEAR}"].type == "markdown"
    assert arts[f"validation-{YEAR}"].type == "table"
    links = arts[f"reports-{YEAR}"]
    for d in districts:  # one table, a link per district
        assert f"reports/districts/{d}.html" in str(links.data)
    # the run returns where the results went, and they are there
    res = state.result()
    assert (Path(res["out_root"]) / YEAR / "manifest.json").exists()
    staff = Path(res["out_root"]) / YEAR
    for f in ("educators.csv", "educator-distribution.csv", "educator-actions.csv",
              "reports/educators/consortium.html"):  # fmt: skip
        assert (staff / f).exists(), f
    assert (Path(res["public_root"]) / YEAR / "educator-distribution.csv").exists()
    # METHODOLOGY.md "Support for schools missing their goal", "Escalation": both editions
    for f in ("goal_support.csv", "partnership_flags.csv"):
        assert (staff / f).read_bytes() == (Path(res["public_root"]) / YEAR / f).read_bytes()


def test_the_flow_and_run_year_walk_the_same_stages_to_the_same_bytes(
    small: Path, own_tmp: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both paths walk ``sqis.year_stages.walk_year``: the same stages, in order, and every
    file of both editions byte-identical (issue 22: the flow cannot drift from the plain
    path); the flow's district reports rendered by two worker processes, run_year's in its
    own process (sqis.render_workers)."""
    from sqis import pipeline
    from sqis.render_workers import RenderWorkers
    from sqis.settings import reset_settings_cache
    from sqis.year_stages import STAGE_NAMES
    from tests.consortium import run_config

    seen: list[str] = []
    plain = pipeline.run_year(
        YEAR, run_config(work / "plain", small), on_stage=lambda name, info: seen.append(name)
    )
    assert tuple(seen) == STAGE_NAMES
    monkeypatch.setenv("SQIS_RENDER_WORKERS", "2")
    reset_settings_cache()
    in_workers: list[int] = []
    submit = RenderWorkers.submit

    def counted(self: RenderWorkers, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        in_workers.append(self.workers)
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(RenderWorkers, "submit", counted)
    state = _run(small, work / "flow")
    assert in_workers and set(in_workers) == {2}  # every district's reports, in a worker
    res = state.result()
    assert res["output_checksums"] == plain.output_checksums
    staff = sorted(k for k in plain.output_checksums if not k.startswith(publication.PUBLIC_PREFIX))
    assert staff and len(staff) < len(plain.output_checksums)  # both editions compared


def test_task_runs_grow_with_districts_not_with_schools(
    harness: None, small: Path, large: Path, work: Path
) -> None:
    import pandas as pd

    n_small = pd.read_csv(small / YEAR / "students.csv").shape[0]
    n_large = pd.read_csv(large / YEAR / "students.csv").shape[0]
    s_small = pd.read_csv(small / YEAR / "schools.csv").shape[0]
    s_large = pd.read_csv(large / YEAR / "schools.csv").shape[0]
    assert n_large > 2 * n_small and s_large > s_small  # really a bigger consortium
    assert _districts(small) == _districts(large)

    a = _run(small, work / "a")
    b = _run(large, work / "b")
    assert a.is_completed() and b.is_completed()
    names_a = sorted(r.name for r in _task_runs(_flow_run(a).id))
    names_b = sorted(r.name for r in _task_runs(_flow_run(b).id))
    assert len(names_a) == len(names_b)
    # per-district stages: one task run per district and stage
    assert sum(n.startswith(f"index-{YEAR}-") for n in names_a) == len(_districts(small))
    assert sum(n.startswith(f"reports-{YEAR}-") for n in names_a) == len(_districts(small))


def test_an_invalid_delivery_fails_the_flow_with_the_validation_summary(
    harness: None, small: Path, work: Path
) -> None:
    bad = work / "bad"
    shutil.copytree(small, bad)
    schools = bad / YEAR / "schools.csv"
    lines = schools.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("school_type")] = "XX"  # not ES/MS/HS
    lines[1] = ",".join(row)
    schools.write_text("\n".join(lines) + "\n", encoding="utf-8")

    state = _run(bad, work)
    assert state.is_failed()
    assert "does not meet the data contract" in state.message or "schools" in state.message
    fr = _flow_run(state)
    arts = _artifacts(fr.id)
    table = arts[f"validation-{YEAR}"]
    assert "school_type" in str(table.data)
    assert "XX" not in str(table.data)  # counts only, never values


# ---- the command line -----------------------------------------------------------------
def test_sqis_run_refuses_a_missing_delivery_in_one_line(work: Path) -> None:
    from typer.testing import CliRunner

    from sqis_cli.app import app

    res = CliRunner().invoke(app, ["run", "--data", str(work), "--year", YEAR, "--pdf", "none"])
    assert res.exit_code == 2
    assert f"no delivery for {YEAR}" in res.output
    assert "Traceback" not in res.output


def test_sqis_cycle_refuses_a_backwards_range(work: Path) -> None:
    from typer.testing import CliRunner

    from sqis_cli.app import app

    res = CliRunner().invoke(
        app, ["cycle", "--data", str(work), "--from", "2016-17", "--to", "2015-16"]
    )
    assert res.exit_code == 2
    assert "runs backwards" in res.output


def test_sqis_run_reports_a_failed_flow_without_a_traceback(
    harness: None, small: Path, work: Path
) -> None:
    from typer.testing import CliRunner

    from sqis_cli.app import app

    bad = work / "bad"
    shutil.copytree(small, bad)
    (bad / YEAR / "students.csv").write_text("student_id,school_code\n1,2\n", encoding="utf-8")
    res = CliRunner().invoke(
        app,
        [
            "run",
            "--data",
            str(bad),
            "--year",
            YEAR,
            "--out",
            str(work / "out"),
            "--db",
            f"sqlite:///{work / 'r.db'}",
            "--pdf",
            "none",
            "--force",
            "test: the last year alone on a fresh store",
        ],
    )
    assert res.exit_code == 1
    assert f"error: {YEAR}:" in res.output and "data contract" in res.output
    assert "Traceback" not in res.output
    # one line for the failure: not Prefect's task and flow lines as well
    assert res.output.count("data contract") == 1, res.output


def test_a_rerun_over_the_same_inputs_reuses_the_cached_stages(
    harness: None, small: Path, work: Path
) -> None:
    first = _run(small, work)
    again = _run(small, work)
    assert first.is_completed() and again.is_completed()
    states = {r.name: r.state.name for r in _task_runs(_flow_run(again).id)}
    cached = {n for n, s in states.items() if s == "Cached"}
    assert f"growth-{YEAR}" in cached and f"designate-{YEAR}" in cached
    assert {n for n in states if n.startswith(f"index-{YEAR}-")} <= cached
    # I/O stages are never cached: the store is written and the files published again
    assert states[f"store-results-{YEAR}"] == "Completed"
    assert states[f"publish-{YEAR}"] == "Completed"
    assert first.result()["output_checksums"].keys() == again.result()["output_checksums"].keys()


def test_checkpoint_and_oversight_flows_after_the_annual_run(
    harness: None, small: Path, work: Path
) -> None:
    from flows.checkpoint import community_checkpoint
    from flows.oversight import oversight_report
    from flows.params import CheckpointParams, OversightParams
    from sqis.store import ResultsStore

    assert _run(small, work).is_completed()
    db = f"sqlite:///{work / 'r.db'}"
    out = work / "out"
    communities = ResultsStore(db).read("communities", [YEAR])
    assert len(communities), "the small consortium has a FOCUS school in a community"

    # the service year after the results year: its checkpoints and Oversight meetings
    service = years.service_year(YEAR)
    state = community_checkpoint(
        CheckpointParams(year=service, number=1, out_root=str(out)), return_state=True
    )
    assert state.is_completed(), state.message
    res = state.result()
    assert res["recorded"] == len(communities)
    assert res["files"] and all(k.startswith(f"{YEAR}/checkpoints/") for k in res["files"])
    assert all((out / k).exists() for k in res["files"])
    fr = _flow_run(state)
    assert fr.name == f"community-checkpoint-{service}-1"
    assert f"year:{service}" in fr.tags and not any(r.tags for r in _task_runs(fr.id))
    assert f"checkpoint-{service}-1" in _artifacts(fr.id)
    held = ResultsStore(db).read("checkpoints", [service])
    assert set(held["number"]) == {1}

    import json

    for term in ("fall", "spring"):
        state = oversight_report(
            OversightParams(year=service, term=term, out_root=str(out)), return_state=True
        )
        assert state.is_completed(), state.message
        assert (out / YEAR / "reports" / f"oversight-{service}-{term}.html").exists()
    # added to the results year's publication: the manifest lists both meetings and briefs
    keys = {f["key"] for f in json.loads((out / YEAR / "manifest.json").read_text())["files"]}
    assert {f"reports/oversight-{service}-{t}.html" for t in ("fall", "spring")} <= keys
    # the meetings are held: the Panel's decisions on them can be recorded (sqis.reviews)
    assert sorted(ResultsStore(db).read("oversight_meetings", [service])["term"]) == [
        "fall",
        "spring",
    ]
    assert {k.removeprefix(f"{YEAR}/") for k in res["files"]} <= keys
    fr = _flow_run(state)
    assert fr.name == f"oversight-report-{service}-spring"
    assert f"year:{service}" in fr.tags and not any(r.tags for r in _task_runs(fr.id))

    # an Oversight meeting of a service year whose results were never run: refused
    from sqis.run_control import NoResults

    later = years.shift(YEAR, 3)
    with pytest.raises(NoResults, match=f"run the year first .*--year {later}"):
        oversight_report(
            OversightParams(year=years.service_year(later), term="fall", out_root=str(out))
        )
    assert not (out / later).exists()


def test_scheduled_flows_without_a_year_take_it_from_the_date() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from flows import annual_cycle, checkpoint, oversight
    from sqis import years
    from sqis.methodology import for_year

    m = for_year("2015-16")
    today = datetime.now(ZoneInfo("America/Los_Angeles")).date()
    assert checkpoint.resolve(None, None) == school_calendar.checkpoint_due(today, m)
    assert oversight.resolve(None, None) == school_calendar.term_due(today, m)
    assert checkpoint.resolve("2015-16", 3) == ("2015-16", 3)
    # a date to run as: the service year and the checkpoint or meeting due on it
    assert checkpoint.resolve(None, None, date(2016, 10, 15)) == ("2016-17", 1)
    assert checkpoint.resolve(None, None, date(2017, 6, 30)) == ("2016-17", 4)
    assert oversight.resolve(None, None, date(2016, 11, 1)) == ("2016-17", "fall")
    assert oversight.resolve(None, None, date(2017, 5, 2)) == ("2016-17", "spring")
    assert annual_cycle.resolve_year(None, None, date(2016, 8, 15)) == "2015-16"
    assert annual_cycle.resolve_year(None, None, date(2016, 6, 30)) == "2014-15"
    assert (
        years.service_year(annual_cycle.resolve_year(None, None, date(2016, 8, 15)))
        == (checkpoint.resolve(None, None, date(2016, 10, 15))[0])
    )


def test_district_tasks_at_once_are_bounded_by_the_workers_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unbounded, every district's task would start at once and hold its frames."""
    from flows.annual_cycle import annual_cycle
    from sqis.settings import get_settings, reset_settings_cache

    assert annual_cycle.task_runner._max_workers == get_settings().workers()
    monkeypatch.setenv("SQIS_DISTRICT_WORKERS", "3")
    reset_settings_cache()
    assert get_settings().workers() == 3
    monkeypatch.delenv("SQIS_DISTRICT_WORKERS")
    reset_settings_cache()
    assert get_settings().workers() == 1  # one thread: the district work holds the GIL


def test_district_task_arguments_are_not_walked_on_the_thread_pool(harness: None) -> None:
    """``whole`` stops Prefect's walk through a large argument on the thread pool (and
    leaves it alone elsewhere: Dask would turn the annotation into a plain tuple)."""
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect.utilities.annotations import opaque

    from flows.annual_cycle import whole

    @task
    def seen(value: dict[str, int]) -> dict[str, int]:
        return value

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def passes() -> tuple[bool, dict[str, int]]:
        arg = whole({"a": 1})
        return isinstance(arg, opaque), seen.submit(arg).result()

    assert passes() == (True, {"a": 1})  # annotated, and the task gets the value itself
    assert whole({"a": 1}) == {"a": 1}  # outside a flow: the value
