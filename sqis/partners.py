"""Reward partners (METHODOLOGY.md "Escalation: partner choice").

A school that needs a partner (``sqis.escalation.needs_partner``) is paired with a school
of the **Reward pool** that has shown success with its ``reason_group``: the Reward
school's level for that group on the school's ``reason_indicator`` is at least
``m.partners.min_level``. The pool (``m.partners.reward_pool``) is this year's REWARD
schools (``this_year``, core-2013.1) or this year's and last year's
(``this_and_last_year``, core-2015.1: a school designated REWARD last year and not
PRIORITY or FOCUS this year keeps its standing as a partner for one more year). Under
``this_and_last_year`` last year's pair is **kept** — before any other pairing, taking
one of the partner's places — while the school still needs a partner, the partner is
in the pool and its level on this year's reason is still at ``min_level``.

Among eligible pairs the cost is

    school_type_mismatch_cost × (types differ)
    + Σ share_weights[g] × |share_g(school) − share_g(Reward school)|   (g = SED, EL, SWD)
    − keep_partner_bonus × (the pair was partnered last year)

and each Reward school takes at most ``max_partners`` schools (kept pairs included). The
pairing minimises the total cost over all schools at once (``optimal_pairs``:
``scipy.optimize.linear_sum_assignment`` over a matrix whose rows are the schools and
whose columns are each Reward school repeated once per free place, both sorted by school
code so that ties resolve the same way on every run). Infeasible pairs carry a
prohibitive cost, so the assignment first pairs as many schools as possible, then at
the lowest cost; pairs that are still infeasible are dropped: a school with no eligible
Reward school gets no partner this year (an empty ``partner_school_code``) and is
flagged ``NO_ELIGIBLE_PARTNER`` (``partnership_flags``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from schemas.outputs import PartnershipFlags, PartnershipsFrame, columns, dtypes, empty
from sqis import codes
from sqis.designations import as_flag
from sqis.escalation import needs_partner
from sqis.methodology import SHARE_GROUPS, Methodology

__all__ = [
    "NO_ELIGIBLE_PARTNER",
    "SHARE_GROUPS",
    "assign_partners",
    "optimal_pairs",
    "partnership_flags",
    "reward_pool",
    "school_shares",
    "share_distance",
    "with_partners",
]

NO_ELIGIBLE_PARTNER = codes.PARTNERSHIP_FLAGS[0]
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


def share_distance(
    a: pd.Series,
    b: pd.Series,
    shares: pd.DataFrame,
    weights: dict[str, float],
    start: np.ndarray | None = None,
) -> np.ndarray:
    """``start`` (0) + Σ weights[g] × |share_g(a) − share_g(b)| per position of the school
    codes ``a`` and ``b`` (aligned Series); a missing share counts as the largest
    difference (1). Added in the order of ``weights``, onto ``start``."""
    sh = shares.drop_duplicates("school_code").set_index("school_code")
    out = np.zeros(len(a)) if start is None else start
    for group, weight in weights.items():
        own = a.map(sh[group]).to_numpy(dtype=float) if group in sh else np.nan
        other = b.map(sh[group]).to_numpy(dtype=float) if group in sh else np.nan
        diff = np.abs(np.asarray(own, dtype=float) - np.asarray(other, dtype=float))
        out = out + weight * np.where(np.isnan(diff), 1.0, diff)
    return out


def optimal_pairs(
    cost: np.ndarray, feasible: np.ndarray, places: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The optimal assignment of rows to columns with at most ``places[j]`` rows per column.

    ``cost`` and ``feasible``: rows × columns. Returns the (row, column) index pairs chosen,
    infeasible ones dropped: as many rows as possible are paired, then at the lowest total
    cost (``scipy.optimize.linear_sum_assignment``; ties resolve by position).
    """
    empty = np.zeros(0, dtype=np.int64)
    if cost.size == 0 or int(np.sum(places)) == 0:
        return empty, empty
    base = np.where(feasible, cost, _INFEASIBLE)
    column_of = np.repeat(np.arange(base.shape[1]), places)
    matrix = base[:, column_of]
    r, c = linear_sum_assignment(matrix)
    chosen = matrix[r, c] < _INFEASIBLE
    return r[chosen], column_of[c[chosen]]


