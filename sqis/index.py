"""The School Quality Improvement Index (METHODOLOGY.md "The School Quality Improvement Index").

1. School indicator level = ``school_level.all_weight`` × level(ALL) + (1 − all_weight) ×
   mean level of the counted subgroups (``school_level.subgroups``: LOWEST_RACE = the
   lowest-levelled race group meeting the n-size, EL, SWD, SED) that have a level; the ALL
   level alone where none does. Where ALL itself has no level the indicator has no school
   level (*default*: the index is anchored on all students; subgroups alone never stand in).
2. Domain score = mean of the school's indicator levels in the domain, over indicators that
   apply to its type and have a level.
3. SQII = 10 × Σ w_d × score_d / Σ w_d over the weighting domains (``domains``) that have a
   score; a weighting domain may pool several methodology domains, and its score is then
   the mean over all the pooled indicators' school levels.
4. SQI Goal = prior SQII + ``goal.improvement_share`` × (100 − prior SQII); meets_goal
   where SQII ≥ goal, empty without a prior SQII (or without an SQII).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.outputs import Index, columns
from sqis import codes
from sqis import groups as groups_mod
from sqis.levels import assign_levels
from sqis.methodology import Methodology

LOWEST_RACE = "LOWEST_RACE"
# SQII is on a 10–100 scale from levels 1–10: 10 points per level (unit conversion).
POINTS_PER_LEVEL = 10.0
INDEX_MAX = 100.0  # the top of the SQII scale (used by the goal rule)

INDEX_COLUMNS = columns(Index)  # the index frame's (schemas.outputs.Index)


def school_indicator_levels(
    ind: pd.DataFrame, schools: pd.DataFrame, m: Methodology
) -> pd.DataFrame:
    """School indicator levels (SQII step 1), one row per school × indicator with a level.

    Columns ``school_code, indicator, domain, all_level, lowest_race_group,
    lowest_race_level, subgroup_count, subgroup_mean, school_level``. ``ind`` is the
    indicators frame with ``level`` (``sqis.levels.assign_levels``; computed here if
    missing). Of race groups tied on the lowest level, the first in the methodology's
    group order is named (*default*).
    """
    if "level" not in ind:
        ind = assign_levels(ind, schools, m)
    # Integer keys and array scatters rather than merges and groupbys: a district's frame is
    # small, and per-call pandas overhead would otherwise dominate (tie-breaking as before).
    has = ind["level"].notna().to_numpy()
    level = ind["level"].to_numpy(dtype="float64", na_value=np.nan)[has]
    school_idx, school_codes = pd.factorize(ind["school_code"].to_numpy(dtype=object)[has])
    ind_idx, ind_codes = pd.factorize(ind["indicator"].to_numpy(dtype=object)[has])
    groups = list(m.student_groups)
    group = pd.Index(groups).get_indexer(ind["student_group"].to_numpy(dtype=object)[has])
    n_ind = max(len(ind_codes), 1)
    key = school_idx.astype(np.int64) * n_ind + ind_idx
    n_keys = len(school_codes) * n_ind

    def per_key(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(has a row, its level) per key, for rows where ``mask`` (one row per key)."""
        present = np.zeros(n_keys, dtype=bool)
        value = np.full(n_keys, np.nan)
        present[key[mask]] = True
        value[key[mask]] = level[mask]
        return present, value

    # without ALL in the methodology no key has an ALL level (-2 matches no group code)
    has_all, all_level = per_key(group == (groups.index("ALL") if "ALL" in groups else -2))
    # the lowest-levelled race group per key; ties go to the first in the group order
    race_order = [i for i, g in enumerate(groups) if g in codes.RACE_GROUPS]
    is_race = np.isin(group, race_order)
    r_idx = np.flatnonzero(is_race)
    r_idx = r_idx[np.lexsort((group[r_idx], level[r_idx], key[r_idx]))]
    first = np.ones(len(r_idx), dtype=bool)
    first[1:] = key[r_idx][1:] != key[r_idx][:-1]
    lowest_rows = r_idx[first]
    has_lowest = np.zeros(n_keys, dtype=bool)
    lowest_level = np.full(n_keys, np.nan)
    lowest_group = np.full(n_keys, -1, dtype=np.int64)
    has_lowest[key[lowest_rows]] = True
    lowest_level[key[lowest_rows]] = level[lowest_rows]
    lowest_group[key[lowest_rows]] = group[lowest_rows]

    count = np.zeros(n_keys, dtype=np.int64)
    total = np.zeros(n_keys)
    for g in m.school_level.subgroups:
        if g == LOWEST_RACE:
            present, value = has_lowest, lowest_level
        elif g in groups:
            present, value = per_key(group == groups.index(g))
        else:
            continue
        count += present
        total += np.where(present, value, 0.0)

    k = np.flatnonzero(has_all)
    with np.errstate(invalid="ignore", divide="ignore"):
        sub_mean = np.where(count[k] > 0, total[k] / np.maximum(count[k], 1), np.nan)
    w = m.school_level.all_weight
    school_level = np.where(count[k] > 0, w * all_level[k] + (1 - w) * sub_mean, all_level[k])
    # only indicators that apply to the school's type (rows from elsewhere are ignored)
    ind_names, types = list(m.indicators), sorted(codes.SCHOOL_TYPES)
    table = np.zeros((len(ind_names) + 1, len(types) + 1), dtype=bool)  # last: unknown
    for i, spec in enumerate(m.indicators.values()):
        for t in spec.school_types:
            table[i, types.index(t)] = True
    school_of, ind_of = k // n_ind, k % n_ind
    # each key's school type, as its position in ``types`` (-1: unknown, or not a school)
    type_of = np.append(groups_mod.positions_in(schools["school_type"], types), -1)
    school_type = type_of[
        groups_mod.positions_in(np.asarray(school_codes, dtype=object), schools["school_code"])
    ]
    applies = table[pd.Index(ind_names).get_indexer(ind_codes)[ind_of], school_type[school_of]]
    # by school code, then indicator (the pairs are unique): ranks of the few distinct codes
    s_rank = np.argsort(np.argsort(np.asarray(school_codes, dtype=object)))
    i_rank = np.argsort(np.argsort(np.asarray(ind_codes, dtype=object)))
    at = np.flatnonzero(applies)
    at = at[np.lexsort((i_rank[ind_of[at]], s_rank[school_of[at]]))]
    k = k[at]
    domain_of = np.asarray(
        [m.indicators[c].domain if c in m.indicators else None for c in ind_codes] + [None],
        dtype=object,
    )
    group_names = np.asarray(groups + [None], dtype=object)
    school_names = np.asarray(school_codes, dtype=object)
    return pd.DataFrame(
        {
            "school_code": pd.array(school_names[k // n_ind], dtype="str"),
            "indicator": pd.array(np.asarray(ind_codes, dtype=object)[k % n_ind], dtype="str"),
            "domain": pd.array(domain_of[k % n_ind], dtype="str"),
            "all_level": all_level[k],
            "lowest_race_group": pd.array(group_names[lowest_group[k]], dtype="str"),
            "lowest_race_level": lowest_level[k],
            "subgroup_count": count[k],
            "subgroup_mean": sub_mean[at],
            "school_level": school_level[at],
        }
    )


def domain_scores(sil: pd.DataFrame, school_codes: pd.Series, m: Methodology) -> pd.DataFrame:
    """Each methodology domain's score (SQII step 2) and the SQII (step 3), per school."""
    out = pd.DataFrame({"school_code": pd.array(school_codes.to_numpy(), dtype="str")})
    # One mean for the domain columns and the SQII's pools: the levels summed in the frame's
    # order (by indicator) over their count, per school, whatever else the frame holds.
    # (pandas' group mean rounded the same levels differently by where the school's group
    # fell in the frame, so a one-domain pool's score could differ from its domain column
    # in the last digit.)
    pos = groups_mod.positions_in(sil["school_code"], school_codes)
    domain = sil["domain"].to_numpy(dtype=object)
    level = sil["school_level"].to_numpy(dtype="float64")
    n = len(out)

    def mean_where(rows: np.ndarray) -> np.ndarray:
        """Per school of ``out``: the mean school level over ``rows`` (NaN: none)."""
        rows = rows & (pos >= 0) & ~np.isnan(level)
        count = np.bincount(pos[rows], minlength=n)
        total = np.bincount(pos[rows], weights=level[rows], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / count, np.nan)

    for d in codes.DOMAINS:
        out[d] = mean_where(domain == d)
    total = np.zeros(n)
    weight = np.zeros(n)
    for spec in m.domains:
        score = mean_where(np.isin(domain, list(spec.pools)))
        has = ~np.isnan(score)
        total += np.where(has, spec.weight * score, 0.0)
        weight += np.where(has, spec.weight, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["sqii"] = np.where(weight > 0, POINTS_PER_LEVEL * total / weight, np.nan)
    return out


def compute_index(
    ind: pd.DataFrame,
    schools: pd.DataFrame,
    m: Methodology,
    prior_index: pd.DataFrame | None,
) -> pd.DataFrame:
    """The index frame, one row per school of ``schools`` (METHODOLOGY "The School Quality
    Improvement Index"): ``school_code, academic, social_emotional, culture_climate, sqii,
    prior_sqii, goal, meets_goal``.

    ``academic``, ``social_emotional`` and ``culture_climate`` are always each methodology
    domain's own score, whatever the weighting pools; ``sqii`` uses ``m.domains``. A school
    with no level at all has an empty SQII. ``prior_index`` is last year's index frame.
    """
    sil = school_indicator_levels(ind, schools, m)
    out = domain_scores(sil, schools["school_code"], m)
    if prior_index is not None and not prior_index.empty:
        prior = prior_index.set_index("school_code")["sqii"].astype("float64")
        out["prior_sqii"] = out["school_code"].map(prior).astype("float64")
    else:
        out["prior_sqii"] = np.nan
    out["goal"], out["meets_goal"] = sqi_goal(out["sqii"], out["prior_sqii"], m)
    return out[INDEX_COLUMNS]


def sqi_goal(sqii: pd.Series, prior_sqii: pd.Series, m: Methodology) -> tuple[pd.Series, pd.Series]:
    """SQII step 4, for a school or a district ("District index": "as for a school"):
    ``goal`` = prior + ``goal.improvement_share`` × (100 − prior); ``meets_goal`` where
    SQII ≥ goal, empty without a prior SQII or an SQII."""
    share = m.goal.improvement_share
    goal = prior_sqii + share * (INDEX_MAX - prior_sqii)
    has = (goal.notna() & sqii.notna()).to_numpy()
    meets = pd.array([pd.NA] * len(goal), dtype="boolean")
    meets[has] = (sqii >= goal).to_numpy()[has]
    return goal, pd.Series(meets, index=goal.index)
