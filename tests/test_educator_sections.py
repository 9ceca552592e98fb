"""Issue 20's report sections and issue 19's district index on the district page: a
generated consortium (educators from the 2014-15 pilot, implemented from 2015-16) run
through ``sqis.pipeline.run_year``, then the published files read back.

- the staff school report has its teachers by level, growth and flag (the engineered
  trigger case), under pseudonyms; the public school report has no educator section and no
  educator key;
- the district page and the Oversight Panel report: the staff counts from the pilot, the
  public edition's suppressed distribution (the same cells as the public
  ``educator-distribution.csv``) from the first implementation year only;
- the district index on the district page is ``districts.csv``'s, in both editions.
"""

from __future__ import annotations

import re
from pathlib import Path

import html5lib
import pandas as pd
import pyarrow as pa
import pytest

from sqis import oversight, pipeline
from sqis.pseudonym import pseudonymise_educators
from sqis.synthetic.educators import ENGINEERED
from tests.consortium import KEY, YEARS, private_tmp, pseudonym_key, run_config

PILOT, FIRST = "2014-15", "2015-16"
COUNTS = ["rated", "level_1", "level_2", "level_3", "level_4"]


@pytest.fixture(scope="module")
def cycle():
    """The three years run in order (2013-14 has no educator files)."""
    work = private_tmp("sqis-educator-sections-")
    cfg = run_config(work, force=None)
    with pseudonym_key():
        for y in YEARS:
            pipeline.run_year(y, cfg)
    staff = Path(cfg.out_root)
    public = Path(cfg.public_root or staff / "public")
    return cfg, staff, public


def _key(raw: str) -> str:
    return pseudonymise_educators(pa.array([raw]), KEY.encode()).to_pylist()[0]


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _doc(path: Path) -> object:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(path.read_bytes())  # raises on the first parse error


def _table(doc: object, table_id: str) -> list[list[str]]:
    t = doc.find(f".//table[@id='{table_id}']")  # type: ignore[attr-defined]
    assert t is not None, table_id
    return [
        [" ".join("".join(c.itertext()).split()) for c in tr if c.tag in ("td", "th")]
        for tr in t.iter("tr")
    ][1:]


def _count(cell: str) -> str:
    """A level cell's count ("12 (40%)" → "12"; "*" stays)."""
    return cell.split(" ")[0]


def _store(cfg):
    from sqis.store import ResultsStore

    return ResultsStore(cfg.db_url)


def test_the_staff_school_report_shows_its_teachers_by_level_with_the_trigger(cycle):
    cfg, staff, public = cycle
    res = _store(cfg).read("educator_results", [FIRST])
    trig_key = _key(ENGINEERED["trigger"])
    trig = res[res["educator_key"] == trig_key].iloc[0]
    code = str(trig["school_code"])
    path = staff / FIRST / "reports" / "schools" / f"{code}.html"
    doc = _doc(path)
    text = path.read_text()
    assert 'id="educators"' in text and "for the principal" in text
    teachers = res[(res["school_code"] == code) & (res["role"] == "TEACHER")]
    rows = _table(doc, "educators-teachers")
    assert len(rows) == len(teachers)
    # under pseudonyms: the first 16 characters of the key, never more of it
    assert {r[0] for r in rows} == {k[:16] + "…" for k in teachers["educator_key"]}
    assert trig_key[16:32] not in text
    by_key = {r[0]: r for r in rows}
    row = by_key[trig_key[:16] + "…"]
    assert row[-1] == "TRIGGER" and row[4] == "1"  # flag and growth rating
    assert row[1] == "Highly effective"  # practice 3.6 under option 1: level 4
    levels = ["Ineffective", "Developing", "Effective", "Highly effective"]
    order = [levels.index(r[1]) for r in rows]
    assert order == sorted(order)  # by level
    # the school's educators by level: the staff counts of its distribution rows
    dist = _store(cfg).read("educator_distribution", [FIRST])
    mine = dist[(dist["entity_type"] == "SCHOOL") & (dist["entity_code"] == code)]
    got = {r[0]: [r[1], *map(_count, r[2:6])] for r in _table(doc, "educators-by-level")}
    for _, r in mine.iterrows():
        assert got[str(r["role"]).title()] == [str(int(r[c])) for c in COUNTS]
    # the link to the school's staff educator page (the district's recorded actions) resolves
    href = doc.find(".//section[@id='educators']//a").get("href")  # type: ignore[attr-defined]
    assert href == f"../educators/{code}.html" and (path.parent / href).resolve().exists()
    # a school report in the pilot year has it too (staff only)
    assert 'id="educators"' in (staff / PILOT / "reports" / "schools" / f"{code}.html").read_text()


