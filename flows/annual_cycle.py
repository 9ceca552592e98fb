"""The annual cycle: one school year's accountability run, as a Prefect flow.

ingest + validate → compute the index (growth consortium-wide, then per district) →
designate, escalate, partner → communities → store results (one transaction) →
reports (per district) and the fall Oversight report → publish (manifest last).

The order of the stages is ``sqis.year_stages.walk_year``, which
``sqis.pipeline.run_year`` walks too without Prefect: this flow gives it
:class:`TaskSteps` (a task per step and district); the work lives in the stage modules
(``tasks.stages`` names them). Task runs grow with stages and districts, never with schools or
students. Each stage leaves an artifact: the validation summary, the SQII
distribution, the designations, and one table of links to every district's reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import opaque

from flows.params import AnnualCycleParams, as_date, parameter_date
from flows.progress import Progress, to_prefect_api
from flows.tagging import tag_flow_run, untagged_task_runs
from sqis import links, pipeline, run_control, school_calendar, year_outputs
from sqis.codes import CONTRACT_FILES
from sqis.determinations import YearTables
from sqis.errors import SqisError
from sqis.index_stage import combine, educators_stage
from sqis.indicators import BySchool
from sqis.methodology import Methodology, for_year, latest
from sqis.render_workers import RenderWorkers
from sqis.report_frames import ReportFrames
from sqis.settings import get_settings
from sqis.year_inputs import EARLIER_YEAR_FILES, Inputs, Prior
from sqis.year_stages import walk_year
from sqis.years import SchoolYear
from tasks import stages
from tasks.common import artifact_key, cache_token

# the annual cycle's steps besides its districts' index and reports tasks (flows.progress)
FIXED_STEPS = 11


class ValidationFailed(RuntimeError, SqisError):
    """The year's delivery did not validate; the validation summary artifact lists why."""


def resolve_year(
    year: str | None, methodology: str | None = None, as_of: date | None = None
) -> str:
    """The results year given, or the school year that ended before ``as_of`` (default:
    today's local date in the methodology's time zone)."""
    if year:
        return year
    newest = latest(get_settings().methodology_dir)
    day = as_of or newest.today()
    # the methodology that applies on the day knows when school years start
    m = for_year(school_calendar.school_year_of(day, newest), methodology)
    return school_calendar.year_just_ended(day, m)


def _run_name() -> str:
    p = flow_run.parameters.get("params") or {}
    if not isinstance(p, dict):
        p = p.model_dump()
    try:
        year = resolve_year(p.get("year"), p.get("methodology"), parameter_date(p.get("as_of")))
        return f"annual-cycle-{year}"
    except Exception:
        return "annual-cycle"


@flow(
    name="annual-cycle",
    flow_run_name=_run_name,
    description="One school year: ingest, index, designations, communities, reports, publish.",
    # the flow's return value and a failed run's exception stay out of Prefect's result
    # storage: nothing a run holds may be written where SECURITY.md cannot vouch for it
    persist_result=False,
    validate_parameters=True,
    # district tasks at once: SQIS_DISTRICT_WORKERS, by default one. An unbounded pool
    # would start every district together — 200 at state scale — each holding its frames,
    # for no speed on a GIL-bound workload (BENCHMARKS.md "Hot spots"); Dask's worker
    # processes are the way to more cores (with_task_runner).
    task_runner=ThreadPoolTaskRunner(max_workers=get_settings().workers()),
    # a hung run must not hold its year's lock for ever (SQIS_ANNUAL_TIMEOUT_HOURS)
    timeout_seconds=get_settings().annual_timeout_hours * 3600,
)
def annual_cycle(params: AnnualCycleParams) -> dict[str, Any]:
    """Run one school year's accountability cycle; returns where its results went."""
    to_prefect_api()
    with untagged_task_runs():  # the flow run is tagged, its task runs not (flows.tagging)
        return _annual_cycle(params)


