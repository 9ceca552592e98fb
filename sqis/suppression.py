"""What a public report may show of an indicator (METHODOLOGY.md, *Public suppression*).

    "Reports meant for schools, families and the Oversight Panel show no count from 1 to
    10, nor any rate, change or level computed from one; they show ``*`` instead. Groups
    under the n-size show ``n<20``."

The rule is applied once, here, to the indicators frame, producing display strings (for
tables) and public numbers (for charts: ``NaN`` where hidden, so a suppressed point is
never plotted). Templates and charts only ever read what :func:`suppress` returns.

A cell is *small* when a count behind it is from ``m.suppression.min_count`` to
``max_count``: the denominator, the numerator, or the complement (denominator − numerator;
95 of 100 reveals the 5 who did not). A rate, level and the improvement needed to advance
computed from a small cell are suppressed; a change or level change is suppressed when
either year's cell is small or under the n-size (the prior year's row is looked up in the
same frame; a change whose prior row is not in the frame is not shown).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sqis import years
from sqis.methodology import Methodology

KEYS = ("school_code", "student_group", "indicator")
NO_DATA = "–"  # no value at all (indicator does not apply, or no students)

DISPLAY_COLUMNS = (
    "n_display",
    "value_display",
    "change_display",
    "level_display",
    "level_change_display",
    "improve_1_display",
    "improve_2_display",
    "improve_3_display",
    "band",
)


def is_small(count: pd.Series | np.ndarray, m: Methodology) -> np.ndarray:
    """True where a count is in the suppressed range (``1..10`` by default); NaN is not small."""
    c = np.asarray(pd.to_numeric(pd.Series(count), errors="coerce"), dtype="float64")
    with np.errstate(invalid="ignore"):
        return (c >= m.suppression.min_count) & (c <= m.suppression.max_count)


def suppress_count(count: float | int | None, m: Methodology) -> str:
    """One aggregate count for display: ``*`` when in the suppressed range (Public suppression)."""
    if count is None or (isinstance(count, float) and np.isnan(count)):
        return NO_DATA
    if m.suppression.min_count <= count <= m.suppression.max_count:
        return m.suppression.suppressed_label
    return f"{int(round(count)):,}"


def band_of(level: pd.Series, m: Methodology) -> pd.Series:
    """The band of a level (Index levels; *CORE* 8–10 above average, 4–7 average, 1–3 below),
    from the methodology's ``level_bands``; ``""`` where there is no level."""
    lv = pd.to_numeric(level, errors="coerce")
    above, average = m.level_bands.above_average_from, m.level_bands.average_from
    out = pd.Series("", index=level.index, dtype="object")
    out[lv >= above] = "above"
    out[(lv >= average) & (lv < above)] = "average"
    out[(lv >= 1) & (lv < average)] = "below"
    return out


BAND_LABELS = {"above": "above average", "average": "average", "below": "below average", "": ""}


def _fmt(
    values: pd.Series, decimals: pd.Series, signed: bool = False, mask: pd.Series | None = None
) -> pd.Series:
    """Format numbers with a per-row number of decimals (vectorised per distinct decimals)."""
    out = pd.Series(NO_DATA, index=values.index, dtype="object")
    v = pd.to_numeric(values, errors="coerce")
    for d in pd.unique(decimals):
        sel = (decimals == d) & v.notna() & (mask if mask is not None else True)
        if not sel.any():
            continue
        r = v[sel].round(int(d))
        r = r.where(r != 0, 0.0)  # no "-0.0"
        fmt = (("{:+.%df}" if signed else "{:.%df}") % int(d)).format
        out[sel] = [fmt(x) for x in r.to_numpy().tolist()]
    return out


def map_codes(codes: pd.Series, mapping: dict[Any, Any], default: Any = None) -> pd.Series:
    """``codes.map(mapping)`` for a column of few distinct codes, without a per-row lookup."""
    idx, uniq = pd.factorize(codes, use_na_sentinel=False)
    vals = np.array([mapping.get(u, default) for u in uniq], dtype=object)
    return pd.Series(vals[idx], index=codes.index, dtype=object)


DECIMALS = {"percent": 1, "mean": 2, "percentile": 0, "ratio": 2}  # display, not methodology


def decimals_and_unit(ind: pd.Series, m: Methodology) -> tuple[pd.Series, pd.Series]:
    decimals = map_codes(ind, {k: DECIMALS[s.scale] for k, s in m.indicators.items()}, 1)
    unit = map_codes(
        ind, {k: "%" if s.scale == "percent" else "" for k, s in m.indicators.items()}, ""
    )
    return decimals.astype(int), unit


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[col], errors="coerce").astype("float64")


def _flag(frame: pd.DataFrame, col: str) -> pd.Series:
    s = frame[col]
    if s.dtype == bool:
        return s
    return s.astype(str).str.upper().isin(["Y", "TRUE", "1"])


