"""The stages of one year as Prefect tasks: each a thin wrapper over a stage function
(``sqis.year_inputs``, ``sqis.index_stage``, ``sqis.determinations``, ``sqis.report_reads``,
``sqis.year_outputs``).

- I/O tasks (ingest, the results store, publishing) retry with exponential backoff,
  but only on transient errors (a storage or database hiccup): an invalid delivery or
  a held lock fails at once, with its message.
- Compute tasks (growth, district index, designations, communities) are cached on a
  key built from checksums (``tasks.common.cache_token``); their results are persisted
  for the next run and kept in memory for this one (the flow lets go of them after each
  stage).
- Every other task has no cache policy (``NO_CACHE``): Prefect's default policy would
  hash each call's inputs — whole tables, every report's bytes — for nothing.
- Artifacts are created by the flow (``flows/annual_cycle.py``) from these results, so
  that tasks can run on Dask workers without an API connection.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from sqis import (
    determinations,
    index_stage,
    pipeline,
    report_reads,
    run_control,
    runs,
    year_inputs,
    year_outputs,
)
from sqis import publish as publication
from sqis.indicators import BySchool
from sqis.methodology import Methodology
from sqis.report_frames import ReportFrames
from sqis.store import open_store
from sqis.years import SchoolYear
from tasks.common import (
    IO_RETRIES,
    IO_RETRY_DELAY,
    IO_RETRY_JITTER,
    ensure_pseudonym_key,
    key_from_token,
)


def transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only what may pass on a second try: storage, network and database hiccups."""
    from sqlalchemy.exc import OperationalError

    from sqis.storage import ObjectNotFound, StorageError

    try:
        state.result()
    except Exception as e:
        # the error itself or what caused it (a PublishError raised from a StorageError)
        seen: BaseException | None = e
        while seen is not None:
            if isinstance(seen, ObjectNotFound):
                return False
            if isinstance(seen, StorageError | OperationalError | ConnectionError | TimeoutError):
                return True
            seen = seen.__cause__
        return False
    return False


# the task options of I/O and of computed stages (dict[str, Any]: **-spread into @task)
IO: dict[str, Any] = dict(
    cache_policy=NO_CACHE,
    retries=IO_RETRIES,
    retry_delay_seconds=IO_RETRY_DELAY,
    retry_jitter_factor=IO_RETRY_JITTER,
    retry_condition_fn=transient,
)
CACHED: dict[str, Any] = dict(cache_key_fn=key_from_token, persist_result=True)


@task(name="ingest", task_run_name="ingest-{year}", **IO)
def ingest(
    year: SchoolYear, data_root: str, store_root: str, replace: bool, m: Methodology
) -> year_inputs.Inputs:
    """Validate and store the delivery (and the two years before when delivered)."""
    ensure_pseudonym_key()
    return year_inputs.ingest(year, data_root, store_root=store_root, replace=replace, m=m)


@task(name="start-run", task_run_name="start-run-{year}", **IO)
def begin_run(year: SchoolYear, m: Methodology, cfg: pipeline.RunConfig) -> runs.Began:
    """Check the run may go ahead and take the year's lock, before anything is ingested
    (``sqis.runs.begin_run``; a lock left by a dead run is taken over)."""
    from tasks.liveness import flow_run_alive

    ensure_pseudonym_key()
    store = open_store(cfg.db_url, upgrade=True)
    return runs.begin_run(store, year, m, cfg, flow_run_alive=flow_run_alive)


@task(name="record-inputs", task_run_name="record-inputs-{year}", **IO)
def record_inputs(
    year: SchoolYear, db_url: str, run_id: int, input_checksums: dict[str, str]
) -> dict[str, Any]:
    """Record what the run read (and the earlier year it depends on); returns that."""
    store = open_store(db_url)
    depends = runs.depends_on_for(store, year)
    store.record_inputs(run_id, input_checksums, depends)
    return depends


@task(name="abandon-run", task_run_name="abandon-run-{year}", **IO)
def abandon_run(year: SchoolYear, db_url: str, run_id: int) -> None:
    """Forget a run whose delivery was refused: the database is as it was."""
    open_store(db_url).abandon_run(run_id)


