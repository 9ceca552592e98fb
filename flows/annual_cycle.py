"""The annual cycle: one school year's accountability run, as a Prefect flow.

ingest + validate → compute the index (growth consortium-wide, then per district) →
designate, escalate, partner → communities → store results (one transaction) →
reports (per district) and the fall Oversight report → publish (manifest last).

The flow reads as a list of steps; the work lives in ``sqis.pipeline``, the same path
``sqis.pipeline.run_year`` runs without Prefect. Task runs grow with stages and
districts, never with schools or students. Each stage leaves an artifact: the
validation summary, the SQII distribution, the designations, and one table of links to
every district's reports.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import FlowRunContext
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import opaque

from flows.params import AnnualCycleParams, as_date
from flows.progress import Progress, to_prefect_api
from flows.tagging import tag_flow_run, untagged_task_runs
from sqis import pipeline, run_control, years
from sqis.codes import CONTRACT_FILES
from sqis.errors import SqisError
from sqis.methodology import Methodology, for_year
from sqis.settings import get_settings
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
    latest = _any_methodology()
    day = as_of or datetime.now(ZoneInfo(latest.communities.timezone)).date()
    # the methodology that applies on the day knows when school years start
    m = for_year(pipeline.school_year_of(day, latest), methodology)
    return pipeline.year_just_ended(day, m)


def _any_methodology() -> Methodology:
    from sqis.methodology import available

    return available(get_settings().methodology_dir)[-1]


def _run_name() -> str:
    p = flow_run.parameters.get("params") or {}
    if not isinstance(p, dict):
        p = p.model_dump()
    try:
        from flows.checkpoint import _day

        year = resolve_year(p.get("year"), p.get("methodology"), _day(p.get("as_of")))
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
    year = resolve_year(params.year, params.methodology or None, as_date(params.as_of))
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
        years.service_year(year),
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


def _ingest(year: str, cfg: pipeline.RunConfig, m: Methodology) -> pipeline.Inputs:
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
        (yd, pipeline.EARLIER_YEAR_FILES[back])
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
    year: str,
    cfg: pipeline.RunConfig,
    m: Methodology,
    inputs: pipeline.Inputs,
    input_sums: dict[str, str],
    run_id: Any,
    depends: dict[str, Any],
    undo: run_control.Undo,
    store_id: str,
    progress: Progress,
) -> dict[str, Any]:
    def token(stage: str, district: str | None = None, **extra: Any) -> str:
        return cache_token(
            stage,
            year,
            district,
            inputs=input_sums,
            methodology=m.checksum,
            depends_on=depends,
            **extra,
        )

    districts = inputs.districts()
    # index: growth consortium-wide, then a task per district
    prior = stages.prior_results(year, cfg.db_url)
    # one fit: the growth indicators and every educator's growth measure and rating
    g, measures = stages.growth(year, inputs, m, token("growth"))
    progress.step("growth model")
    futures = [
        stages.district_index.submit(
            year, whole(inputs), whole(g), whole(prior), whole(m), d, token("index", d)
        )
        for d in districts
    ]
    parts = []
    for d, f in zip(districts, futures, strict=True):
        parts.append(f.result())
        progress.step("index", f"district {d}")
    del futures  # the district frames go once combined
    indicators = pipeline.combine(
        (p[0] for p in parts), ["school_code", "student_group", "indicator"]
    )
    index = pipeline.combine((p[1] for p in parts), ["school_code"])
    del parts
    # METHODOLOGY.md "Educator effectiveness": a task per district (each its option)
    educators, distribution = _educators(year, inputs, measures, m, districts, token)
    progress.step("educators", f"{len(educators)} educators")
    # the later stages read only this year's schools and enrolment: let the rest go
    pipeline.release_after_index(inputs)
    index_artifact(year, index, inputs.cur.schools)

    des, partnerships = stages.designate(
        year, inputs, indicators, index, prior, m, token("designate")
    )
    designations_artifact(year, des)
    progress.step("designations")
    goal_support, flags = stages.support(year, inputs, indicators, des, m, token("support"))
    comm = stages.communities(year, des, inputs.cur.schools, m, token("communities"))
    progress.step("communities")

    # METHODOLOGY.md "District index": consortium-wide, from the index and last year's
    district = pipeline.district_scores(indicators, index, inputs.cur.schools, prior, m)
    tables = pipeline.YearTables(
        year, inputs.cur.schools, indicators, index, des, partnerships, comm, district,
        educators, distribution, goal_support, flags,
    )  # fmt: skip
    undo.previous_rows, undo.plans_before = stages.store_results(
        year, cfg.db_url, run_id, tables, m
    )
    progress.step("results store")

    # reports: the frames read once from the store and split once, so that each district's
    # task gets its own rows (a Dask worker is shipped one district's frames)
    produced = pipeline.produced_stamp(year, input_sums, m)
    frames = stages.report_frames(year, cfg.db_url, m)
    held = frames["checkpoints"]
    by_district = pipeline.split_by_district(frames, districts)
    # the public edition: the same frames through the one suppression function
    public = stages.public_edition(year, tables, frames, m, produced)
    progress.step("public edition")
    del frames
    futures = [
        stages.district_reports.submit(
            year, whole(by_district.pop(d)), whole(m), cfg.pdf, produced, d
        )
        for d in districts
    ]
    files: dict[str, bytes] = dict(stages.exports(year, tables, m, held))
    for d, f in zip(districts, futures, strict=True):
        files.update(f.result())
        progress.step("reports", f"district {d}")
    files.update(stages.calendars(year, tables, m))
    if not tables.educator_results.empty:  # the actions on a TRIGGER and the staff pages
        files.update(stages.educator_files(year, cfg.db_url, m, produced))
    progress.step("exports and calendars")

    out_sums = stages.publish(year, files, cfg.out_root, store_id)
    out_sums.update(stages.publish_public(year, public, str(cfg.public_root), store_id))
    progress.step("publish")
    stages.finish_run(year, cfg.db_url, run_id, "SUCCEEDED", out_sums)
    reports_artifacts(year, cfg.out_root, districts, files)
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


def _educators(
    year: str,
    inputs: pipeline.Inputs,
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
    if measures.empty:
        pipeline.educator_note(inputs, measures, m)  # logs why there are none
        return pipeline.educators_stage(measures, schools, m)
    futures = [
        stages.district_educators.submit(
            year, whole(measures), whole(schools), whole(m), d, token("educators", d)
        )
        for d in districts
    ]
    results = pipeline.combine(
        (f.result() for f in futures), ["school_code", "role", "educator_key"]
    )
    pipeline.educator_note(inputs, results, m)  # logs the counts by flag
    return results, edu.distribution(results, schools)


def whole(value: Any) -> Any:
    """A district task's large argument, passed so that Prefect does not walk into it.

    Prefect walks every field of every argument twice per task run, looking for futures
    (the methodology alone is about 9 ms a walk). ``opaque`` stops the walk; only on the
    thread pool, because Dask turns the annotation (a tuple) into a plain tuple.
    """
    ctx = FlowRunContext.get()
    if ctx is not None and isinstance(ctx.task_runner, ThreadPoolTaskRunner):
        return opaque(value)
    return value


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


def designations_artifact(year: str, des: pd.DataFrame) -> None:
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
            f"{years.service_year(year)}: {len(rows)} schools designated"
        ),
    )


def reports_artifacts(
    year: str, out_root: str, districts: list[str], files: dict[str, bytes]
) -> None:
    """One Markdown artifact, ``reports-<year>``: a link per district to its reports index
    (``reports/districts/<code>.html``), and the Oversight report.

    One API call, not one per district (200 at state scale).
    """
    lines = [f"# Reports: {years.both(year)}", "", "| district | reports |", "|---|---|"]

    def link(key: str) -> str:
        return pipeline.out_link(out_root, f"{year}/{key}")

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
