"""School, Focus/Priority, district and Oversight reports from the hand-built sample frames.

The expected numbers are computed by hand from the formulas in sqis/reports/sample.py.
"""

from __future__ import annotations

import re
from typing import Any

import html5lib
import pytest

from sqis import methodology
from sqis.report_frames import ReportFrames
from sqis.reports import charts, render_oversight, render_year_reports, sample
from sqis.reports.render import ReportError

M = methodology.for_year("2015-16")
F = sample.build(M)
CODES = list(sample.SCHOOLS["school_code"])
PRIORITY, FOCUS, MIDDLE, HIGH, REWARD, NOT_TITLE_I = CODES
SVG = "{http://www.w3.org/2000/svg}"


def main_frames(**frames: Any) -> ReportFrames:
    """The sample's schools, indicators, index and designations only (no follow-through,
    no sections), with ``frames`` in their place."""
    main = {n: getattr(F, n) for n in ("schools", "indicators", "index", "designations")}
    return ReportFrames(F.year, **{**main, **frames})


@pytest.fixture(scope="module")
def year_reports() -> dict[str, bytes]:
    return render_year_reports(F, M, pdf="none", generated="2016-08-01")


def sample_public() -> object:
    """The sample's public frames (the one suppression function)."""
    from sqis.disclosure import public_frames

    return public_frames(F, M)


@pytest.fixture(scope="module")
def public_reports() -> dict[str, bytes]:
    from sqis.reports.public import render_public_edition, render_public_oversight

    pf = sample_public()
    out = render_public_edition(pf, M, generated="2016-08-01")
    out.update(render_public_oversight(pf, "fall", M))
    return out


@pytest.fixture(scope="module")
def oversight() -> bytes:
    out = render_oversight(F, "fall", M)
    assert list(out) == ["reports/oversight-2016-17-fall.html"]
    return out["reports/oversight-2016-17-fall.html"]


def strict_parse(data: bytes) -> object:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(data)  # raises on the first parse error


def table_rows(doc: object, caption_part: str) -> list[list[str]]:
    tables = [
        t
        for t in doc.iter("table")  # type: ignore[attr-defined]
        if t.find("caption") is not None and caption_part in "".join(t.find("caption").itertext())
    ]
    assert len(tables) == 1, f"{len(tables)} tables captioned {caption_part!r}"
    return [
        [" ".join("".join(c.itertext()).split()) for c in tr if c.tag in ("td", "th")]
        for tr in tables[0].iter("tr")
    ]


def group_rows(doc: object, group: str) -> dict[str, list[str]]:
    t = doc.find(f".//table[@id='group-{group}']")  # type: ignore[attr-defined]
    assert t is not None
    rows = [
        [" ".join("".join(c.itertext()).split()) for c in tr if c.tag in ("td", "th")]
        for tr in t.iter("tr")
    ]
    return {r[0]: r[1:] for r in rows[1:]}


def test_every_school_and_district_gets_a_valid_self_contained_report(year_reports) -> None:
    assert set(year_reports) == {
        *(f"reports/schools/{c}.html" for c in CODES),
        "reports/districts/0161119.html",
        "reports/districts/1964733.html",
    }
    for key, data in year_reports.items():
        strict_parse(data)
        html = data.decode("utf-8")
        assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html, key
        # self-contained: no external stylesheet, script, font or image
        assert not re.search(r"<(link|script|img|iframe)\b", html), key
        assert "@import" not in html and "url(http" not in html, key
        assert not re.search(r'(src|href)="(https?:)?//', html), key
        assert "@media print" in html


