"""The year's stages, defined once (docs/architecture.md "The path of data").

After the run's checks, the year's lock and ingest, one results year goes through the
same stages in the same order whether it runs in one process (``sqis.pipeline.run_year``,
the CLI without Prefect, the tests) or as a Prefect flow (``flows.annual_cycle``):
:func:`walk_year` is that order, written once. What differs is *how* each step runs — a
plain call, or a Prefect task with its cache key, retries and a task run per district —
and that is the :class:`YearSteps` the caller hands in: ``sqis.pipeline.PlainSteps`` or
``flows.annual_cycle.TaskSteps``. A stage added here runs on both paths; a path cannot
skip or reorder one.

The stages' functions are in ``sqis.year_inputs``, ``sqis.index_stage``,
``sqis.determinations``, ``sqis.report_reads`` and ``sqis.year_outputs``; this module
imports them and never ``sqis.pipeline``, the run, which imports this one. No Prefect
here: the flow's steps are given, never imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from sqis import determinations, index_stage, report_reads, year_inputs, year_outputs
from sqis.determinations import YearTables

if TYPE_CHECKING:
    from sqis.methodology import Methodology
    from sqis.report_frames import ReportFrames
    from sqis.year_inputs import Inputs, Prior


@dataclass(frozen=True)
class Stage:
    """One stage of the year: ``name`` as ``run_year`` reports it (``on_stage``) and the
    bench measures it; ``label`` as the bench's tables print it."""

    name: str
    label: str


# In order; ``ingest`` (with the run's checks and the year's lock) comes before the walk.
STAGES: tuple[Stage, ...] = (
    Stage("ingest", "ingest + validate"),
    Stage("compute_index", "growth, indicators, levels, SQII"),
    Stage("educators", "educators: summative scores, levels (per district; measures with growth)"),
    Stage("designate", "designations, escalation, partners"),
    Stage("communities", "communities of practice"),
    Stage("store", "results store (one transaction)"),
    Stage("reports", "exports + HTML reports + Oversight"),
    Stage("publish", "publish (manifest last)"),
)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)

INDICATOR_ORDER = ["school_code", "student_group", "indicator"]
EDUCATOR_ORDER = ["school_code", "role", "educator_key"]


