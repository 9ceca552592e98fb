"""Support partners for schools missing their goal (METHODOLOGY.md "Support for schools
missing their goal").

Every school whose ``meets_goal`` is N and that is neither PRIORITY nor FOCUS is offered
a **support school** (``m.goal_support``; a methodology without the section pairs none):

- its ``weakest_indicator`` is the indicator with its lowest school indicator level
  (``sqis.index.school_indicator_levels``, SQII step 1); of indicators tied on that
  level, the first by indicator code (*default*);
- a support school met its goal (``meets_goal`` Y), is of the same school type and has a
  school indicator level of at least ``min_level`` on that indicator (whatever its
  designation);
- among those, the pairing minimises Σ ``share_weights[g]`` × |share_g(school) −
  share_g(support school)| (g = SED, EL, SWD; a missing share counts as 1) over all
  schools at once, each support school helping at most ``max_supported`` schools: the
  optimal assignment of ``sqis.partners.optimal_pairs``, one per school type (a pair
  never crosses types), rows and columns sorted by school code so ties resolve the same
  way on every run.

A school for which no support school qualifies, or that the assignment cannot place, is
listed with an empty ``support_school_code`` (unmatched); one with no school indicator
level at all also has an empty ``weakest_indicator``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.outputs import GoalSupport, columns, dtypes, empty
from sqis.index import school_indicator_levels
from sqis.methodology import Methodology
from sqis.partners import optimal_pairs

# designations whose schools get their support elsewhere (communities, Reward partners)
NOT_OFFERED: tuple[str, ...] = ("PRIORITY", "FOCUS")
_GOAL = {True: True, False: False, "Y": True, "N": False}


def _goal(s: pd.Series) -> pd.Series:
    """``meets_goal`` as True / False / NaN (booleans or contract Y/N text)."""
    return s.astype(object).map(_GOAL)


def weakest_indicators(sil: pd.DataFrame) -> pd.Series:
    """Per school, the indicator with its lowest school indicator level (ties: the first
    by indicator code). ``sil``: ``school_code, indicator, school_level``."""
    rows = sil[sil["school_level"].notna()]
    best = rows.sort_values(["school_code", "school_level", "indicator"], kind="stable")
    best = best.drop_duplicates("school_code")
    return pd.Series(best["indicator"].to_numpy(), index=best["school_code"].to_numpy())


def _share_matrix(codes: pd.Index, shares: pd.DataFrame, groups: list[str]) -> np.ndarray:
    """codes × groups shares (NaN where a school or group has none)."""
    sh = shares.drop_duplicates("school_code").set_index("school_code")
    sh = sh.reindex(index=codes, columns=groups)
    return sh.to_numpy(dtype=float)


def assign_goal_support(
    designations: pd.DataFrame,
    indicators: pd.DataFrame,
    schools: pd.DataFrame,
    shares: pd.DataFrame,
    m: Methodology,
) -> pd.DataFrame:
    """``school_code, weakest_indicator, support_school_code``: one row per school missing
    its goal that is not PRIORITY or FOCUS, sorted by school code.

    ``designations``: ``school_code, designation, meets_goal``; ``indicators``: the year's
    indicators with ``level``; ``schools``: ``school_code, school_type``; ``shares``:
    ``sqis.partners.school_shares``.
    """
    spec = m.goal_support
    if spec is None or designations.empty:
        return empty(GoalSupport)
    d = designations.sort_values("school_code", kind="stable")
    goal = _goal(d["meets_goal"])
    missing = d.loc[
        goal.eq(False).to_numpy() & ~d["designation"].isin(NOT_OFFERED).to_numpy(),
        "school_code",
    ]
    if missing.empty:
        return empty(GoalSupport)
    met = d.loc[goal.eq(True).to_numpy(), "school_code"]
    wanted = set(missing) | set(met)
    sil = school_indicator_levels(indicators[indicators["school_code"].isin(wanted)], schools, m)
    weakest = missing.map(weakest_indicators(sil))
    out = pd.DataFrame(
        {
            "school_code": missing.to_numpy(),
            "weakest_indicator": weakest.to_numpy(),
            "support_school_code": pd.NA,
        }
    ).astype(dtypes(GoalSupport))

    # supporters' school indicator levels: school × indicator (NaN: none)
    level = sil[sil["school_code"].isin(set(met))].pivot(
        index="school_code", columns="indicator", values="school_level"
    )
    types = schools.drop_duplicates("school_code").set_index("school_code")["school_type"]
    row_type = out["school_code"].map(types)
    col_codes = pd.Index(sorted(level.index))
    col_type = col_codes.map(types)
    groups = list(spec.share_weights)
    weights = np.asarray([spec.share_weights[g] for g in groups], dtype=float)
    matched = np.full(len(out), None, dtype=object)
    for school_type in sorted(set(row_type.dropna()) & set(col_type.dropna())):
        rows = np.flatnonzero(
            (row_type == school_type).to_numpy() & out["weakest_indicator"].notna()
        )
        cols = col_codes[np.asarray(col_type == school_type)]
        if len(rows) == 0 or len(cols) == 0:
            continue
        lv = level.loc[cols].to_numpy(dtype=float)  # supporters × indicators
        which = level.columns.get_indexer(out["weakest_indicator"].to_numpy()[rows])  # type: ignore[arg-type]
        on_weakest = np.where(which >= 0, lv[:, np.maximum(which, 0)], np.nan).T  # rows × cols
        feasible = np.nan_to_num(on_weakest, nan=-np.inf) >= spec.min_level
        a = _share_matrix(pd.Index(out["school_code"].to_numpy()[rows]), shares, groups)
        b = _share_matrix(cols, shares, groups)
        cost = np.zeros((len(rows), len(cols)))
        for k, w in enumerate(weights):  # one rows × cols layer per share group
            diff = np.abs(a[:, k, None] - b[None, :, k])
            cost += w * np.where(np.isnan(diff), 1.0, diff)
        places = np.full(len(cols), spec.max_supported)
        r, c = optimal_pairs(cost, feasible, places)
        matched[rows[r]] = np.asarray(cols, dtype=object)[c]
    out["support_school_code"] = pd.array(matched, dtype="str")
    return out[columns(GoalSupport)].reset_index(drop=True)


def supported_by(goal_support: pd.DataFrame) -> pd.DataFrame:
    """The support rows keyed by the **support school**: ``school_code`` (the supporting
    school), ``supported_school_code``, ``weakest_indicator`` — what a support school's
    report lists, split by district like every per-school frame."""
    g = goal_support[goal_support["support_school_code"].notna()]
    out = pd.DataFrame(
        {
            "school_code": g["support_school_code"].to_numpy(),
            "supported_school_code": g["school_code"].to_numpy(),
            "weakest_indicator": g["weakest_indicator"].to_numpy(),
        }
    ).astype("str")
    if "year" in g.columns:
        out.insert(0, "year", g["year"].to_numpy())
    return out.sort_values(["school_code", "supported_school_code"]).reset_index(drop=True)
