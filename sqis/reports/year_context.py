"""The year's frames prepared once for its school reports and district pages, in either
edition (:class:`YearContext`).

``prepare_year`` (the staff edition, from the report frames) and ``prepare_public_year``
(the public edition, from ``PublicFrames`` only) do the vectorised work once for the whole
year: display strings (``sqis.suppression``: every value, or the public cells), the
targets to advance 1/2/3 levels (METHODOLOGY.md *Index levels*), every frame indexed by
school. A report's context (``sqis.reports.school_view``, ``district_view``) then only
looks up one school's or district's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from sqis import years
from sqis.disclosure import PublicFrames, require_public
from sqis.methodology import Methodology
from sqis.report_frames import ReportFrames
from sqis.reports.formatting import num_or_nan
from sqis.reports.labels import INDICATOR_LABELS
from sqis.suppression import (
    BAND_LABELS,
    NO_DATA,
    decimals_and_unit,
    format_distinct,
    map_codes,
    public_cells,
    staff_cells,
    texts,
)

STAFF, PUBLIC = "staff", "public"  # the two editions (METHODOLOGY.md "Two editions")


def _year_col(frame: pd.DataFrame | None, year: str) -> pd.DataFrame:
    """Rows of ``year`` (a frame without a ``year`` column is taken to be that year)."""
    if frame is None:
        return pd.DataFrame()
    if "year" in frame.columns:
        return frame[frame["year"].astype(str) == year]
    return frame


# cells[(year, student_group)][indicator] = one suppressed display row
Cells = dict[tuple[str, str], dict[str, dict[str, Any]]]


@dataclass
class YearContext:
    """The year's frames, prepared once: suppressed display rows as plain dicts per school."""

    year: str
    m: Methodology
    years_shown: tuple[str, ...]
    school: dict[str, dict[str, Any]]
    cells: dict[str, Cells]
    index_rows: dict[str, dict[str, dict[str, Any]]]  # school → year → index row
    designation: dict[str, dict[str, Any]]
    community_by_school: dict[str, list[dict[str, Any]]]
    plan: dict[str, dict[str, Any]]
    checkpoint_by_school: dict[str, list[dict[str, Any]]]
    generated: str
    common: dict[str, Any] = field(default_factory=dict)
    edition: str = "staff"  # STAFF or PUBLIC (METHODOLOGY.md "Two editions")
    # the sections of sqis.reports.sections (educators, district index), prepared once
    sections: dict[str, Any] = field(default_factory=dict)

    @property
    def school_names(self) -> dict[str, str]:
        return {k: str(v["school_name"]) for k, v in self.school.items()}


def _targets(ind: pd.DataFrame, schools: pd.DataFrame, m: Methodology) -> pd.DataFrame:
    """The cut points a value must reach to advance 1, 2 and 3 levels (Index levels).

    Higher is better: level L+k needs value ≥ c[L+k−1]; lower is better: value ≤ c[10−L−k]
    (cut points ascending, 1-based), so the nine cut points give the targets directly.
    """
    st_of = dict(zip(schools["school_code"], schools["school_type"], strict=True))
    st_codes, st_uniq = pd.factorize(ind["school_code"].map(st_of), use_na_sentinel=True)
    ind_codes, ind_uniq = pd.factorize(ind["indicator"])
    level = pd.to_numeric(ind["level"], errors="coerce").to_numpy(dtype="float64")
    has_level = ~np.isnan(level) & (st_codes >= 0) & (ind_codes >= 0)
    # the cut points of every (indicator, school type) with a level to advance from
    present = np.zeros((len(ind_uniq), len(st_uniq)), dtype=bool)
    present[ind_codes[has_level], st_codes[has_level]] = True
    cuts = np.full((len(ind_uniq), len(st_uniq), 9), np.nan)
    usable = np.zeros_like(present)
    higher = np.zeros(len(ind_uniq), dtype=bool)
    for ii, si in zip(*np.nonzero(present), strict=True):
        spec = m.indicators.get(ind_uniq[ii])
        if spec is None or st_uniq[si] not in spec.school_types:
            continue
        cuts[ii, si] = np.asarray(m.cuts(ind_uniq[ii], st_uniq[si]), dtype="float64")
        usable[ii, si] = True
        higher[ii] = spec.direction == "higher"
    rows = np.flatnonzero(has_level)
    rows = rows[usable[ind_codes[rows], st_codes[rows]]]
    ic, sc = ind_codes[rows], st_codes[rows]
    lv = level[rows].astype(int)
    out = {k: np.full(len(ind), np.nan) for k in (1, 2, 3)}
    for k in (1, 2, 3):
        tgt = lv + k
        ok = tgt <= 10
        pos = np.where(ok, np.where(higher[ic], tgt - 2, 10 - tgt), 0)
        out[k][rows] = np.where(ok, cuts[ic, sc, np.clip(pos, 0, 8)], np.nan)
    return pd.DataFrame({f"target_{k}": out[k] for k in (1, 2, 3)}, index=ind.index)


