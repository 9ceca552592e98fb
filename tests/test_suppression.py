"""Public suppression (METHODOLOGY.md): hand-computed cells, then a property over whole reports."""

from __future__ import annotations

import math
from dataclasses import replace

import html5lib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sqis import methodology
from sqis.disclosure import public_frames
from sqis.reports import render_year_reports, sample
from sqis.reports.public import render_public_oversight, render_public_reports
from sqis.suppression import band_of, suppress, suppress_count

M = methodology.for_year("2015-16")
STAR, UNDER = M.suppression.suppressed_label, M.suppression.under_nsize_label


def _row(**kw: object) -> dict[str, object]:
    base = {
        "year": "2015-16",
        "school_code": "01611190130001",
        "student_group": "EL",
        "indicator": "ELA_MET",
        "numerator": np.nan,
        "denominator": np.nan,
        "value": np.nan,
        "meets_nsize": True,
        "level": np.nan,
        "improve_1": np.nan,
        "improve_2": np.nan,
        "improve_3": np.nan,
        "prior_value": np.nan,
        "change": np.nan,
        "prior_level": np.nan,
        "level_change": np.nan,
    }
    base.update(kw)
    return base


def _one(frame: pd.DataFrame, **where: str) -> pd.Series:
    sel = np.ones(len(frame), dtype=bool)
    for k, v in where.items():
        sel &= (frame[k] == v).to_numpy()
    assert sel.sum() == 1
    return frame[sel].iloc[0]


def test_cells_hand_computed() -> None:
    ind = pd.DataFrame(
        [
            # under the n-size with a small count: n<20 everywhere, the 8 never shown
            _row(student_group="AA", numerator=3, denominator=8, value=37.5, meets_nsize=False),
            # 4 of 25 meet: the numerator is small, so the rate and its level are hidden
            _row(
                student_group="SWD", numerator=4, denominator=25, value=16.0, level=1, improve_1=2.0
            ),
            # 95 of 100: the complement (5) is small
            _row(student_group="SED", numerator=95, denominator=100, value=95.0, level=10),
            # 20 of 50: shown, level 6 is average; change +3.0 from a visible prior year
            _row(
                student_group="HI",
                numerator=20,
                denominator=50,
                value=40.0,
                level=6,
                improve_1=4.0,
                change=3.0,
                level_change=1,
            ),
            _row(
                year="2014-15",
                student_group="HI",
                numerator=18,
                denominator=48,
                value=37.0,
                level=5,
            ),
            # visible this year, but last year's cell was small: the change is hidden
            _row(
                student_group="EL",
                numerator=30,
                denominator=60,
                value=50.0,
                level=7,
                change=45.0,
                level_change=6,
            ),
            _row(
                year="2014-15", student_group="EL", numerator=3, denominator=60, value=5.0, level=1
            ),
            # a mean: no numerator; shown to two decimals
            _row(student_group="ALL", indicator="SEL", denominator=30, value=3.456, level=5),
            # no prior year at all: no change, shown as a dash (not as suppressed)
            _row(student_group="WH", numerator=12, denominator=40, value=30.0, level=4),
        ]
    )
    out = suppress(ind, M)

    aa = _one(out, student_group="AA")
    assert [aa[c] for c in ("n_display", "value_display", "level_display")] == [UNDER] * 3
    assert math.isnan(aa["value_public"]) and math.isnan(aa["n_public"])
    assert aa["under_nsize"] and aa["suppressed"]

    swd = _one(out, student_group="SWD")
    assert swd["n_display"] == "25"
    assert swd["value_display"] == STAR and swd["level_display"] == STAR
    assert swd["improve_1_display"] == STAR
    assert math.isnan(swd["value_public"]) and math.isnan(swd["level_public"])
    assert swd["band"] == ""

    sed = _one(out, student_group="SED")
    assert sed["value_display"] == STAR and sed["level_display"] == STAR

    hi = _one(out, student_group="HI", year="2015-16")
    assert hi["value_display"] == "40.0%"
    assert hi["change_display"] == "+3.0"
    assert hi["level_display"] == "6" and hi["band"] == "average"
    assert hi["level_change_display"] == "+1"
    assert hi["improve_1_display"] == "4.0"
    assert hi["value_public"] == 40.0 and hi["change_public"] == 3.0

    el = _one(out, student_group="EL", year="2015-16")
    assert el["value_display"] == "50.0%"
    assert el["change_display"] == STAR and el["level_change_display"] == STAR
    assert math.isnan(el["change_public"])

    sel = _one(out, indicator="SEL")
    assert sel["value_display"] == "3.46" and sel["n_display"] == "30"

    wh = _one(out, student_group="WH")
    assert wh["change_display"] == "–"


