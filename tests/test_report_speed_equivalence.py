"""The reports' speed-ups change no byte: old (reference) and new code side by side.

``sqis.suppression.suppress``, the targets and the school report contexts were rewritten
for speed (numpy arrays instead of pandas masks, one format per distinct value, rows
built once per year instead of per school). The reference implementations below are the
code before that rewrite, kept verbatim apart from their names; every test renders or
computes the same thing both ways, on randomised versions of the sample consortium, and
requires identical frames and identical report bytes.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sqis import methodology, years
from sqis.methodology import Methodology
from sqis.report_frames import ReportFrames
from sqis.reports import charts, render_year_reports, sample, school_view, year_context
from sqis.reports.labels import INDICATOR_LABELS
from sqis.reports.year_context import Cells, YearContext, _reason_or_gap_group, _year_col
from sqis.suppression import BAND_LABELS, DECIMALS, KEYS, NO_DATA, _flag, _num, is_small, suppress

M = methodology.for_year("2015-16")
YEAR = "2015-16"


# ---- the reference: the code before the speed-up ---------------------------------------
def ref_band_of(level: pd.Series, m: Methodology) -> pd.Series:
    """The band of a level (Index levels; *CORE* 8–10 above average, 4–7 average, 1–3 below),
    from the methodology's ``level_bands``; ``""`` where there is no level."""
    lv = pd.to_numeric(level, errors="coerce")
    above, average = m.level_bands.above_average_from, m.level_bands.average_from
    out = pd.Series("", index=level.index, dtype="object")
    out[lv >= above] = "above"
    out[(lv >= average) & (lv < above)] = "average"
    out[(lv >= 1) & (lv < average)] = "below"
    return out


