"""Designations: Priority, Focus and Reward schools (METHODOLOGY.md "Designations").

Among the year's Title I schools:

- **PRIORITY**: the lowest ``priority_share`` by SQII (count rounded up, ties broken by
  school code), and every Title I high school whose ``grad_indicator`` for ``ALL``
  (meeting the n-size) is below ``grad_threshold``.
- **FOCUS**: of the remaining, the ``focus_share`` (rounded up) with the largest
  achievement gap, and every Title I high school with a subgroup ``grad_indicator`` below
  the threshold (n-size met).
- **REWARD**: of the remaining, the top ``reward_performance_share`` by SQII and the top
  ``reward_progress_share`` by SQII gain over last year, excluding any school whose gap
  is in the top quarter of Title I gaps.
- everyone else, and every school that is not Title I: **NONE**.

What the shares are of (``shares_of``): ``all`` (core-2013.1) — every share is of the Title
I schools with an SQII; ``remaining`` (core-2015.1) — PRIORITY's of those, FOCUS's of those
remaining after PRIORITY, REWARD's of those remaining after PRIORITY and FOCUS.
The top quarter (``reward_gap_exclusion``): ``quantile`` (core-2013.1) — gap ≥ the
``reward_gap_exclusion_quantile`` of the Title I gaps, so ties can exclude every school;
``count`` (core-2015.1) — the ⌈``reward_gap_exclusion_share``⌉ Title I schools with the
largest gaps, ties to the lower school code, so ties never exclude more than that.

The gap of a school is the largest, over ``gap_groups`` meeting the n-size on every
``gap_indicators``, of (ALL's mean of the gap indicators) − (the group's mean); that
group is the ``gap_group``, and the gap indicator on which the group trails ALL most is
the ``reason_indicator``.

Every number comes from ``m.designations``; none is in this module.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from schemas.outputs import DesignationsFrame, columns
from sqis.methodology import Methodology

IN_STATUS = ("PRIORITY", "FOCUS")  # the designations a school can exit


def share_count(share: float, n: int) -> int:
    """``share`` of ``n`` schools, rounded up ("the lowest 5% (rounded up)").

    Rounded to nine decimals first so that 0.07 × 100 is 7, not 8.
    """
    return int(math.ceil(round(share * n, 9)))


def as_flag(s: pd.Series) -> pd.Series:
    """A flag column as ``bool``: booleans as they are, contract ``Y``/``N`` text mapped."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(False).astype(bool)
    return s.map(lambda v: v is True or v == "Y" or v == 1).astype(bool)