def test_school_report_numbers_by_hand(year_reports) -> None:
    doc = strict_parse(year_reports[f"reports/schools/{PRIORITY}.html"])
    rows = {r[0]: r[1:] for r in table_rows(doc, "Every indicator for all students")}
    # ELA_MET, ALL, school 0, 2015-16: 40% of 210 = 84 → 40.0%; last year 76 of 205 = 37.07%
    # ES cuts 18 24 29 34 39 44 49 55 63: 40 ≥ five of them → level 6 (average);
    # next levels at 44, 49, 55; last year 37.07 → level 5, so +1
    assert rows["English language arts: met or exceeded standard"] == [
        "210",
        "84",
        "40.0%",
        "+2.9",
        "6",
        "average",
        "+1",
        "≥ 44.0% (+4.0)",
        "≥ 49.0% (+9.0)",
        "≥ 55.0% (+15.0)",
    ]
    # CHRONIC is lower-is-better: (40 + 6 − 6) = 40% → above every cut → level 1
    chronic = rows["Chronic absenteeism (lower is better)"]
    assert chronic[2] == "40.0%" and chronic[4] == "1" and chronic[5] == "below average"
    assert chronic[7] == "≤ 20.0% (−20.0)"  # level 2 needs ≤ c9 = 20: a reduction of 20
    # SQII 30 + 0 + 2·2 = 34; prior 32; goal 32 + 0.1·68 = 38.8 → not met
    summary = " ".join("".join(doc.find(".//ul[@class='summary']").itertext()).split())
    assert "SQII 2015-16 34.0" in summary and "SQI Goal 38.8" in summary
    assert "Goal met No" in summary and "Change +2.0" in summary


def test_group_tables_show_nsize_and_suppression(public_reports) -> None:
    doc = strict_parse(public_reports[f"reports/schools/{PRIORITY}.html"])
    # 8 students: a small group everywhere, shown as "*" (rule 1)
    aa = group_rows(doc, "AA")
    assert aa["Suspension or expulsion (lower is better)"][:5] == ["*"] * 5
    swd = group_rows(doc, "SWD")
    # 4 of 25 met, and 10 SWD not tested (SUSP 35 − ELA 25): the whole cell is hidden
    assert swd["English language arts: met or exceeded standard"][:5] == ["*"] * 5
    # 7 of 35 met math: the rate is a range holding the 11 counts 0–10 (⌊1000/35⌋ + 1 = 29)
    assert swd["Mathematics: met or exceeded standard"][:3] == ["35", "*", "<29%"]
    el = group_rows(doc, "EL")
    assert el["English language arts: met or exceeded standard"][0] == "70"
    hs = strict_parse(public_reports[f"reports/schools/{HIGH}.html"])
    sed = group_rows(hs, "SED")
    # 95 of 100 graduated: 5 did not, so the rate is top-coded (⌈100 × 90/100⌉ − 1 = 89)
    assert sed["Four-year graduation rate"][1:3] == ["*", ">89%"]
    # each table says in plain words why a cell is blank
    notes = " ".join("".join(u.itertext()) for u in hs.iter("ul") if u.get("class") == "notes")
    assert "not shown to protect student privacy" in notes and "a range instead" in notes


def test_staff_edition_shows_every_count(year_reports) -> None:
    """METHODOLOGY.md "Two editions": the staff report shows small groups' values and counts
    (issue 18: a school's own levels, e.g. Science at n = 20, are not hidden from it)."""
    doc = strict_parse(year_reports[f"reports/schools/{PRIORITY}.html"])
    aa = group_rows(doc, "AA")
    # 8 students: n, count and value shown; under the n-size, so no level
    assert aa["English language arts: met or exceeded standard"][:3] == ["8", "2", "25.0%"]
    assert aa["English language arts: met or exceeded standard"][4] == "–"
    swd = group_rows(doc, "SWD")
    assert swd["English language arts: met or exceeded standard"][:3] == ["25", "4", "16.0%"]
    assert swd["English language arts: met or exceeded standard"][4] == "1"
    html = year_reports[f"reports/schools/{PRIORITY}.html"].decode()
    assert "Staff edition — confidential" in html and "*" not in "".join(
        c for r in group_rows(doc, "SWD").values() for c in r
    )