# a row's display columns, in the order of ``_plain_row``'s parameters (the targets' and
# improvements' texts are folded into the "targets" of this year's rows)
_ROW_COLS = (
    "n_display",
    "value_display",
    "change_display",
    "level_display",
    "level_change_display",
    "band",
    "value_public",
    "count_display",
    "marks",
)


def _table_rows(sup: pd.DataFrame, m: Methodology) -> Iterator[dict[str, Any]]:
    """Each row's display columns, its label, band label and targets text.

    Index levels: the value to reach for 1, 2, 3 more levels, and the change that takes
    (``≥ 44.0%`` and ``(+4.0)``; lower is better: ``≤ 20.0%`` and ``(−20.0)``). One pass
    over plain lists for the whole frame, not one per school and student group.
    """
    ind = sup["indicator"]
    codes_, uniq = pd.factorize(ind, use_na_sentinel=False)
    labels = np.array([INDICATOR_LABELS.get(u, u) for u in uniq], dtype=object)[codes_]
    signs = {k: "+" if spec.direction == "higher" else "−" for k, spec in m.indicators.items()}
    sign = np.array([signs.get(u, "+") for u in uniq], dtype=object)[codes_].tolist()
    band_label = [BAND_LABELS.get(b, "") for b in sup["band"].to_numpy(dtype=object).tolist()]
    parts = []
    for k in (1, 2, 3):
        parts.append(sup[f"target_{k}_display"].to_numpy(dtype=object).tolist())
        parts.append(sup[f"improve_{k}_display"].to_numpy(dtype=object).tolist())
    # many rows share their targets (hidden, under the n-size, no level): one list, and one
    # text of table cells, for each distinct text (the lists are only read)
    seen: dict[tuple[Any, ...], tuple[list[dict[str, str]], str]] = {}
    targets, target_cells = [], []
    for key in zip(*parts, sign, strict=True):
        got = seen.get(key)
        if got is None:
            sg = key[6]
            listed = [
                {"target": t, "need": f"({sg}{n})" if n and n[0].isdigit() and t != NO_DATA else ""}
                for t, n in (key[0:2], key[2:4], key[4:6])
            ]
            got = seen[key] = (listed, _target_cells(listed))
        targets.append(got[0])
        target_cells.append(got[1])
    cols = [sup[c].to_numpy(dtype=object).tolist() for c in _ROW_COLS]
    rows = list(map(_table_row, *cols, labels.tolist(), band_label, targets))
    # each row as its table shows it (the all-students table or a group's), the cells
    # escaped once per distinct text of each column, not once per cell in the template
    esc = {c: _escaped(sup[c]) for c in _HTML_COLS}
    html = _table_html(
        sup["student_group"].to_numpy(dtype=object) == "ALL",
        _escaped(pd.Series(labels)),
        _escaped(pd.Series(band_label)),
        target_cells,
        *(esc[c] for c in _HTML_COLS),
    )
    for row, (which, tr) in zip(rows, html, strict=True):
        row[which] = tr
    return iter(rows)


# the display columns school.html's table rows show
_HTML_COLS = (
    "n_display",
    "count_display",
    "value_display",
    "change_display",
    "level_display",
    "level_change_display",
    "band",
)


def _escaped(values: pd.Series) -> list[str]:
    """Each value as autoescape writes ``{{ value }}`` (``markupsafe.escape``), each distinct
    value escaped once."""
    codes_, uniq = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=False)
    if not all(isinstance(u, str) for u in uniq):  # only text is folded together
        return [str(escape(v)) for v in values.to_numpy(dtype=object).tolist()]
    return np.asarray([str(escape(u)) for u in uniq], dtype=object)[codes_].tolist()


def _target_cells(targets: list[dict[str, str]]) -> str:
    """The "Next level", "+2" and "+3 levels" cells, as school.html wrote them."""
    out = []
    for t in targets:
        need = f' <br><span class="need">{escape(t["need"])}</span>' if t["need"] else ""
        out.append(f'<td class="num">{escape(t["target"])}{need}</td>')
    return "".join(out)


