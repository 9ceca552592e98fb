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
    if isinstance(count, np.ndarray) and count.dtype == np.float64:
        c = count
    else:
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
    lv = pd.to_numeric(level, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    above, average = m.level_bands.above_average_from, m.level_bands.average_from
    out = texts(len(lv), "")
    with np.errstate(invalid="ignore"):
        out[lv >= above] = "above"
        out[(lv >= average) & (lv < above)] = "average"
        out[(lv >= 1) & (lv < average)] = "below"
    return pd.Series(out, index=level.index, dtype="object")


def texts(n: int, fill: str = NO_DATA) -> np.ndarray:
    """An object array of ``n`` strings ``fill`` (``np.full`` is ten times slower for objects)."""
    out = np.empty(n, dtype=object)
    out.fill(fill)
    return out


BAND_LABELS = {"above": "above average", "average": "average", "below": "below average", "": ""}


def _fmt_array(
    values: np.ndarray, decimals: np.ndarray, show: np.ndarray, signed: bool = False
) -> np.ndarray:
    """Numbers formatted with a per-row number of decimals, as an object array of strings.

    ``–`` where not ``show`` or missing; rounded to each row's decimals, never ``-0.0``.
    Each distinct rounded value is formatted once (levels, counts and cut-point
    differences repeat a lot).
    """
    out = texts(len(values))
    sel = show & ~np.isnan(values)
    if not sel.any():
        return out
    for d in np.unique(decimals[sel]).tolist():
        rows = np.flatnonzero(sel & (decimals == d))
        r = values[rows].round(int(d))
        r[r == 0] = 0.0  # no "-0.0"
        out[rows] = format_distinct(r, (("{:+.%df}" if signed else "{:.%df}") % int(d)).format)
    return out


def format_distinct(values: np.ndarray, fmt: Any) -> np.ndarray:
    """``[fmt(v) for v in values]`` as an object array, calling ``fmt`` once per distinct value."""
    uniq, inverse = np.unique(values, return_inverse=True)
    return np.array([fmt(x) for x in uniq.tolist()], dtype=object)[inverse]


def map_codes(codes: pd.Series, mapping: dict[Any, Any], default: Any = None) -> pd.Series:
    """``codes.map(mapping)`` for a column of few distinct codes, without a per-row lookup."""
    idx, uniq = pd.factorize(codes, use_na_sentinel=False)
    vals = np.array([mapping.get(u, default) for u in uniq], dtype=object)
    return pd.Series(vals[idx], index=codes.index, dtype=object)


DECIMALS = {"percent": 1, "mean": 2, "percentile": 0, "ratio": 2}  # display, not methodology


def decimals_and_unit(ind: pd.Series, m: Methodology) -> tuple[pd.Series, pd.Series]:
    """Each indicator row's display decimals (by scale) and unit (``%`` for percents)."""
    idx, uniq = pd.factorize(ind, use_na_sentinel=False)
    specs = [m.indicators.get(u) if isinstance(u, str) else None for u in uniq]
    dec = np.array([1 if s is None else DECIMALS[s.scale] for s in specs], dtype="int64")
    unit = np.array(
        ["" if s is None else ("%" if s.scale == "percent" else "") for s in specs], dtype=object
    )
    return (
        pd.Series(dec[idx], index=ind.index, dtype="int64"),
        pd.Series(unit[idx], index=ind.index, dtype=object),
    )


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[col], errors="coerce").astype("float64")


def _flag(frame: pd.DataFrame, col: str) -> pd.Series:
    s = frame[col]
    if s.dtype == bool:
        return s
    return s.astype(str).str.upper().isin(["Y", "TRUE", "1"])


