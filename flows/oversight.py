"""The Oversight Panel report as a Prefect flow (METHODOLOGY.md "Oversight Panel").

Scheduled on the methodology's Oversight dates (1 November, 1 May; 07:00
America/Los_Angeles) without a year or term: the flow derives the service year and the
term from the run's date (or ``as_of``). Each meeting of service year Y+1 reviews Y's
results and Y+1's follow-through (METHODOLOGY.md "Results year and service year"). The
report reads the results store only and joins the results year's publication as
``<out>/<Y>/reports/oversight-<Y+1>-<term>.html``; a re-run of Y keeps it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact
from prefect.runtime import flow_run

from flows.params import OversightParams, as_date, parameter_date
from flows.progress import Progress, to_prefect_api
from flows.tagging import tag_flow_run, untagged_task_runs
from sqis import links, reviews, school_calendar
from sqis import publish as publication
from sqis.methodology import Methodology, for_year, latest
from sqis.oversight import oversight, public_oversight
from sqis.publish import public_root_for
from sqis.settings import get_settings
from sqis.store import open_store
from sqis.years import SchoolYear
from tasks.common import artifact_key
from tasks.stages import IO


def resolve(
    year: str | None, term: str | None, as_of: date | None = None
) -> tuple[SchoolYear, str]:
    """The service year and term given, or those of the latest Oversight date on or before
    ``as_of`` (default: today's local date). The fall and spring meetings of a service
    year both review the results of the year before it. The flow's one parse of the year."""
    if year and term:
        return SchoolYear(year), term
    m = latest(get_settings().methodology_dir)
    day = parameter_date(as_of) or m.today()
    service, due_term = school_calendar.term_due(day, m)
    return SchoolYear(year or service), (term or due_term)


def _run_name() -> str:
    p = flow_run.parameters.get("params") or {}
    if not isinstance(p, dict):
        p = p.model_dump()
    term = None if p.get("term") in (None, "", "due") else p.get("term")
    try:
        y, t = resolve(p.get("year") or None, term, p.get("as_of") or None)
    except Exception:
        return "oversight-report"
    return f"oversight-report-{y}-{t}"


@task(name="render-oversight", task_run_name="oversight-{year}-{term}", **IO)
def render(year: SchoolYear, term: str, db_url: str, m: Methodology) -> dict[str, bytes]:
    """The report of the ``term`` meeting of service year ``year``."""
    return oversight(year, term, open_store(db_url, upgrade=True), m)


@task(name="render-public-oversight", task_run_name="public-oversight-{year}-{term}", **IO)
def render_public(year: SchoolYear, term: str, db_url: str, m: Methodology) -> dict[str, bytes]:
    """The public edition of the report (METHODOLOGY.md "Two editions")."""
    return public_oversight(year, term, open_store(db_url, upgrade=True), m)


@task(name="publish-oversight", task_run_name="publish-oversight-{year}-{term}", **IO)
def publish(year: SchoolYear, term: str, files: dict[str, bytes], out_root: str) -> dict[str, str]:
    """Add the report to the publication of the results year the meeting reviews (the staff
    edition under the out root, the public one under the public root)."""
    return publication.publish_more(year.results_year, files, out_root)


@flow(
    name="oversight-report",
    flow_run_name=_run_name,
    description="The Oversight Panel's report for a term, from the results store.",
    # the flow's return value and a failed run's exception stay out of Prefect's result
    # storage: nothing a run holds may be written where SECURITY.md cannot vouch for it
    persist_result=False,
    validate_parameters=True,
    timeout_seconds=get_settings().calendar_timeout_hours * 3600,
)
# params defaults to a model, not None: the run form shows its fields, no "| None" toggle
def oversight_report(params: OversightParams = OversightParams()) -> dict[str, Any]:
    """Render and publish the report of the ``term`` Oversight Panel meeting of service
    year ``year`` (both derived from the date — ``as_of``, default today — when empty)."""
    to_prefect_api()
    params = params or OversightParams()
    logger = get_run_logger()
    term_given = None if params.term == "due" else params.term
    year, term = resolve(params.year or None, term_given, as_date(params.as_of))
    s = get_settings()
    out = params.out_root or s.out_root
    public_root = public_root_for(out, params.public_root or s.public_root)
    # the methodology of the results year under review, chosen once for the whole run
    results = year.results_year
    m = for_year(results, None, s.methodology_dir)
    tag_flow_run(f"year:{year}")
    progress = Progress("oversight-report", f"{year}-{term}", 3, flow_run.id)
    with untagged_task_runs():  # flows.tagging
        files = render(year, term, s.database_url, m)
        public = render_public(year, term, s.database_url, m)
        progress.step("rendered")
        sums = publish(year, term, files, out)
        progress.step("staff edition published")
        publish(year, term, public, public_root)
    reviews.meeting_reported(s.database_url, year, term, m)  # the meeting is held
    for key in sorted(files):
        if key.endswith(".html"):
            create_link_artifact(
                link=links.out_link(out, f"{results}/{key}"),
                link_text=f"Oversight Panel report, {term} {year} ({results} results)",
                key=artifact_key("oversight", year, term),
            )
    progress.finish(f"{len(files)} file(s) published")
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
        "public_root": public_root,
        "files": sorted(sums),
        "public_files": sorted(public),
    }
