"""Index levels 1–10 (METHODOLOGY.md "Index levels").

Per indicator and school type the methodology holds nine ascending cut points
c1 < … < c9 (growth percentiles: ``growth.percentile_cut_points``, 10, 20, …, 90):

- higher is better: level = 1 + the number of cut points with value ≥ c;
- lower is better:  level = 1 + the number of cut points with value ≤ c.

So a growth percentile of 7 is level 1, 57 level 6, 88 level 9 and 90 level 10. A value
under the n-size, or with no value, gets no level. Reports show the improvement needed to
advance 1, 2 and 3 levels (*CORE*): for higher-is-better the rise to the next cut point
reached, for lower-is-better the reduction; empty where that level does not exist.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqis import groups as groups_mod
from sqis.methodology import Methodology

IMPROVE_STEPS = (1, 2, 3)  # the report feature: advance 1, 2 and 3 levels (vocabulary)


def levels_for(
    values: np.ndarray, cuts: tuple[float, ...] | np.ndarray, direction: str
) -> np.ndarray:
    """Levels 1..len(cuts)+1 of ``values`` against ascending ``cuts`` (no NaN handling)."""
    c = np.asarray(cuts, dtype=float)
    v = np.asarray(values, dtype=float)
    if direction == "higher":
        return 1 + np.searchsorted(c, v, side="right")  # cut points with value ≥ c
    return 1 + len(c) - np.searchsorted(c, v, side="left")  # cut points with value ≤ c


def improvement_needed(
    values: np.ndarray,
    levels: np.ndarray,
    cuts: tuple[float, ...] | np.ndarray,
    direction: str,
    steps: int,
) -> np.ndarray:
    """Change in value needed to reach ``levels + steps`` (NaN beyond the top level).

    With 0-based cut points c[0..n−1]: higher is better, level L + k needs value ≥
    c[L+k−2], the rise c[L+k−2] − value; lower is better, it needs value ≤ c[n−(L+k−1)],
    the reduction value − c[n−(L+k−1)]. Both are positive numbers.
    """
    c = np.asarray(cuts, dtype=float)
    n = len(c)
    target = levels + steps
    exists = target <= n + 1
    if direction == "higher":
        idx = np.clip(target - 2, 0, n - 1)
        need = c[idx] - values
    else:
        idx = np.clip(n - (target - 1), 0, n - 1)
        need = values - c[idx]
    return np.where(exists, need, np.nan)


def assign_levels(ind: pd.DataFrame, schools: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """Add ``level`` (Int64) and ``improve_1``, ``improve_2``, ``improve_3`` to indicators.

    METHODOLOGY "Index levels". ``level`` is empty where ``meets_nsize`` is false or the
    value is missing; the improvements are empty where the level is, and where the level
    to reach does not exist (above 10).
    """
    out = ind.copy()
    level = np.full(len(out), -1, dtype=np.int64)
    improve = {k: np.full(len(out), np.nan) for k in IMPROVE_STEPS}
    value = out["value"].to_numpy(dtype=float)
    counted = out["meets_nsize"].to_numpy(dtype=bool) & ~np.isnan(value)
    # each counted row's (indicator, school type) as integer codes: one pass per pair
    rows = np.flatnonzero(counted)
    ind_code, ind_names = pd.factorize(out["indicator"].to_numpy(dtype=object)[rows])
    at_school = groups_mod.positions_in(out["school_code"], schools["school_code"])[rows]
    type_names = pd.unique(schools["school_type"].to_numpy(dtype=object))
    type_of = np.append(groups_mod.positions_in(schools["school_type"], type_names), -1)
    type_code = type_of[at_school]  # -1: a school not in ``schools``
    pair = ind_code.astype(np.int64) * (len(type_names) + 1) + (type_code + 1)
    order = np.argsort(pair, kind="stable")
    starts = np.flatnonzero(np.r_[True, pair[order][1:] != pair[order][:-1]])[: len(rows)]
    ends = np.r_[starts[1:], len(order)][: len(starts)]  # none when no row is counted
    for begin, end in zip(starts, ends, strict=True):
        first = order[begin]
        if type_code[first] < 0 or ind_code[first] < 0:  # no school type, no indicator
            continue
        indicator, st = ind_names[ind_code[first]], type_names[type_code[first]]
        spec = m.indicators.get(indicator)
        if spec is None or st not in spec.school_types:
            continue
        cuts = m.cuts(indicator, st)
        pos = rows[np.sort(order[begin:end])]
        lv = levels_for(value[pos], cuts, spec.direction)
        level[pos] = lv
        for k in IMPROVE_STEPS:
            improve[k][pos] = improvement_needed(value[pos], lv, cuts, spec.direction, k)
    lv_col = pd.array(level, dtype="Int64")
    lv_col[level <= 0] = pd.NA
    out["level"] = lv_col
    for k in IMPROVE_STEPS:
        out[f"improve_{k}"] = improve[k]
    return out


def band(level: int, m: Methodology) -> str:
    """'above average' (8–10), 'average' (4–7) or 'below average' (1–3) (*CORE*), from the
    methodology's ``level_bands``."""
    if level >= m.level_bands.above_average_from:
        return "above average"
    if level >= m.level_bands.average_from:
        return "average"
    return "below average"


def bands(levels: pd.Series, m: Methodology) -> pd.Series:
    """``band`` of each level; empty where the level is."""
    lv = levels.astype("Float64")
    out = pd.Series(pd.NA, index=levels.index, dtype="str")
    out[lv >= m.level_bands.above_average_from] = "above average"
    out[(lv >= m.level_bands.average_from) & (lv < m.level_bands.above_average_from)] = "average"
    out[lv < m.level_bands.average_from] = "below average"
    return out


def add_change(ind: pd.DataFrame, prior_ind: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``prior_value, change, prior_level, level_change`` from last year's indicators.

    Matched on (school_code, student_group, indicator); empty where last year has no row
    (or no level). ``change`` = value − prior_value; ``level_change`` = level − prior_level.
    """
    out = ind.copy()
    keys = ["school_code", "student_group", "indicator"]
    if prior_ind is None or prior_ind.empty:
        out["prior_value"] = np.nan
        out["prior_level"] = pd.array([pd.NA] * len(out), dtype="Int64")
    else:
        p = prior_ind[keys + ["value"] + (["level"] if "level" in prior_ind else [])]
        p = p.rename(columns={"value": "prior_value", "level": "prior_level"})
        out = out.merge(p, on=keys, how="left", validate="one_to_one")
        if "prior_level" not in out:
            out["prior_level"] = pd.NA
        out["prior_level"] = out["prior_level"].astype("Int64")
    out["prior_value"] = out["prior_value"].astype("float64")
    out["change"] = out["value"] - out["prior_value"]
    if "level" in out:
        out["level_change"] = out["level"].astype("Int64") - out["prior_level"]
    else:
        out["level_change"] = pd.array([pd.NA] * len(out), dtype="Int64")
    return out