def _annual_cycle(params: AnnualCycleParams) -> dict[str, Any]:
    logger = get_run_logger()
    # the year parsed once, here: every stage and task gets the SchoolYear
    year = SchoolYear(resolve_year(params.year, params.methodology or None, as_date(params.as_of)))
    cfg = pipeline.RunConfig(
        data_root=params.data_root,
        out_root=params.out_root or None,
        public_root=params.public_root or None,
        db_url=None,  # the results store is a setting (SQIS_DATABASE_URL), never a parameter
        methodology=params.methodology or None,
        pdf=params.pdf,
        replace=params.replace,
        flow_run_id=str(flow_run.id) if flow_run.id else None,
        force=params.force or None,
    ).resolved()
    m = for_year(year, cfg.methodology, get_settings().methodology_dir)
    logger.info(
        "annual cycle of the %s results (service year %s) with methodology %s",
        year,
        year.service_year,
        m.version,
    )
    tag_flow_run(f"year:{year}")
    # stages before the districts are known; each district adds an index and a reports step
    progress = Progress("annual-cycle", year, FIXED_STEPS, flow_run.id)

    # the results store must answer before any work (nothing is ingested or published when
    # the database is unreachable); this also brings its schema up to date. The run's
    # checks and the year's lock come before ingest (sqis.run_control): of two runs of one
    # year, the one that loses the lock has written nothing
    pipeline.prepare_store(cfg, year)
    began = stages.begin_run(year, m, cfg)
    run_id = began.run_id
    progress.step("checks and the year's lock")
    if began.took_over is not None:
        logger.warning(
            "took over the lock of run %s for %s: it was no longer running", began.took_over, year
        )
    try:
        inputs = _ingest(year, cfg, m)
    except BaseException:
        stages.abandon_run(year, cfg.db_url, run_id)
        raise
    input_sums = inputs.checksums()
    depends = stages.record_inputs(year, cfg.db_url, run_id, input_sums)
    progress.resize(FIXED_STEPS + 2 * len(inputs.districts()))
    progress.step("ingest", f"{len(inputs.districts())} districts")
    undo = run_control.Undo(year, cfg.store_root, inputs.ingested)
    try:
        summary = _stages(
            year, cfg, m, inputs, input_sums, run_id, depends, undo, began.store_id, progress
        )
    except BaseException:
        stages.fail_run(year, cfg.db_url, run_id, undo)
        raise
    logger.info(
        "%s done: results store %s, outputs %s/%s (%d files)",
        year,
        _safe_url(cfg.db_url),
        cfg.out_root,
        year,
        len(summary["output_checksums"]),
    )
    return summary


def _ingest(year: SchoolYear, cfg: pipeline.RunConfig, m: Methodology) -> Inputs:
    from sqis.ingest import DeliveryInvalid

    failed: str | None = None
    try:
        inputs = stages.ingest(year, cfg.data_root, cfg.store_root, cfg.replace, m)
    except DeliveryInvalid as e:
        create_table_artifact(
            validation_rows(e.report),
            key=artifact_key("validation", year),
            description=f"# {year}: the delivery did not validate\n\n{e}",
        )
        failed = str(e)
    if failed is not None:
        # raised outside the handler: the flow's exception is pickled into Prefect's result
        # storage with its __context__, which must not be the delivery's exception
        raise ValidationFailed(
            f"{failed}. The validation artifact counts the failures per file, rule and column; "
            f"`sqis validate --data {cfg.data_root} --year {year}` lists every one."
        )
    # this year's files, and the files of the years before that the rules read
    read = [(inputs.cur, CONTRACT_FILES)]
    read += [
        (yd, EARLIER_YEAR_FILES[back])
        for back, yd in ((1, inputs.prior), (2, inputs.prior2))
        if yd is not None
    ]
    rows = [
        {
            "year": yd.year,
            "file": name,
            "rows": len(yd.frame(name)),
            "failures": 0,
            "sha256": yd.checksums.get(name, "")[:16],
        }
        for yd, names in read
        for name in names
    ]
    create_table_artifact(
        rows,
        key=artifact_key("validation", year),
        description=f"# {year}: delivery validated\nEvery contract file passed every rule.",
    )
    return inputs


def validation_rows(report: Any) -> list[dict[str, Any]]:
    """The validation summary as artifact rows: failures per file, rule and column.

    Counts only: a failing value could be a student ID, so values never reach the API.
    """
    return [
        {
            "file": str(r["file"]),
            "rule": str(r["rule"]),
            "column": str(r["column"]),
            "failures": int(r["count"]),
        }
        for r in report.summary().to_dict("records")
    ]


