"""The year's inputs: stage 1, ingest (DATA_CONTRACT.md "Inputs"), and last year's results.

- :func:`ingest` validates and stores this year's delivery (``sqis.ingest``); the two
  years before are ingested too when the data root holds them (growth needs last year's
  scores, middle-school persistence the year two back), and only the files the rules read
  of them are loaded (``EARLIER_YEAR_FILES``). :class:`Inputs` holds the frames and the
  look-ups over the whole year that growth and every district share
  (``sqis.indicators.YearLookups``); :func:`release_after_index` lets go of what no stage
  after the index reads.
- :func:`prior_results`: earlier *determinations* (indicators, index, designations,
  partners) come from the results store, never recomputed (:class:`Prior`).

Whether the data root holds a year at all is ``sqis.reading.delivered``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from dataclasses import replace as replace_field
from typing import TYPE_CHECKING, Any

import pandas as pd

from sqis import codes, memory
from sqis.errors import PipelineError
from sqis.reading import delivered

if TYPE_CHECKING:
    from sqis.indicators import YearLookups
    from sqis.ingest import IngestResult
    from sqis.methodology import Methodology
    from sqis.store import ResultsStore
    from sqis.yeardata import YearData
    from sqis.years import SchoolYear


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
        return replace(yd, **frames, stored_keys=None)  # the codes of frames let go

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

    def frame_or_none(self, name: str) -> pd.DataFrame | None:
        """Last year's frame ``name``, or None where the store held no rows of it."""
        df = getattr(self, name)
        return None if df is None or df.empty else df


def prior_results(store: ResultsStore, year: SchoolYear) -> Prior:
    """Last year's indicators, index, designations and partners from the results store."""
    y1 = year.previous
    frames: dict[str, Any] = {}
    for t in ("indicators", "index_scores", "designations", "partnerships"):
        df = store.read(t, [y1])
        if "year" in df.columns:
            df = df.drop(columns=["year"])
        frames[t] = df.reset_index(drop=True)
    return Prior(y1, **frames)
