"""One school year of the School Quality Improvement System, end to end, without Prefect.

This module strings the rule modules together in the order METHODOLOGY.md applies
them, so that the Prefect flows (``flows/``), the ``sqis`` command and the tests all
run the same path:

1. **ingest** — validate and store this year's delivery; the two years before are
   ingested too when the data root holds them (growth needs last year's scores,
   middle-school persistence the year two back). Earlier *determinations*
   (designations, partners, index) come from the results store, never recomputed.
2. **compute_index** — the growth model is fitted consortium-wide (METHODOLOGY.md
   "Growth"); indicators, levels and the SQII are computed per district (every rule
   there is per school), so the flows can fan out by district.
3. **designate** — designations, escalation and Reward partners, consortium-wide:
   shares are of all Title I schools (METHODOLOGY.md "Designations", "Escalation").
4. **communities** — communities of practice and their checkpoint schedule.
5. **reports** — school and district reports (per district) and the fall Oversight
   report.
6. **publish** — exports and reports to the out root, manifest last.

``run_year`` wraps the stages in a run of the results store: ``start_run`` takes the
year's lock, the results replace the year's rows in one transaction, the outputs are
published, ``finish_run`` records their checksums. A run killed at any point leaves
the store consistent (the year's rows are either the old ones or the new ones) and a
re-run completes it; a lock left by a dead run is taken over (``sqis.runs``: run
bookkeeping).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from dataclasses import replace as replace_field
from typing import TYPE_CHECKING, Any

import pandas as pd

from sqis import codes, memory, reviews, runs
from sqis.errors import PipelineError
from sqis.methodology import Methodology, for_year
from sqis.publish import manifest_checksums, public_checksums, publish_run
from sqis.reading import delivered
from sqis.render_workers import RenderWorkers
from sqis.report_frames import ReportFrames
from sqis.run_control import require_results
from sqis.settings import get_settings
from sqis.store import open_store
from sqis.years import SchoolYear

if TYPE_CHECKING:
    from sqis.indicators import BySchool, YearLookups
    from sqis.ingest import IngestResult
    from sqis.store import ResultsStore
    from sqis.yeardata import YearData

log = logging.getLogger("sqis.pipeline")

TABLES: tuple[str, ...] = (
    "schools",
    "indicators",
    "index_scores",
    "designations",
    "partnerships",
    "communities",
    "district_index",
    # METHODOLOGY.md "Educator effectiveness" (empty for a year without educator files)
    "educator_results",
    "educator_distribution",
    # METHODOLOGY.md "Support for schools missing their goal", "Escalation" (``support``)
    "goal_support",
    "partnership_flags",
)


# ---------------------------------------------------------------------------------
# Which year, which checkpoint, which term: the calendar of METHODOLOGY.md
# ---------------------------------------------------------------------------------
# ---------------------------------------------------------------------------------
# Stage 1: ingest
# ---------------------------------------------------------------------------------
@dataclass
class Inputs:
    """The year's validated delivery and the two years before (when delivered)."""

    year: SchoolYear
    cur: YearData
    prior: YearData | None = None
    prior2: YearData | None = None
    # what ingesting this year wrote to the validated store (sqis.ingest.IngestResult,
    # without its report): a failed run puts it back (sqis.run_control.Undo)
    ingested: IngestResult | None = None
    # the look-ups over the whole year that growth and every district's indicators share,
    # each computed once, on first use (sqis.indicators.YearLookups); made from the frames
    lookups: YearLookups = field(default=None, repr=False, compare=False)  # type: ignore[assignment]  # made in __post_init__

    def __post_init__(self) -> None:
        if self.lookups is None or not self.lookups.serves(self.cur, self.prior2):
            self.renew_lookups()

    def renew_lookups(self) -> None:
        """New look-ups for the frames held now (those of frames let go go with them)."""
        from sqis.indicators import YearLookups

        self.lookups = YearLookups(self.cur, self.prior2)

    def checksums(self) -> dict[str, str]:
        """Input checksums by ``<year>/<file>``: what the run recorded it read."""
        out: dict[str, str] = {}
        for yd in (self.prior2, self.prior, self.cur):
            if yd is not None:
                out.update({f"{yd.year}/{k}": v for k, v in sorted(yd.checksums.items())})
        return out

    def districts(self) -> list[str]:
        return self.cur.districts()


def educator_note(inputs: Inputs, results: pd.DataFrame, m: Methodology) -> dict[str, Any]:
    """What the run says of its educators (DATA_CONTRACT.md: "a year without them gets none
    and the run says so"): the stage (pilot, implementation) and counts, or why none."""
    e = m.educators
    stage = e.stage(inputs.year) if e is not None else "none"
    if getattr(inputs.cur, "educators", None) is None:
        log.info("%s: no educator files delivered: no educator results", inputs.year)
        return {"educators": 0, "stage": stage, "note": "no educator files delivered"}
    flags = results["flag"].value_counts().to_dict() if len(results) else {}
    log.info(
        "%s: %d educators evaluated (%s): %s",
        inputs.year,
        len(results),
        stage,
        ", ".join(f"{k} {v}" for k, v in sorted(flags.items())),
    )
    return {"educators": len(results), "stage": stage, **{str(k): int(v) for k, v in flags.items()}}


