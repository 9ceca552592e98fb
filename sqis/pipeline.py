"""One school year of the School Quality Improvement System, end to end, without Prefect.

:func:`run_year` runs the year's stages in the order METHODOLOGY.md applies them, so that
the Prefect flows (``flows/``), the ``sqis`` command and the tests all run the same path:

1. **ingest** (``sqis.year_inputs``) — validate and store this year's delivery and the
   two years before when delivered; earlier *determinations* come from the results store.
2. **the index** (``sqis.index_stage``) — growth consortium-wide, then indicators, levels
   and the SQII per district; the educators from the same growth fit.
3. **designations, support, communities, the district index** and the results store
   (``sqis.determinations``).
4. **reports and exports** (``sqis.report_reads``, ``sqis.year_outputs``): both editions.
5. **publish** — the staff edition to the out root, then the public edition, manifest last.

The order after ingest is ``sqis.year_stages.walk_year``'s; :class:`PlainSteps` runs each
step as a plain call (the ``annual-cycle`` flow walks the same stages as Prefect tasks).

``run_year`` wraps the stages in a run of the results store: ``runs.begin_run`` takes the
year's lock, the results replace the year's rows in one transaction, the outputs are
published, ``finish_run`` records their checksums. A run killed at any point leaves the
store consistent (the year's rows are either the old ones or the new ones) and a re-run
completes it; a lock left by a dead run is taken over (``sqis.runs``: run bookkeeping).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from sqis import (
    determinations,
    index_stage,
    report_reads,
    run_control,
    runs,
    year_inputs,
    year_outputs,
)
from sqis.determinations import TABLES, YearTables
from sqis.indicators import BySchool
from sqis.methodology import Methodology, for_year
from sqis.publish import manifest_checksums, public_checksums, publish_run
from sqis.render_workers import RenderWorkers
from sqis.report_frames import ReportFrames
from sqis.settings import get_settings
from sqis.store import open_store
from sqis.year_inputs import Inputs, Prior
from sqis.year_stages import walk_year
from sqis.years import SchoolYear

if TYPE_CHECKING:
    from sqis.store import ResultsStore

log = logging.getLogger("sqis.pipeline")


@dataclass
class RunConfig:
    """Where one run reads and writes, and how (``None`` → from ``SQIS_*`` settings)."""

    data_root: str
    out_root: str | None = None
    db_url: str | None = None
    store_root: str | None = None
    methodology: str | None = None
    pdf: str = "auto"
    replace: bool = False
    run_by: str | None = None
    flow_run_id: str | None = None
    # run past the refusals of sqis.run_control.preflight; the reason is recorded
    force: str | None = None
    # the public edition's root (METHODOLOGY.md "Two editions"); None: SQIS_PUBLIC_ROOT,
    # else <out root>/public
    public_root: str | None = None

    def resolved(self) -> RunConfig:
        from sqis.publish import public_root_for

        s = get_settings()
        out_root = self.out_root or s.out_root
        return RunConfig(
            data_root=self.data_root,
            out_root=out_root,
            public_root=public_root_for(out_root, self.public_root or s.public_root),
            db_url=self.db_url or s.database_url,
            store_root=self.store_root or s.store_root,
            methodology=self.methodology,
            pdf=self.pdf,
            replace=self.replace,
            run_by=self.run_by or s.run_by,
            flow_run_id=self.flow_run_id,
            force=self.force,
        )


@dataclass
class YearResult:
    """What a run did: its id, where the results went, the output checksums."""

    year: SchoolYear
    run_id: Any
    out_root: str
    db_url: str
    methodology_version: str
    output_checksums: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    took_over: Any = None


def prepare_store(cfg: RunConfig, year: SchoolYear) -> Any:
    """The results store of a run, reachable and at this sqis's schema. A database without
    a schema gets one only when the run may go ahead (``run_control.check_fresh_store``).
    Raises ``StoreUnreachable`` before any work when the database does not answer."""
    store = open_store(cfg.db_url)
    if store.current_revision() is None:
        out_root = cfg.out_root or get_settings().out_root
        run_control.check_fresh_store(year, out_root, store.safe_url, cfg.force)
    return open_store(cfg.db_url, upgrade=True)


def ingest_locked(
    store: ResultsStore, run_id: int, year: SchoolYear, cfg: RunConfig, m: Methodology
) -> Inputs:
    """Stage 1 under the year's lock; records what the run read. A delivery that is refused
    leaves no run behind (``abandon_run``): the database is as it was."""
    try:
        inputs = year_inputs.ingest(
            year, cfg.data_root, store_root=cfg.store_root, replace=cfg.replace, m=m
        )
    except BaseException:
        try:
            store.abandon_run(run_id)
        except Exception as e:  # the original error matters more
            log.error("could not release run %s: %s", run_id, e)
        raise
    store.record_inputs(run_id, inputs.checksums(), runs.depends_on_for(store, year))
    return inputs


class PlainSteps:
    """``sqis.year_stages.YearSteps`` in one process (``run_year``): each step a plain
    call; per-district steps one district after another (``by_district=False``: the
    index and the educators of every school at once)."""

    def __init__(
        self,
        store: ResultsStore,
        run_id: int,
        year: SchoolYear,
        cfg: RunConfig,
        m: Methodology,
        undo: Any,
        store_id: str,
        on_stage: Callable[[str, dict[str, Any]], None],
        by_district: bool = True,
        render: RenderWorkers | None = None,
    ) -> None:
        self.store, self.run_id, self.year, self.cfg, self.m = store, run_id, year, cfg, m
        self.undo, self.store_id, self.on_stage = undo, store_id, on_stage
        self.by_district = by_district
        self.render = render or RenderWorkers(1)  # sqis.render_workers; 1: in this process

    def done(self, stage: str, info: dict[str, Any]) -> None:
        self.on_stage(stage, info)

    def step(self, label: str, what: str = "") -> None:
        pass

    def prior_results(self) -> Prior:
        return year_inputs.prior_results(self.store, self.year)

    def growth(self, inputs: Inputs) -> tuple[pd.DataFrame, pd.DataFrame]:
        return index_stage.growth_and_educators(inputs, self.m)

    def district_index(
        self, inputs: Inputs, growth: pd.DataFrame, prior: Prior, districts: list[str]
    ) -> Iterator[tuple[str, tuple[pd.DataFrame, pd.DataFrame]]]:
        if not self.by_district:
            yield "*", index_stage.district_index(inputs, growth, prior, self.m, None)
            return
        by_school = BySchool(growth)  # every district takes its schools' rows: grouped once
        for d in districts:
            yield d, index_stage.district_index(inputs, by_school, prior, self.m, d)

    def educators(
        self, inputs: Inputs, measures: pd.DataFrame, districts: list[str]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        return index_stage.educators_stage(
            measures, inputs.cur.schools, self.m, by_district=self.by_district
        )

    def index_done(self, index: pd.DataFrame, schools: pd.DataFrame) -> None:
        pass

    def designate(
        self, inputs: Inputs, indicators: pd.DataFrame, index: pd.DataFrame, prior: Prior
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        return determinations.designate(inputs, indicators, index, prior, self.m)

    def designations_done(self, designations: pd.DataFrame) -> None:
        pass

    def support(
        self, inputs: Inputs, indicators: pd.DataFrame, designations: pd.DataFrame
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        return determinations.support(inputs, indicators, designations, self.m)

    def communities(self, designations: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
        return determinations.communities(designations, schools, self.year, self.m)

    def store_results(self, tables: YearTables) -> None:
        self.undo.snapshot(self.store, TABLES)
        determinations.store_results(self.store, self.run_id, tables, self.m)

    def report_frames(self) -> ReportFrames:
        self.render.start()  # the render workers start while the frames are read
        return report_reads.report_frames(self.store, self.year, m=self.m)

    def public_edition(
        self, tables: YearTables, frames: ReportFrames, produced: str
    ) -> dict[str, bytes]:
        return year_outputs.public_files(tables, frames, self.m, produced)

    def district_reports(
        self, by_district: dict[str, ReportFrames], produced: str, districts: list[str]
    ) -> Iterator[tuple[str, dict[str, bytes]]]:
        started = [
            (d, self.render.submit(year_outputs.reports, by_district.pop(d), self.m,
                                   pdf=self.cfg.pdf, produced=produced))
            for d in districts
        ]  # fmt: skip
        return ((d, job.result()) for d, job in started)

    def exports(self, tables: YearTables, held: pd.DataFrame | None) -> dict[str, bytes]:
        return year_outputs.exports(tables, self.m, held)

    def calendars(self, tables: YearTables) -> dict[str, bytes]:
        return year_outputs.calendars(tables, self.m)

    def educator_files(self, produced: str) -> dict[str, bytes]:
        return year_outputs.educator_staff_files(self.store, self.year, self.m, produced)

    def publish(self, files: dict[str, bytes]) -> dict[str, str]:
        manifest = publish_run(self.year, files, str(self.cfg.out_root), self.store_id)
        return manifest_checksums(manifest, files)

    def publish_public(self, files: dict[str, bytes]) -> dict[str, str]:
        manifest = publish_run(self.year, files, str(self.cfg.public_root), self.store_id)
        return public_checksums(manifest, files)


def run_year(
    year: str,
    cfg: RunConfig,
    *,
    by_district: bool = True,
    on_stage: Callable[[str, dict[str, Any]], None] | None = None,
    flow_run_alive: Callable[[str], bool] | None = None,
) -> YearResult:
    """One school year, every stage, in one run of the results store (no Prefect).

    ``year`` is parsed here, once (:class:`sqis.years.SchoolYear`); the stages get the value.
    ``on_stage(name, info)`` is called after each stage (the CLI prints progress,
    tests observe the order).
    """
    year = SchoolYear(year)
    cfg = cfg.resolved()
    m = for_year(year, cfg.methodology, get_settings().methodology_dir)
    note = on_stage or (lambda name, info: None)

    # the results store must answer before any work: an unreachable database fails the run
    # before anything is written to the store root or the out root
    store = prepare_store(cfg, year)
    began = runs.begin_run(store, year, m, cfg, flow_run_alive=flow_run_alive)
    run_id, old = began.run_id, began.took_over
    inputs = ingest_locked(store, run_id, year, cfg, m)
    note("ingest", {"districts": len(inputs.districts())})
    undo = run_control.Undo(year, cfg.store_root, inputs.ingested)
    try:
        with RenderWorkers(get_settings().render_processes(len(inputs.cur.schools))) as render:
            steps = PlainSteps(
                store, run_id, year, cfg, m, undo, began.store_id, note, by_district, render
            )
            walked = walk_year(steps, inputs, m, inputs.checksums())
        store.finish_run(run_id, "SUCCEEDED", output_checksums=walked.output_checksums)
    except BaseException:
        runs.fail_run(store, run_id, undo)
        raise
    tables, out_checksums = walked.tables, walked.output_checksums
    return YearResult(
        year,
        run_id,
        str(cfg.out_root),  # resolved: never None
        str(cfg.db_url),
        m.version,
        out_checksums,
        {t: len(getattr(tables, t)) for t in TABLES},
        old,
    )


def run_cycle(
    years_: Iterable[str],
    cfg: RunConfig,
    *,
    by_district: bool = True,
    on_stage: Callable[[str, dict[str, Any]], None] | None = None,
) -> list[YearResult]:
    """Several school years in order (each year's determinations feed the next)."""
    return [run_year(y, cfg, by_district=by_district, on_stage=on_stage) for y in years_]