def test_focus_data_report(year_reports) -> None:
    html = year_reports[f"reports/schools/{FOCUS}.html"].decode("utf-8")
    doc = strict_parse(html.encode())
    section = doc.find(".//section[@id='data-report']")
    assert section is not None
    text = " ".join("".join(section.itertext()).split())
    assert "Focus school data report" in text
    assert "English learners compared with all students" in text
    assert "largest in Mathematics: met or exceeded standard" in text
    assert "achievement gap: 14.0 points" in text
    assert "Year 3 in focus school status" in text
    assert "2015-16 results · Focus school for 2016-17" in year_reports[
        f"reports/schools/{FOCUS}.html"
    ].decode("utf-8")
    assert "two-year plan starts in 2016-17 (year 1 of 2)" in text
    assert "Partnership with a Reward school" in text  # escalated in its 3rd year
    assert "District-managed turnaround if the school is still designated in year 5" in text
    assert "Submitted" in text and "January 15, 2017 (community checkpoint 2)" in text
    assert "Checkpoint 2: plan not approved" in text
    assert "Echo Park Elementary" in text
    cmp_rows = {r[0]: r[1:] for r in table_rows(doc, "English learners compared with all")}
    # MATH_MET, school 1, 2015-16: ALL (40 + 3·(1−2) + 6) = 43% of 210 → 90/210 = 42.9%;
    # EL: 0.6·43 = 25.8% of 70 → 18/70 = 25.7%, level 3 (≥ 15, 21), next at 26, 31, 36
    math = cmp_rows["Mathematics: met or exceeded standard (reason for identification)"]
    # (25.71% → 26, 31, 36: rises of 0.3, 5.3 and 10.3 points)
    assert math == [
        "42.9%",
        "70",
        "25.7%",
        "+1.1",
        "3 (below average)",
        "≥ 26.0% (+0.3)",
        "≥ 31.0% (+5.3)",
        "≥ 36.0% (+10.3)",
    ]
    # the community: dates, and the calendar link relative to reports/schools/
    assert 'href="../../communities/2016-17-EL-ES-1.ics"' in html
    cps = table_rows(doc, "Checkpoints, 2016-17")
    assert [r[1] for r in cps[1:]] == [
        "October 15, 2016",
        "January 15, 2017",
        "April 15, 2017",
        "June 15, 2017",
    ]
    assert doc.find(".//section[@id='data-report']//h3[@id='peer-review']") is None


def test_priority_report_has_peer_review_and_partner(year_reports) -> None:
    doc = strict_parse(year_reports[f"reports/schools/{PRIORITY}.html"])
    section = doc.find(".//section[@id='data-report']")
    text = " ".join("".join(section.itertext()).split())
    assert "Priority school data report" in text
    assert "among the lowest 5% of Title I schools" in text
    assert "Peer review and partner school" in text
    assert "Partner school: Echo Park Elementary" in text
    assert "Approved" in text


def test_undesignated_school_has_no_data_report(year_reports) -> None:
    doc = strict_parse(year_reports[f"reports/schools/{MIDDLE}.html"])
    assert doc.find(".//section[@id='data-report']") is None
    assert doc.find(".//section[@id='community']") is None
    assert doc.find(".//section[@id='summary']") is not None


def test_charts_are_accessible_and_backed_by_tables(year_reports) -> None:
    doc = strict_parse(year_reports[f"reports/schools/{FOCUS}.html"])
    figs = list(doc.iter("figure"))
    assert {f.get("id") for f in figs} == {"trend-sqii", "trend-indicators", "trend-reason"}
    for fig in figs:
        svg = fig.find(f"{SVG}svg")
        assert svg.get("role") == "img" and svg.get("aria-label")
        assert svg.find(f"{SVG}title").text == svg.get("aria-label")
        assert fig.find("figcaption") is not None
    sqii = table_rows(doc, "Data for: SQII and SQI Goal")
    # school 1: 38, 40, 42; goals: none, 38 + 6.2 = 44.2, 40 + 6.0 = 46.0
    assert sqii[1:] == [
        ["2013-14", "38.0", "–"],
        ["2014-15", "40.0", "44.2"],
        ["2015-16", "42.0", "46.0"],
    ]
    fig = doc.find(".//figure[@id='trend-sqii']")
    data = [g for g in fig.iter(f"{SVG}g") if g.get("class") == "data"][0]
    assert len(list(data.iter(f"{SVG}circle"))) == 3  # SQII: three years
    assert len(list(data.iter(f"{SVG}rect"))) == 2  # goal: no goal in the first year