def suppress(
    ind: pd.DataFrame, m: Methodology, display: np.ndarray | pd.Series | None = None
) -> pd.DataFrame:
    """Display strings and public numbers for every indicator row (Public suppression).

    ``ind`` is the indicators frame (optionally with a ``year`` column over several years).
    Returns the key columns (``year`` if given, ``school_code``, ``student_group``,
    ``indicator``) plus:

    - ``n_display``, ``value_display``, ``change_display``, ``level_display``,
      ``level_change_display``, ``improve_{1,2,3}_display``: text for tables, with
      ``m.suppression.suppressed_label`` (``*``) for small cells and
      ``m.suppression.under_nsize_label`` (``n<20``) below the n-size;
    - ``band``: ``above`` / ``average`` / ``below`` / ``""`` of the public level;
    - ``n_public``, ``value_public``, ``change_public``, ``level_public``: numbers for
      charts and aggregates, ``NaN`` wherever the display is hidden;
    - ``suppressed`` (small cell) and ``under_nsize`` (bool).

    ``display`` (optional boolean mask): format display strings only for these rows (the
    others get ``–``); the flags and public numbers are computed for every row. Formatting
    is the costly part, and a report shows earlier years only in its trends.
    """
    s = m.suppression
    ind = ind.reset_index(drop=True)
    keys = [k for k in ("year", *KEYS) if k in ind.columns]
    out = ind[keys].copy()

    den = _num(ind, "denominator")
    num = _num(ind, "numerator")
    value = _num(ind, "value")
    level = _num(ind, "level")
    meets = _flag(ind, "meets_nsize") if "meets_nsize" in ind.columns else den >= m.n_size
    meets = meets.fillna(False).astype(bool)

    small = is_small(den, m) | is_small(num, m) | is_small(den - num, m)
    under = ~meets
    hidden = small | under.to_numpy()
    out["suppressed"] = small
    out["under_nsize"] = under.to_numpy()

    # the prior year's cell: hidden there hides the change here
    prior_hidden = pd.Series(True, index=ind.index)
    if "year" in ind.columns and ind["year"].nunique() > 0:
        status = out[keys].copy()
        status["_hidden"] = hidden
        uniq = pd.unique(ind["year"])
        nxt = {y: years.shift(y, 1) for y in uniq}
        status["year"] = status["year"].map(nxt)
        merged = out[keys].merge(status, on=keys, how="left")
        prior_hidden = merged["_hidden"].astype("boolean").fillna(True).astype(bool)
        prior_hidden.index = ind.index

    decimals, unit = decimals_and_unit(ind["indicator"], m)
    show = np.ones(len(ind), dtype=bool) if display is None else np.asarray(display, dtype=bool)
    show_s = pd.Series(show, index=ind.index)
    label_small = s.suppressed_label
    label_under = s.under_nsize_label

    def hide(text: pd.Series, extra_hidden: np.ndarray | None = None) -> pd.Series:
        t = text.astype(object).copy()
        h_small = small if extra_hidden is None else (small | extra_hidden)
        t[h_small] = label_small
        t[under.to_numpy()] = label_under
        return t

    hidden_s = pd.Series(hidden, index=ind.index)
    # n: the denominator; under the n-size the exact n is never shown
    n_text = pd.Series(NO_DATA, index=ind.index, dtype="object")
    ok = den.notna() & show_s
    n_text[ok] = [f"{x:,.0f}" for x in den[ok].to_numpy().tolist()]
    n_text[is_small(den, m)] = label_small
    n_text[under.to_numpy()] = label_under
    out["n_display"] = n_text

    v_text = _fmt(value, decimals, mask=show_s & ~hidden_s)
    with_unit = (value.notna() & show_s & ~hidden_s & (unit != "")).to_numpy()
    v_text[with_unit] = v_text[with_unit] + unit[with_unit]
    out["value_display"] = hide(v_text)

    change = _num(ind, "change")
    # a change hidden by the prior year's cell; no change at all stays "–"
    ch_hidden = prior_hidden.to_numpy() & change.notna().to_numpy()
    out["change_display"] = hide(
        _fmt(change, decimals, signed=True, mask=show_s & ~hidden_s), ch_hidden
    )
    lvl_text = pd.Series(NO_DATA, index=ind.index, dtype="object")
    lv_ok = level.notna() & show_s
    lvl_text[lv_ok] = level[lv_ok].astype(int).astype(str).to_numpy()
    out["level_display"] = hide(lvl_text)
    lchange = _num(ind, "level_change")
    out["level_change_display"] = hide(
        _fmt(lchange, pd.Series(0, index=ind.index), signed=True, mask=show_s & ~hidden_s),
        prior_hidden.to_numpy() & lchange.notna().to_numpy(),
    )
    for k in (1, 2, 3):
        out[f"improve_{k}_display"] = hide(
            _fmt(_num(ind, f"improve_{k}"), decimals, mask=show_s & ~hidden_s)
        )

    out["n_public"] = den.where(~(is_small(den, m) | under.to_numpy()))
    out["value_public"] = value.where(~hidden)
    out["change_public"] = change.where(~(hidden | ch_hidden))
    out["level_public"] = level.where(~hidden)
    out["band"] = band_of(out["level_public"], m)
    return out