def _counted(indicators: pd.DataFrame, names: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Indicator rows that count (n-size met, a value) for the given indicators."""
    mask = indicators["indicator"].isin(list(names)) & as_flag(indicators["meets_nsize"])
    return indicators.loc[
        mask & indicators["value"].notna(),
        ["school_code", "student_group", "indicator", "value", "level"]
        if "level" in indicators.columns
        else ["school_code", "student_group", "indicator", "value"],
    ]


def achievement_gaps(indicators: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """Per school: ``gap``, ``gap_group`` and ``gap_indicator`` (Designations: the gap).

    gap = max over ``gap_groups`` meeting the n-size on every gap indicator of
    (ALL's mean of the gap indicators) − (the group's mean). Ties between groups go to
    the group listed first in ``gap_groups``; ``gap_indicator`` is the indicator with
    the larger ALL − group difference (ties: the first listed). Schools where ALL or no
    group meets the n-size on every gap indicator have no row.
    """
    spec = m.designations
    inds = list(spec.gap_indicators)
    rows = _counted(indicators, inds)
    wide = rows.pivot_table(
        index=["school_code", "student_group"], columns="indicator", values="value", aggfunc="first"
    )
    wide = wide.reindex(columns=inds).dropna()
    empty = pd.DataFrame(
        {
            "school_code": pd.Series(dtype="str"),
            "gap": pd.Series(dtype=float),
            "gap_group": pd.Series(dtype="str"),
            "gap_indicator": pd.Series(dtype="str"),
        }
    )
    if wide.empty:
        return empty
    wide = wide.reset_index()
    all_rows = wide[wide["student_group"] == "ALL"].drop(columns="student_group")
    groups = wide[wide["student_group"].isin(spec.gap_groups)]
    merged = groups.merge(all_rows, on="school_code", suffixes=("", "_all"))
    if merged.empty:
        return empty
    diffs = np.column_stack([merged[f"{i}_all"] - merged[i] for i in inds])
    merged["gap"] = diffs.mean(axis=1)
    merged["gap_indicator"] = np.asarray(inds)[np.argmax(diffs, axis=1)]
    order = {g: k for k, g in enumerate(spec.gap_groups)}
    merged["_order"] = merged["student_group"].map(order)
    best = merged.sort_values(
        ["school_code", "gap", "_order"], ascending=[True, False, True]
    ).drop_duplicates("school_code")
    return best.rename(columns={"student_group": "gap_group"})[
        ["school_code", "gap", "gap_group", "gap_indicator"]
    ].reset_index(drop=True)


def _lowest(frame: pd.DataFrame, column: str, n: int) -> pd.Index:
    """Index labels of the ``n`` rows with the lowest ``column``, ties by school code."""
    return frame.sort_values([column, "school_code"], kind="stable").index[:n]


def _highest(frame: pd.DataFrame, column: str, n: int) -> pd.Index:
    ranked = frame.assign(_neg=-frame[column])
    return ranked.sort_values(["_neg", "school_code"], kind="stable").index[:n]


def _grad_rule(indicators: pd.DataFrame, hs_title_i: pd.Series, m: Methodology) -> pd.DataFrame:
    """Title I high schools below ``grad_threshold`` for ALL and for their lowest subgroup."""
    spec = m.designations
    g = _counted(indicators, [spec.grad_indicator])
    g = g[g["school_code"].isin(hs_title_i)]
    below = g[g["value"] < spec.grad_threshold]
    all_below = set(below.loc[below["student_group"] == "ALL", "school_code"])
    sub = below[below["student_group"].isin(spec.gap_groups)]
    order = {grp: k for k, grp in enumerate(spec.gap_groups)}
    lowest = (
        sub.assign(_order=sub["student_group"].map(order))
        .sort_values(["school_code", "value", "_order"])
        .drop_duplicates("school_code")
        .set_index("school_code")["student_group"]
    )
    out = pd.DataFrame({"school_code": sorted(all_below | set(lowest.index))})
    out["all_below"] = out["school_code"].isin(all_below)
    out["lowest_group"] = out["school_code"].map(lowest)
    return out


def _weakest_gap_indicator(indicators: pd.DataFrame, m: Methodology) -> pd.Series:
    """Per school, the gap indicator with ALL's lowest level (value where no level)."""
    inds = list(m.designations.gap_indicators)
    rows = _counted(indicators, inds)
    rows = rows[rows["student_group"] == "ALL"]
    if rows.empty:
        return pd.Series(dtype="str")
    key = rows["level"] if "level" in rows.columns else rows["value"]
    ranked = rows.assign(
        _key=pd.to_numeric(key).fillna(rows["value"]),
        _order=rows["indicator"].map({i: k for k, i in enumerate(inds)}),
    )
    best = ranked.sort_values(["school_code", "_key", "_order"]).drop_duplicates("school_code")
    return best.set_index("school_code")["indicator"]


def designate(
    index: pd.DataFrame,
    indicators: pd.DataFrame,
    schools: pd.DataFrame,
    prior: pd.DataFrame | None,
    m: Methodology,
) -> pd.DataFrame:
    """One row per school of ``schools``: designation, reason, years_in_status, exited.

    METHODOLOGY.md "Designations". ``index``: school_code, sqii, prior_sqii (and
    meets_goal); ``indicators``: school_code, student_group, indicator, value,
    meets_nsize (and level); ``prior``: last year's designations frame (school_code,
    designation, years_in_status) or ``None``. ``escalation`` is ``NONE`` and
    ``partner_school_code`` empty here: ``sqis.escalation`` and ``sqis.partners`` fill them.

    Reasons: FOCUS by gap → the gap group and indicator; FOCUS by graduation → the lowest
    subgroup and ``grad_indicator``; PRIORITY by graduation → ``ALL`` and
    ``grad_indicator``; PRIORITY by SQII → ``ALL`` and the gap indicator with ALL's lowest
    level (what a partner must be strong in). REWARD and NONE have no reason.
    """
    spec = m.designations
    base = schools[["school_code", "school_type", "title_i"]].copy()
    base["title_i"] = as_flag(base["title_i"])
    idx_cols = [c for c in ("sqii", "prior_sqii", "meets_goal") if c in index.columns]
    frame = base.merge(index[["school_code", *idx_cols]], on="school_code", how="left")
    for c in ("sqii", "prior_sqii"):
        frame[c] = pd.to_numeric(frame[c]) if c in frame.columns else np.nan
    if "meets_goal" not in frame.columns:
        frame["meets_goal"] = pd.NA
    frame = frame.merge(achievement_gaps(indicators, m), on="school_code", how="left")
    frame = frame.sort_values("school_code", kind="stable").reset_index(drop=True)

    title_i = frame["title_i"]
    ranked = frame[title_i & frame["sqii"].notna()]  # the Title I schools with an SQII
    n = len(ranked)
    designation = pd.Series("NONE", index=frame.index, dtype=object)
    reason_group = pd.Series(pd.NA, index=frame.index, dtype=object)
    reason_indicator = pd.Series(pd.NA, index=frame.index, dtype=object)

    # PRIORITY: the lowest priority_share by SQII …
    lowest = _lowest(ranked, "sqii", share_count(spec.priority_share, n))
    designation[lowest] = "PRIORITY"
    weakest = frame["school_code"].map(_weakest_gap_indicator(indicators, m))
    reason_group[lowest] = "ALL"
    reason_indicator[lowest] = weakest[lowest]
    # … and every Title I high school whose ALL graduation rate is below the threshold.
    hs = frame.loc[title_i & (frame["school_type"] == "HS"), "school_code"]
    grad = frame[["school_code"]].merge(_grad_rule(indicators, hs, m), on="school_code", how="left")
    grad_all = grad["all_below"].fillna(False).astype(bool).to_numpy()
    designation[grad_all] = "PRIORITY"
    reason_group[grad_all] = "ALL"
    reason_indicator[grad_all] = spec.grad_indicator

    # FOCUS: of the remaining, focus_share with the largest (positive) gap …
    left = (designation[ranked.index] == "NONE").to_numpy()
    n_focus = n if spec.shares_of == "all" else int(left.sum())  # after PRIORITY
    remaining = ranked[left & (ranked["gap"] > 0).to_numpy()]
    focus = _highest(remaining, "gap", share_count(spec.focus_share, n_focus))
    designation[focus] = "FOCUS"
    reason_group[focus] = frame.loc[focus, "gap_group"]
    reason_indicator[focus] = frame.loc[focus, "gap_indicator"]
    # … and every Title I high school with a subgroup graduation rate below the threshold.
    grad_sub = grad["lowest_group"].notna().to_numpy() & (designation == "NONE").to_numpy()
    designation[grad_sub] = "FOCUS"
    reason_group[grad_sub] = grad.loc[grad_sub, "lowest_group"].to_numpy()
    reason_indicator[grad_sub] = spec.grad_indicator

    # REWARD: of the remaining, excluding top-quarter gaps among Title I schools.
    left = (designation[ranked.index] == "NONE").to_numpy()
    n_reward = n if spec.shares_of == "all" else int(left.sum())  # after PRIORITY and FOCUS
    eligible = ranked[left & ~_top_quarter_gap(frame, title_i, m)[ranked.index].to_numpy()]
    performance = _highest(eligible, "sqii", share_count(spec.reward_performance_share, n_reward))
    gain = eligible.assign(gain=eligible["sqii"] - eligible["prior_sqii"])
    gain = gain[gain["gain"] > 0]
    progress = _highest(gain, "gain", share_count(spec.reward_progress_share, n_reward))
    designation[performance.union(progress)] = "REWARD"

    out = pd.DataFrame(
        {
            "school_code": frame["school_code"].astype("str"),
            "designation": designation.astype("str"),
            "reason_group": reason_group.astype("str"),
            "reason_indicator": reason_indicator.astype("str"),
        }
    )
    years_in_status, exited = _continuity(out, prior)
    out["years_in_status"] = years_in_status
    out["escalation"] = "NONE"
    out["partner_school_code"] = pd.Series(pd.NA, index=out.index, dtype="str")
    out["exited"] = exited
    out["gap"] = frame["gap"].astype(float)
    out["gap_group"] = frame["gap_group"].astype("str")
    out["meets_goal"] = frame["meets_goal"].astype("boolean")
    return out[columns(DesignationsFrame)]


def _top_quarter_gap(frame: pd.DataFrame, title_i: pd.Series, m: Methodology) -> pd.Series:
    """Per school of ``frame``: is its gap in the top quarter of Title I gaps (REWARD's
    exclusion, METHODOLOGY.md "Designations"). A school without a gap never is.

    ``quantile``: gap ≥ the ``reward_gap_exclusion_quantile`` of the Title I gaps (linear
    interpolation). ``count``: the ⌈``reward_gap_exclusion_share`` × Title I gaps⌉ schools
    with the largest gaps, ties to the lower school code.
    """
    spec = m.designations
    gaps = frame.loc[title_i, "gap"].dropna()
    if spec.reward_gap_exclusion == "quantile":
        assert spec.reward_gap_exclusion_quantile is not None  # the model requires it
        cut = gaps.quantile(spec.reward_gap_exclusion_quantile) if len(gaps) else np.inf
        return pd.Series((frame["gap"] >= cut).to_numpy(), index=frame.index)
    assert spec.reward_gap_exclusion_share is not None  # the model requires it
    with_gap = frame.loc[gaps.index]
    top = _highest(with_gap, "gap", share_count(spec.reward_gap_exclusion_share, len(gaps)))
    return pd.Series(frame.index.isin(top), index=frame.index)


def _continuity(current: pd.DataFrame, prior: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """``years_in_status`` and ``exited`` (Designations: consecutive years; exit).

    years_in_status: 1 + last year's count where the designation is the same as last
    year's, else 1; 0 for NONE. exited: held PRIORITY or FOCUS last year and holds
    neither this year.
    """
    if prior is None or prior.empty:
        last = pd.Series(pd.NA, index=current.index, dtype=object)
        last_years = pd.Series(0, index=current.index)
    else:
        p = prior.drop_duplicates("school_code").set_index("school_code")
        last = current["school_code"].map(p["designation"])
        last_years = current["school_code"].map(pd.to_numeric(p["years_in_status"])).fillna(0)
    now = current["designation"]
    same = (last == now).fillna(False).astype(bool) & (now != "NONE")
    years_in_status = np.where(now == "NONE", 0, np.where(same, last_years + 1, 1))
    exited = last.isin(IN_STATUS).to_numpy() & ~now.isin(IN_STATUS).to_numpy()
    return (
        pd.Series(years_in_status, index=current.index).astype("int64"),
        pd.Series(exited, index=current.index, dtype=bool),
    )