def release_after_index(inputs: Inputs) -> None:
    """Let go, in place, of the frames no stage after the index reads.

    Designations, partners, communities, the results store and the reports read only this
    year's schools and enrolment (Reward partners weigh shares by enrolment); the frames of
    last years' deliveries and this year's assessments, graduation and surveys are
    emptied, so the later stages do not hold a delivery they never read (at 6,000,000
    students, several GB). Every year keeps its checksums: they are what the run read.
    """

    def emptied(yd: Any, keep: tuple[str, ...]) -> Any:
        frames = {
            name: getattr(yd, name).head(0).copy()
            for name in codes.CONTRACT_FILES
            if name not in keep
        }
        return replace(yd, **frames)

    inputs.cur = replace(emptied(inputs.cur, ("schools", "students")), educators=None, rosters=None)
    if inputs.prior is not None:
        inputs.prior = emptied(inputs.prior, ())
    if inputs.prior2 is not None:
        inputs.prior2 = emptied(inputs.prior2, ())
    inputs.renew_lookups()
    memory.release_unused()


def ingest_one(
    year: str,
    data_root: str,
    *,
    store_root: str | None = None,
    replace: bool = False,
    m: Methodology | None = None,
    only: tuple[str, ...] | None = None,
) -> Any:
    """Validate and store one year's delivery (``sqis.ingest``); returns the ``YearData``.

    A delivery already ingested with the same checksums is not re-read. ``only``: the
    files whose rows are loaded back (the others come back empty, with their columns).
    Raises ``sqis.ingest.DeliveryInvalid`` with the validation report when it fails.
    """
    from sqis import ingest as ing

    ing.ingest_year(data_root, year, store_root=store_root, replace=replace, methodology=m)
    return ing.load_year(year, store_root=store_root, only=only)


# What the rules read of the years before this one, by how many years back: growth reads
# last year's scores (METHODOLOGY.md "Growth"), MS_PERSIST the enrolment of the year
# ``rules.persist_years_back`` (two) back ("Indicators"). Nothing else of an earlier
# delivery is loaded: at 6,000,000 students a whole year is several GB.
EARLIER_YEAR_FILES: dict[int, tuple[str, ...]] = {1: ("assessments",), 2: ("students",)}


def ingest(
    year: SchoolYear,
    data_root: str,
    *,
    store_root: str | None = None,
    replace: bool = False,
    m: Methodology | None = None,
) -> Inputs:
    """Stage 1 (DATA_CONTRACT.md "Inputs"): this year and the two before when delivered.

    ``m`` validates this year (default: the methodology of the year); earlier years are
    validated under their own, and only the files the rules read of them are loaded
    (``EARLIER_YEAR_FILES``).
    """
    if not delivered(data_root, year):
        raise PipelineError(f"{data_root}: no delivery for {year} (expected a folder {year}/)")
    from sqis import ingest as ing

    result = ing.ingest_year(data_root, year, store_root=store_root, replace=replace, methodology=m)
    cur = ing.load_year(year, store_root=store_root)
    earlier: dict[int, Any] = {}
    for back, files in EARLIER_YEAR_FILES.items():
        y = year.shift(-back)
        if delivered(data_root, y):
            earlier[back] = ingest_one(
                y, data_root, store_root=store_root, replace=replace, only=files
            )
    memory.release_unused()  # the delivery's validated copies are gone
    return Inputs(year, cur, earlier.get(1), earlier.get(2), replace_field(result, report=None))


# ---------------------------------------------------------------------------------
# Earlier determinations, from the results store
# ---------------------------------------------------------------------------------
# last year's frames a district reads its schools' rows of (``district_index``)
PRIOR_BY_SCHOOL: tuple[str, ...] = ("indicators", "index_scores")


@dataclass
class Prior:
    """Last year's results as the store holds them (empty frames where none)."""

    year: SchoolYear
    indicators: pd.DataFrame
    index_scores: pd.DataFrame
    designations: pd.DataFrame
    partnerships: pd.DataFrame
    # the frames every district takes its schools' rows of, grouped by school once
    # (sqis.indicators.BySchool; ``district_index``); made from the frames
    by_school: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        from sqis.indicators import BySchool

        held = self.by_school or {}
        if set(held) != set(PRIOR_BY_SCHOOL) or any(
            g.frame is not getattr(self, name) for name, g in held.items()
        ):
            self.by_school = {name: BySchool(getattr(self, name)) for name in PRIOR_BY_SCHOOL}


def prior_results(store: ResultsStore, year: SchoolYear) -> Prior:
    """Last year's indicators, index, designations and partners from the results store."""
    y1 = year.previous
    frames = {}
    for t in ("indicators", "index_scores", "designations", "partnerships"):
        df = store.read(t, [y1])
        if "year" in df.columns:
            df = df.drop(columns=["year"])
        frames[t] = df.reset_index(drop=True)
    return Prior(y1, **frames)


def _or_none(df: pd.DataFrame) -> pd.DataFrame | None:
    return None if df is None or df.empty else df


# ---------------------------------------------------------------------------------
# Stage 2: the index
# ---------------------------------------------------------------------------------
def growth(inputs: Inputs, m: Methodology) -> pd.DataFrame:
    """METHODOLOGY.md "Growth": the value-added model, fitted over the whole consortium.

    Returns the growth indicators (school × group × subject percentile); without last
    year's delivery there are no rows.
    """
    from sqis import growth as g

    residuals = g.fit_growth(inputs.cur, inputs.prior, m, inputs.lookups.keys)
    return g.growth_indicators(residuals, inputs.cur.schools, m)