def test_trend_svg_skips_missing_points_and_scopes_ids() -> None:
    a = charts.trend_svg("t", ["a", "b", "c"], [charts.Series("x", (1.0, float("nan"), 3.0))])
    b = charts.trend_svg("t", ["a", "b", "c"], [charts.Series("x", (1.0, 2.0, 3.0))])
    assert a.count("<circle") == 2 and b.count("<circle") == 3
    assert '<path d="M' in b and a.count('stroke-width="1.8"') == 0  # no line across a gap
    ids_a = set(re.findall(r'id="([^"]+)"', a))
    ids_b = set(re.findall(r'id="([^"]+)"', b))
    assert ids_a and not ids_a & ids_b  # two charts on one page never share an id
    assert "font-face" not in a and "<image" not in a


def test_hostile_school_name_is_escaped_and_utf8(year_reports) -> None:
    name = sample.TRICKY_NAME  # Escuela Niños & "Hermanos" <b>
    html = year_reports[f"reports/schools/{FOCUS}.html"].decode("utf-8")
    assert "Escuela Niños &amp; &#34;Hermanos&#34; &lt;b&gt;" in html
    assert "<b>" not in html
    assert '<meta charset="utf-8">' in html
    doc = strict_parse(html.encode("utf-8"))
    assert "".join(doc.find(".//h1").itertext()) == name
    assert "".join(doc.find(".//title").itertext()).startswith(name)
    district = year_reports["reports/districts/0161119.html"].decode("utf-8")
    assert "Escuela Niños &amp; &#34;Hermanos&#34; &lt;b&gt;" in district
    # and a script in a name stays text
    schools = F.schools.copy()
    schools.loc[1, "school_name"] = "Niño <script>alert('x')</script> & Co"
    out = render_year_reports(main_frames(schools=schools), M, pdf="none")
    page = out[f"reports/schools/{FOCUS}.html"].decode("utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    # the partner's report names it too
    partner = out[f"reports/schools/{REWARD}.html"].decode("utf-8")
    assert "<script" not in partner


def test_district_index_links_every_school(year_reports) -> None:
    doc = strict_parse(year_reports["reports/districts/1964733.html"])
    links = sorted(a.get("href") for a in doc.iter("a"))
    assert links == sorted(f"../schools/{c}.html" for c in (HIGH, REWARD, NOT_TITLE_I))
    rows = {r[0]: r[1:] for r in table_rows(doc, "Every school of Los Angeles Unified")}
    assert rows["Echo Park Elementary"][2] == "not met" and rows["Echo Park Elementary"][3] == (
        "Reward school"
    )


@pytest.mark.slow
def test_pdf_auto_renders_focus_and_priority_only() -> None:
    out = render_year_reports(F, M, pdf="auto", workers=2)
    pdfs = sorted(k for k in out if k.endswith(".pdf"))
    assert pdfs == [f"reports/schools/{PRIORITY}.pdf", f"reports/schools/{FOCUS}.pdf"]
    for k in pdfs:
        assert out[k].startswith(b"%PDF-") and len(out[k]) > 5000


def test_pdf_mode_and_unsafe_codes_are_refused() -> None:
    with pytest.raises(ReportError, match="pdf must be"):
        render_year_reports(main_frames(), M, pdf="some")  # type: ignore[arg-type]
    bad = F.schools.copy()
    bad.loc[0, "school_code"] = "../../etc/passwd"
    with pytest.raises(ReportError, match="unsafe code"):
        render_year_reports(main_frames(schools=bad), M, pdf="none")


def test_oversight_report(oversight: bytes) -> None:
    doc = strict_parse(oversight)
    html = oversight.decode("utf-8")
    assert "Oversight Panel report, Fall 2016-17" in html
    assert "November 1, 2016" in html
    # what n ≥ 20 buys: EL groups of 70 and SWD groups of 35 at all six schools (HI 130 and
    # SED 160 already count at 100; AA 8 counts at neither)
    gain = {r[0]: r[1] for r in table_rows(doc, "whole consortium")[1:]}
    assert gain["English learners"] == "420" and gain["Students with disabilities"] == "210"
    assert gain["African American"] == "0" and gain["Hispanic or Latino"] == "0"
    alameda = {r[0]: r[1:] for r in table_rows(doc, "Alameda Unified: students counted")[1:]}
    assert alameda["English learners"] == ["210", "3"]
    des = {r[0]: r[1:] for r in table_rows(doc, "Alameda Unified: schools by designation")[1:]}
    assert des["Priority school"][0] == "1" and des["Focus school"][0] == "1"
    dist = table_rows(doc, "Alameda Unified: SQII of its schools")
    # Alameda: schools 0, 1, 2 → 34, 42, 50 in 2015-16; each +2; goals missed
    assert dist[-1] == ["2015-16", "3", "34.0", "38.0", "42.0", "46.0", "50.0", "+2.0", "0 of 3"]
    gaps = {r[0]: r[1:] for r in table_rows(doc, "Alameda Unified: achievement gap")[1:]}
    # staff edition: every gap, the small groups' too
    assert all(c not in ("*", "–") for c in gaps["African American"])
    assert all(c not in ("*", "–") for c in gaps["English learners"])
    cps = table_rows(doc, "Alameda Unified: community checkpoint completion")
    assert cps[1][2] == "yes" and cps[2][2] == "no"  # 15 Oct due by 1 Nov; 15 Jan not yet
    figs = list(doc.iter("figure"))
    assert len(figs) == 4 and all(f.find(f"{SVG}svg").get("role") == "img" for f in figs)


def test_public_oversight_report(public_reports) -> None:
    doc = strict_parse(public_reports["reports/oversight-2016-17-fall.html"])
    gaps = {r[0]: r[1:] for r in table_rows(doc, "Alameda Unified: achievement gap")[1:]}
    # the groups of 8 publish no count, so the public gap has nothing to pool
    assert all(c in ("*", "–") for c in gaps.get("African American", []))
    assert all(c not in ("*", "–") for c in gaps["English learners"])
    assert "Public edition" in public_reports["reports/oversight-2016-17-fall.html"].decode()


def test_oversight_spring_and_unknown_term() -> None:
    out = render_oversight(F, "spring", M)
    html = out["reports/oversight-2016-17-spring.html"].decode("utf-8")
    assert "May 1, 2017" in html
    strict_parse(html.encode())
    with pytest.raises(ReportError, match="unknown Oversight Panel term"):
        render_oversight(main_frames(), "winter", M)


def test_frames_without_a_year_column_are_this_year() -> None:
    one = {n: getattr(F, n) for n in ("indicators", "index", "designations")}
    cur = {n: f[f["year"] == "2015-16"].drop(columns="year") for n, f in one.items()}
    frames = main_frames(**cur)
    out = render_year_reports(frames, M, pdf="none")
    doc = strict_parse(out[f"reports/schools/{PRIORITY}.html"])
    rows = {r[0]: r[1:] for r in table_rows(doc, "Every indicator for all students")}
    # staff: the change as computed; public: no prior year in the frame, so not shown
    assert rows["English language arts: met or exceeded standard"][1:4] == ["84", "40.0%", "+2.9"]
    from sqis.disclosure import public_frames
    from sqis.reports.public import render_public_reports

    pub = render_public_reports(public_frames(frames, M), M)
    doc = strict_parse(pub[f"reports/schools/{PRIORITY}.html"])
    rows = {r[0]: r[1:] for r in table_rows(doc, "Every indicator for all students")}
    assert rows["English language arts: met or exceeded standard"][1:4] == ["84", "40.0%", "*"]


def test_priority_without_a_group_shows_all_students_once() -> None:
    des = F.designations.copy()
    sel = (des["year"] == "2015-16") & (des["school_code"] == PRIORITY)
    des.loc[sel, ["gap_group", "reason_indicator"]] = [None, "ELA_MET"]
    out = render_year_reports(main_frames(designations=des), M, pdf="none")
    doc = strict_parse(out[f"reports/schools/{PRIORITY}.html"])
    rows = table_rows(doc, "All students: indicators, levels")
    assert rows[0][:3] == ["Indicator", "All students: n", "Value"]  # no duplicate column
    ela = {r[0]: r[1:] for r in rows[1:]}[
        "English language arts: met or exceeded standard (reason for identification)"
    ]
    assert ela[:2] == ["210", "40.0%"]
    fig = doc.find(".//figure[@id='trend-reason']")
    data = [g for g in fig.iter(f"{SVG}g") if g.get("class") == "data"][0]
    assert len(list(data.iter(f"{SVG}circle"))) == 3 and not list(data.iter(f"{SVG}rect"))


def test_direct_labels_do_not_overlap() -> None:
    svg = charts.trend_svg(
        "t", ["a", "b"], [charts.Series("ELA met", (40.0, 43.0)), charts.Series("Math", (40, 43))]
    )
    ys = sorted(float(y) for y in re.findall(r'<text x="[^"]+" y="([^"]+)" font-size="8.5"', svg))
    assert len(ys) == 2 and ys[1] - ys[0] >= charts.LABEL_GAP


# ---- a generated consortium, through the whole pipeline -------------------------------
@pytest.mark.slow
def test_generated_consortium_reports_are_valid_and_suppressed(tmp_path) -> None:
    from sqis import oversight, pipeline, report_reads
    from sqis.store import open_store
    from sqis.synthetic import generate
    from sqis.years import SchoolYear

    years = ["2014-15", "2015-16"]
    generate(tmp_path / "data", years, 2500, 2, 11)
    db = f"sqlite:///{tmp_path / 'r.db'}"
    cfg = pipeline.RunConfig(
        data_root=str(tmp_path / "data"), out_root=str(tmp_path / "out"), db_url=db, pdf="none"
    )
    pipeline.run_cycle(years, cfg)
    store = open_store(db)
    frames = report_reads.report_frames(store, SchoolYear("2015-16"))
    staff = render_year_reports(frames, M, pdf="none")
    staff.update(oversight.oversight("2016-17", "spring", store, M))
    for data in staff.values():
        strict_parse(data)
    from sqis.disclosure import public_frames
    from sqis.reports.public import render_public_oversight, render_public_reports

    pf = public_frames(frames, M)
    out = render_public_reports(pf, M)
    out.update(render_public_oversight(pf, "spring", M))
    codes = set(frames.schools["school_code"])
    assert {k for k in out if k.startswith("reports/schools/")} == {
        f"reports/schools/{c}.html" for c in codes
    }
    ind = frames.indicators
    ind = ind[ind["year"] == "2015-16"]
    small = ind[
        (ind["numerator"].between(1, 10)) | ((ind["denominator"] - ind["numerator"]).between(1, 10))
    ]
    assert len(small), "the generated consortium has small cells to suppress"
    for key, data in out.items():
        doc = strict_parse(data)
        if not key.startswith("reports/schools/"):
            continue
        for t in doc.iter("table"):
            if not (t.get("id") or "").startswith("group-"):
                continue
            for tr in list(t.iter("tr"))[1:]:
                n = "".join(list(tr)[1].itertext())
                # n is never a small count: a number ≥ the n-size, or a label
                assert n in ("n<20", "*", "–") or int(n.replace(",", "")) >= M.n_size, (key, n)
    # a small cell of a group meeting the n-size shows "*" in its school's report
    row = small[small["meets_nsize"].astype(str).isin(["True", "Y", "true"])].iloc[0]
    doc = strict_parse(out[f"reports/schools/{row['school_code']}.html"])
    if row["student_group"] == "ALL":
        table = [t for t in doc.iter("table") if t.get("class") == "indicators"][0]
    else:
        table = doc.find(f".//table[@id='group-{row['student_group']}']")
    from sqis.reports.labels import INDICATOR_LABELS

    cells = {
        "".join(tr[0].itertext()): ["".join(c.itertext()) for c in tr][1:]
        for tr in list(table.iter("tr"))[1:]
    }
    shown = cells[INDICATOR_LABELS[row["indicator"]]]
    assert shown[1] == "*" and (shown[2] == "*" or shown[2][0] in "<>")
