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

from sqis import codes
from sqis.levels import assign_levels
from sqis.methodology import Methodology

LOWEST_RACE = "LOWEST_RACE"
# SQII is on a 10–100 scale from levels 1–10: 10 points per level (unit conversion).
POINTS_PER_LEVEL = 10.0
INDEX_MAX = 100.0  # the top of the SQII scale (used by the goal rule)

INDEX_COLUMNS = [
    "school_code",
    "academic",
    "social_emotional",
    "culture_climate",
    "sqii",
    "prior_sqii",
    "goal",
    "meets_goal",
]


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
    lv = ind.loc[ind["level"].notna(), ["school_code", "student_group", "indicator", "level"]]
    lv = lv.assign(level=lv["level"].astype("float64"))
    keys = ["school_code", "indicator"]
    base = lv[lv["student_group"] == "ALL"][keys + ["level"]].rename(columns={"level": "all_level"})

    race_groups = [g for g in m.student_groups if g in codes.RACE_GROUPS]
    races = lv[lv["student_group"].isin(race_groups)].copy()
    races["order"] = races["student_group"].map({g: i for i, g in enumerate(race_groups)})
    lowest = (
        races.sort_values(keys + ["level", "order"])
        .drop_duplicates(keys)[keys + ["student_group", "level"]]
        .rename(columns={"student_group": "lowest_race_group", "level": "lowest_race_level"})
    )

    counted: list[pd.DataFrame] = []
    for g in m.school_level.subgroups:
        if g == LOWEST_RACE:
            counted.append(lowest.rename(columns={"lowest_race_level": "level"})[keys + ["level"]])
        else:
            counted.append(lv[lv["student_group"] == g][keys + ["level"]])
    sub = (
        pd.concat(counted, ignore_index=True) if counted else base.iloc[:0][keys].assign(level=0.0)
    )
    sub_stats = sub.groupby(keys, as_index=False).agg(
        subgroup_count=("level", "size"), subgroup_mean=("level", "mean")
    )

    out = base.merge(lowest, on=keys, how="left").merge(sub_stats, on=keys, how="left")
    out["subgroup_count"] = out["subgroup_count"].fillna(0).astype("int64")
    w = m.school_level.all_weight
    out["school_level"] = np.where(
        out["subgroup_count"] > 0,
        w * out["all_level"] + (1 - w) * out["subgroup_mean"],
        out["all_level"],
    )
    out["domain"] = out["indicator"].map({c: s.domain for c, s in m.indicators.items()})
    # only indicators that apply to the school's type (rows from elsewhere are ignored)
    st = out["school_code"].map(schools.set_index("school_code")["school_type"])
    pairs = pd.MultiIndex.from_tuples(
        [(c, t) for c, spec in m.indicators.items() for t in spec.school_types]
    )
    applies = pd.MultiIndex.from_arrays([out["indicator"], st]).isin(pairs)
    out = out[applies]
    cols = [
        "school_code",
        "indicator",
        "domain",
        "all_level",
        "lowest_race_group",
        "lowest_race_level",
        "subgroup_count",
        "subgroup_mean",
        "school_level",
    ]
    return out[cols].sort_values(keys).reset_index(drop=True)


def domain_scores(sil: pd.DataFrame, school_codes: pd.Series, m: Methodology) -> pd.DataFrame:
    """Each methodology domain's score (SQII step 2) and the SQII (step 3), per school."""
    out = pd.DataFrame({"school_code": pd.array(school_codes.to_numpy(), dtype="str")})
    by_domain = sil.groupby(["school_code", "domain"])["school_level"].mean().unstack()
    for d in codes.DOMAINS:
        col = by_domain[d] if d in by_domain else pd.Series(dtype="float64")
        out[d] = out["school_code"].map(col).astype("float64")
    total = np.zeros(len(out))
    weight = np.zeros(len(out))
    for spec in m.domains:
        pooled = sil[sil["domain"].isin(spec.pools)]
        score = out["school_code"].map(pooled.groupby("school_code")["school_level"].mean())
        score = score.to_numpy(dtype=float)
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
    share = m.goal.improvement_share
    out["goal"] = out["prior_sqii"] + share * (INDEX_MAX - out["prior_sqii"])
    has = out["goal"].notna() & out["sqii"].notna()
    meets = pd.array([pd.NA] * len(out), dtype="boolean")
    meets[has.to_numpy()] = (out["sqii"] >= out["goal"]).to_numpy()[has.to_numpy()]
    out["meets_goal"] = meets
    return out[INDEX_COLUMNS]