def growth_and_educators(inputs: Inputs, m: Methodology) -> tuple[pd.DataFrame, pd.DataFrame]:
    """METHODOLOGY.md "Growth" and "Educator effectiveness": the growth model fitted once,
    consortium-wide; its residuals give the school growth indicators (as ``growth``) and
    every educator's growth measure and rating (``sqis.educators.growth_measures``: the
    quartiles are consortium-wide, per role). Returns ``(growth indicators, measures)``;
    the measures are empty for a year without educator files."""
    from sqis import growth as g

    residuals = g.fit_growth(inputs.cur, inputs.prior, m, inputs.lookups.keys)
    indicators = g.growth_indicators(residuals, inputs.cur.schools, m)
    return indicators, educator_measures(inputs, residuals, m)


def educator_measures(inputs: Inputs, residuals: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """Every educator assignment's growth measure and rating from the growth model's
    ``residuals`` (``sqis.educators.growth_measures``); empty without educator files."""
    from schemas.outputs import EducatorMeasuresFrame, empty
    from sqis import educators as edu

    cur = inputs.cur
    if getattr(cur, "educators", None) is None or m.educators is None:
        return empty(EducatorMeasuresFrame)
    if m.educators.stage(inputs.year) == "none":
        return empty(EducatorMeasuresFrame)
    return edu.growth_measures(
        residuals, cur.assessments, cur.educators, cur.rosters, m, inputs.lookups.keys
    )


def district_educators(
    measures: pd.DataFrame, schools: pd.DataFrame, m: Methodology, district: str | None = None
) -> pd.DataFrame:
    """METHODOLOGY.md "Educator effectiveness": summative scores, levels and flags of one
    district's educators under its option (``district=None``: every district at once)."""
    from schemas.outputs import EducatorResultsFrame, empty
    from sqis import educators as edu

    if measures.empty or m.educators is None:
        return empty(EducatorResultsFrame)
    if district is not None:
        codes = set(schools.loc[schools["district_code"] == district, "school_code"])
        measures = measures[measures["school_code"].isin(codes).to_numpy()]
    return edu.evaluate(measures, schools, m)


def educators_stage(
    measures: pd.DataFrame, schools: pd.DataFrame, m: Methodology, *, by_district: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The educator results (per district, as the flow's tasks) and the distribution by
    level per consortium, district and school (``sqis.educators.distribution``)."""
    from schemas.outputs import EducatorResultsFrame, empty
    from sqis import educators as edu

    if by_district and not measures.empty:
        parts = [
            district_educators(measures, schools, m, d)
            for d in sorted(schools["district_code"].unique())
        ]
        results = combine(parts, ["school_code", "role", "educator_key"])
    else:
        results = district_educators(measures, schools, m)
    if results.empty:
        return empty(EducatorResultsFrame), edu.distribution(results, schools)
    return results, edu.distribution(results, schools)


def _district_schools(schools: pd.DataFrame, district: str | None) -> pd.DataFrame:
    if district is None:
        return schools
    return schools[schools["district_code"] == district]


def _by_school(df: pd.DataFrame | None, codes: pd.Index | set[str] | None) -> pd.DataFrame | None:
    if df is None or codes is None:
        return df
    if "school_code" not in df.columns:
        return df
    return df[df["school_code"].isin(codes)].reset_index(drop=True)


def district_index(
    inputs: Inputs,
    growth_frame: pd.DataFrame | BySchool | None,
    prior: Prior,
    m: Methodology,
    district: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """METHODOLOGY.md "Indicators", "Index levels", "SQII" for one district's schools.

    ``district=None`` computes every school at once. Every rule here is per school
    (growth percentiles come consortium-wide in ``growth_frame``: a frame, or as
    ``sqis.indicators.BySchool`` when every district is handed it), so the district
    results concatenated equal the consortium's. The look-ups over the whole year are
    the ones ``inputs`` and ``prior`` hold, computed once for all districts.
    Returns ``(indicators, index_scores)``.
    """
    from sqis import index as idx
    from sqis import indicators as ind_mod
    from sqis import levels

    schools = _district_schools(inputs.cur.schools, district)
    codes = set(schools["school_code"]) if district is not None else None
    # the whole year's data goes in: MS_PERSIST looks for grade-10 students anywhere
    ind = ind_mod.compute_indicators(
        inputs.cur,
        inputs.prior,
        inputs.prior2,
        m,
        growth=growth_frame,
        schools=codes,
        lookups=inputs.lookups,
    )

    def prior_rows(name: str) -> pd.DataFrame | None:
        """The district's rows of last year's results (``Prior.by_school``: grouped by
        school once per frame, not filtered by ``isin`` per district: 200 districts ×
        every row at 6M)."""
        df = _or_none(getattr(prior, name))
        if df is None or codes is None:
            return df
        grouped = (prior.by_school or {}).get(name)
        if grouped is None or grouped.frame is not df:  # a frame put in after: this call's
            grouped = ind_mod.BySchool(df)
        return df.take(grouped.rows(codes)).reset_index(drop=True)

    ind = levels.assign_levels(ind, schools, m)
    ind = levels.add_change(ind, prior_rows("indicators"))
    index = idx.compute_index(ind, schools, m, prior_rows("index_scores"))
    return ind.reset_index(drop=True), index.reset_index(drop=True)


def combine(parts: Iterable[pd.DataFrame], sort_by: list[str]) -> pd.DataFrame:
    """Concatenate per-district frames in a stable order (so re-runs are identical)."""
    parts = [p for p in parts if p is not None]
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    keys = [c for c in sort_by if c in out.columns]
    return out.sort_values(keys, kind="mergesort").reset_index(drop=True) if keys else out


def compute_index(
    inputs: Inputs,
    prior: Prior,
    m: Methodology,
    *,
    by_district: bool = True,
    growth_frame: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stage 2: growth consortium-wide, then indicators, levels and SQII per district
    (``growth_frame``: the growth indicators, when ``growth_and_educators`` made them)."""
    from sqis.indicators import BySchool

    g = growth(inputs, m) if growth_frame is None else growth_frame
    if not by_district:
        ind, index = district_index(inputs, g, prior, m, None)
    else:
        # every district takes its schools' rows of the growth rows: grouped once
        grouped = g if isinstance(g, BySchool) else BySchool(g)
        parts = [district_index(inputs, grouped, prior, m, d) for d in inputs.districts()]
        ind = combine((p[0] for p in parts), ["school_code", "student_group", "indicator"])
        index = combine((p[1] for p in parts), ["school_code"])
    return ind, index


# ---------------------------------------------------------------------------------
# Stage 3: designations, escalation, partners (consortium-wide)
# ---------------------------------------------------------------------------------
def designate(
    inputs: Inputs,
    indicators: pd.DataFrame,
    index: pd.DataFrame,
    prior: Prior,
    m: Methodology,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """METHODOLOGY.md "Designations" and "Escalation": designations → escalation → partners.

    Consortium-wide: the 5 % and 10 % shares are of all Title I schools.
    Returns ``(designations, partnerships)``.
    """
    from sqis import designations as des
    from sqis import escalation as esc
    from sqis import partners as par

    schools = inputs.cur.schools
    d = des.designate(index, indicators, schools, _or_none(prior.designations), m)
    d = esc.escalate(d, m)
    shares = par.school_shares(inputs.cur.students)
    partnerships = par.assign_partners(
        d, indicators, schools, shares, _or_none(prior.partnerships), m,
        _or_none(prior.designations),
    )  # fmt: skip
    d = par.with_partners(d, partnerships)
    return d.reset_index(drop=True), partnerships.reset_index(drop=True)


def support(
    inputs: Inputs, indicators: pd.DataFrame, designations: pd.DataFrame, m: Methodology
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """METHODOLOGY.md "Support for schools missing their goal" and the required
    partnerships not formed ("Escalation"), consortium-wide after ``designate``:
    ``(goal_support, partnership_flags)`` (``sqis.goal_support``,
    ``sqis.partners.partnership_flags``)."""
    from sqis import goal_support as gs
    from sqis import partners as par

    shares = par.school_shares(inputs.cur.students)
    found = gs.assign_goal_support(designations, indicators, inputs.cur.schools, shares, m)
    return found, par.partnership_flags(designations, m)


# ---------------------------------------------------------------------------------
# Stage 4: communities of practice
# ---------------------------------------------------------------------------------
def communities(
    designations: pd.DataFrame, schools: pd.DataFrame, year: SchoolYear, m: Methodology
) -> pd.DataFrame:
    """METHODOLOGY.md "Communities of practice and checkpoints": FOCUS schools grouped.

    ``year`` is the results year; the communities are those of its service year (their ids
    name it: ``2016-17-SWD-MS-1`` for 2015-16 results). One row per FOCUS school:
    ``community_id, school_code, reason_group, school_type`` (the results store's
    ``communities``, filed under the results year); ``schedule`` dates the checkpoints.
    """
    from sqis import communities as com

    service = year.service_year
    return com.form_communities(designations, schools, service, m).reset_index(drop=True)


def schedule(
    communities_frame: pd.DataFrame,
    year: SchoolYear,
    m: Methodology,
    held: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The checkpoint schedule (``communities.csv``) of results year ``year``'s communities:
    community × school × checkpoint, dated in the service year (``held``: the checkpoints
    table of the service year, whose rows show as HELD)."""
    from sqis import communities as com

    service = year.service_year
    return com.schedule(communities_frame, service, m, held=held).reset_index(drop=True)


# ---------------------------------------------------------------------------------
# Stage 5–6: reports and publishing
# ---------------------------------------------------------------------------------
@dataclass
class YearTables:
    """Everything one year's run computed: the tables the results store keeps."""

    year: SchoolYear
    schools: pd.DataFrame
    indicators: pd.DataFrame
    index_scores: pd.DataFrame
    designations: pd.DataFrame
    partnerships: pd.DataFrame
    communities: pd.DataFrame
    # METHODOLOGY.md "District index": ``district_scores``
    district_index: pd.DataFrame
    # METHODOLOGY.md "Educator effectiveness" (``educators_stage``): none without educator files
    educator_results: pd.DataFrame = field(default_factory=lambda: _no_educators()[0])
    educator_distribution: pd.DataFrame = field(default_factory=lambda: _no_educators()[1])
    # METHODOLOGY.md "Support for schools missing their goal", "Escalation" (``support``)
    goal_support: pd.DataFrame = field(default_factory=lambda: _no_support()[0])
    partnership_flags: pd.DataFrame = field(default_factory=lambda: _no_support()[1])

    def as_dict(self) -> dict[str, pd.DataFrame]:
        return {t: getattr(self, t) for t in TABLES}

    def for_district(self, district: str) -> YearTables:
        codes = set(self.schools.loc[self.schools["district_code"] == district, "school_code"])
        cut = {t: _by_school(getattr(self, t), codes) for t in TABLES}
        di = self.district_index
        cut["district_index"] = di[di["district_code"] == district].reset_index(drop=True)
        return YearTables(self.year, **cut)


def _no_support() -> tuple[pd.DataFrame, pd.DataFrame]:
    from schemas.outputs import GoalSupport, PartnershipFlags, empty

    return empty(GoalSupport), empty(PartnershipFlags)


def _no_educators() -> tuple[pd.DataFrame, pd.DataFrame]:
    from schemas.outputs import EducatorDistribution, EducatorResultsFrame, empty

    return empty(EducatorResultsFrame), empty(EducatorDistribution)


def district_scores(
    indicators: pd.DataFrame,
    index: pd.DataFrame,
    schools: pd.DataFrame,
    prior: Prior,
    m: Methodology,
) -> pd.DataFrame:
    """METHODOLOGY.md "District index" (``sqis.districts``): each district's enrolment-weighted
    domain scores and SQII, its prior SQII (from last year's school results in ``prior``)
    and its goal. Consortium-wide, after the index; the results store's ``district_index``
    and ``districts.csv``."""
    from sqis import districts

    return districts.district_index(
        index,
        indicators,
        schools,
        m,
        prior_index=_or_none(prior.index_scores),
        prior_indicators=_or_none(prior.indicators),
    )


def exports(
    tables: YearTables, m: Methodology, held: pd.DataFrame | None = None
) -> dict[str, bytes]:
    """The contract's CSV exports (DATA_CONTRACT.md "Outputs"), as ``{name.csv: bytes}``.

    ``communities.csv`` dates the checkpoints in the service year; ``held`` (the service
    year's recorded checkpoints) marks those already held, so a re-run keeps them HELD.

    Returned as bytes, not written, so that ``publish`` writes them with the reports
    atomically (manifest last).
    """
    from sqis import exports as ex

    frames = {
        "indicators": tables.indicators,
        "index": tables.index_scores,
        "designations": tables.designations,
        "communities": schedule(tables.communities, tables.year, m, held),
        "districts": tables.district_index,
        "goal_support": tables.goal_support,
        "partnership_flags": tables.partnership_flags,
    }
    files = {f"{name}.csv": ex.to_csv_bytes(name, frames[name]) for name in ex.CONTRACT}
    if not tables.educator_results.empty:  # METHODOLOGY.md "Educator effectiveness"
        files.update(ex.educator_files(tables.educator_results, tables.educator_distribution))
    return files


def store_results(
    store: ResultsStore, run_id: int, tables: YearTables, m: Methodology
) -> dict[str, str]:
    """Replace the year's results in ONE transaction; then a DRAFT plan per new FOCUS plan.

    METHODOLOGY.md "Escalation": a FOCUS school writes a two-year plan, so a plan starts
    in years 1, 3, 5 … of the status (``sqis.plans.plan_year``). The plan is the service
    year's ("Results year and service year"): 2015-16 results start plans of 2016-17,
    due approved by checkpoint 2 of 2016-17. Plans are kept across re-runs (their
    approval trail is operations' work): ``ensure_plans`` only adds missing ones.
    """
    from sqis import plans

    digests = store.replace_year(run_id, tables.year, tables.as_dict())
    service = tables.year.service_year
    d = tables.designations
    focus = d[d["designation"] == "FOCUS"]
    yis = pd.to_numeric(focus["years_in_status"]).fillna(1).astype(int).clip(lower=1)
    starts = focus["school_code"][((yis - 1) % m.communities.plan_years == 0).to_numpy()]
    store.ensure_plans(service, starts, plans.plan_deadline(service, m))
    # a DRAFT plan nobody acted on, for a school this run no longer starts a plan for, was
    # left by an earlier, wrong run (e.g. years run out of order): it goes
    store.drop_untouched_plans(service, starts)
    return digests


def stored_plans_in_force(
    store: ResultsStore,
    designations: pd.DataFrame,
    service_year: SchoolYear,
    m: Methodology,
    school_codes: set[str] | None = None,
) -> pd.DataFrame:
    """The plans in force in ``service_year`` (``sqis.plans.plans_in_force``), read from the
    store's plans of the years such a plan can have started in (``plan_years`` back)."""
    from sqis import plans as plans_mod

    started = [service_year.shift(-k) for k in range(m.communities.plan_years)]
    stored = store.read("plans", started, school_codes=school_codes)
    return plans_mod.plans_in_force(stored, designations, service_year, m)


def report_frames(
    store: ResultsStore, year: SchoolYear, district: str | None = None, m: Methodology | None = None
) -> ReportFrames:
    """What the reports show, read back from the results store (results → reports, one way).

    Indicators, index and designations of every year up to ``year`` (trends, with a
    ``year`` column); communities of ``year``; the plans in force and the checkpoints of
    its service year (a school in year 2 of FOCUS works under the plan of the year
    before). ``district`` reads only that district's schools' rows (the database
    filters); ``split_by_district`` splits a whole read instead.
    """

    m = m or for_year(year, None, get_settings().methodology_dir)
    start = year.start
    service = year.service_year
    schools = _drop_year(store.read("schools", [year]))
    codes = None
    if district is not None:
        schools = schools[schools["district_code"] == district].reset_index(drop=True)
        codes = set(schools["school_code"])

    def up_to_year(table: str) -> pd.DataFrame:
        return _up_to(store.read(table, school_codes=codes), start)

    des = up_to_year("designations")
    in_force = stored_plans_in_force(
        store, des[des["year"] == year] if "year" in des.columns else des, service, m, codes
    )
    return ReportFrames(
        year,
        schools,
        up_to_year("indicators"),
        up_to_year("index_scores"),
        des,
        communities=_drop_year(store.read("communities", [year], school_codes=codes)),
        plans=in_force,
        checkpoints=_drop_year(store.read("checkpoints", [service], school_codes=codes)),
        **support_frames(store, year, codes),
        **report_section_frames(store, year, district, codes),
        **reviews.review_frames(store, year, codes, district),  # sqis.reports.reviews
    )


def report_section_frames(
    store: ResultsStore,
    year: SchoolYear,
    district: str | None = None,
    codes: set[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """The report frames of the educator and district-index sections
    (``sqis.reports.educator_sections``, ``sqis.reports.district_summary``):
    ``educator_results`` of ``year``; ``educator_distribution`` of every year up to it
    (with ``year``, and ``district_code``: a school's or district's, none for the
    consortium's rows, so that ``split_by_district`` splits it); ``districts``, the year's
    district index. ``district``: that district's rows only."""
    dist = _up_to(store.read("educator_distribution"), year.start)
    entity = dist["entity_code"].astype("str")
    dist = dist.assign(
        district_code=entity.str.slice(0, 7).where(dist["entity_type"] != "CONSORTIUM")
    ).drop(columns=["run_id"], errors="ignore")
    di = _drop_year(store.read("district_index", [year])).drop(columns=["run_id"], errors="ignore")
    if district is not None:
        dist = dist[(dist["district_code"] == district).to_numpy()].reset_index(drop=True)
        di = di[(di["district_code"] == district).to_numpy()].reset_index(drop=True)
    results = store.read("educator_results", [year], school_codes=codes)
    return {
        "educator_results": _drop_year(results).drop(columns=["run_id"], errors="ignore"),
        "educator_distribution": dist,
        "districts": di,
    }


def support_frames(
    store: ResultsStore, year: str, codes: set[str] | None = None, *, with_districts: bool = False
) -> dict[str, pd.DataFrame]:
    """The support sections' report frames of ``year`` (``sqis.reports.support``), from
    the store:
    ``goal_support`` (the schools missing their goal, their weakest indicator and support
    school, with its name), ``supported_by`` (the same pairs keyed by the support school,
    which may be in another district, with the supported school's name) and
    ``partnership_flags``; ``codes``: those schools' rows only.
    ``with_districts``: also ``districts``, the year's district index (the Oversight
    Panel's districts missing their goal)."""
    from sqis.goal_support import supported_by

    def plain(df: pd.DataFrame) -> pd.DataFrame:
        return _drop_year(df).drop(columns=["run_id"], errors="ignore")

    gs = plain(store.read("goal_support", [year]))  # one row per school at most: read whole
    # the partner's name: it may be in another district, whose schools a district's
    # report frames do not hold
    names = store.read("schools", [year]).set_index("school_code")["school_name"]
    gs = gs.assign(support_school_name=gs["support_school_code"].map(names).astype("str"))
    by = supported_by(gs)
    by = by.assign(supported_school_name=by["supported_school_code"].map(names).astype("str"))
    if codes is not None:
        gs = gs[gs["school_code"].isin(codes).to_numpy()].reset_index(drop=True)
        by = by[by["school_code"].isin(codes).to_numpy()].reset_index(drop=True)
    out = {
        "goal_support": gs,
        "supported_by": by,
        "partnership_flags": plain(store.read("partnership_flags", [year], school_codes=codes)),
    }
    if with_districts:
        out["districts"] = plain(store.read("district_index", [year]))
    return out


def split_by_district(frames: ReportFrames, districts: Iterable[str]) -> dict[str, ReportFrames]:
    """Each district's report frames: its schools and their rows of every frame, by one
    grouping per frame, not one filter of every frame per district (200 districts × every
    year's rows at 6M).

    A frame without ``school_code`` is split by its ``district_code`` (rows of none go
    nowhere), or goes whole to every district without one; rows of schools not in this
    year's ``schools`` go nowhere.
    """
    schools = frames.schools
    district_of = pd.Series(
        schools["district_code"].to_numpy(), index=schools["school_code"].to_numpy()
    )
    out: dict[str, dict[str, pd.DataFrame]] = {d: {} for d in districts}
    for name, df in frames.held().items():
        by_code = name == "schools" or "school_code" not in df.columns
        if by_code and "district_code" not in df.columns:
            for d in out:
                out[d][name] = df
            continue
        keys = df["district_code"] if by_code else df["school_code"].map(district_of)
        parts = {
            d: part.reset_index(drop=True)
            for d, part in df.groupby(keys.to_numpy(), sort=False, dropna=True)
        }
        for d in out:
            out[d][name] = parts.get(d, df.iloc[0:0].reset_index(drop=True))
    return {d: replace(frames, **parts) for d, parts in out.items()}


def produced_stamp(year: str, input_checksums: dict[str, str], m: Methodology) -> str:
    """The "produced" line of the reports: the inputs, not the clock, so re-runs are identical."""
    digest = hashlib.sha256(json.dumps(input_checksums, sort_keys=True).encode()).hexdigest()
    return f"from the {year} delivery (inputs {digest[:12]}, methodology {m.version})"


def reports(
    frames: ReportFrames,
    m: Methodology,
    *,
    pdf: str = "auto",
    produced: str | None = None,
) -> dict[str, bytes]:
    """School reports, Focus/Priority data reports and district indexes (``sqis.reports``).

    Keys are relative to the year's folder (``reports/schools/<code>.html``).
    """
    from sqis import reports as rep

    return rep.render_year_reports(frames, m, pdf=pdf, generated=produced)  # type: ignore[arg-type]


def oversight(
    service_year: str,
    term: str,
    store: ResultsStore,
    m: Methodology,
    *,
    produced: str | None = None,
) -> dict[str, bytes]:
    """METHODOLOGY.md "Oversight Panel": the report of the ``term`` meeting of
    ``service_year``, from the results store — the staff edition (every count and gap).

    The meeting reviews the results year before ``service_year`` and the service year's
    follow-through (its checkpoints and plans in force). The schools are the results
    year's; indicators, index and designations hold the years on record up to it (with
    their ``year`` column), for the trends the panel reviews. Refused (:class:`NoResults`)
    when the results year has not been run.
    """
    from sqis import reports as rep

    return rep.render_oversight(oversight_frames(service_year, term, store, m), term, m, produced)


def public_oversight(
    service_year: str,
    term: str,
    store: ResultsStore,
    m: Methodology,
    *,
    produced: str | None = None,
) -> dict[str, bytes]:
    """The Oversight Panel's **public** report of the ``term`` meeting of ``service_year``:
    the same frames through ``sqis.disclosure.public_frames`` (METHODOLOGY.md "Two
    editions"), rendered by ``sqis.reports.public.render_public_oversight``. Keys are
    relative to ``<public root>/<results year>/``."""
    from sqis.disclosure import public_frames
    from sqis.reports.public import render_public_oversight

    frames = oversight_frames(service_year, term, store, m)
    return render_public_oversight(public_frames(frames, m), term, m, produced)


def oversight_frames(
    service_year: str, term: str, store: ResultsStore, m: Methodology
) -> ReportFrames:
    """The report frames of an Oversight meeting of ``service_year``, of the results year
    it reviews: schools of the results year; indicators, index, designations, communities
    and the educator distribution of every year up to it; the plans in force and the
    checkpoints of the service year. The entry of both editions of the report:
    ``service_year`` is parsed here."""
    service_year = SchoolYear(service_year)
    year = require_results(store, service_year, f"the {term} Oversight Panel meeting")
    start = year.start

    def upto(table: str) -> pd.DataFrame:
        return _up_to(store.read(table), start)

    des = upto("designations")
    in_force = stored_plans_in_force(store, des[des["year"] == year], service_year, m)
    return ReportFrames(
        year,
        _drop_year(store.read("schools", [year])),
        upto("indicators"),
        upto("index_scores"),
        des,
        communities=upto("communities"),
        plans=in_force,
        checkpoints=_drop_year(store.read("checkpoints", [service_year])),
        educator_distribution=upto("educator_distribution"),
        **support_frames(store, year, with_districts=True),
        **reviews.oversight_frames(store, service_year, term),  # sqis.reports.reviews
    )


def _up_to(df: pd.DataFrame, start: int) -> pd.DataFrame:
    """The rows of years starting no later than ``start`` (vectorised, not per row)."""
    if "year" not in df.columns or df.empty:
        return df
    # stored years are valid YYYY-YY: the first four characters are the start year
    started = pd.to_numeric(df["year"].str.slice(0, 4))
    return df[(started <= start).to_numpy()].reset_index(drop=True)


def _drop_year(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["year"]) if "year" in df.columns else df


# ---------------------------------------------------------------------------------
# The run: lock, stages, one transaction, publish, finish
# ---------------------------------------------------------------------------------
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
    from sqis import run_control

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
        inputs = ingest(year, cfg.data_root, store_root=cfg.store_root, replace=cfg.replace, m=m)
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
        return prior_results(self.store, self.year)

    def growth(self, inputs: Inputs) -> tuple[pd.DataFrame, pd.DataFrame]:
        return growth_and_educators(inputs, self.m)

    def district_index(
        self, inputs: Inputs, growth: pd.DataFrame, prior: Prior, districts: list[str]
    ) -> Iterator[tuple[str, tuple[pd.DataFrame, pd.DataFrame]]]:
        from sqis.indicators import BySchool

        if not self.by_district:
            yield "*", district_index(inputs, growth, prior, self.m, None)
            return
        by_school = BySchool(growth)  # every district takes its schools' rows: grouped once
        for d in districts:
            yield d, district_index(inputs, by_school, prior, self.m, d)

    def educators(
        self, inputs: Inputs, measures: pd.DataFrame, districts: list[str]
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        return educators_stage(measures, inputs.cur.schools, self.m, by_district=self.by_district)

    def index_done(self, index: pd.DataFrame, schools: pd.DataFrame) -> None:
        pass

    def designate(
        self, inputs: Inputs, indicators: pd.DataFrame, index: pd.DataFrame, prior: Prior
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        return designate(inputs, indicators, index, prior, self.m)

    def designations_done(self, designations: pd.DataFrame) -> None:
        pass

    def support(
        self, inputs: Inputs, indicators: pd.DataFrame, designations: pd.DataFrame
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        return support(inputs, indicators, designations, self.m)

    def communities(self, designations: pd.DataFrame, schools: pd.DataFrame) -> pd.DataFrame:
        return communities(designations, schools, self.year, self.m)

    def store_results(self, tables: YearTables) -> None:
        self.undo.snapshot(self.store, TABLES)
        store_results(self.store, self.run_id, tables, self.m)

    def report_frames(self) -> ReportFrames:
        self.render.start()  # the render workers start while the frames are read
        return report_frames(self.store, self.year, m=self.m)

    def public_edition(
        self, tables: YearTables, frames: ReportFrames, produced: str
    ) -> dict[str, bytes]:
        return public_files(tables, frames, self.m, produced)

    def district_reports(
        self, by_district: dict[str, ReportFrames], produced: str, districts: list[str]
    ) -> Iterator[tuple[str, dict[str, bytes]]]:
        started = [
            (d, self.render.submit(reports, by_district.pop(d), self.m,
                                   pdf=self.cfg.pdf, produced=produced))
            for d in districts
        ]  # fmt: skip
        return ((d, job.result()) for d, job in started)

    def exports(self, tables: YearTables, held: pd.DataFrame | None) -> dict[str, bytes]:
        return exports(tables, self.m, held)

    def calendars(self, tables: YearTables) -> dict[str, bytes]:
        return calendars(tables, self.m)

    def educator_files(self, produced: str) -> dict[str, bytes]:
        return educator_staff_files(self.store, self.year, self.m, produced)

    def publish(self, files: dict[str, bytes]) -> dict[str, str]:
        manifest = publish_run(self.year, files, self.cfg.out_root, self.store_id)
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

    from sqis import run_control
    from sqis.year_stages import walk_year

    # the results store must answer before any work: an unreachable database fails the run
    # before anything is written to the store root or the out root
    store = prepare_store(cfg, year)
    began = runs.begin_run(store, year, m, cfg, flow_run_alive=flow_run_alive)
    run_id, old = began.run_id, began.took_over
    inputs = ingest_locked(store, run_id, year, cfg, m)
    note("ingest", {"districts": len(inputs.districts())})
    undo = run_control.Undo(year, cfg.store_root, inputs.ingested)
    try:
        with RenderWorkers(get_settings().render_processes()) as render:
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
        cfg.out_root,
        cfg.db_url,
        m.version,
        out_checksums,
        {t: len(getattr(tables, t)) for t in TABLES},
        old,
    )


def public_files(
    tables: YearTables, frames: ReportFrames, m: Methodology, produced: str
) -> dict[str, bytes]:
    """The year's **public edition** (METHODOLOGY.md "Two editions"): the report frames go
    through ``sqis.disclosure.public_frames`` — the one suppression function — and
    everything public is rendered from its result (``sqis.reports.public``): school
    reports, district pages, the public CSVs and ``data-dictionary.csv``. Keys are relative
    to ``<public root>/<year>/``."""
    from sqis.disclosure import public_frames
    from sqis.reports.public import render_public_edition

    scheduled = schedule(tables.communities, tables.year, m, frames.checkpoints)
    frames = replace(frames, communities=scheduled, districts=tables.district_index)
    pf = public_frames(frames, m)
    files = render_public_edition(pf, m, produced)
    files.update(public_educator_files(tables, m, files, pf.educators))
    return files


def public_educator_files(
    tables: YearTables,
    m: Methodology,
    public: dict[str, bytes],
    suppressed: pd.DataFrame | None = None,
) -> dict[str, bytes]:
    """METHODOLOGY.md "Educator effectiveness": from the first implementation year, the
    public ``educator-distribution.csv`` — suppressed by
    ``sqis.disclosure.public_educator_distribution``, the one function for it — and its
    rows of ``data-dictionary.csv``. The pilot year publishes nothing of educators.
    ``suppressed``: ``PublicFrames.educators`` (the same function's result, years on
    record), whose rows of the year are used rather than suppressing the year again."""
    from sqis import exports as ex
    from sqis.disclosure import public_educator_distribution

    e = m.educators
    dist = tables.educator_distribution
    if e is None or e.stage(tables.year) != "implementation" or dist.empty:
        return {}
    now = None
    if suppressed is not None:
        now = suppressed[suppressed["year"] == tables.year].drop(columns=["year"])
    if now is None or len(now) != len(dist):
        now = public_educator_distribution(dist, m)
    out = {"educator-distribution.csv": ex.public_educator_distribution_csv(now)}
    if ex.DICTIONARY in public:
        out[ex.DICTIONARY] = public[ex.DICTIONARY] + ex.educator_dictionary_rows(m)
    return out


def educator_action_files(store: ResultsStore, year: SchoolYear) -> dict[str, bytes]:
    """The staff edition's ``educator-actions.csv`` (METHODOLOGY.md "Educator
    effectiveness", option 1): the actions the districts recorded on a ``TRIGGER`` of
    ``year`` and the years before (``sqis educator action``), with the service year an
    improvement plan lasts through."""
    from sqis import exports as ex

    actions = _up_to(store.read("educator_actions"), year.start)
    if not actions.empty:
        actions = actions.assign(
            recorded_at=pd.to_datetime(actions["recorded_at"], utc=True).dt.strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
        )
    return {"educator-actions.csv": ex.to_csv_bytes("educator-actions", actions)}


def educator_staff_files(
    store: ResultsStore, year: SchoolYear, m: Methodology, produced: str
) -> dict[str, bytes]:
    """The staff edition's educator files besides the exports, from the results store:
    ``educator-actions.csv`` and the staff pages (``sqis.reports.educator_pages``: a page per
    school for its principal, per district, and the consortium's for the Oversight Panel).
    Rewritten by the year's run and by ``sqis educator action``."""
    from sqis.reports.educator_pages import educator_pages

    files = educator_action_files(store, year)
    history = _up_to(store.read("educator_distribution"), year.start)
    files.update(
        educator_pages(
            year,
            _drop_year(store.read("schools", [year])),
            _drop_year(store.read("educator_results", [year])),
            history,
            _drop_year(store.read("educator_actions", [year])),
            m,
            produced,
        )
    )
    return files


def calendars(tables: YearTables, m: Methodology) -> dict[str, bytes]:
    """The service year's iCalendar files (``sqis.calendar``): each community's checkpoints
    (``communities/<community_id>.ics``) and each school's Reward School Symposium and
    Partnership Building Convening (``events/<school_code>.ics``), stamped with the year's
    results so that a re-run writes the same bytes."""
    from sqis import calendar as cal

    return cal.year_calendars(
        tables.year, tables.communities, tables.designations, tables.partnerships, m
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
