"""The Oversight Panel report as a Prefect flow (METHODOLOGY.md "Oversight Panel").

Scheduled on the methodology's Oversight dates (1 November, 1 May; 07:00
America/Los_Angeles) without a year or term: the flow derives them from the run's
date. The report reads the results store only and is published as
``<out>/<year>/reports/oversight-<year>-<term>.html``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact
from prefect.runtime import flow_run

from flows.tagging import tag_flow_run, untagged_task_runs
from sqis import pipeline, years
from sqis.methodology import for_year
from sqis.settings import get_settings
from tasks.common import artifact_key
from tasks.stages import IO


def resolve(year: str | None, term: str | None) -> tuple[str, str]:
    """The year and term given, or the latest Oversight date on or before today.

    The fall meeting reviews the school year that just ended; the spring meeting the
    same determinations, half a year on: both report the latest computed year.
    """
    if year and term:
        years.start_of(year)
        return year, term
    from flows.annual_cycle import _any_methodology

    m = _any_methodology()
    today = datetime.now(ZoneInfo(m.communities.timezone)).date()
    cal_year, due_term = pipeline.term_due(today, m)
    reviewed = years.shift(cal_year, -1)
    return (year or reviewed), (term or due_term)


def _run_name() -> str:
    p = flow_run.parameters
    try:
        y, t = resolve(p.get("year"), p.get("term"))
    except Exception:
        return "oversight-report"
    return f"oversight-report-{y}-{t}"


@task(name="render-oversight", task_run_name="oversight-{year}-{term}", **IO)
def render(year: str, term: str, db_url: str) -> dict[str, bytes]:
    m = for_year(year, None, get_settings().methodology_dir)
    return pipeline.oversight(year, term, pipeline.open_store(db_url, upgrade=True), m)


@task(name="publish-oversight", task_run_name="publish-oversight-{year}-{term}", **IO)
def publish(year: str, term: str, files: dict[str, bytes], out_root: str) -> dict[str, str]:
    return pipeline.publish_more(year, files, out_root)


@flow(
    name="oversight-report",
    flow_run_name=_run_name,
    description="The Oversight Panel's report for a term, from the results store.",
)
def oversight_report(
    year: str | None = None,
    term: str | None = None,
    out_root: str | None = None,
    db_url: str | None = None,
) -> dict[str, Any]:
    """Render and publish the Oversight Panel report (year and term derived when empty)."""
    logger = get_run_logger()
    year, term = resolve(year, term)
    if term not in ("fall", "spring"):
        raise ValueError(f"term {term!r}: use fall or spring")
    s = get_settings()
    out = out_root or s.out_root
    tag_flow_run(f"year:{year}")
    with untagged_task_runs():  # flows.tagging
        files = render(year, term, db_url or s.database_url)
        sums = publish(year, term, files, out)
    for key in sorted(files):
        if key.endswith(".html"):
            create_link_artifact(
                link=pipeline.out_link(out, f"{year}/{key}"),
                link_text=f"Oversight Panel report {year} {term}",
                key=artifact_key("oversight", year, term),
            )
    logger.info("oversight report %s %s: %d file(s) in %s/%s", year, term, len(files), out, year)
    return {"year": year, "term": term, "out_root": out, "files": sorted(sums)}