@task(name="prior-results", task_run_name="prior-results-{year}", **IO)
def prior_results(year: SchoolYear, db_url: str) -> year_inputs.Prior:
    """Last year's determinations, from the results store."""
    return year_inputs.prior_results(open_store(db_url), year)


@task(name="growth", task_run_name="growth-{year}", **CACHED)
def growth(
    year: SchoolYear, inputs: year_inputs.Inputs, m: Methodology, token: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The growth model, consortium-wide, fitted once: the school growth indicators and,
    from the same residuals, every educator's growth measure and rating (METHODOLOGY.md
    "Educator effectiveness"; empty without educator files)."""
    return index_stage.growth_and_educators(inputs, m)


@task(name="district-index", task_run_name="index-{year}-{district}", **CACHED)
def district_index(
    year: SchoolYear,
    inputs: year_inputs.Inputs,
    growth_frame: pd.DataFrame | BySchool,
    prior: year_inputs.Prior,
    m: Methodology,
    district: str,
    token: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Indicators, levels and SQII for one district's schools (``growth_frame``: the
    growth rows, as ``sqis.indicators.BySchool`` when every district is handed them)."""
    return index_stage.district_index(inputs, growth_frame, prior, m, district)


@task(name="district-educators", task_run_name="educators-{year}-{district}", **CACHED)
def district_educators(
    year: SchoolYear,
    measures: pd.DataFrame | BySchool,
    schools: pd.DataFrame,
    m: Methodology,
    district: str,
    token: str,
) -> pd.DataFrame:
    """One district's educators: summative scores, levels and flags under its option
    (``measures`` as ``sqis.indicators.BySchool`` when every district is handed them)."""
    return index_stage.district_educators(measures, schools, m, district)