def _stages(
    year: SchoolYear,
    cfg: pipeline.RunConfig,
    m: Methodology,
    inputs: Inputs,
    input_sums: dict[str, str],
    run_id: Any,
    depends: dict[str, Any],
    undo: run_control.Undo,
    store_id: str,
    progress: Progress,
) -> dict[str, Any]:
    """The year's stages as tasks: ``sqis.year_stages.walk_year`` (the order, written once
    for this flow and ``sqis.pipeline.run_year``) over :class:`TaskSteps`."""
    with RenderWorkers(get_settings().render_processes(len(inputs.cur.schools))) as render:
        steps = TaskSteps(
            year, cfg, m, input_sums, run_id, depends, undo, store_id, progress, render
        )
        walked = walk_year(steps, inputs, m, input_sums)
    out_sums, files, des = walked.output_checksums, walked.files, walked.tables.designations
    stages.finish_run(year, cfg.db_url, run_id, "SUCCEEDED", out_sums)
    reports_artifacts(year, cfg.out_root, inputs.districts(), files)
    counts = des["designation"].value_counts().sort_index().to_dict()
    progress.finish(
        f"{len(out_sums)} files published; "
        + ", ".join(f"{k} {v}" for k, v in counts.items() if k != "NONE")
    )
    return {
        "year": year,
        "run_id": run_id,
        "out_root": cfg.out_root,
        "public_root": str(cfg.public_root),
        "db_url": _safe_url(cfg.db_url),
        "methodology": m.version,
        "output_checksums": out_sums,
        "designations": des["designation"].value_counts().sort_index().to_dict(),
    }