def reward_pool(
    designations: pd.DataFrame, prior_designations: pd.DataFrame | None, m: Methodology
) -> list[str]:
    """The Reward pool's school codes, sorted (``m.partners.reward_pool``): this year's
    REWARD schools, and under ``this_and_last_year`` last year's too where they are in
    this year's designations and neither PRIORITY nor FOCUS now."""
    now = designations["designation"]
    pool = set(designations.loc[now == "REWARD", "school_code"])
    if m.partners.reward_pool == "this_and_last_year" and prior_designations is not None:
        p = prior_designations
        last = set(p.loc[p["designation"] == "REWARD", "school_code"])
        standing = set(designations.loc[~now.isin(["PRIORITY", "FOCUS"]), "school_code"])
        pool |= last & standing
    return sorted(pool)


def _reason_levels(indicators: pd.DataFrame) -> pd.DataFrame:
    """Each school's level per group × indicator where it meets the n-size, keyed as a
    partner's: ``partner_school_code, reason_group, reason_indicator, level``."""
    levels = indicators.loc[
        as_flag(indicators["meets_nsize"]),
        ["school_code", "student_group", "indicator", "level"],
    ]
    return levels.rename(
        columns={
            "school_code": "partner_school_code",
            "student_group": "reason_group",
            "indicator": "reason_indicator",
        }
    )


def _kept_pairs(
    rows: pd.DataFrame,
    pool: list[str],
    levels: pd.DataFrame,
    prior_partnerships: pd.DataFrame | None,
    m: Methodology,
) -> pd.DataFrame:
    """Last year's pairs kept this year (``reward_pool`` ``this_and_last_year``): the school
    still needs a partner, the partner is in the pool and at ``min_level`` on this year's
    reason; at most ``max_partners`` per partner (the first by school code)."""
    cols = ["school_code", "partner_school_code"]
    if (
        m.partners.reward_pool != "this_and_last_year"
        or prior_partnerships is None
        or prior_partnerships.empty
    ):
        return pd.DataFrame({c: pd.Series(dtype="str") for c in cols})
    last = prior_partnerships[cols].drop_duplicates("school_code")
    kept = rows.merge(last, on="school_code", how="inner")
    kept = kept[kept["partner_school_code"].isin(pool)]
    kept = kept.merge(
        levels, on=["partner_school_code", "reason_group", "reason_indicator"], how="left"
    )
    kept = kept[pd.to_numeric(kept["level"]).fillna(0).to_numpy() >= m.partners.min_level]
    kept = kept.sort_values("school_code", kind="stable")
    kept = kept[kept.groupby("partner_school_code").cumcount() < m.partners.max_partners]
    return kept[cols].reset_index(drop=True)