@task(name="designate", task_run_name="designate-{year}", **CACHED)
def designate(
    year: SchoolYear,
    inputs: year_inputs.Inputs,
    indicators: pd.DataFrame,
    index: pd.DataFrame,
    prior: year_inputs.Prior,
    m: Methodology,
    token: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Designations → escalation → Reward partners, consortium-wide."""
    return determinations.designate(inputs, indicators, index, prior, m)


@task(name="support", task_run_name="support-{year}", **CACHED)
def support(
    year: SchoolYear,
    inputs: year_inputs.Inputs,
    indicators: pd.DataFrame,
    designations: pd.DataFrame,
    m: Methodology,
    token: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Support partners for schools missing their goal; required partnerships not formed."""
    return determinations.support(inputs, indicators, designations, m)


@task(name="communities", task_run_name="communities-{year}", **CACHED)
def communities(
    year: SchoolYear, designations: pd.DataFrame, schools: pd.DataFrame, m: Methodology, token: str
) -> pd.DataFrame:
    """Communities of practice and their checkpoint schedule."""
    return determinations.communities(designations, schools, year, m)


@task(name="store-results", task_run_name="store-results-{year}", **IO)
def store_results(
    year: SchoolYear, db_url: str, run_id: int, tables: determinations.YearTables, m: Methodology
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Replace the year's rows in the results store, in one transaction; DRAFT plans.

    Returns what it replaces (the year's rows, the service year's plans), read just before,
    for ``run_control.Undo`` should a later stage fail.
    """
    from sqis import run_control

    store = open_store(db_url)
    before = run_control.Undo(year, None)
    before.snapshot(store, determinations.TABLES)
    determinations.store_results(store, run_id, tables, m)
    assert before.previous_rows is not None and before.plans_before is not None
    return before.previous_rows, before.plans_before


@task(name="exports", task_run_name="exports-{year}", cache_policy=NO_CACHE)
def exports(
    year: SchoolYear,
    tables: determinations.YearTables,
    m: Methodology,
    held: pd.DataFrame | None = None,
) -> dict[str, bytes]:
    """The contract's CSV exports (``held``: the service year's checkpoints held so far)."""
    return year_outputs.exports(tables, m, held)


@task(name="educator-files", task_run_name="educator-files-{year}", **IO)
def educator_files(
    year: SchoolYear, db_url: str, m: Methodology, produced: str
) -> dict[str, bytes]:
    """The staff edition's educator-actions.csv and educator pages, from the results store
    (METHODOLOGY.md "Educator effectiveness")."""
    return year_outputs.educator_staff_files(open_store(db_url), year, m, produced)


@task(name="calendars", task_run_name="calendars-{year}", cache_policy=NO_CACHE)
def calendars(
    year: SchoolYear, tables: determinations.YearTables, m: Methodology
) -> dict[str, bytes]:
    """The service year's iCalendar files: communities' checkpoints, Symposium, Convening."""
    return year_outputs.calendars(tables, m)


@task(name="report-frames", task_run_name="report-frames-{year}", **IO)
def report_frames(year: SchoolYear, db_url: str, m: Methodology) -> ReportFrames:
    """What the reports show, read once from the results store (the flow splits it by
    district). Not cached: plan approvals and checkpoints change in the store between
    runs without any input changing."""
    return report_reads.report_frames(open_store(db_url), year, m=m)


@task(name="district-reports", task_run_name="reports-{year}-{district}", cache_policy=NO_CACHE)
def district_reports(
    year: SchoolYear,
    frames: ReportFrames | None,
    m: Methodology,
    pdf: str,
    produced: str,
    district: str,
    rendering: Future[dict[str, bytes]] | None = None,
) -> dict[str, bytes]:
    """One district's school reports, data reports and district index, from its frames.

    ``rendering``: the district's reports already on their way in a render worker
    (``sqis.render_workers``; the flow starts every district's at once, so that the workers
    render side by side while the thread pool runs these tasks one at a time): the task
    waits for them, and fails with the worker's error."""
    if rendering is not None:
        return rendering.result()
    if frames is None:
        raise ValueError(f"district {district}: neither its frames nor its rendering")
    return year_outputs.reports(frames, m, pdf=pdf, produced=produced)


@task(name="publish", task_run_name="publish-{year}", **IO)
def publish(
    year: SchoolYear, files: dict[str, bytes], out_root: str, store_id: str
) -> dict[str, str]:
    """Write the files under the out root (staging, manifest last), keeping the checkpoint
    briefs and Oversight reports already published for the year; returns the checksums."""
    manifest = publication.publish_run(year, files, out_root, store_id)
    return publication.manifest_checksums(manifest, files)


@task(name="public-edition", task_run_name="public-edition-{year}", cache_policy=NO_CACHE)
def public_edition(
    year: SchoolYear,
    tables: determinations.YearTables,
    frames: ReportFrames,
    m: Methodology,
    produced: str,
) -> dict[str, bytes]:
    """The year's public edition (METHODOLOGY.md "Two editions"): the report frames through
    ``sqis.disclosure.public_frames``, then public reports, district pages and CSVs."""
    return year_outputs.public_files(tables, frames, m, produced)


@task(name="publish-public", task_run_name="publish-public-{year}", **IO)
def publish_public(
    year: SchoolYear, files: dict[str, bytes], public_root: str, store_id: str
) -> dict[str, str]:
    """Write the public edition under the public root (its own manifest), keeping the
    public Oversight reports already published; checksums keyed ``public/<key>``."""
    manifest = publication.publish_run(year, files, public_root, store_id)
    return publication.public_checksums(manifest, files)


@task(name="fail-run", task_run_name="fail-run-{year}", **IO)
def fail_run(year: SchoolYear, db_url: str, run_id: int, undo: run_control.Undo) -> None:
    """Put back what the failed run changed (``run_control.Undo``), then mark it FAILED."""
    runs.fail_run(open_store(db_url), run_id, undo)


@task(name="finish-run", task_run_name="finish-run-{year}-{status}", **IO)
def finish_run(
    year: SchoolYear, db_url: str, run_id: int, status: str, output_checksums: dict[str, str] | None
) -> None:
    """Record how the run ended (and, when it succeeded, its output checksums)."""
    open_store(db_url).finish_run(run_id, status, output_checksums=output_checksums)