def _table_html(
    is_all: np.ndarray,
    label: list[str],
    band_label: list[str],
    target_cells: list[str],
    n: list[str],
    count: list[str],
    value: list[str],
    change: list[str],
    level: list[str],
    level_change: list[str],
    band: list[str],
) -> Iterator[tuple[str, Markup]]:
    """Each row's ``(key, HTML)``: ``tr_all`` for a row of the all-students table (with its
    level change and targets), ``tr_group`` for a group table's; the cells escaped."""
    for i, row_is_all in enumerate(is_all.tolist()):
        cls = f" band-{band[i]}" if band[i] else ""
        head = (
            f'<tr><th scope="row">{label[i]}</th><td class="num">{n[i]}</td>'
            f'<td class="num">{count[i]}</td><td class="num">{value[i]}</td>'
            f'<td class="num">{change[i]}</td><td class="num{cls}">{level[i]}</td>'
        )
        if row_is_all:
            attr = f' class="band-{band[i]}"' if band[i] else ""
            yield (
                "tr_all",
                Markup(
                    f'{head}<td{attr}>{band_label[i]}</td><td class="num">{level_change[i]}</td>'
                    f"{target_cells[i]}</tr>"
                ),
            )
        else:
            yield "tr_group", Markup(f"{head}<td>{band_label[i]}</td></tr>")


def _plain_row(
    n: str,
    value: str,
    change: str,
    level: str,
    level_change: str,
    band: str,
    public: Any,
    count: str,
    marks: int,
) -> dict[str, Any]:
    """One display row (a dict display: much faster than ``dict(zip(...))`` per row)."""
    return {
        "n_display": n,
        "value_display": value,
        "change_display": change,
        "level_display": level,
        "level_change_display": level_change,
        "band": band,
        "value_public": public,
        "count_display": count,
        "marks": marks,
    }


def _table_row(
    n: str,
    value: str,
    change: str,
    level: str,
    level_change: str,
    band: str,
    public: Any,
    count: str,
    marks: int,
    label: str,
    band_label: str,
    targets: list[dict[str, str]],
) -> dict[str, Any]:
    """One row of this year's tables: the display row with its label and targets."""
    return {
        **_plain_row(n, value, change, level, level_change, band, public, count, marks),
        "label": label,
        "band_label": band_label,
        "targets": targets,
    }


def _reason_or_gap_group(des: pd.DataFrame) -> pd.Series:
    """The group a designated school's data report is about: reason_group, else gap_group."""
    group = (
        des["reason_group"] if "reason_group" in des.columns else pd.Series(None, index=des.index)
    )
    if "gap_group" in des.columns:
        group = group.fillna(des["gap_group"])
    return group.fillna("ALL").astype(str)


def _rows_shown(
    year: str, indicators: pd.DataFrame, designations: pd.DataFrame
) -> tuple[pd.DataFrame, tuple[str, ...], np.ndarray]:
    """The indicator rows a year's reports read (the years shown, up to five, and the one
    before them), those years, and which rows need display strings."""
    start = years.start_of(year)
    ind = indicators
    if "year" not in ind.columns:
        ind = ind.assign(year=year)
    ind_years = ind["year"].astype(str)
    on_record = sorted(
        {y for y in pd.unique(ind_years) if years.start_of(y) <= start}, key=years.start_of
    )
    years_shown = tuple(on_record[-years.TREND_YEARS :]) or (year,)
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
    return ind, years_shown, show


def prepare_year(frames: ReportFrames, m: Methodology, generated: str | None = None) -> YearContext:
    """The **staff edition**'s year (METHODOLOGY.md "Two editions": every value, count and
    level): display strings, targets and every frame indexed by school, once for the year."""
    ind, years_shown, show = _rows_shown(frames.year, frames.indicators, frames.designations)
    sup = staff_cells(ind, m, display=show)
    return _assemble(frames, ind, sup, show, years_shown, m, generated, STAFF)