def test_the_public_edition_has_no_educator_section_in_school_reports_and_no_key(cycle):
    cfg, staff, public = cycle
    keys = set(_store(cfg).read("educator_results", [PILOT, FIRST])["educator_key"])
    assert len(keys) > 50
    prefixes = re.compile("|".join(sorted({k[:12] for k in keys})))
    for year in (PILOT, FIRST):
        schools = sorted((public / year / "reports" / "schools").glob("*.html"))
        assert schools
        for p in schools:
            text = p.read_text()
            assert 'id="educators"' not in text and "Educator effectiveness" not in text, p
            assert "../educators/" not in text
        for p in (public / year).rglob("*"):
            if p.is_file():
                assert not prefixes.search(p.read_bytes().decode("latin-1")), p
    # the staff school reports name them (the privacy scan's raw IDs are tests/test_privacy.py's)
    assert any(
        prefixes.search(p.read_text())
        for p in (staff / FIRST / "reports" / "schools").glob("*.html")
    )


def test_the_district_page_shows_the_staff_and_the_suppressed_public_distribution(cycle):
    cfg, staff, public = cycle
    dist = _csv(staff / FIRST / "educator-distribution.csv")
    pub = _csv(public / FIRST / "educator-distribution.csv")
    districts = sorted(dist.loc[dist["entity_type"] == "DISTRICT", "entity_code"].unique())
    assert districts
    for d in districts:
        for edition, root, expected in (("staff", staff, dist), ("public", public, pub)):
            doc = _doc(root / FIRST / "reports" / "districts" / f"{d}.html")
            want = expected[
                (expected["entity_type"] == "DISTRICT") & (expected["entity_code"] == d)
            ]
            got = {r[0]: [r[1], *map(_count, r[2:6])] for r in _table(doc, "educators-district")}
            assert got == {r["role"].title(): [r[c] for c in COUNTS] for _, r in want.iterrows()}, (
                edition
            )
            trend_years = {r[0] for r in _table(doc, "educators-district-trend")}
            if edition == "staff":
                assert trend_years == {f"{PILOT} (pilot)", FIRST}
            else:  # the pilot is staff only
                assert trend_years == {FIRST}
    # a hidden count shows no share (the share would give it back)
    text = "".join(
        (public / FIRST / "reports" / "districts" / f"{d}.html").read_text() for d in districts
    )
    assert "* (" not in text
    # the pilot year: the staff district page has the section, the public one has none
    for d in districts:
        assert "(pilot)" in (staff / PILOT / "reports" / "districts" / f"{d}.html").read_text()
        assert (
            'id="educators"'
            not in (public / PILOT / "reports" / "districts" / f"{d}.html").read_text()
        )


def test_the_oversight_report_shows_every_districts_distribution_and_its_trend(cycle):
    from sqis.methodology import for_year
    from sqis.store import open_store

    cfg, staff, public = cycle
    store = open_store(cfg.db_url)
    m = for_year(FIRST)
    dist = _csv(staff / FIRST / "educator-distribution.csv")
    pub = _csv(public / FIRST / "educator-distribution.csv")
    names = _csv(staff / FIRST / "districts.csv")["district_code"].tolist()
    # the 2016-17 meetings review the 2015-16 results: staff and public
    for files, expected in (
        (oversight.oversight("2016-17", "fall", store, m), dist),
        (oversight.public_oversight("2016-17", "fall", store, m), pub),
    ):
        body = files["reports/oversight-2016-17-fall.html"]
        doc = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(body)
        rows = _table(doc, "educators-oversight")
        top = expected[expected["entity_type"].isin(["CONSORTIUM", "DISTRICT"])]
        assert len(rows) == len(top) == 2 * (len(names) + 1)
        got = sorted([r[1], *map(_count, r[2:7])] for r in rows)
        assert got == sorted(
            [r["role"].title(), *(r[c] for c in COUNTS)] for _, r in top.iterrows()
        )
        assert rows[0][0] == "Consortium"
        trend = _table(doc, "educators-oversight-trend")
        assert len(trend) == len(top)
        head = doc.find(".//table[@id='educators-oversight-trend']//thead")  # type: ignore[attr-defined]
        years_shown = [" ".join("".join(th.itertext()).split()) for th in head.iter("th")][2:]
        if expected is dist:
            assert years_shown == [f"{PILOT} (pilot)", FIRST]
        else:
            assert years_shown == [FIRST]
    # the 2015-16 meetings review the pilot: staff only
    staff_pilot = oversight.oversight("2015-16", "fall", store, for_year(PILOT))
    assert b'id="educators-oversight"' in staff_pilot["reports/oversight-2015-16-fall.html"]
    public_pilot = oversight.public_oversight("2015-16", "fall", store, for_year(PILOT))
    body = public_pilot["reports/oversight-2015-16-fall.html"]
    assert b'id="educators"' not in body and b"Educators by performance level" not in body


