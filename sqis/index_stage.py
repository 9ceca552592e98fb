"""Stage 2, the index (METHODOLOGY.md "Growth", "Indicators", "Index levels", "SQII") and
the educators it gives (METHODOLOGY.md "Educator effectiveness").

The growth model is fitted once, consortium-wide (:func:`growth_and_educators`): its
residuals give the school growth indicators and every educator's growth measure.
Indicators, levels and the SQII are computed per district (:func:`district_index`: every
rule there is per school), so the flows can fan out by district; :func:`combine` puts the
districts' frames together in a stable order. The educators' summative scores and levels
are per district too (:func:`district_educators`, each district under its option).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from sqis.indicators import BySchool
    from sqis.methodology import Methodology
    from sqis.year_inputs import Inputs, Prior

log = logging.getLogger(__name__)


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
    measures = edu.growth_measures(
        residuals, cur.assessments, cur.educators, cur.rosters, m, inputs.lookups.keys
    )
    # in the results' order, so that each district's come sorted (``edu.evaluate``)
    return measures.take(edu.results_order(measures)).reset_index(drop=True)


def district_educators(
    measures: pd.DataFrame | BySchool,
    schools: pd.DataFrame,
    m: Methodology,
    district: str | None = None,
) -> pd.DataFrame:
    """METHODOLOGY.md "Educator effectiveness": summative scores, levels and flags of one
    district's educators under its option (``district=None``: every district at once).
    ``measures`` as ``sqis.indicators.BySchool`` when every district is handed them (each
    takes its schools' rows of one grouping, not a pass over the consortium's)."""
    from schemas.outputs import EducatorResultsFrame, empty
    from sqis import educators as edu
    from sqis.indicators import BySchool, rows_at_schools

    frame = measures.frame if isinstance(measures, BySchool) else measures
    if frame.empty or m.educators is None:
        return empty(EducatorResultsFrame)
    if district is not None:
        codes = schools.loc[schools["district_code"] == district, "school_code"]
        frame = frame.take(rows_at_schools(measures, codes)).reset_index(drop=True)
    return edu.evaluate(frame, schools, m)


def educators_stage(
    measures: pd.DataFrame, schools: pd.DataFrame, m: Methodology, *, by_district: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The educator results (per district, as the flow's tasks) and the distribution by
    level per consortium, district and school (``sqis.educators.distribution``)."""
    from schemas.outputs import EducatorResultsFrame, empty
    from sqis import educators as edu

    if by_district and not measures.empty:
        from sqis.indicators import BySchool

        grouped = BySchool(measures)  # every district takes its rows of one grouping
        parts = [
            district_educators(grouped, schools, m, d)
            for d in sorted(schools["district_code"].unique())
        ]
        results = combine(parts, ["school_code", "role", "educator_key"])
    else:
        results = district_educators(measures, schools, m)
    if results.empty:
        return empty(EducatorResultsFrame), edu.distribution(results, schools)
    return results, edu.distribution(results, schools)


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


def _district_schools(schools: pd.DataFrame, district: str | None) -> pd.DataFrame:
    if district is None:
        return schools
    return schools[schools["district_code"] == district]


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
        df = prior.frame_or_none(name)
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