def _prior_hidden(key_frame: pd.DataFrame, hidden: np.ndarray) -> np.ndarray:
    """Whether each row's prior-year cell (same school, group and indicator, the year
    before) is hidden; ``True`` where there is no such row.

    ``key_frame``: the ``year`` and key columns. A lookup on integer keys (one factorize
    per column); the keys are unique in an indicators frame, else this falls back to a
    merge of the frame with itself, one year on.
    """
    keys = list(key_frame.columns)
    year_codes, year_uniq = pd.factorize(key_frame["year"], use_na_sentinel=False)
    pos = {y: i for i, y in enumerate(year_uniq)}
    nxt = np.array([pos.get(years.shift(y, 1), -1) for y in year_uniq], dtype="int64")
    combo = np.zeros(len(key_frame), dtype="int64")
    for c in KEYS:
        codes, uniq = pd.factorize(key_frame[c], use_na_sentinel=False)
        combo = combo * (len(uniq) + 1) + codes
    n_years = len(year_uniq)
    row_key = combo * n_years + year_codes
    # a row is the prior-year cell of the row keyed with its year shifted by one
    next_year = nxt[year_codes]
    has_next = next_year >= 0
    if not has_next.any():  # no row's year is followed by another in the frame
        return np.ones(len(key_frame), dtype=bool)
    status_key = pd.Index(combo[has_next] * n_years + next_year[has_next])
    if status_key.is_unique:
        at = status_key.get_indexer(row_key)
        return np.where(at >= 0, hidden[has_next][at], True)
    status = key_frame.copy()
    status["_hidden"] = hidden
    status["year"] = status["year"].map({y: years.shift(y, 1) for y in year_uniq})
    merged = key_frame.merge(status, on=keys, how="left")
    return merged["_hidden"].astype("boolean").fillna(True).astype(bool).to_numpy()


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
    is the costly part, and a report shows earlier years only in its trends. The work is
    done on numpy arrays, one pass per column (no pandas per-row or per-mask indexing).
    """
    s = m.suppression
    ind = ind.reset_index(drop=True)
    keys = [k for k in ("year", *KEYS) if k in ind.columns]
    out = ind[keys].copy()
    index = ind.index

    den_s = _num(ind, "denominator")
    den = den_s.to_numpy()
    num = _num(ind, "numerator").to_numpy()
    value_s = _num(ind, "value")
    value = value_s.to_numpy()
    level_s = _num(ind, "level")
    level = level_s.to_numpy()
    meets = _flag(ind, "meets_nsize") if "meets_nsize" in ind.columns else den_s >= m.n_size
    meets = meets.fillna(False).astype(bool)

    small_den = is_small(den, m)
    small = small_den | is_small(num, m) | is_small(den - num, m)
    under = ~meets.to_numpy()
    hidden = small | under
    out["suppressed"] = small
    out["under_nsize"] = under

    # the prior year's cell: hidden there hides the change here
    prior_hidden = np.ones(len(ind), dtype=bool)
    if "year" in ind.columns and ind["year"].nunique() > 0:
        prior_hidden = _prior_hidden(out[keys], hidden)

    decimals_s, unit_s = decimals_and_unit(ind["indicator"], m)
    decimals = decimals_s.to_numpy(dtype="int64")
    unit = unit_s.to_numpy(dtype=object)
    show = np.ones(len(ind), dtype=bool) if display is None else np.asarray(display, dtype=bool)
    shown = show & ~hidden  # rows whose numbers are formatted
    label_small = s.suppressed_label
    label_under = s.under_nsize_label

    def column(text: np.ndarray) -> pd.Series:
        return pd.Series(text, index=index, dtype="object")

    def hide(text: np.ndarray, extra_hidden: np.ndarray | None = None) -> pd.Series:
        text[small if extra_hidden is None else (small | extra_hidden)] = label_small
        text[under] = label_under
        return column(text)

    # n: the denominator; under the n-size the exact n is never shown
    n_text = texts(len(ind))
    ok = np.flatnonzero(~np.isnan(den) & show)
    n_text[ok] = format_distinct(den[ok], "{:,.0f}".format)
    n_text[small_den] = label_small
    n_text[under] = label_under
    out["n_display"] = column(n_text)

    v_text = _fmt_array(value, decimals, shown)
    with_unit = np.flatnonzero(~np.isnan(value) & shown & (unit != ""))
    v_text[with_unit] = v_text[with_unit] + unit[with_unit]
    out["value_display"] = hide(v_text)

    change_s = _num(ind, "change")
    change = change_s.to_numpy()
    # a change hidden by the prior year's cell; no change at all stays "–"
    ch_hidden = prior_hidden & ~np.isnan(change)
    out["change_display"] = hide(_fmt_array(change, decimals, shown, signed=True), ch_hidden)
    lvl_text = texts(len(ind))
    lv_ok = np.flatnonzero(~np.isnan(level) & show)
    lvl_text[lv_ok] = format_distinct(level[lv_ok].astype("int64"), str)
    out["level_display"] = hide(lvl_text)
    lchange = _num(ind, "level_change").to_numpy()
    out["level_change_display"] = hide(
        _fmt_array(lchange, np.zeros(len(ind), dtype="int64"), shown, signed=True),
        prior_hidden & ~np.isnan(lchange),
    )
    for k in (1, 2, 3):
        improve = _num(ind, f"improve_{k}").to_numpy()
        out[f"improve_{k}_display"] = hide(_fmt_array(improve, decimals, shown))

    out["n_public"] = den_s.where(~(small_den | under))
    out["value_public"] = value_s.where(~hidden)
    out["change_public"] = change_s.where(~(hidden | ch_hidden))
    out["level_public"] = level_s.where(~hidden)
    out["band"] = band_of(out["level_public"], m)
    return out


# ---- the two editions (METHODOLOGY.md "Two editions") ------------------------------------
# A row's marks: which notices its table needs (public edition; 0 in the staff edition)
MARK_STAR, MARK_UNDER, MARK_RANGE = 1, 2, 4


def _count_text(num: np.ndarray, show: np.ndarray) -> np.ndarray:
    out = texts(len(num))
    ok = np.flatnonzero(show & ~np.isnan(num))
    out[ok] = format_distinct(num[ok], "{:,.0f}".format)
    return out


def staff_cells(
    ind: pd.DataFrame, m: Methodology, display: np.ndarray | pd.Series | None = None
) -> pd.DataFrame:
    """Display strings of the **staff edition**: every count, value, change and level as it
    is (no suppression); a group under the n-size shows its values and no level ("–").

    Same columns as :func:`suppress` plus ``count_display`` (the numerator) and ``marks``
    (always 0); ``value_public`` etc. hold the numbers themselves (the charts plot them).
    """
    ind = ind.reset_index(drop=True)
    keys = [k for k in ("year", *KEYS) if k in ind.columns]
    out = ind[keys].copy()
    index = ind.index
    n = len(ind)
    show = np.ones(n, dtype=bool) if display is None else np.asarray(display, dtype=bool)
    den_s, value_s, level_s = _num(ind, "denominator"), _num(ind, "value"), _num(ind, "level")
    den, value, level = den_s.to_numpy(), value_s.to_numpy(), level_s.to_numpy()
    decimals_s, unit_s = decimals_and_unit(ind["indicator"], m)
    decimals = decimals_s.to_numpy(dtype="int64")
    unit = unit_s.to_numpy(dtype=object)
    meets = _flag(ind, "meets_nsize") if "meets_nsize" in ind.columns else den_s >= m.n_size
    out["suppressed"] = np.zeros(n, dtype=bool)
    out["under_nsize"] = ~meets.fillna(False).astype(bool).to_numpy()

    def column(text: np.ndarray) -> pd.Series:
        return pd.Series(text, index=index, dtype="object")

    out["n_display"] = column(_count_text(den, show))
    out["count_display"] = column(_count_text(_num(ind, "numerator").to_numpy(), show))
    v_text = _fmt_array(value, decimals, show)
    with_unit = np.flatnonzero(~np.isnan(value) & show & (unit != ""))
    v_text[with_unit] = v_text[with_unit] + unit[with_unit]
    out["value_display"] = column(v_text)
    out["change_display"] = column(_fmt_array(_num(ind, "change").to_numpy(), decimals, show, True))
    lvl_text = texts(n)
    lv_ok = np.flatnonzero(~np.isnan(level) & show)
    lvl_text[lv_ok] = format_distinct(level[lv_ok].astype("int64"), str)
    out["level_display"] = column(lvl_text)
    zeros = np.zeros(n, dtype="int64")
    out["level_change_display"] = column(
        _fmt_array(_num(ind, "level_change").to_numpy(), zeros, show, signed=True)
    )
    for k in (1, 2, 3):
        out[f"improve_{k}_display"] = column(
            _fmt_array(_num(ind, f"improve_{k}").to_numpy(), decimals, show)
        )
    out["target_hidden"] = np.zeros(n, dtype=bool)
    out["marks"] = np.zeros(n, dtype="int64")
    out["n_public"] = den_s
    out["value_public"] = value_s
    out["change_public"] = _num(ind, "change")
    out["level_public"] = level_s
    out["band"] = band_of(level_s, m)
    return out


def public_cells(
    pub: pd.DataFrame, m: Methodology, display: np.ndarray | pd.Series | None = None
) -> pd.DataFrame:
    """Display strings of the **public edition**, from a public indicators frame
    (``sqis.disclosure.PublicFrames.indicators``: hidden numbers are already NaN and its
    ``*_code`` columns say why). ``*`` for a small group or a hidden cell, ``n<20`` under
    the n-size, ``<8%`` / ``>92%`` for a coded rate (docs/reports.md, *Public suppression*).
    """
    from sqis import disclosure as dc

    pub = pub.reset_index(drop=True)
    keys = [k for k in ("year", *KEYS) if k in pub.columns]
    out = pub[keys].copy()
    index = pub.index
    n = len(pub)
    s = m.suppression
    star, under = s.suppressed_label, s.under_nsize_label
    show = np.ones(n, dtype=bool) if display is None else np.asarray(display, dtype=bool)
    decimals_s, unit_s = decimals_and_unit(pub["indicator"], m)
    decimals = decimals_s.to_numpy(dtype="int64")
    unit = unit_s.to_numpy(dtype=object)

    def code(col: str) -> np.ndarray:
        return pub[col].to_numpy(dtype="int64")

    def labelled(text: np.ndarray, c: np.ndarray) -> pd.Series:
        text[(c == dc.SMALL) | (c == dc.HIDDEN)] = star
        text[c == dc.UNDER] = under
        return pd.Series(text, index=index, dtype="object")

    n_code, k_code, v_code, l_code = (
        code("n_code"),
        code("numerator_code"),
        code("value_code"),
        code("level_code"),
    )
    den = _num(pub, "n").to_numpy()
    out["suppressed"] = (v_code == dc.SMALL) | (v_code == dc.HIDDEN)
    out["under_nsize"] = ~_flag(pub, "meets_nsize").to_numpy()
    out["n_display"] = labelled(_count_text(den, show), n_code)
    count = _count_text(_num(pub, "numerator").to_numpy(), show)
    out["count_display"] = labelled(count, np.where(k_code == dc.NONE, dc.NONE, k_code))
    value = _num(pub, "value").to_numpy()
    v_text = _fmt_array(value, decimals, show)
    with_unit = np.flatnonzero(~np.isnan(value) & show & (unit != ""))
    v_text[with_unit] = v_text[with_unit] + unit[with_unit]
    bound = _num(pub, "value_bound").to_numpy()
    for c_, sign in ((dc.BOTTOM, "<"), (dc.TOP, ">")):
        rows = np.flatnonzero((v_code == c_) & show)
        if len(rows):
            b = bound[rows]
            v_text[rows] = sign + format_distinct(b, "{:.0f}".format) + unit[rows]
    out["value_display"] = labelled(v_text, v_code)
    ch_code = code("change_code")
    ch_text = _fmt_array(_num(pub, "change").to_numpy(), decimals, show, signed=True)
    out["change_display"] = labelled(ch_text, np.where(v_code == dc.UNDER, dc.UNDER, ch_code))
    level = _num(pub, "level").to_numpy()
    lvl_text = texts(n)
    lv_ok = np.flatnonzero(~np.isnan(level) & show)
    lvl_text[lv_ok] = format_distinct(level[lv_ok].astype("int64"), str)
    out["level_display"] = labelled(lvl_text, l_code)
    lc_code = code("level_change_code")
    zeros = np.zeros(n, dtype="int64")
    out["level_change_display"] = labelled(
        _fmt_array(_num(pub, "level_change").to_numpy(), zeros, show, signed=True),
        np.where(v_code == dc.UNDER, dc.UNDER, lc_code),
    )
    # an improvement is value − cut point: shown only with an exact value
    imp_code = np.where(
        (v_code == dc.SHOWN) & (l_code == dc.SHOWN),
        dc.SHOWN,
        np.where(np.isin(v_code, (dc.UNDER, dc.NONE)), v_code, dc.HIDDEN),
    )
    imp_code = np.where(
        l_code == dc.NONE, np.where(v_code == dc.UNDER, dc.UNDER, dc.NONE), imp_code
    )
    for k in (1, 2, 3):
        imp = _num(pub, f"improve_{k}").to_numpy()
        out[f"improve_{k}_display"] = labelled(_fmt_array(imp, decimals, show), imp_code.copy())
    # a target is a cut point: shown where the level is (it gives nothing more away)
    out["target_hidden"] = np.isin(l_code, (dc.SMALL, dc.UNDER, dc.HIDDEN))
    marks = np.zeros(n, dtype="int64")
    for c in (n_code, k_code, v_code, l_code, ch_code, lc_code):
        marks |= np.where((c == dc.SMALL) | (c == dc.HIDDEN), MARK_STAR, 0)
        marks |= np.where(c == dc.UNDER, MARK_UNDER, 0)
    marks |= np.where((v_code == dc.BOTTOM) | (v_code == dc.TOP), MARK_RANGE, 0)
    out["marks"] = np.where(show, marks, 0)
    out["n_public"] = _num(pub, "n")
    out["value_public"] = _num(pub, "value")
    out["change_public"] = _num(pub, "change")
    out["level_public"] = _num(pub, "level")
    out["band"] = band_of(out["level_public"], m)
    return out