def test_the_district_page_shows_the_district_index_of_districts_csv(cycle):
    cfg, staff, public = cycle
    for root in (staff, public):
        d = _csv(root / FIRST / "districts.csv")
        assert len(d) >= 2
        for _, r in d.iterrows():
            doc = _doc(root / FIRST / "reports" / "districts" / f"{r['district_code']}.html")
            section = doc.find(".//section[@id='district-index']")  # type: ignore[attr-defined]
            assert section is not None
            summary = {
                " ".join("".join(li.find("span").itertext()).split()): " ".join(
                    "".join(li.findall("span")[1].itertext()).split()
                )
                for li in section.iter("li")
            }

            def shown(v: str, places: int) -> str:
                return "–" if v == "" else f"{float(v):.{places}f}"

            assert summary[f"District SQII {FIRST}"] == shown(r["sqii"], 1)
            assert summary["Last year"] == shown(r["prior_sqii"], 1)
            assert summary["SQI Goal"] == shown(r["goal"], 1)
            met = {"Y": "Yes", "N": "No", "": "–", "true": "Yes", "false": "No"}
            assert summary["Goal met"] == met.get(r["meets_goal"], r["meets_goal"])
            domains = dict(_table(doc, "district-domains"))
            assert domains["Academic"] == shown(r["academic"], 2)
            assert domains["Social-emotional"] == shown(r["social_emotional"], 2)
            assert domains["Culture-climate"] == shown(r["culture_climate"], 2)
    # this year's goal comes from last year's district SQII: both are on the page
    d = _csv(staff / FIRST / "districts.csv")
    assert (d["prior_sqii"] != "").all() and (d["goal"] != "").all()


def test_a_share_is_shown_only_where_its_count_and_the_rows_total_are() -> None:
    """``distribution_rows`` on the public edition's text counts: a share of a hidden count,
    or of a hidden total, would give the count back; "–" where nobody is rated."""
    from sqis.reports.educator_rows import distribution_rows

    dist = pd.DataFrame(
        {
            "entity_type": ["DISTRICT"] * 3,
            "entity_code": ["1010000"] * 3,
            "role": ["TEACHER"] * 3,
            "rated": ["20", "*", "0"],
            "level_1": ["*", "*", "0"],
            "level_2": ["8", "7", "0"],
            "level_3": ["*", "10", "0"],
            "level_4": ["6", "*", "0"],
        }
    )
    rows = distribution_rows(dist, {"1010000": "Alder"})
    assert rows[0]["entity"] == "Alder" and rows[0]["role"] == "Teacher"
    assert rows[0]["levels"] == ["*", "8", "*", "6"]
    assert rows[0]["shares"] == ["*", "40%", "*", "30%"] and rows[0]["effective"] == "*"
    assert rows[1]["rated"] == "*" and rows[1]["shares"] == ["*"] * 4
    assert rows[2]["shares"] == ["–"] * 4 and rows[2]["effective"] == "–"
    staff = dist.assign(rated=[20, 20, 0], level_1=[1, 2, 0], level_3=[5, 1, 0], level_4=[6, 10, 0])
    staff = staff.assign(level_2=[8, 7, 0])
    assert distribution_rows(staff)[0]["effective"] == "55%"  # (5 + 6) / 20
