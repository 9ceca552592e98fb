"""A community-of-practice checkpoint as a Prefect flow (METHODOLOGY.md "Communities of
practice and checkpoints").

Scheduled on the methodology's four checkpoint dates (07:00, America/Los_Angeles)
without a year or number: the flow derives the service year and the checkpoint due on
the run's date (or on ``as_of``, to re-run a missed calendar day). The communities are
those formed from the year before's results (METHODOLOGY.md "Results year and service
year"). Records the checkpoint in the results store, publishes one brief per community
under ``<out>/<results year>/checkpoints/<service year>-checkpoint-<n>/`` and leaves a
Markdown summary artifact.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from flows.params import CheckpointParams, as_date, checkpoint_number, parameter_date
from flows.progress import Progress, to_prefect_api
from flows.tagging import tag_flow_run, untagged_task_runs
from sqis import school_calendar
from sqis.checkpoints.io import checkpoint
from sqis.methodology import for_year, latest
from sqis.settings import get_settings
from sqis.store import open_store
from sqis.years import SchoolYear
from tasks.common import artifact_key, ensure_pseudonym_key
from tasks.stages import IO


def resolve(
    year: str | None, number: int | str | None, as_of: date | None = None
) -> tuple[SchoolYear, int]:
    """The service year and checkpoint given (1–4; "due", 0 or None: the one due), or those
    due on ``as_of`` (default: today's local date). The flow's one parse of the year."""
    number = checkpoint_number(number)
    if year and number:
        return SchoolYear(year), number
    m = latest(get_settings().methodology_dir)
    day = as_of or m.today()
    due_year, due_number = school_calendar.checkpoint_due(day, m)
    return SchoolYear(year or due_year), (number or due_number)


def _run_name() -> str:
    p = flow_run.parameters.get("params") or {}
    if not isinstance(p, dict):
        p = p.model_dump()
    try:
        y, n = resolve(p.get("year"), p.get("number"), parameter_date(p.get("as_of")))
    except Exception:
        return "community-checkpoint"
    return f"community-checkpoint-{y}-{n}"


@task(name="hold-checkpoint", task_run_name="checkpoint-{year}-{number}", **IO)
def hold_checkpoint(
    year: SchoolYear, number: int, data_root: str | None, out_root: str, db_url: str
) -> tuple[int, list[str], str, bool]:
    """Record checkpoint ``number`` of service year ``year`` and publish the briefs;
    returns counts and the summary."""
    from sqis.checkpoints.markdown import brief_markdown

    ensure_pseudonym_key()
    m = for_year(year.results_year, None, get_settings().methodology_dir)
    done = checkpoint(
        year, number, data_root, open_store(db_url, upgrade=True), m, out_root=out_root
    )
    return (
        done.held.recorded,
        done.written,
        brief_markdown(done.held.result),
        bool(done.held.interim_checksums),
    )


@flow(
    name="community-checkpoint",
    flow_run_name=_run_name,
    description="Hold a community-of-practice checkpoint: plans, attendance, interim data.",
    # the flow's return value and a failed run's exception stay out of Prefect's result
    # storage: nothing a run holds may be written where SECURITY.md cannot vouch for it
    persist_result=False,
    validate_parameters=True,
    timeout_seconds=get_settings().calendar_timeout_hours * 3600,
)
# params defaults to a model, not None: the run form shows its fields, no "| None" toggle
def community_checkpoint(params: CheckpointParams = CheckpointParams()) -> dict[str, Any]:
    """Hold checkpoint ``number`` of service year ``year`` (both derived from the date —
    ``as_of``, default today — when empty)."""
    to_prefect_api()
    params = params or CheckpointParams()
    logger = get_run_logger()
    year, number = resolve(params.year, params.number, as_date(params.as_of))
    s = get_settings()
    out = params.out_root or s.out_root
    tag_flow_run(f"year:{year}")
    progress = Progress("community-checkpoint", f"{year}-{number}", 2, flow_run.id)
    with untagged_task_runs():  # flows.tagging
        recorded, written, summary, interim = hold_checkpoint(
            year, number, params.data_root or None, out, s.database_url
        )
    progress.step("checkpoint recorded and briefs published")
    results = year.results_year
    create_markdown_artifact(
        summary,
        key=artifact_key("checkpoint", year, str(number)),
        description=f"Checkpoint {number} of {year} ({results} results)",
    )
    logger.info(
        "checkpoint %s of %s (%s results): %d school rows recorded, %d briefs, interim data %s",
        number,
        year,
        results,
        recorded,
        len(written),
        "read" if interim else "not delivered",
    )
    progress.finish(f"{recorded} school rows, {len(written)} briefs")
    return {"year": year, "number": number, "recorded": recorded, "files": written}
