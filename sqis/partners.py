"""Reward partners (METHODOLOGY.md "Escalation: partner choice").

A school that needs a partner (``sqis.escalation.needs_partner``) is paired with one of
this year's REWARD schools that has shown success with its ``reason_group``: the Reward
school's level for that group on the school's ``reason_indicator`` is at least
``m.partners.min_level``. Among eligible pairs the cost is

    school_type_mismatch_cost × (types differ)
    + Σ share_weights[g] × |share_g(school) − share_g(Reward school)|   (g = SED, EL, SWD)
    − keep_partner_bonus × (the pair was partnered last year)

and each Reward school takes at most ``max_partners`` schools. The pairing minimises the
total cost over all schools at once (``scipy.optimize.linear_sum_assignment`` over a
matrix whose rows are the schools and whose columns are each Reward school repeated
``max_partners`` times, both sorted by school code so that ties resolve the same way on
every run). Infeasible pairs carry a prohibitive cost, so the assignment first pairs as
many schools as possible, then at the lowest cost; pairs that are still infeasible are
dropped: a school with no eligible Reward school gets no partner this year (and shows
an empty ``partner_school_code``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from sqis.designations import as_flag
from sqis.escalation import needs_partner
from sqis.methodology import Methodology

SHARE_GROUPS: tuple[str, ...] = ("SED", "EL", "SWD")
_INFEASIBLE = 1e9  # not a methodology number: a marker far above any real cost


def school_shares(students: pd.DataFrame) -> pd.DataFrame:
    """Per school, the share (0–1) of enrolments that are SED, EL and SWD.

    ``students``: the year's students frame (``sed``, ``swd`` flags, ``el_status``).
    """
    flags = pd.DataFrame(
        {
            "school_code": students["school_code"],
            "SED": students["sed"].astype(bool),
            "EL": students["el_status"] == "EL",
            "SWD": students["swd"].astype(bool),
        }
    )
    out = flags.groupby("school_code", sort=True)[list(SHARE_GROUPS)].mean().reset_index()
    return out.astype({g: float for g in SHARE_GROUPS})


def assign_partners(
    designations: pd.DataFrame,
    indicators: pd.DataFrame,
    schools: pd.DataFrame,
    shares: pd.DataFrame,
    prior_partnerships: pd.DataFrame | None,
    m: Methodology,
) -> pd.DataFrame:
    """The optimal pairing: ``school_code, partner_school_code, cost, kind``.

    METHODOLOGY.md "Escalation: partner choice". One row per school that needs a
    partner and got one (``kind`` = its designation); schools with no eligible Reward
    school are absent. ``shares``: ``school_shares``; a missing share counts as the
    largest difference (1).
    """
    spec = m.partners
    cols = ["school_code", "partner_school_code", "cost", "kind"]
    empty = pd.DataFrame({c: pd.Series(dtype=float if c == "cost" else "str") for c in cols})
    d = designations.sort_values("school_code", kind="stable")
    need = d[needs_partner(d, m).to_numpy()]
    rewards = d.loc[d["designation"] == "REWARD", "school_code"].sort_values().tolist()
    if need.empty or not rewards:
        return empty
    rows = need[["school_code", "designation", "reason_group", "reason_indicator"]]
    rows = rows.reset_index(drop=True)

    # every (school, Reward school) pair with the Reward school's level for the reason
    pairs = rows.merge(pd.DataFrame({"partner_school_code": rewards}), how="cross")
    levels = indicators.loc[
        as_flag(indicators["meets_nsize"]),
        ["school_code", "student_group", "indicator", "level"],
    ]
    levels = levels.rename(
        columns={
            "school_code": "partner_school_code",
            "student_group": "reason_group",
            "indicator": "reason_indicator",
        }
    )
    pairs = pairs.merge(
        levels, on=["partner_school_code", "reason_group", "reason_indicator"], how="left"
    )
    feasible = pd.to_numeric(pairs["level"]).fillna(0).to_numpy() >= spec.min_level

    # cost: school type mismatch + weighted share differences − bonus for last year's pair
    types = schools.drop_duplicates("school_code").set_index("school_code")["school_type"]
    cost = spec.school_type_mismatch_cost * (
        pairs["school_code"].map(types).to_numpy()
        != pairs["partner_school_code"].map(types).to_numpy()
    )
    sh = shares.drop_duplicates("school_code").set_index("school_code")
    for group, weight in spec.share_weights.items():
        own = pairs["school_code"].map(sh[group]) if group in sh else np.nan
        other = pairs["partner_school_code"].map(sh[group]) if group in sh else np.nan
        diff = (pd.Series(own, index=pairs.index) - pd.Series(other, index=pairs.index)).abs()
        cost = cost + weight * diff.fillna(1.0).to_numpy()
    if prior_partnerships is not None and not prior_partnerships.empty:
        kept = prior_partnerships[["school_code", "partner_school_code"]].assign(_kept=True)
        was = pairs.merge(kept, on=["school_code", "partner_school_code"], how="left")["_kept"]
        cost = cost - spec.keep_partner_bonus * was.fillna(False).astype(bool).to_numpy()
    pairs["cost"] = cost.astype(float)

    # the matrix: rows = schools, columns = each Reward school max_partners times
    n_rows, n_rewards = len(rows), len(rewards)
    base = np.where(feasible, pairs["cost"].to_numpy(), _INFEASIBLE).reshape(n_rows, n_rewards)
    matrix = np.repeat(base, spec.max_partners, axis=1)
    r, c = linear_sum_assignment(matrix)
    chosen = matrix[r, c] < _INFEASIBLE
    r, c = r[chosen], c[chosen]
    out = pd.DataFrame(
        {
            "school_code": rows["school_code"].to_numpy()[r],
            "partner_school_code": np.asarray(rewards, dtype=object)[c // spec.max_partners],
            "cost": base[r, c // spec.max_partners],
            "kind": rows["designation"].to_numpy()[r],
        }
    )
    return (
        out.sort_values("school_code")
        .reset_index(drop=True)
        .astype({"school_code": "str", "partner_school_code": "str", "kind": "str", "cost": float})
    )


def with_partners(designations: pd.DataFrame, partners: pd.DataFrame) -> pd.DataFrame:
    """The designations with ``partner_school_code`` filled from ``assign_partners``."""
    out = designations.copy()
    partner = out["school_code"].map(partners.set_index("school_code")["partner_school_code"])
    out["partner_school_code"] = partner.astype("str")
    return out