def ref_fmt(
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


def ref_map_codes(codes: pd.Series, mapping: dict[Any, Any], default: Any = None) -> pd.Series:
    """``codes.map(mapping)`` for a column of few distinct codes, without a per-row lookup."""
    idx, uniq = pd.factorize(codes, use_na_sentinel=False)
    vals = np.array([mapping.get(u, default) for u in uniq], dtype=object)
    return pd.Series(vals[idx], index=codes.index, dtype=object)


def ref_decimals_and_unit(ind: pd.Series, m: Methodology) -> tuple[pd.Series, pd.Series]:
    decimals = ref_map_codes(ind, {k: DECIMALS[s.scale] for k, s in m.indicators.items()}, 1)
    unit = ref_map_codes(
        ind, {k: "%" if s.scale == "percent" else "" for k, s in m.indicators.items()}, ""
    )
    return decimals.astype(int), unit


def ref_suppress(
    ind: pd.DataFrame,
    m: Methodology,
    display: np.ndarray | pd.Series | None = None,
    staff: bool = False,
) -> pd.DataFrame:
    """The suppression before the speed-up (pandas masks per column).

    ``staff=True``: the staff edition's display (issue 18, METHODOLOGY.md "Two editions"),
    the same formatting with nothing hidden, and the numerator as ``count_display`` — the
    reference of ``sqis.suppression.staff_cells`` (deliberately updated with issue 18: the
    staff report no longer suppresses)."""
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
    if staff:
        small = np.zeros(len(ind), dtype=bool)
        under = pd.Series(False, index=ind.index)
    hidden = small | under.to_numpy()
    out["suppressed"] = small
    out["under_nsize"] = under.to_numpy()

    # the prior year's cell: hidden there hides the change here
    prior_hidden = pd.Series(not staff, index=ind.index)
    if "year" in ind.columns and ind["year"].nunique() > 0 and not staff:
        status = out[keys].copy()
        status["_hidden"] = hidden
        uniq = pd.unique(ind["year"])
        nxt = {y: years.shift(y, 1) for y in uniq}
        status["year"] = status["year"].map(nxt)
        merged = out[keys].merge(status, on=keys, how="left")
        prior_hidden = merged["_hidden"].astype("boolean").fillna(True).astype(bool)
        prior_hidden.index = ind.index

    decimals, unit = ref_decimals_and_unit(ind["indicator"], m)
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
    if not staff:
        n_text[is_small(den, m)] = label_small
    n_text[under.to_numpy()] = label_under
    out["n_display"] = n_text
    if staff:
        k_text = pd.Series(NO_DATA, index=ind.index, dtype="object")
        ok = num.notna() & show_s
        k_text[ok] = [f"{x:,.0f}" for x in num[ok].to_numpy().tolist()]
        out["count_display"] = k_text

    v_text = ref_fmt(value, decimals, mask=show_s & ~hidden_s)
    with_unit = (value.notna() & show_s & ~hidden_s & (unit != "")).to_numpy()
    v_text[with_unit] = v_text[with_unit] + unit[with_unit]
    out["value_display"] = hide(v_text)

    change = _num(ind, "change")
    # a change hidden by the prior year's cell; no change at all stays "–"
    ch_hidden = prior_hidden.to_numpy() & change.notna().to_numpy()
    out["change_display"] = hide(
        ref_fmt(change, decimals, signed=True, mask=show_s & ~hidden_s), ch_hidden
    )
    lvl_text = pd.Series(NO_DATA, index=ind.index, dtype="object")
    lv_ok = level.notna() & show_s
    lvl_text[lv_ok] = level[lv_ok].astype(int).astype(str).to_numpy()
    out["level_display"] = hide(lvl_text)
    lchange = _num(ind, "level_change")
    out["level_change_display"] = hide(
        ref_fmt(lchange, pd.Series(0, index=ind.index), signed=True, mask=show_s & ~hidden_s),
        prior_hidden.to_numpy() & lchange.notna().to_numpy(),
    )
    for k in (1, 2, 3):
        out[f"improve_{k}_display"] = hide(
            ref_fmt(_num(ind, f"improve_{k}"), decimals, mask=show_s & ~hidden_s)
        )

    out["n_public"] = den.where(~(is_small(den, m) | under.to_numpy()))
    out["value_public"] = value.where(~hidden)
    out["change_public"] = change.where(~(hidden | ch_hidden))
    out["level_public"] = level.where(~hidden)
    out["band"] = ref_band_of(out["level_public"], m)
    return out


def ref_targets(ind: pd.DataFrame, schools: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """The cut points a value must reach to advance 1, 2 and 3 levels (Index levels).

    Higher is better: level L+k needs value ≥ c[L+k−1]; lower is better: value ≤ c[10−L−k]
    (cut points ascending, 1-based), so the nine cut points give the targets directly.
    """
    st_of = dict(zip(schools["school_code"], schools["school_type"], strict=True))
    st_codes, st_uniq = pd.factorize(ind["school_code"].map(st_of), use_na_sentinel=True)
    ind_codes, ind_uniq = pd.factorize(ind["indicator"])
    level = pd.to_numeric(ind["level"], errors="coerce").to_numpy(dtype="float64")
    has_level = ~np.isnan(level)
    out = {k: np.full(len(ind), np.nan) for k in (1, 2, 3)}
    for ii, code in enumerate(ind_uniq):
        spec = m.indicators.get(code)
        if spec is None:
            continue
        for si, st in enumerate(st_uniq):
            if st not in spec.school_types:
                continue
            sel = (ind_codes == ii) & (st_codes == si) & has_level
            if not sel.any():
                continue
            cuts = np.asarray(m.cuts(code, st), dtype="float64")
            lv = level[sel].astype(int)
            for k in (1, 2, 3):
                tgt = lv + k
                ok = tgt <= 10
                pos = (
                    np.where(ok, tgt - 2, 0)
                    if spec.direction == "higher"
                    else np.where(ok, 10 - tgt, 0)
                )
                out[k][sel] = np.where(ok, cuts[np.clip(pos, 0, 8)], np.nan)
    return pd.DataFrame({f"target_{k}": out[k] for k in (1, 2, 3)}, index=ind.index)


REF_ROW_COLS = (
    "n_display",
    "value_display",
    "change_display",
    "level_display",
    "level_change_display",
    "band",
    "target_1_display",
    "target_2_display",
    "target_3_display",
    "improve_1_display",
    "improve_2_display",
    "improve_3_display",
    "value_public",
    "count_display",
)


def ref_prepare_year(
    year: str,
    schools: pd.DataFrame,
    indicators: pd.DataFrame,
    index: pd.DataFrame,
    designations: pd.DataFrame,
    m: Methodology,
    communities: pd.DataFrame | None = None,
    plans: pd.DataFrame | None = None,
    checkpoints: pd.DataFrame | None = None,
    generated: str | None = None,
) -> YearContext:
    """``prepare_year`` before the speed-up; this year's rows also carry the targets the
    Focus/Priority comparison read with ``ref_targets_text``."""
    start = years.start_of(year)
    ind = indicators
    if "year" not in ind.columns:
        ind = ind.assign(year=year)
    ind_years = ind["year"].astype(str)
    on_record = sorted(
        {y for y in pd.unique(ind_years) if years.start_of(y) <= start}, key=years.start_of
    )
    years_shown = tuple(on_record[-5:]) or (year,)
    # the prior year of the first year shown is kept: it decides whether a change is shown
    keep = set(years_shown) | {years.shift(years_shown[0], -1)}
    ind = ind[ind_years.isin(keep)].reset_index(drop=True)
    # display strings are needed for this year, and earlier years only in the trends (all
    # students, and the group a Focus/Priority school was identified for)
    des_now = _year_col(designations, year)
    trend_pairs = pd.MultiIndex.from_arrays(
        [
            des_now["school_code"].astype(str),
            _reason_or_gap_group(des_now),
        ]
    )
    pairs = pd.MultiIndex.from_arrays(
        [ind["school_code"].astype(str), ind["student_group"].astype(str)]
    )
    show = (
        (ind["year"].astype(str) == year).to_numpy()
        | (ind["student_group"] == "ALL").to_numpy()
        | pairs.isin(trend_pairs)
    )
    sup = ref_suppress(ind, m, display=show, staff=True)
    tg = ref_targets(ind, schools, m)
    dec_s, unit_s = ref_decimals_and_unit(ind["indicator"], m)
    ops = {k: "≥ " if s.direction == "higher" else "≤ " for k, s in m.indicators.items()}
    op = ref_map_codes(ind["indicator"], ops, "").to_numpy(dtype=object)
    dec = dec_s.to_numpy(dtype="int64")
    unit = unit_s.to_numpy(dtype=object)
    this_year = (ind["year"].astype(str) == year).to_numpy()
    hidden_labels = [m.suppression.suppressed_label, m.suppression.under_nsize_label]
    for k in (1, 2, 3):
        t = tg[f"target_{k}"]
        txt = pd.Series(NO_DATA, index=ind.index, dtype="object")
        ok = t.notna().to_numpy() & this_year  # targets are shown for this year only
        if ok.any():
            txt[ok] = [
                f"{o}{v:.{d}f}{u}"
                for o, v, d, u in zip(
                    op[ok].tolist(),
                    t.to_numpy()[ok].tolist(),
                    dec[ok].tolist(),
                    unit[ok].tolist(),
                    strict=True,
                )
            ]
        # a target is methodology, but next to a hidden value it would hint at the level
        hidden = sup[f"improve_{k}_display"].isin(hidden_labels)
        txt[hidden] = sup.loc[hidden, f"improve_{k}_display"]
        sup[f"target_{k}_display"] = txt
    sup["year"] = ind["year"].astype(str)
    sup = sup[show & sup["year"].isin(years_shown).to_numpy()]

    cells: dict[str, Cells] = {}
    # one pass over plain lists (pandas' to_dict boxes every cell: ten times slower)
    key_cols = ("school_code", "year", "student_group", "indicator")
    keys = zip(*(sup[c].to_numpy(dtype=object).tolist() for c in key_cols), strict=True)
    vals = zip(*(sup[c].to_numpy(dtype=object).tolist() for c in REF_ROW_COLS), strict=True)
    for (code, y, g, k), row in zip(keys, vals, strict=True):
        r = dict(zip(REF_ROW_COLS, row, strict=True))
        r["marks"] = 0
        if y == year and k in m.indicators:
            r["targets"] = ref_targets_text(r, m.indicators[k].direction)
        cells.setdefault(str(code), {}).setdefault((y, g), {})[k] = r

    idx = index if "year" in index.columns else index.assign(year=year)
    idx = idx[idx["year"].astype(str).isin(years_shown)]
    index_rows: dict[str, dict[str, dict[str, Any]]] = {}
    for r in idx.to_dict("records"):
        index_rows.setdefault(str(r["school_code"]), {})[str(r["year"])] = r

    des = _year_col(designations, year)
    designation = {str(r["school_code"]): r for r in des.to_dict("records")}

    community_by_school: dict[str, list[dict[str, Any]]] = {}
    if communities is not None and len(communities):
        c = communities
        if "checkpoint" in c.columns:
            c = c.sort_values(["school_code", "checkpoint"])
        for r in c.to_dict("records"):
            community_by_school.setdefault(str(r["school_code"]), []).append(r)
    plan: dict[str, dict[str, Any]] = {}
    if plans is not None and len(plans):
        for r in _year_col(plans, year).to_dict("records"):
            plan[str(r["school_code"])] = r
    checkpoint_by_school: dict[str, list[dict[str, Any]]] = {}
    if checkpoints is not None and len(checkpoints) and "school_code" in checkpoints.columns:
        for r in _year_col(checkpoints, year).to_dict("records"):
            checkpoint_by_school.setdefault(str(r["school_code"]), []).append(r)

    s = m.suppression
    common = {
        "edition": "staff",
        "year": year,
        "service_year": years.service_year(year),
        "years_label": years.both(year),
        "methodology_version": m.version,
        "generated": generated or "",
        "supp_min": s.min_count,
        "supp_max": s.max_count,
        "supp_label": s.suppressed_label,
        "nsize_label": s.under_nsize_label,
        "n_size": m.n_size,
    }
    return YearContext(
        year=year,
        m=m,
        years_shown=years_shown,
        school={str(r["school_code"]): r for r in schools.to_dict("records")},
        cells=cells,
        index_rows=index_rows,
        designation=designation,
        community_by_school=community_by_school,
        plan=plan,
        checkpoint_by_school=checkpoint_by_school,
        generated=generated or "",
        common=common,
        edition="staff",
    )


def ref_targets_text(r: dict[str, Any], direction: str) -> list[dict[str, str]]:
    """Index levels: the value to reach for 1, 2, 3 more levels, and the change that takes
    (``≥ 44.0%`` and ``(+4.0)``; lower is better: ``≤ 20.0%`` and ``(−20.0)``)."""
    sign = "+" if direction == "higher" else "−"
    out = []
    for k in (1, 2, 3):
        t, need = r[f"target_{k}_display"], r[f"improve_{k}_display"]
        shown = bool(need) and need[0].isdigit() and t != NO_DATA
        out.append({"target": t, "need": f"({sign}{need})" if shown else ""})
    return out


# school.html's table rows as they were written cell by cell in the template, before the
# rows were written in Python (``year_context._with_html``), verbatim
REF_TR_ALL = (
    '<tr><th scope="row">{{ r.label }}</th><td class="num">{{ r.n_display }}</td><td class="num">'
    '{{ r.count_display }}</td><td class="num">{{ r.value_display }}</td><td class="num">'
    '{{ r.change_display }}</td><td class="num{% if r.band %} band-{{ r.band }}{% endif %}">'
    '{{ r.level_display }}</td><td{% if r.band %} class="band-{{ r.band }}"{% endif %}>'
    '{{ r.band_label }}</td><td class="num">{{ r.level_change_display }}</td>{% for t in '
    'r.targets %}<td class="num">{{ t.target }}{% if t.need %} <br><span class="need">'
    "{{ t.need }}</span>{% endif %}</td>{% endfor %}</tr>"
)
REF_TR_GROUP = (
    '<tr><th scope="row">{{ r.label }}</th><td class="num">{{ r.n_display }}</td><td class="num">'
    '{{ r.count_display }}</td><td class="num">{{ r.value_display }}</td><td class="num">'
    '{{ r.change_display }}</td><td class="num{% if r.band %} band-{{ r.band }}{% endif %}">'
    "{{ r.level_display }}</td><td>{{ r.band_label }}</td></tr>"
)


def ref_rows(
    by_ind: dict[str, dict[str, Any]], order: list[str], m: Methodology
) -> list[dict[str, Any]]:
    from markupsafe import Markup

    from sqis.reports.render import environment

    tr_all, tr_group = (environment().from_string(t) for t in (REF_TR_ALL, REF_TR_GROUP))
    rows = []
    for code in order:
        r = by_ind.get(code)
        if r is None:
            continue
        r = dict(r)
        r["label"] = INDICATOR_LABELS.get(code, code)
        r["band_label"] = BAND_LABELS.get(r["band"], "")
        r["targets"] = ref_targets_text(r, m.indicators[code].direction)
        r["tr_all"] = Markup(tr_all.render(r=r))
        r["tr_group"] = Markup(tr_group.render(r=r))
        rows.append(r)
    return rows


# ---- randomised inputs ----------------------------------------------------------------
def randomised(seed: int) -> ReportFrames:
    """The sample consortium with random counts, values, levels, changes and improvements:
    small counts, groups under the n-size, missing values, values that round to ``-0.0``
    and prior-year rows that are missing."""
    rng = np.random.default_rng(seed)
    f = sample.build(M)
    ind = f.indicators.copy()
    n = len(ind)
    den = rng.choice([np.nan, 1, 5, 10, 11, 19, 20, 35, 100, 250, 1234], size=n)
    num = np.floor(rng.random(n) * (np.nan_to_num(den) + 1))
    num[rng.random(n) < 0.1] = np.nan
    complement = rng.random(n) < 0.1
    num[complement] = np.maximum(np.nan_to_num(den[complement]) - rng.integers(1, 11), 0)
    ind["denominator"] = den
    ind["numerator"] = num
    value = np.where(rng.random(n) < 0.5, 100 * num / den, rng.normal(40, 30, n))
    value[rng.random(n) < 0.05] = -0.04  # rounds to -0.0
    value[rng.random(n) < 0.05] = np.nan
    ind["value"] = value
    ind["meets_nsize"] = np.nan_to_num(den) >= M.n_size
    level = rng.integers(1, 11, n).astype("float64")
    level[rng.random(n) < 0.15] = np.nan
    ind["level"] = level
    for k in (1, 2, 3):
        imp = rng.exponential(6, n)
        rounded = rng.random(n) < 0.5  # as stored: cut point − value, often to 0.1
        imp[rounded] = imp[rounded].round(1)
        imp[rng.random(n) < 0.2] = np.nan
        imp[rng.random(n) < 0.05] = -0.004
        ind[f"improve_{k}"] = imp
    ind["change"] = np.where(rng.random(n) < 0.2, np.nan, rng.normal(0, 8, n))
    ind["level_change"] = np.where(rng.random(n) < 0.2, np.nan, rng.integers(-9, 10, n))
    # a few rows go missing, prior years included
    ind = ind[rng.random(n) > 0.03].reset_index(drop=True)
    return replace(f, indicators=ind)


SEEDS = [1, 2, 3, 4, 5]


@pytest.mark.parametrize("seed", SEEDS)
def test_suppress_equals_reference(seed: int) -> None:
    ind = randomised(seed).indicators
    show = np.random.default_rng(seed).random(len(ind)) < 0.7
    for display in (None, show):
        new = suppress(ind, M, display=display)
        old = ref_suppress(ind, M, display=display)
        pd.testing.assert_frame_equal(new, old, check_exact=True)
    # without a year column, and with one year only (no prior row anywhere)
    one = ind[ind["year"] == YEAR].drop(columns="year")
    pd.testing.assert_frame_equal(suppress(one, M), ref_suppress(one, M), check_exact=True)
    only = ind[ind["year"] == YEAR]
    pd.testing.assert_frame_equal(suppress(only, M), ref_suppress(only, M), check_exact=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_staff_cells_equal_reference(seed: int) -> None:
    """The staff edition's display (issue 18): the same strings as the reference with
    nothing hidden."""
    from sqis.suppression import staff_cells

    ind = randomised(seed).indicators
    show = np.random.default_rng(seed).random(len(ind)) < 0.7
    cols = [
        "n_display",
        "count_display",
        "value_display",
        "change_display",
        "level_display",
        "level_change_display",
        "improve_1_display",
        "improve_2_display",
        "improve_3_display",
        "band",
        "value_public",
    ]
    for display in (None, show):
        new = staff_cells(ind, M, display=display)[cols]
        old = ref_suppress(ind, M, display=display, staff=True)[cols]
        pd.testing.assert_frame_equal(new, old, check_exact=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_targets_equal_reference(seed: int) -> None:
    f = randomised(seed)
    pd.testing.assert_frame_equal(
        year_context._targets(f.indicators, f.schools, M),
        ref_targets(f.indicators, f.schools, M),
        check_exact=True,
    )


def _render(f: ReportFrames, designations: pd.DataFrame) -> dict[str, bytes]:
    return render_year_reports(
        replace(f, designations=designations), M, pdf="none", generated="2016-08-01"
    )


def ref_prepare_frames(
    frames: ReportFrames, m: Methodology, generated: str | None = None
) -> YearContext:
    """``ref_prepare_year`` called as ``prepare_year`` is now (the report frames)."""
    return ref_prepare_year(
        frames.year,
        frames.schools,
        frames.indicators,
        frames.index,
        frames.designations,
        m,
        frames.communities,
        frames.plans,
        frames.checkpoints,
        generated,
    )


def _designations(f: ReportFrames, seed: int) -> pd.DataFrame:
    """The sample's designations, with a random school made Priority or Focus for a
    random group and indicator (the data report reads that group's rows)."""
    rng = np.random.default_rng(seed)
    des = f.designations.copy()
    now = des.index[des["year"] == YEAR]
    i = now[int(rng.integers(len(now)))]
    des.loc[i, "designation"] = str(rng.choice(["FOCUS", "PRIORITY"]))
    des.loc[i, "reason_group"] = str(rng.choice(["EL", "SWD", "HI", "AA"]))
    des.loc[i, "reason_indicator"] = str(rng.choice(["ELA_MET", "MATH_MET", "CHRONIC"]))
    return des


@pytest.mark.parametrize("seed", SEEDS)
def test_reports_are_byte_identical_to_reference(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = randomised(seed)
    des = _designations(f, seed)
    new = _render(f, des)
    with monkeypatch.context() as mp:
        mp.setattr(year_context, "prepare_year", ref_prepare_frames)
        mp.setattr(school_view, "_rows", ref_rows)
        old = _render(f, des)
    assert new.keys() == old.keys()
    differ = [k for k in new if new[k] != old[k]]
    assert not differ, differ
    # and the sample itself, unperturbed
    s = sample.build(M)
    new = _render(s, s.designations)
    with monkeypatch.context() as mp:
        mp.setattr(year_context, "prepare_year", ref_prepare_frames)
        mp.setattr(school_view, "_rows", ref_rows)
        assert _render(s, s.designations) == new


# ---- the Oversight bar chart, written as SVG text ---------------------------------------
def test_bars_svg_draws_finite_values_only_and_is_fast() -> None:
    cats = [f"{a}–{a + 10}" for a in range(0, 100, 10)]
    svg = charts.bars_svg(
        "t & <b>",
        cats,
        {
            "2014-15": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            "2015-16": [9, None, float("nan"), 1] + [0] * 6,
        },
        ylabel="schools",
    )
    assert svg.startswith('<svg role="img" aria-label="t &amp; &lt;b&gt;"')
    assert "<title>t &amp; &lt;b&gt;</title>" in svg and svg.endswith("</svg>\n")
    data = svg[svg.index('<g class="data">') : svg.index('<g class="legend"')]
    # 10 bars, then 8 (two hidden values draw nothing); zeros draw a flat bar, no label
    assert data.count("<rect") == 18
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", data)
    assert sorted(labels, key=int) == ["1", "1", "2", "3", "4", "5", "6", "7", "8", "9", "9"]
    assert "2014-15" in svg and "2015-16" in svg  # the legend
    assert 'fill="#0b4f8a"' in svg and "<pattern" in svg  # colour and hatch per series
    t = time.perf_counter()
    for i in range(50):
        charts.bars_svg(f"chart {i}", cats, {"a": list(range(10)), "b": list(range(10))})
    assert (time.perf_counter() - t) / 50 < 0.005
