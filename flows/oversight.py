"""The Oversight Panel report as a Prefect flow (METHODOLOGY.md "Oversight Panel").

Scheduled on the methodology's Oversight dates (1 November, 1 May; 07:00
America/Los_Angeles) without a year or term: the flow derives the service year and the
term from the run's date (or ``as_of``). Each meeting of service year Y+1 reviews Y's
results and Y+1's follow-through (METHODOLOGY.md "Results year and service year"). The
report reads the results store only and joins the results year's publication as
``<out>/<Y>/reports/oversight-<Y+1>-<term>.html``; a re-run of Y keeps it.
"""

from __future__ import annotations

from datetime import date, datetime
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


def resolve(year: str | None, term: str | None, as_of: date | None = None) -> tuple[str, str]:
    """The service year and term given, or those of the latest Oversight date on or before
    ``as_of`` (default: today's local date). The fall and spring meetings of a service
    year both review the results of the year before it."""
    if year and term:
        years.start_of(year)
        return year, term
    from flows.annual_cycle import _any_methodology
    from flows.checkpoint import _day

    m = _any_methodology()
    day = _day(as_of) or datetime.now(ZoneInfo(m.communities.timezone)).date()
    service, due_term = pipeline.term_due(day, m)
    return (year or service), (term or due_term)


def _run_name() -> str:
    p = flow_run.parameters
    try:
        y, t = resolve(p.get("year"), p.get("term"), p.get("as_of"))
    except Exception:
        return "oversight-report"
    return f"oversight-report-{y}-{t}"


@task(name="render-oversight", task_run_name="oversight-{year}-{term}", **IO)
def render(year: str, term: str, db_url: str) -> dict[str, bytes]:
    """The report of the ``term`` meeting of service year ``year``."""
    m = for_year(years.results_year(year), None, get_settings().methodology_dir)
    return pipeline.oversight(year, term, pipeline.open_store(db_url, upgrade=True), m)


@task(name="publish-oversight", task_run_name="publish-oversight-{year}-{term}", **IO)
def publish(year: str, term: str, files: dict[str, bytes], out_root: str) -> dict[str, str]:
    """Add the report to the publication of the results year the meeting reviews."""
    return pipeline.publish_more(years.results_year(year), files, out_root)


@flow(
    name="oversight-report",
    flow_run_name=_run_name,
    description="The Oversight Panel's report for a term, from the results store.",
    # the flow's return value and a failed run's exception stay out of Prefect's result
    # storage: nothing a run holds may be written where SECURITY.md cannot vouch for it
    persist_result=False,
)
def oversight_report(
    year: str | None = None,
    term: str | None = None,
    out_root: str | None = None,
    db_url: str | None = None,
    as_of: date | None = None,
) -> dict[str, Any]:
    """Render and publish the report of the ``term`` Oversight Panel meeting of service
    year ``year`` (both derived from the date — ``as_of``, default today — when empty)."""
    logger = get_run_logger()
    year, term = resolve(year, term, as_of)
    if term not in ("fall", "spring"):
        raise ValueError(f"term {term!r}: use fall or spring")
    s = get_settings()
    out = out_root or s.out_root
    tag_flow_run(f"year:{year}")
    with untagged_task_runs():  # flows.tagging
        files = render(year, term, db_url or s.database_url)
        sums = publish(year, term, files, out)
    results = years.results_year(year)
    for key in sorted(files):
        if key.endswith(".html"):
            create_link_artifact(
                link=pipeline.out_link(out, f"{results}/{key}"),
                link_text=f"Oversight Panel report, {term} {year} ({results} results)",
                key=artifact_key("oversight", year, term),
            )
    logger.info(
        "oversight report %s %s (%s results): %d file(s) in %s/%s",
        year,
        term,
        results,
        len(files),
        out,
        results,
    )
    return {
        "year": year,
        "results_year": results,
        "term": term,
        "out_root": out,
        "files": sorted(sums),
    }