def prepare_public_year(
    pf: PublicFrames, m: Methodology, generated: str | None = None
) -> YearContext:
    """The **public edition**'s year, from :class:`sqis.disclosure.PublicFrames` only (the
    display strings carry the suppression the frames hold; nothing else is read)."""
    pf = require_public(pf)
    ind, years_shown, show = _rows_shown(pf.year, pf.indicators, pf.designations)
    sup = public_cells(ind, m, display=show)
    return _assemble(pf, ind, sup, show, years_shown, m, generated, PUBLIC)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts keyed by its (text) column names."""
    return cast(list[dict[str, Any]], frame.to_dict("records"))


def _assemble(
    frames: ReportFrames | PublicFrames,
    ind: pd.DataFrame,
    sup: pd.DataFrame,
    show: np.ndarray,
    years_shown: tuple[str, ...],
    m: Methodology,
    generated: str | None,
    edition: str,
) -> YearContext:
    """Targets, table rows and every frame indexed by school (both editions; the plans and
    checkpoints of the staff edition only)."""
    year, schools, index = frames.year, frames.schools, frames.index
    communities = frames.communities
    plans = frames.plans if edition == STAFF else None
    checkpoints = frames.checkpoints if edition == STAFF else None
    tg = _targets(ind, schools, m)
    dec_s, unit_s = decimals_and_unit(ind["indicator"], m)
    ops = {k: "≥ " if s.direction == "higher" else "≤ " for k, s in m.indicators.items()}
    op = map_codes(ind["indicator"], ops, "").to_numpy(dtype=object)
    dec = dec_s.to_numpy(dtype="int64")
    unit = unit_s.to_numpy(dtype=object)
    this_year = (ind["year"].astype(str) == year).to_numpy()
    ind_codes, ind_uniq = pd.factorize(ind["indicator"], use_na_sentinel=False)
    for k in (1, 2, 3):
        t = tg[f"target_{k}"].to_numpy(dtype="float64")
        txt = texts(len(ind))
        ok = ~np.isnan(t) & this_year  # targets are shown for this year only
        # a target is a cut point: few distinct texts per indicator, each formatted once
        for i in np.unique(ind_codes[ok]).tolist():
            rows = np.flatnonzero(ok & (ind_codes == i))
            r0 = rows[0]
            o, d, u = op[r0], int(dec[r0]), unit[r0]
            txt[rows] = format_distinct(t[rows], lambda v, o=o, d=d, u=u: f"{o}{v:.{d}f}{u}")
        # a target is methodology, but next to a hidden level it would hint at the level
        hidden = sup["target_hidden"].to_numpy(dtype=bool)
        txt[hidden] = sup["level_display"].to_numpy(dtype=object)[hidden]
        sup[f"target_{k}_display"] = pd.Series(txt, index=sup.index, dtype="object")
    sup["year"] = ind["year"].astype(str)
    keep_rows = show & sup["year"].isin(years_shown).to_numpy()
    now_rows = keep_rows & this_year
    sup_now, sup_before = sup[now_rows], sup[keep_rows & ~this_year]

    cells: dict[str, Cells] = {}
    # one pass over plain lists (pandas' to_dict boxes every cell: ten times slower)
    key_cols = ("school_code", "year", "student_group", "indicator")

    def add(frame: pd.DataFrame, rows: Iterator[dict[str, Any]]) -> None:
        keys = (frame[c].to_numpy(dtype=object).tolist() for c in key_cols)
        for code, y, g, k, row in zip(*keys, rows, strict=True):
            by_school = cells.get(code := str(code))
            if by_school is None:
                by_school = cells[code] = {}
            by_ind = by_school.get((y, g))
            if by_ind is None:
                by_ind = by_school[(y, g)] = {}
            by_ind[k] = row

    # this year's rows go into the tables: their labels and targets text, once, here
    add(sup_now, _table_rows(sup_now, m))
    # earlier years' rows are only read by the trends
    add(
        sup_before,
        map(_plain_row, *(sup_before[c].to_numpy(dtype=object).tolist() for c in _ROW_COLS)),
    )

    idx = index if "year" in index.columns else index.assign(year=year)
    idx = idx[idx["year"].astype(str).isin(years_shown)]
    index_rows: dict[str, dict[str, dict[str, Any]]] = {}
    for r in _records(idx):
        index_rows.setdefault(str(r["school_code"]), {})[str(r["year"])] = r

    des = _year_col(frames.designations, year)
    designation = {str(r["school_code"]): r for r in _records(des)}

    community_by_school: dict[str, list[dict[str, Any]]] = {}
    if communities is not None and len(communities):
        c = communities
        if "checkpoint" in c.columns:
            c = c.sort_values(["school_code", "checkpoint"])
        for r in _records(c):
            community_by_school.setdefault(str(r["school_code"]), []).append(r)
    plan: dict[str, dict[str, Any]] = {}
    if plans is not None and len(plans):
        for r in _records(_year_col(plans, year)):
            plan[str(r["school_code"])] = r
    checkpoint_by_school: dict[str, list[dict[str, Any]]] = {}
    if checkpoints is not None and len(checkpoints) and "school_code" in checkpoints.columns:
        for r in _records(_year_col(checkpoints, year)):
            checkpoint_by_school.setdefault(str(r["school_code"]), []).append(r)

    s = m.suppression
    common = {
        "edition": edition,
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
        school={str(r["school_code"]): r for r in _records(schools)},
        cells=cells,
        index_rows=index_rows,
        designation=designation,
        community_by_school=community_by_school,
        plan=plan,
        checkpoint_by_school=checkpoint_by_school,
        generated=generated or "",
        common=common,
        edition=edition,
    )


def trend_points(
    cells: Cells, ys: list[str], pairs: list[tuple[str, str]]
) -> tuple[list[tuple[float, ...]], list[list[str]]]:
    """Public values (for the chart) and displays (for its table) of (group, indicator) pairs."""
    pts, disp = [], []
    for g, k in pairs:
        pts.append(
            tuple(num_or_nan(cells.get((y, g), {}).get(k, {}).get("value_public")) for y in ys)
        )
    for y in ys:
        disp.append(
            [cells.get((y, g), {}).get(k, {}).get("value_display", NO_DATA) for g, k in pairs]
        )
    return pts, disp
