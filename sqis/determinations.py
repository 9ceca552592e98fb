"""What a results year determines, after the index, and the results store's copy of it.

- :func:`designate` — METHODOLOGY.md "Designations", "Escalation": designations,
  escalation and Reward partners, consortium-wide (the shares are of all Title I schools);
  :func:`support` — "Support for schools missing their goal" and the partnerships not
  formed;
- :func:`communities` — "Communities of practice and checkpoints": the FOCUS schools
  grouped; :func:`schedule` dates their checkpoints in the service year;
- :func:`district_scores` — "District index";
- :class:`YearTables` — everything the year's run computed, the tables the results store
  keeps (``TABLES``); :func:`store_results` replaces the year's rows in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from sqis.store.models import YEAR_TABLES

if TYPE_CHECKING:
    from sqis.methodology import Methodology
    from sqis.store import ResultsStore
    from sqis.year_inputs import Inputs, Prior
    from sqis.years import SchoolYear


# the store's year tables but ``checkpoints`` (the checkpoint flow writes those, through the
# service year): the tables a results year's run computes, in the store's order, each a
# field of :class:`YearTables` (the educator tables: METHODOLOGY.md "Educator
# effectiveness", empty for a year without educator files; ``goal_support`` and
# ``partnership_flags``: "Support for schools missing their goal", "Escalation")
TABLES: tuple[str, ...] = tuple(t for t in YEAR_TABLES if t != "checkpoints")


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
    d = des.designate(index, indicators, schools, prior.frame_or_none("designations"), m)
    d = esc.escalate(d, m)
    shares = par.school_shares(inputs.cur.students)
    partnerships = par.assign_partners(
        d, indicators, schools, shares, prior.frame_or_none("partnerships"), m,
        prior.frame_or_none("designations"),
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
        cut: dict[str, Any] = {t: _by_school(getattr(self, t), codes) for t in TABLES}
        di = self.district_index
        cut["district_index"] = di[di["district_code"] == district].reset_index(drop=True)
        return YearTables(self.year, **cut)


def _by_school(df: pd.DataFrame | None, codes: pd.Index | set[str] | None) -> pd.DataFrame | None:
    if df is None or codes is None:
        return df
    if "school_code" not in df.columns:
        return df
    return df[df["school_code"].isin(codes)].reset_index(drop=True)


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
        prior_index=prior.frame_or_none("index_scores"),
        prior_indicators=prior.frame_or_none("indicators"),
    )


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