def assign_partners(
    designations: pd.DataFrame,
    indicators: pd.DataFrame,
    schools: pd.DataFrame,
    shares: pd.DataFrame,
    prior_partnerships: pd.DataFrame | None,
    m: Methodology,
    prior_designations: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The optimal pairing: ``school_code, partner_school_code, cost, kind``.

    METHODOLOGY.md "Escalation: partner choice". One row per school that needs a
    partner and got one (``kind`` = its designation); schools with no eligible Reward
    school are absent. ``shares``: ``school_shares``; a missing share counts as the
    largest difference (1). ``prior_designations``: last year's designations (the Reward
    pool under ``this_and_last_year``).
    """
    spec = m.partners
    d = designations.sort_values("school_code", kind="stable")
    need = d[needs_partner(d, m).to_numpy()]
    pool = reward_pool(d, prior_designations, m)
    if need.empty or not pool:
        return empty(PartnershipsFrame)
    rows = need[["school_code", "designation", "reason_group", "reason_indicator"]]
    rows = rows.reset_index(drop=True)
    levels = _reason_levels(indicators)
    kept = _kept_pairs(rows, pool, levels, prior_partnerships, m)

    # every (school, Reward school) pair with the Reward school's level for the reason
    pairs = rows.merge(pd.DataFrame({"partner_school_code": pool}), how="cross")
    pairs = pairs.merge(
        levels, on=["partner_school_code", "reason_group", "reason_indicator"], how="left"
    )
    feasible = pd.to_numeric(pairs["level"]).fillna(0).to_numpy() >= spec.min_level
    feasible &= (pairs["school_code"] != pairs["partner_school_code"]).to_numpy()

    # cost: school type mismatch + weighted share differences − bonus for last year's pair
    types = schools.drop_duplicates("school_code").set_index("school_code")["school_type"]
    cost = spec.school_type_mismatch_cost * (
        pairs["school_code"].map(types).to_numpy()
        != pairs["partner_school_code"].map(types).to_numpy()
    )
    cost = share_distance(
        pairs["school_code"], pairs["partner_school_code"], shares, spec.share_weights, cost
    )
    if prior_partnerships is not None and not prior_partnerships.empty:
        last = prior_partnerships[["school_code", "partner_school_code"]].assign(_kept=True)
        was = pairs.merge(last, on=["school_code", "partner_school_code"], how="left")["_kept"]
        cost = cost - spec.keep_partner_bonus * was.fillna(False).astype(bool).to_numpy()
    pairs["cost"] = cost.astype(float)

    # kept pairs first; the rest by the optimal assignment over the places left
    n_rows, n_pool = len(rows), len(pool)
    base = pairs["cost"].to_numpy().reshape(n_rows, n_pool)
    ok = feasible.reshape(n_rows, n_pool)
    row_is_kept = rows["school_code"].isin(kept["school_code"]).to_numpy()
    taken = kept["partner_school_code"].value_counts()
    places = spec.max_partners - pd.Series(pool).map(taken).fillna(0).astype(int).to_numpy()
    free = np.flatnonzero(~row_is_kept)
    r, c = optimal_pairs(base[free], ok[free], np.maximum(places, 0))
    r = np.concatenate([np.flatnonzero(row_is_kept), free[r]])
    partner_of = kept.set_index("school_code")["partner_school_code"]
    kept_col = pd.Index(pool).get_indexer(
        pd.Index(rows["school_code"][row_is_kept].map(partner_of))
    )
    c = np.concatenate([kept_col, c])
    out = pd.DataFrame(
        {
            "school_code": rows["school_code"].to_numpy()[r],
            "partner_school_code": np.asarray(pool, dtype=object)[c],
            "cost": base[r, c],
            "kind": rows["designation"].to_numpy()[r],
        }
    )
    if out.empty:
        return empty(PartnershipsFrame)
    return out.sort_values("school_code").reset_index(drop=True).astype(dtypes(PartnershipsFrame))


def with_partners(designations: pd.DataFrame, partners: pd.DataFrame) -> pd.DataFrame:
    """The designations with ``partner_school_code`` filled from ``assign_partners``."""
    out = designations.copy()
    partner = out["school_code"].map(partners.set_index("school_code")["partner_school_code"])
    out["partner_school_code"] = partner.astype("str")
    return out


def partnership_flags(designations: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """``school_code, flag``: ``NO_ELIGIBLE_PARTNER`` for each school that needs a partner
    (``needs_partner``) and has none in ``designations`` (after ``with_partners``)."""
    d = designations
    partner = d["partner_school_code"] if "partner_school_code" in d else pd.Series(pd.NA)
    none = partner.isna() | (partner.astype("str").str.strip() == "")
    flagged = d.loc[needs_partner(d, m).to_numpy() & none.to_numpy(), "school_code"]
    out = pd.DataFrame(
        {"school_code": pd.array(sorted(flagged), dtype="str"), "flag": NO_ELIGIBLE_PARTNER}
    )
    return out.astype(dtypes(PartnershipFlags))[columns(PartnershipFlags)]
