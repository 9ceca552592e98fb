"""The staff report frames read back from the results store (results → reports, one way).

:func:`report_frames` reads what a results year's reports show into one
``sqis.report_frames.ReportFrames`` (every year on record up to it for the trends; the
plans in force and the checkpoints of its service year; the support, educator,
district-index and review sections' frames); :func:`split_by_district` cuts it per
district, one grouping per frame. ``sqis.oversight.oversight_frames`` reads an Oversight
meeting's with the same helpers (:func:`support_frames`, :func:`stored_plans_in_force`,
:func:`up_to`, :func:`drop_year`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from sqis import reviews
from sqis.methodology import Methodology, for_year
from sqis.report_frames import ReportFrames
from sqis.settings import get_settings

if TYPE_CHECKING:
    from sqis.store import ResultsStore
    from sqis.years import SchoolYear


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
    schools = drop_year(store.read("schools", [year]))
    codes = None
    if district is not None:
        schools = schools[schools["district_code"] == district].reset_index(drop=True)
        codes = set(schools["school_code"])

    def up_to_year(table: str) -> pd.DataFrame:
        return up_to(store.read(table, school_codes=codes), start)

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
        communities=drop_year(store.read("communities", [year], school_codes=codes)),
        plans=in_force,
        checkpoints=drop_year(store.read("checkpoints", [service], school_codes=codes)),
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
    dist = up_to(store.read("educator_distribution"), year.start)
    entity = dist["entity_code"].astype("str")
    dist = dist.assign(
        district_code=entity.str.slice(0, 7).where(dist["entity_type"] != "CONSORTIUM")
    ).drop(columns=["run_id"], errors="ignore")
    di = drop_year(store.read("district_index", [year])).drop(columns=["run_id"], errors="ignore")
    if district is not None:
        dist = dist[(dist["district_code"] == district).to_numpy()].reset_index(drop=True)
        di = di[(di["district_code"] == district).to_numpy()].reset_index(drop=True)
    results = store.read("educator_results", [year], school_codes=codes)
    return {
        "educator_results": drop_year(results).drop(columns=["run_id"], errors="ignore"),
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
        return drop_year(df).drop(columns=["run_id"], errors="ignore")

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

    started: list[str] = [service_year.shift(-k) for k in range(m.communities.plan_years)]
    stored = store.read("plans", started, school_codes=school_codes)
    return plans_mod.plans_in_force(stored, designations, service_year, m)


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
    out: dict[str, dict[str, Any]] = {d: {} for d in districts}
    for name, df in frames.held().items():
        by_code = name == "schools" or "school_code" not in df.columns
        if by_code and "district_code" not in df.columns:
            for d in out:
                out[d][name] = df
            continue
        keys = df["district_code"] if by_code else df["school_code"].map(district_of)
        parts: dict[Any, pd.DataFrame] = {
            d: part.reset_index(drop=True)
            for d, part in df.groupby(keys.to_numpy(), sort=False, dropna=True)
        }
        for d in out:
            out[d][name] = parts.get(d, df.iloc[0:0].reset_index(drop=True))
    return {d: replace(frames, **parts) for d, parts in out.items()}


def up_to(df: pd.DataFrame, start: int) -> pd.DataFrame:
    """The rows of years starting no later than ``start`` (vectorised, not per row)."""
    if "year" not in df.columns or df.empty:
        return df
    # stored years are valid YYYY-YY: the first four characters are the start year
    started = pd.to_numeric(df["year"].str.slice(0, 4))
    return df[(started <= start).to_numpy()].reset_index(drop=True)


def drop_year(df: pd.DataFrame) -> pd.DataFrame:
    """The frame without its ``year`` column (a table read for one year)."""
    return df.drop(columns=["year"]) if "year" in df.columns else df
