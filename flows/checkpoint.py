"""A community-of-practice checkpoint as a Prefect flow (METHODOLOGY.md "Communities of
practice and checkpoints").

Scheduled on the methodology's four checkpoint dates (07:00, America/Los_Angeles)
without a year or number: the flow derives the school year and the checkpoint due on
the run's date. Records the checkpoint in the results store, writes one brief per
community under ``<out>/<year>/checkpoints/checkpoint-<n>/`` and leaves a Markdown
summary artifact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from flows.tagging import tag_flow_run, untagged_task_runs
from sqis import pipeline, years
from sqis.methodology import for_year
from sqis.settings import get_settings
from tasks.common import artifact_key, ensure_pseudonym_key
from tasks.stages import IO


def resolve(year: str | None, number: int | None) -> tuple[str, int]:
    """The year and checkpoint given, or those due on today's local date."""
    if year and number:
        years.start_of(year)
        return year, number
    from flows.annual_cycle import _any_methodology

    m = _any_methodology()
    today = datetime.now(ZoneInfo(m.communities.timezone)).date()
    due_year, due_number = pipeline.checkpoint_due(today, m)
    return (year or due_year), (number or due_number)


def _run_name() -> str:
    p = flow_run.parameters
    try:
        y, n = resolve(p.get("year"), p.get("number"))
    except Exception:
        return "community-checkpoint"
    return f"community-checkpoint-{y}-{n}"


@task(name="hold-checkpoint", task_run_name="checkpoint-{year}-{number}", **IO)
def hold_checkpoint(
    year: str, number: int, data_root: str | None, out_root: str, db_url: str
) -> tuple[int, list[str], str, bool]:
    """Record the checkpoint and write the briefs; returns counts and the summary."""
    from sqis.checkpoints import brief_markdown

    ensure_pseudonym_key()
    m = for_year(year, None, get_settings().methodology_dir)
    held = pipeline.checkpoint(
        year, number, data_root, pipeline.open_store(db_url, upgrade=True), m, out_root=out_root
    )
    return (
        held.recorded,
        list(held.written),
        brief_markdown(held.result),
        bool(held.interim_checksums),
    )


@flow(
    name="community-checkpoint",
    flow_run_name=_run_name,
    description="Hold a community-of-practice checkpoint: plans, attendance, interim data.",
)
def community_checkpoint(
    year: str | None = None,
    number: int | None = None,
    data_root: str | None = None,
    out_root: str | None = None,
    db_url: str | None = None,
) -> dict[str, Any]:
    """Hold checkpoint ``number`` of ``year`` (both derived from the date when empty)."""
    logger = get_run_logger()
    year, number = resolve(year, number)
    s = get_settings()
    out = out_root or s.out_root
    tag_flow_run(f"year:{year}")
    with untagged_task_runs():  # flows.tagging
        recorded, written, summary, interim = hold_checkpoint(
            year, number, data_root, out, db_url or s.database_url
        )
    create_markdown_artifact(
        summary,
        key=artifact_key("checkpoint", year, str(number)),
        description=f"Checkpoint {number} of {year}",
    )
    logger.info(
        "checkpoint %s of %s: %d school rows recorded, %d briefs, interim data %s",
        number,
        year,
        recorded,
        len(written),
        "read" if interim else "not delivered",
    )
    return {"year": year, "number": number, "recorded": recorded, "files": written}