class YearSteps(Protocol):
    """How each step of :func:`walk_year` runs. Per-district steps yield ``(district,
    result)`` in the order of ``districts`` (the flow submits every district's task first,
    then collects)."""

    def done(self, stage: str, info: dict[str, Any]) -> None:
        """A stage of :data:`STAGES` finished (``info``: counts for the console)."""

    def step(self, label: str, what: str = "") -> None:
        """A unit of progress (a stage, or one district of it)."""

    def prior_results(self) -> Prior: ...

    def growth(self, inputs: Inputs) -> tuple[pd.DataFrame, pd.DataFrame]: ...

    def district_index(
        self, inputs: Inputs, growth: pd.DataFrame, prior: Prior, districts: list[str]
    ) -> Iterator[tuple[str, tuple[pd.DataFrame, pd.DataFrame]]]: ...

    def educators(
        self, inputs: Inputs, measures: pd.DataFrame, districts: list[str]
    ) -> tuple[pd.DataFrame, pd.DataFrame]: ...

    def index_done(self, index: pd.DataFrame, schools: pd.DataFrame) -> None: ...

    def designate(
        self, inputs: Inputs, indicators: pd.DataFrame, index: pd.DataFrame, prior: Prior
    ) -> tuple[pd.DataFrame, pd.DataFrame]: ...

    def designations_done(self, designations: pd.DataFrame) -> None: ...

    def support(
        self, inputs: Inputs, indicators: pd.DataFrame, designations: pd.DataFrame
    ) -> tuple[pd.DataFrame, pd.DataFrame]: ...

    def communities(self, designations: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame: ...

    def store_results(self, tables: YearTables) -> None: ...

    def report_frames(self) -> ReportFrames: ...

    def public_edition(
        self, tables: YearTables, frames: ReportFrames, produced: str
    ) -> dict[str, bytes]: ...

    def district_reports(
        self, by_district: dict[str, ReportFrames], produced: str, districts: list[str]
    ) -> Iterator[tuple[str, dict[str, bytes]]]:
        """Start every district's staff reports (in worker processes, ``sqis.render_workers``,
        where there are) before returning; the iterator gives each district's files."""
        ...

    def exports(self, tables: YearTables, held: pd.DataFrame | None) -> dict[str, bytes]: ...

    def calendars(self, tables: YearTables) -> dict[str, bytes]: ...

    def educator_files(self, produced: str) -> dict[str, bytes]: ...

    def publish(self, files: dict[str, bytes]) -> dict[str, str]: ...

    def publish_public(self, files: dict[str, bytes]) -> dict[str, str]: ...


@dataclass
class Walked:
    """What :func:`walk_year` made: the year's tables, the staff files and every output's
    checksum (the public edition's keyed ``public/<key>``)."""

    tables: YearTables
    files: dict[str, bytes]
    output_checksums: dict[str, str]


def walk_year(
    steps: YearSteps, inputs: Inputs, m: Methodology, input_checksums: dict[str, str]
) -> Walked:
    """The stages of results year ``inputs.year`` after ingest, in their order: the index
    (growth consortium-wide, then per district), educators, designations and support,
    communities, the district index, the results store (one transaction), the public
    edition, the exports and reports (per district), calendars, publishing (the staff
    edition, then the public)."""
    year = inputs.year
    districts = inputs.districts()
    prior = steps.prior_results()
    # one fit: the growth indicators and every educator's growth measure and rating
    growth, measures = steps.growth(inputs)
    steps.step("growth model")
    parts = []
    for d, part in steps.district_index(inputs, growth, prior, districts):
        parts.append(part)
        steps.step("index", f"district {d}")
    indicators = index_stage.combine((p[0] for p in parts), INDICATOR_ORDER)
    index = index_stage.combine((p[1] for p in parts), ["school_code"])
    del parts, growth  # the district frames go once combined
    steps.done("compute_index", {"schools": len(index)})
    # METHODOLOGY.md "Educator effectiveness": per district (each its option)
    educators, distribution = steps.educators(inputs, measures, districts)
    del measures
    steps.step("educators", f"{len(educators)} educators")
    steps.done("educators", index_stage.educator_note(inputs, educators, m))
    # the later stages read only this year's schools and enrolment: let the rest go
    year_inputs.release_after_index(inputs)
    steps.index_done(index, inputs.cur.schools)

    des, partnerships = steps.designate(inputs, indicators, index, prior)
    steps.designations_done(des)
    steps.step("designations")
    steps.done("designate", {"designated": int((des["designation"] != "NONE").sum())})
    goal_support, flags = steps.support(inputs, indicators, des)
    comm = steps.communities(des, inputs.cur.schools)
    steps.step("communities")
    steps.done("communities", {"schools": len(comm)})

    # METHODOLOGY.md "District index": consortium-wide, from the index and last year's
    district = determinations.district_scores(indicators, index, inputs.cur.schools, prior, m)
    tables = YearTables(
        year, inputs.cur.schools, indicators, index, des, partnerships, comm, district,
        educators, distribution, goal_support, flags,
    )  # fmt: skip
    steps.store_results(tables)
    steps.step("results store")
    steps.done("store", {})

    # reports: the frames read once from the store and split once, so that each district's
    # step gets its own rows (a Dask worker is shipped one district's frames)
    produced = year_outputs.produced_stamp(year, input_checksums, m)
    frames = steps.report_frames()
    held = frames.checkpoints
    by_district = report_reads.split_by_district(frames, districts)
    # each district's staff reports, started first: where there are worker processes they
    # render while this process builds the public edition (sqis.render_workers)
    reports = steps.district_reports(by_district, produced, districts)
    # the public edition: the same frames through the one suppression function
    public = steps.public_edition(tables, frames, produced)
    steps.step("public edition")
    del frames
    files: dict[str, bytes] = dict(steps.exports(tables, held))
    for d, district_files in reports:
        files.update(district_files)
        steps.step("reports", f"district {d}")
    files.update(steps.calendars(tables))
    if not tables.educator_results.empty:  # the actions on a TRIGGER and the staff pages
        files.update(steps.educator_files(produced))
    steps.step("exports and calendars")
    steps.done("reports", {"files": len(files), "public_files": len(public)})

    out = steps.publish(files)
    # the public edition, published apart (its own root and manifest), after the staff's
    out.update(steps.publish_public(public))
    steps.step("publish")
    steps.done("publish", {"files": len(out)})
    return Walked(tables, files, out)