class TaskSteps:
    """``sqis.year_stages.YearSteps`` as Prefect tasks (``tasks.stages``): each step a task
    run with its cache key; the per-district steps a task per district, all submitted
    before any is collected; progress and the stage artifacts as the steps finish."""

    def __init__(
        self,
        year: SchoolYear,
        cfg: pipeline.RunConfig,
        m: Methodology,
        input_sums: dict[str, str],
        run_id: Any,
        depends: dict[str, Any],
        undo: run_control.Undo,
        store_id: str,
        progress: Progress,
        render: RenderWorkers | None = None,
    ) -> None:
        self.year, self.cfg, self.m, self.input_sums = year, cfg, m, input_sums
        self.run_id, self.depends, self.undo, self.store_id = run_id, depends, undo, store_id
        self.progress = progress
        self.render = render

    def token(self, stage: str, district: str | None = None, **extra: Any) -> str:
        return cache_token(
            stage,
            self.year,
            district,
            inputs=self.input_sums,
            methodology=self.m.checksum,
            depends_on=self.depends,
            **extra,
        )

    def done(self, stage: str, info: dict[str, Any]) -> None:
        pass  # the progress steps and artifacts say it

    def step(self, label: str, what: str = "") -> None:
        self.progress.step(label, what)

    def prior_results(self) -> Prior:
        return stages.prior_results(self.year, self.cfg.db_url)

    def growth(self, inputs: Inputs) -> tuple[pd.DataFrame, pd.DataFrame]:
        return stages.growth(self.year, inputs, self.m, self.token("growth"))

    def district_index(
        self,
        inputs: Inputs,
        growth: pd.DataFrame,
        prior: Prior,
        districts: list[str],
    ) -> Iterator[tuple[str, tuple[pd.DataFrame, pd.DataFrame]]]:
        by_school = BySchool(growth)  # every district takes its schools' rows: grouped once
        futures = [
            stages.district_index.submit(
                self.year,
                whole(inputs),
                whole(by_school),
                whole(prior),
                whole(self.m),
                d,
                self.token("index", d),
            )
            for d in districts
        ]
        for d, f in zip(districts, futures, strict=True):
            yield d, f.result()

    def educators(
        self, inputs: Inputs, measures: pd.DataFrame, districts: list[str]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        return _educators(self.year, inputs, measures, self.m, districts, self.token)

    def index_done(self, index: pd.DataFrame, schools: pd.DataFrame) -> None:
        index_artifact(self.year, index, schools)

    def designate(
        self,
        inputs: Inputs,
        indicators: pd.DataFrame,
        index: pd.DataFrame,
        prior: Prior,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        return stages.designate(
            self.year, inputs, indicators, index, prior, self.m, self.token("designate")
        )

    def designations_done(self, designations: pd.DataFrame) -> None:
        designations_artifact(self.year, designations)

    def support(
        self, inputs: Inputs, indicators: pd.DataFrame, designations: pd.DataFrame
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        return stages.support(
            self.year, inputs, indicators, designations, self.m, self.token("support")
        )

    def communities(self, designations: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
        return stages.communities(
            self.year, designations, schools, self.m, self.token("communities")
        )

    def store_results(self, tables: YearTables) -> None:
        self.undo.previous_rows, self.undo.plans_before = stages.store_results(
            self.year, self.cfg.db_url, self.run_id, tables, self.m
        )

    def report_frames(self) -> ReportFrames:
        if self.render is not None and on_thread_pool():
            self.render.start()  # the render workers start while the frames are read
        return stages.report_frames(self.year, self.cfg.db_url, self.m)

    def public_edition(
        self, tables: YearTables, frames: ReportFrames, produced: str
    ) -> dict[str, bytes]:
        return stages.public_edition(self.year, tables, frames, self.m, produced)

    def district_reports(
        self, by_district: dict[str, ReportFrames], produced: str, districts: list[str]
    ) -> Iterator[tuple[str, dict[str, bytes]]]:
        futures = []
        for d in districts:
            frames, rendering = self._district_job(by_district.pop(d), produced)
            futures.append(
                stages.district_reports.submit(
                    self.year, frames, whole(self.m), self.cfg.pdf, produced, d, rendering
                )
            )
        return ((d, f.result()) for d, f in zip(districts, futures, strict=True))

    def _district_job(self, frames: ReportFrames, produced: str) -> tuple[Any, Any]:
        """A district task's frames and rendering: on the thread pool, every district's
        reports go to the render workers at once and each task waits for its own (the
        workers render side by side; the pool runs the tasks one at a time); on Dask, the
        task renders its frames where it runs."""
        if self.render is None or not on_thread_pool():
            return whole(frames), None
        pdf = self.cfg.pdf
        job = self.render.submit(year_outputs.reports, frames, self.m, pdf=pdf, produced=produced)
        return None, whole(job)

    def exports(self, tables: YearTables, held: pd.DataFrame | None) -> dict[str, bytes]:
        return stages.exports(self.year, tables, self.m, held)

    def calendars(self, tables: YearTables) -> dict[str, bytes]:
        return stages.calendars(self.year, tables, self.m)

    def educator_files(self, produced: str) -> dict[str, bytes]:
        return stages.educator_files(self.year, self.cfg.db_url, self.m, produced)

    def publish(self, files: dict[str, bytes]) -> dict[str, str]:
        return stages.publish(self.year, files, self.cfg.out_root, self.store_id)

    def publish_public(self, files: dict[str, bytes]) -> dict[str, str]:
        return stages.publish_public(self.year, files, str(self.cfg.public_root), self.store_id)


def _educators(
    year: str,
    inputs: Inputs,
    measures: pd.DataFrame,
    m: Methodology,
    districts: list[str],
    token: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The educator stage: the measures came consortium-wide with growth; a task per
    district computes its summative scores, levels and flags; then the distribution.
    Nothing runs for a year without educator files (the run says so)."""
    from sqis import educators as edu

    schools = inputs.cur.schools
    if measures.empty:  # walk_year's note says why there are none
        return educators_stage(measures, schools, m)
    by_school = BySchool(measures)  # every district takes its schools' rows: grouped once
    futures = [
        stages.district_educators.submit(
            year, whole(by_school), whole(schools), whole(m), d, token("educators", d)
        )
        for d in districts
    ]
    results = combine((f.result() for f in futures), ["school_code", "role", "educator_key"])
    return results, edu.distribution(results, schools)  # walk_year logs the counts by flag


def whole(value: Any) -> Any:
    """A district task's large argument, passed so that Prefect does not walk into it.

    Prefect walks every field of every argument twice per task run, looking for futures
    (the methodology alone is about 9 ms a walk). ``opaque`` stops the walk; only on the
    thread pool, because Dask turns the annotation (a tuple) into a plain tuple.
    """
    return opaque(value) if on_thread_pool() else value


def on_thread_pool() -> bool:
    """Whether this flow run's tasks run on the thread pool (in this process)."""
    ctx = FlowRunContext.get()
    return ctx is not None and isinstance(ctx.task_runner, ThreadPoolTaskRunner)


def _safe_url(url: str) -> str:
    """A database URL without its password (for logs)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<database>"


# ---- artifacts ----------------------------------------------------------------------
def index_artifact(year: str, index: pd.DataFrame, schools: pd.DataFrame) -> None:
    """SQII distribution by school type, as a Markdown table."""
    df = index.merge(schools[["school_code", "school_type"]], on="school_code", how="left")
    lines = [
        f"# SQII distribution, {year}",
        "",
        "| school type | schools | min | 25th | median | 75th | max | met goal |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for st, g in df.groupby("school_type", sort=True):
        s = pd.to_numeric(g["sqii"], errors="coerce").dropna()
        met = int(g["meets_goal"].fillna(False).astype(bool).sum()) if "meets_goal" in g else 0
        if s.empty:
            lines.append(f"| {st} | {len(g)} | – | – | – | – | – | {met} |")
            continue
        q = s.quantile([0, 0.25, 0.5, 0.75, 1]).round(1).tolist()
        lines.append(f"| {st} | {len(g)} | " + " | ".join(f"{v:.1f}" for v in q) + f" | {met} |")
    create_markdown_artifact(
        "\n".join(lines),
        key=artifact_key("index-distribution", year),
        description=f"SQII distribution {year}",
    )


def designations_artifact(year: SchoolYear, des: pd.DataFrame) -> None:
    """The designated schools (PRIORITY, FOCUS, REWARD) with reason and escalation."""
    cols = [
        c
        for c in (
            "school_code",
            "designation",
            "reason_group",
            "reason_indicator",
            "years_in_status",
            "escalation",
            "partner_school_code",
            "exited",
        )
        if c in des.columns
    ]
    shown = des.loc[des["designation"] != "NONE", cols].sort_values(["designation", "school_code"])
    rows = shown.astype(object).where(shown.notna(), "").astype(str).to_dict("records")
    create_table_artifact(
        rows,
        key=artifact_key("designations", year),
        description=(
            f"Designations from the {year} results, for service year "
            f"{year.service_year}: {len(rows)} schools designated"
        ),
    )


def reports_artifacts(
    year: SchoolYear, out_root: str, districts: list[str], files: dict[str, bytes]
) -> None:
    """One Markdown artifact, ``reports-<year>``: a link per district to its reports index
    (``reports/districts/<code>.html``), and the Oversight report.

    One API call, not one per district (200 at state scale).
    """
    lines = [f"# Reports: {year.both}", "", "| district | reports |", "|---|---|"]

    def link(key: str) -> str:
        return links.out_link(out_root, f"{year}/{key}")

    for d in districts:
        key = f"reports/districts/{d}.html"
        if key in files:
            lines.append(f"| {d} | [district {d}]({link(key)}) |")
    oversight = sorted(k for k in files if k.startswith("reports/oversight"))
    lines += ["", *(f"- [{k}]({link(k)})" for k in oversight)]
    create_markdown_artifact(
        "\n".join(lines),
        key=artifact_key("reports", year),
        description=f"Reports of the {year} results: a link per district",
    )


def with_task_runner(kind: str = "default", address: str | None = None) -> Any:
    """The annual cycle flow with the chosen task runner (``dask``: prefect-dask)."""
    if kind == "default":
        return annual_cycle
    if kind != "dask":
        raise ValueError(f"unknown task runner {kind!r}: use default or dask")
    from prefect_dask import DaskTaskRunner

    if address:
        runner = DaskTaskRunner(address=address)
    else:
        runner = DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={"n_workers": 2, "processes": True, "threads_per_worker": 1},
        )
    return annual_cycle.with_options(task_runner=runner)