def test_counts_and_bands() -> None:
    assert [suppress_count(c, M) for c in (0, 1, 10, 11, 1234)] == ["0", STAR, STAR, "11", "1,234"]
    bands = band_of(pd.Series([1, 3, 4, 7, 8, 10, np.nan]), M)
    assert list(bands) == ["below", "below", "average", "average", "above", "above", ""]
    # the edges are the methodology's, not the code's
    shifted = M.model_copy(
        update={"level_bands": M.level_bands.model_copy(update={"above_average_from": 9})}
    )
    assert list(band_of(pd.Series([8, 9]), shifted)) == ["average", "above"]


# ---- the property: no small count, nor anything derived from one, in any public report ----
FOCUS = sample.SCHOOLS["school_code"].iloc[1]  # FOCUS for EL on MATH_MET in 2015-16
SVG = "{http://www.w3.org/2000/svg}"
SENTINELS = (91.23, 88.88, 97.77, 83.33)  # values whose display appears nowhere else
BASE = sample.build(M)


@st.composite
def small_cells(draw: st.DrawFn) -> list[dict[str, object]]:
    cells = []
    indicators = draw(
        st.lists(
            st.sampled_from(["MATH_MET", "ELA_MET", "CHRONIC", "SUSP"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    group = draw(st.sampled_from(["EL", "AA", "SWD", "HI"]))
    for ind in indicators:
        kind = draw(st.sampled_from(["den", "num", "complement"]))
        small = draw(st.integers(1, 10))
        if kind == "den":
            den, num = small, draw(st.integers(0, small))
        elif kind == "num":
            den, num = draw(st.integers(20, 300)), small
        else:
            den = draw(st.integers(20, 300))
            num = den - small
        cells.append(
            {
                "indicator": ind,
                "group": group,
                "den": den,
                "num": num,
                "sentinel": draw(st.sampled_from(SENTINELS)),
            }
        )
    return cells


def _cells_text(table: object) -> list[list[str]]:
    rows = []
    for tr in table.iter("tr"):  # type: ignore[attr-defined]
        rows.append(["".join(c.itertext()).strip() for c in tr if c.tag in ("td", "th")])
    return rows


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # rendering is too slow to shrink
)
@given(cells=small_cells())
def test_no_small_count_reaches_a_report(cells: list[dict[str, object]]) -> None:
    ind = BASE.indicators.copy()
    for c in cells:
        sel = (
            (ind["year"] == "2015-16")
            & (ind["school_code"] == FOCUS)
            & (ind["student_group"] == c["group"])
            & (ind["indicator"] == c["indicator"])
        )
        assert sel.sum() == 1
        v = float(c["sentinel"])
        ind.loc[sel, ["numerator", "denominator", "value"]] = [c["num"], c["den"], v]
        ind.loc[sel, "meets_nsize"] = c["den"] >= M.n_size
        ind.loc[sel, "level"] = 9.0 if c["den"] >= M.n_size else np.nan
        ind.loc[sel, "change"] = v - ind.loc[sel, "prior_value"]
        ind.loc[sel, "level_change"] = 9.0 - ind.loc[sel, "prior_level"]
        ind.loc[sel, ["improve_1", "improve_2", "improve_3"]] = [1.5, 2.5, np.nan]
    pf = public_frames(replace(BASE, indicators=ind), M)
    out = render_public_reports(pf, M)
    html = out[f"reports/schools/{FOCUS}.html"].decode("utf-8")
    doc = html5lib.parse(html, namespaceHTMLElements=False)
    text = " ".join(doc.itertext())  # every table cell, label and chart text
    panel = render_public_oversight(pf, "fall", M)["reports/oversight-2016-17-fall.html"]
    panel_text = " ".join(html5lib.parse(panel, namespaceHTMLElements=False).itertext())
    for c in cells:
        assert f"{float(c['sentinel']):.1f}" not in text  # the rate, anywhere
        assert f"{float(c['sentinel']):.1f}" not in panel_text
    labels = {
        "MATH_MET": "Mathematics: met or exceeded standard",
        "ELA_MET": "English language arts: met or exceeded standard",
        "CHRONIC": "Chronic absenteeism (lower is better)",
        "SUSP": "Suspension or expulsion (lower is better)",
    }
    group_table = doc.find(f".//table[@id='group-{cells[0]['group']}']")
    if group_table is None:  # every indicator of the group under the n-size: one line
        assert doc.find(f".//span[@id='group-{cells[0]['group']}']") is not None
        assert all(int(c["den"]) < M.n_size for c in cells) or cells[0]["group"] == "AA"
        return
    rows = {r[0]: r[1:] for r in _cells_text(group_table) if r}
    for c in cells:
        shown = rows[labels[str(c["indicator"])]]
        hidden = {STAR, UNDER}
        # n is a count: shown only when it is not small; the count is hidden; the value is
        # hidden or a range; the change and level are hidden
        if int(c["den"]) <= M.suppression.max_count:
            assert shown[:5] == [STAR] * 5
        elif int(c["den"]) < M.n_size:
            assert shown[:5] == [UNDER] * 5
        else:
            assert shown[0] in (f"{int(c['den']):,}", STAR)
            assert shown[1] == STAR
            assert shown[2] in hidden or shown[2][0] in "<>"
            assert shown[3] in hidden
    # the staff edition shows the same cells as they are (METHODOLOGY.md "Two editions")
    staff = render_year_reports(replace(BASE, indicators=ind), M, pdf="none")
    staff = staff[f"reports/schools/{FOCUS}.html"].decode("utf-8")
    for c in cells:
        assert f"{float(c['sentinel']):.1f}" in staff


def test_suppressed_point_missing_from_the_chart_table() -> None:
    """A school's ALL MATH_MET this year made small (7 of 70): the public chart table shows
    the range and the chart plots no point for it; the staff table shows 10.0%."""
    ind = BASE.indicators.copy()
    sel = (
        (ind["year"] == "2015-16")
        & (ind["school_code"] == FOCUS)
        & (ind["student_group"] == "ALL")
        & (ind["indicator"] == "MATH_MET")
    )
    ind.loc[sel, ["numerator", "denominator", "value"]] = [7, 70, 10.0]
    out = render_public_reports(public_frames(replace(BASE, indicators=ind), M), M)
    doc = html5lib.parse(out[f"reports/schools/{FOCUS}.html"], namespaceHTMLElements=False)
    tables = [
        t
        for t in doc.iter("table")
        if "Key indicators for all students" in "".join(t.find("caption").itertext())
    ]
    assert len(tables) == 1
    rows = _cells_text(tables[0])
    assert rows[-1][:3] == ["2015-16", "42.9%", "<15%"]  # ⌊1000 / 70⌋ + 1 = 15
    notes = " ".join("".join(u.itertext()) for u in doc.iter("ul") if u.get("class") == "notes")
    assert "2015-16, Mathematics: met or exceeded standard: not plotted" in notes
    fig = doc.find(".//figure[@id='trend-indicators']")
    labels = [t.text for t in fig.iter(f"{SVG}text")]
    assert "10" not in labels


@pytest.mark.parametrize("den", [1, 10])
def test_small_denominator_at_the_boundaries(den: int) -> None:
    out = suppress(
        pd.DataFrame([_row(numerator=0, denominator=den, value=0.0, meets_nsize=False)]), M
    )
    assert out.iloc[0]["n_display"] == UNDER and out.iloc[0]["value_display"] == UNDER
