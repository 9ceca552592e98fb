"""District peer review (METHODOLOGY.md "District peer review"): the rubric as methodology
data, the cycle DRAFT → SUBMITTED → PEER_REVIEWED → MEETS | REVISE → RESUBMITTED →
PEER_REVIEWED … through `sqis review district …` on SQLite and PostgreSQL, every illegal
step one line naming the state and the steps allowed (exit 1, nothing changed), and the
import of a whole consortium's ratings (row-level errors, all or nothing)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from sqis import district_review as dr
from sqis.methodology import MethodologyError, for_year, load_file
from tests.review_fixtures import D1, D2, D3, SERVICE, YEAR, one_error, records, sqis
from tests.review_fixtures import store_with_results as _store

M = for_year(YEAR)
ITEMS = M.district_review.item_codes()
AT = datetime(2016, 10, 1, tzinfo=UTC)


def _rated(r: dr.Review, rating: int = 3) -> dr.Review:
    for i in ITEMS:
        r = dr.self_rate(r, i, rating, "what we did", "the evidence", M, "d", AT)
    return r


# ---- the rubric and the pure state machine -------------------------------------------------
def test_the_rubric_is_methodology_data_validated_at_load(tmp_path: Path):
    assert M.district_review.meets == 3 and M.district_review.scale == (1, 4)
    assert "STANDARDS" in ITEMS and "EDUCATOR_EVALUATION" in ITEMS
    raw = yaml.safe_load(Path(M.source).read_text())
    raw["district_review"]["meets"] = 5
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(MethodologyError, match="meets 5 is outside the scale"):
        load_file(bad)


def test_the_cycle_through_revise_and_resubmit():
    r = dr.new_review(SERVICE, D1, M)
    assert r.status is None
    r = _rated(r)
    assert r.status == dr.DRAFT
    r = dr.submit(r, M, "d", AT)
    for n, i in enumerate(ITEMS):
        r = dr.peer_rate(r, D2, i, 2 if n == 0 else 3, "comments", M, "p", AT)
    assert r.status == dr.REVISE and r.round == 2
    assert [h["status"] for h in r.history] == ["DRAFT", "SUBMITTED", "PEER_REVIEWED", "REVISE"]
    assert r.history[-1]["below_meets"] == [ITEMS[0]]
    assert r.current()[ITEMS[0]]["self_rating"] == 3  # carried over to revise
    assert r.items[1][ITEMS[0]]["peer_rating"] == 2  # round 1 kept
    r = dr.self_rate(r, ITEMS[0], 2, "revised plan", "new evidence", M, "d", AT)
    r = dr.resubmit(r, M, "d", AT)
    for i in ITEMS:
        r = dr.peer_rate(r, D3, i, 4, "good", M, "p", AT)
    assert r.status == dr.MEETS
    assert [h["status"] for h in r.history][-3:] == ["RESUBMITTED", "PEER_REVIEWED", "MEETS"]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (lambda r: dr.submit(r, M, "d", AT),
         "is not started: submit is not allowed (allowed: self-rate)"),
        (lambda r: dr.resubmit(r, M, "d", AT), "resubmit is not allowed"),
        (lambda r: dr.peer_rate(r, D2, ITEMS[0], 3, "c", M, "p", AT), "peer-rate is not allowed"),
    ],
)  # fmt: skip
def test_illegal_steps_name_the_state_and_the_steps_allowed(step, message):
    with pytest.raises(dr.ReviewRefused, match=re.escape(message)):
        step(dr.new_review(SERVICE, D1, M))


def test_submit_needs_every_item_and_a_district_cannot_review_itself():
    r = dr.self_rate(dr.new_review(SERVICE, D1, M), ITEMS[0], 3, "n", "e", M, "d", AT)
    with pytest.raises(dr.ReviewRefused, match="no self-rating yet for"):
        dr.submit(r, M, "d", AT)
    r = dr.submit(_rated(r), M, "d", AT)
    with pytest.raises(dr.ReviewRefused, match=f"district {D1} cannot peer-review itself"):
        dr.peer_rate(r, D1, ITEMS[0], 3, "c", M, "p", AT)
    r = dr.peer_rate(r, D2, ITEMS[0], 3, "c", M, "p", AT)
    with pytest.raises(dr.ReviewRefused, match=f"being peer-reviewed by district {D2}"):
        dr.peer_rate(r, D3, ITEMS[1], 3, "c", M, "p", AT)
    with pytest.raises(dr.ReviewRefused, match="not a whole number from 1 to 4"):
        dr.peer_rate(r, D2, ITEMS[1], 5, "c", M, "p", AT)
    with pytest.raises(dr.ReviewRefused, match="is not an item of the rubric"):
        dr.peer_rate(r, D2, "NOPE", 3, "c", M, "p", AT)


# ---- the command ----------------------------------------------------------------------------
def _cli(capsys, db_url, *args):
    return sqis(capsys, "review", "district", *args, "--year", SERVICE, "--db", db_url)


def test_the_cycle_through_the_command(db_url, capsys):
    s = _store(db_url)
    for i in ITEMS:
        code, out, err = _cli(capsys, db_url, "self-rate", "--district", D1, "--item", i,
                              "--rating", "3", "--narrative", "n", "--evidence", "e")  # fmt: skip
        assert code == 0, err
    assert "its peer review is now DRAFT" in out
    code, out, err = _cli(capsys, db_url, "submit", "--district", D1)
    assert code == 0 and "now SUBMITTED" in out, err
    for n, i in enumerate(ITEMS):
        code, out, err = _cli(capsys, db_url, "peer-rate", "--district", D1, "--peer", D2,
                              "--item", i, "--rating", "2" if n == 1 else "4",
                              "--comments", "c")  # fmt: skip
        assert code == 0, err
    assert "now REVISE" in out
    before = records(s)
    refusals = [
        (["submit", "--district", D1],
         "is REVISE: submit is not allowed (allowed: self-rate, resubmit)"),
        (["peer-rate", "--district", D1, "--peer", D2, "--item", ITEMS[0], "--rating", "3",
          "--comments", "c"], "is REVISE: peer-rate is not allowed"),
        (["submit", "--district", "0999999"], "district 0999999 is not a district"),
        (["resubmit", "--district", D2], "is not started: resubmit is not allowed"),
    ]  # fmt: skip
    for args, message in refusals:
        code, _, err = _cli(capsys, db_url, *args)
        assert code == 1 and message in one_error(err), err
    assert records(s) == before
    code, out, err = _cli(capsys, db_url, "resubmit", "--district", D1)
    assert code == 0 and "now RESUBMITTED" in out, err
    code, _, err = _cli(capsys, db_url, "peer-rate", "--district", D1, "--peer", D1,
                        "--item", ITEMS[0], "--rating", "3", "--comments", "c")  # fmt: skip
    assert code == 1 and f"district {D1} cannot peer-review itself" in one_error(err)
    for i in ITEMS:
        code, out, err = _cli(capsys, db_url, "peer-rate", "--district", D1, "--peer", D3,
                              "--item", i, "--rating", "3", "--comments", "c")  # fmt: skip
    assert code == 0 and "now MEETS" in out
    code, out, _ = _cli(capsys, db_url, "show")
    assert f"{D1}  MEETS  round 2" in out and f"{D2}  not started" in out
    heads = s.read("district_reviews", SERVICE)
    assert heads["status"].tolist() == ["MEETS"]
    items = s.read("district_review_items", SERVICE)
    assert sorted(set(items["round"].tolist())) == [1, 2]
    code, _, err = _cli(capsys, db_url, "self-rate", "--district", D1, "--item", ITEMS[0],
                        "--rating", "4", "--narrative", "n", "--evidence", "e")  # fmt: skip
    assert code == 1 and "is MEETS: self-rate is not allowed (allowed: none" in one_error(err)
    s.dispose()


def test_a_service_year_whose_results_are_not_run_is_refused(db_url, capsys):
    s = _store(db_url)
    code, _, err = sqis(capsys, "review", "district", "submit", "--district", D1,
                        "--year", "2017-18", "--db", db_url)  # fmt: skip
    assert code == 1 and "run the year first" in one_error(err)
    s.dispose()


# ---- the import -----------------------------------------------------------------------------
def _rows(district: str, rating: int = 3, peer: str | None = None, peer_rating: int = 3):
    return [
        {
            "district_code": district,
            "item": i,
            "self_rating": rating,
            "narrative": "what we did",
            "evidence": "minutes, data",
            **(
                {"peer_district_code": peer, "peer_rating": peer_rating, "comments": "ok"}
                if peer
                else {}
            ),
        }
        for i in ITEMS
    ]


def test_import_a_consortium_from_yaml_and_csv(db_url, capsys, tmp_path: Path):
    import pandas as pd

    s = _store(db_url)
    doc = {"ratings": [*_rows(D1, peer=D2, peer_rating=2), *_rows(D2, peer=D3), *_rows(D3)]}
    f = tmp_path / "ratings.yaml"
    f.write_text(yaml.safe_dump(doc))
    code, out, err = sqis(capsys, "review", "district", "import", str(f), "--year", SERVICE,
                          "--db", db_url)  # fmt: skip
    assert code == 0, err
    assert f"{D1} REVISE, {D2} MEETS, {D3} SUBMITTED" in out
    # D1 revises and resubmits from a CSV, D3 is peer-rated in the same file
    rows = [*_rows(D1, rating=4)]
    rows += [{"district_code": D3, "item": i, "peer_district_code": D1, "peer_rating": 4,
              "comments": "fine"} for i in ITEMS]  # fmt: skip
    csv = tmp_path / "round2.csv"
    ints = {"self_rating": "Int64", "peer_rating": "Int64"}
    pd.DataFrame(rows).astype(ints).to_csv(csv, index=False)
    code, out, err = sqis(capsys, "review", "district", "import", str(csv), "--year", SERVICE,
                          "--db", db_url)  # fmt: skip
    assert code == 0, err
    assert f"{D1} RESUBMITTED, {D3} MEETS" in out
    s.dispose()


def test_bad_import_rows_are_listed_and_nothing_is_imported(db_url, capsys, tmp_path: Path):
    import pandas as pd

    s = _store(db_url)
    rows = _rows(D1, peer=D2) + _rows(D2, peer=D2)
    rows[0]["self_rating"] = 7  # row 2
    rows[1]["item"] = "NOT_AN_ITEM"  # row 3
    rows[2]["narrative"] = ""  # row 4
    rows[3]["peer_rating"] = "three"  # row 5
    rows[6]["district_code"] = "0999999"  # row 8
    csv = tmp_path / "bad.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    before = records(s)
    code, _, err = sqis(capsys, "review", "district", "import", str(csv), "--year", SERVICE,
                        "--db", db_url)  # fmt: skip
    assert code == 1
    assert "bad.csv:" in err and "nothing imported" in err
    for expected in (
        "bad.csv row 2, column self_rating (value '7'): rule in_range(1, 4)",
        "bad.csv row 3, column item (value 'NOT_AN_ITEM'): rule isin(",
        "bad.csv row 4, column narrative: rule required_with_self_rating",
        "bad.csv row 5, column peer_rating (value 'three'): rule integer",
        "bad.csv row 8, column district_code (value '0999999'): rule known_district",
        "column peer_district_code (value '0110002'): rule not_own_district",
    ):
        assert expected in err, err
    assert "Traceback" not in err
    assert records(s) == before
    # rows that validate but break the cycle (peer ratings of a review not submitted)
    f = tmp_path / "early.yaml"
    f.write_text(yaml.safe_dump([{"district_code": D3, "item": i, "peer_district_code": D1,
                                  "peer_rating": 3, "comments": "c"} for i in ITEMS]))  # fmt: skip
    code, _, err = sqis(capsys, "review", "district", "import", str(f), "--year", SERVICE,
                        "--db", db_url)  # fmt: skip
    assert code == 1
    assert "peer-rate is not allowed" in one_error(err) and "nothing imported" in err
    assert records(s) == before
    s.dispose()


# ---- the import: rows that say nothing, or say it wrongly, are row-level errors ------------
HEADER = "district_code,item,self_rating,narrative,evidence,peer_district_code,peer_rating,comments"


def _full(district: str, first: str = "3", narrative: str = "what we did") -> str:
    """A CSV self-rating every item of ``district`` (the first item's rating ``first``)."""
    lines = [HEADER]
    for n, i in enumerate(ITEMS):
        lines.append(f"{district},{i},{first if n == 0 else 3},{narrative},minutes,,,")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("name", "text", "expected", "not_expected"),
    [
        # a district not started, rows with no rating at all (was: IntegrityError traceback)
        ("bare.csv", f"district_code,item\n{D3},{ITEMS[0]}\n",
         "bare.csv row 2, column self_rating: rule a_rating_is_required", None),
        ("noself.csv", f"district_code,item,narrative,evidence\n{D3},{ITEMS[0]},n,e\n",
         "noself.csv row 2, column narrative (value 'n'): rule only_with_self_rating", None),
        # a bare row of a review already started (was: accepted, updated_at rewritten)
        ("bare_d1.csv", f"district_code,item\n{D1},{ITEMS[0]}\n",
         "bare_d1.csv row 2, column self_rating: rule a_rating_is_required", None),
        # the peer's code and comments without the peer's rating (was: accepted silently)
        ("peer.csv", f"district_code,item,peer_district_code,comments\n{D1},{ITEMS[0]},{D2},c\n",
         "peer.csv row 2, column comments (value 'c'): rule only_with_peer_rating", None),
        # a header and no row, an empty file (was: accepted, "imported 0 row(s)")
        ("header.csv", HEADER + "\r\n", "header.csv header: rule file:no_rows", None),
        ("empty.csv", "", "empty.csv header: rule file:empty", None),
        ("empty.yaml", "\n", "empty.yaml header: rule file:empty", None),
        ("nolist.yaml", "ratings: []\n", "nolist.yaml header: rule file:no_rows", None),
        # a YAML list or mapping where text belongs (was: stored as Python's repr)
        ("list.yaml", f"- {{district_code: '{D3}', item: {ITEMS[0]}, self_rating: 3, "
         "narrative: [a, b], evidence: e}\n",
         "list.yaml row 1, column narrative (value 'list'): rule value_must_be_text",
         "required_with_self_rating"),
        ("dict.yaml", f"- {{district_code: '{D3}', item: {ITEMS[0]}, self_rating: 3, "
         "narrative: n, evidence: {a: 1}}\n",
         "dict.yaml row 1, column evidence (value 'dict'): rule value_must_be_text", None),
        # white space only is no narrative: the row and column (was: a district-level error)
        ("blank.csv", _full(D3, narrative="  "),
         "blank.csv row 2, column narrative (value '  '): rule required_with_self_rating", None),
        # more fields than the header: the row is an error, its cells never shifted
        ("ragged.csv", f"district_code,item,self_rating\n{D3},{ITEMS[0]},3,x,y\n",
         "ragged.csv row 2: rule fields_match_the_header (row 2 has 5 fields, the header 3)",
         None),
        # too long is its own rule, not "no_control_characters"
        ("long.csv", _full(D3, narrative="x" * 20_001),
         "long.csv row 2, column narrative (value", "no_control_characters"),
        # a rating that does not parse: that error only
        ("half.csv", _full(D3, first="3.5"),
         "half.csv row 2, column self_rating (value '3.5'): rule integer",
         "self_rating_on_every_row"),
        ("word.csv", _full(D3, first="three"),
         "word.csv row 2, column self_rating (value 'three'): rule integer",
         "self_rating_on_every_row"),
    ],
)  # fmt: skip
def test_import_rows_without_a_rating_or_text_are_row_errors(
    db_url, capsys, tmp_path: Path, name, text, expected, not_expected
):
    s = _store(db_url)
    code, _, err = _cli(capsys, db_url, "self-rate", "--district", D1, "--item", ITEMS[0],
                        "--rating", "3", "--narrative", "n", "--evidence", "e")  # fmt: skip
    assert code == 0, err
    before = records(s)
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    code, out, err = sqis(capsys, "review", "district", "import", str(f), "--year", SERVICE,
                          "--db", db_url)  # fmt: skip
    assert code == 1, out
    assert err.startswith(f"error: {name}:") and "nothing imported" in err, err
    assert expected in err, err
    if "long" in name:
        assert "rule max_length(20000)" in err, err
    if not_expected:
        assert not_expected not in err, err
    assert "Traceback" not in err
    assert records(s) == before
    s.dispose()


# ---- the commands' options: the import's text rules, a bad value is exit 2 ------------------
ESC = "\x1b[31m"  # a terminal escape: refused, and never echoed raw
LONG = "x" * 20_001


def _self(*extra: str, district: str = D1, rating: str = "3") -> list[str]:
    return ["review", "district", "self-rate", "--year", SERVICE, "--district", district,
            "--item", ITEMS[0], "--rating", rating, "--narrative", "n", "--evidence", "e",
            *extra]  # fmt: skip


def _peer(*extra: str, rating: str = "3") -> list[str]:
    return ["review", "district", "peer-rate", "--year", SERVICE, "--district", D1,
            "--peer", D2, "--item", ITEMS[0], "--rating", rating, "--comments", "c",
            *extra]  # fmt: skip


def _priority(*extra: str, when: str = "2016-10-20") -> list[str]:
    return ["review", "priority", "--year", YEAR, "--school", "x", "--reviewers", "r",
            "--date", when, "--status", "PLANNED", *extra]  # fmt: skip


def _decide(*extra: str) -> list[str]:
    return ["oversight", "decide", "--year", SERVICE, "--term", "fall", "--district", D1,
            "--decision", "NONE", "--note", "n", *extra]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (_self("--narrative", f"a{ESC}b"), "--narrative holds a control character (rule "
         "no_control_characters)"),
        (_self("--evidence", LONG), "--evidence is 20,001 characters, at most 20,000 (rule "
         "max_length(20000))"),
        (_self("--by", "a\nb"), "--by holds a control character"),
        (_self(district=f"{D1}{ESC}"), "--district holds a control character"),
        (_self(rating="5"), "--rating 5 is not a whole number from 1 to 4"),
        (_self(rating="0"), "--rating 0 is not a whole number from 1 to 4"),
        (_peer("--comments", f"c{ESC}"), "--comments holds a control character"),
        (_peer(rating="5"), "--rating 5 is not a whole number from 1 to 4"),
        (_decide("--note", "\x1b]0;title\x07"), "--note holds a control character"),
        (_decide("--note", LONG), "rule max_length(20000)"),
        (_decide("--by", ESC), "--by holds a control character"),
        (_priority("--leadership", LONG), "--leadership is 20,001 characters"),
        (["review", "priority", "--year", YEAR, "--school", "x", "--reviewers", f"r{ESC}",
          "--date", "2016-10-20", "--status", "PLANNED"], "--reviewers holds a control"),
        (["review", "escalation", "--year", YEAR, "--school", "x", "--step",
          "DISTRICT_ACTION", "--decision", f"d{ESC}", "--date", "2016-09-01"],
         "--decision holds a control character"),
        (_priority(when="２０１６-10-20"), "is not a date of the form YYYY-MM-DD"),
    ],
)  # fmt: skip
def test_command_options_follow_the_import_text_rules(db_url, capsys, args, message):
    s = _store(db_url)
    before = records(s)
    code, out, err = sqis(capsys, *args, "--db", db_url)
    assert code == 2, (out, err)
    assert message in one_error(err)
    assert "\x1b" not in err and "\x07" not in err
    assert records(s) == before
    s.dispose()


def test_show_refuses_an_unknown_district_and_codes_are_stripped(db_url, capsys):
    s = _store(db_url)
    code, out, err = _cli(capsys, db_url, "show", "--district", "0999999")
    assert code == 1 and "district 0999999 is not a district" in one_error(err), out
    code, out, err = sqis(capsys, *_self(district=f" {D1} "), "--db", db_url)
    assert code == 0, err
    code, out, err = _cli(capsys, db_url, "show", "--district", f" {D1}")
    assert code == 0 and f"{D1}  DRAFT  round 1" in out, err
    assert s.read("district_reviews", SERVICE)["district_code"].tolist() == [D1]
    s.dispose()


def test_a_blank_by_falls_back_to_sqis_run_by_then_the_os_user(db_url, capsys, monkeypatch):
    from sqis import settings
    from sqis.settings import reset_settings_cache

    s = _store(db_url)
    monkeypatch.setenv("SQIS_RUN_BY", "review-staff")
    reset_settings_cache()
    try:
        code, _, err = sqis(capsys, *_self("--by", "   "), "--db", db_url)
        assert code == 0, err
        monkeypatch.setenv("SQIS_RUN_BY", "  ")
        monkeypatch.setattr(settings, "_default_user", lambda: "os-user")
        reset_settings_cache()
        code, _, err = sqis(capsys, *_self("--by", " ", district=D2), "--db", db_url)
        assert code == 0, err
        monkeypatch.setattr(settings, "_default_user", lambda: "unknown")
        code, _, err = sqis(capsys, *_self("--by", " ", district=D3), "--db", db_url)
        assert code == 2 and "--by is blank" in one_error(err)
    finally:
        reset_settings_cache()
    by = {r.district_code: r.history[0]["by"] for r in _load(s).values()}
    assert by == {D1: "review-staff", D2: "os-user"}
    s.dispose()


def _load(s):
    from sqis import reviews

    return reviews.load_reviews(s, SERVICE)


# ---- what the reports show ------------------------------------------------------------------
def _row_cells(html: str, table: str) -> list[list[str]]:
    """The body rows' cells (text) of the table with id ``table``."""
    body = html.split(f'<table id="{table}">', 1)[1].split("<tbody>", 1)[1].split("</tbody>")[0]
    rows = [r for r in body.split("</tr>") if "<td" in r]
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", re.sub(r"</?strong>", "", r)) for r in rows]


def test_the_reports_put_each_rating_under_its_rubric_item(db_url):
    """A partly self-rated review: each cell under its own item (rubric order, not the
    rows' alphabetical one), "–" where an item has no rating; both editions' tables."""
    from sqis import reviews
    from sqis.reports import reviews as rr
    from sqis.reports.render import render_template

    s = _store(db_url)
    r = dr.new_review(SERVICE, D1, M)
    rated = {ITEMS[1]: 2, ITEMS[3]: 4}  # not the first items alphabetically
    for item, rating in rated.items():
        r = dr.self_rate(r, item, rating, "n", "e", M, "d", AT)
    reviews.save_reviews(s, {D1: r})
    frames = reviews.oversight_frames(s, SERVICE, "fall")
    schools = s.read("schools", [YEAR])
    des = s.read("designations", [YEAR])
    for public in (False, True):
        section = rr.oversight_section(frames, YEAR, "fall", schools, des, M, public)
        (block,) = section["districts"]
        assert [i["code"] for i in block["ratings"]] == list(ITEMS)
        want = [f"{rated.get(i, '–')} / –" for i in ITEMS]
        assert [f"{i['self']} / {i['peer']}" for i in block["ratings"]] == want
        html = render_template("_reviews_oversight.html", {"reviews": section,
                                                           "report": {"year": YEAR}})  # fmt: skip
        (cells,) = _row_cells(html, "district-reviews")
        assert cells[-len(ITEMS) :] == want
        page = render_template(
            "_district_history.html",
            {"district": {"name": "District 1"},
             "district_history": {"edition": section["edition"], "reviews": [block],
                                  "decisions": [], "rubric": section["rubric"],
                                  "scale": section["scale"]}},
        )  # fmt: skip
        (cells,) = _row_cells(page, "district-history-reviews")
        assert cells[-len(ITEMS) :] == want
    s.dispose()


def test_the_reports_name_the_peer_and_show_the_current_round(db_url):
    """A resubmitted review is in its second round; the peer is named (code in
    parentheses) even on a page that knows only its own district's schools."""
    from sqis import reviews
    from sqis.disclosure import PUBLIC_COLUMNS
    from sqis.reports import reviews as rr

    s = _store(db_url)
    r = dr.submit(_rated(dr.new_review(SERVICE, D1, M)), M, "d", AT)
    for n, i in enumerate(ITEMS):
        r = dr.peer_rate(r, D2, i, 2 if n == 0 else 3, "comments", M, "p", AT)
    r = dr.resubmit(r, M, "d", AT)
    assert (r.status, r.round) == (dr.RESUBMITTED, 2)
    reviews.save_reviews(s, {D1: r})
    rows = reviews.review_frames(s, YEAR, district=D1)["district_reviews"]
    own_page = {D1: "District 1"}  # the district page's own schools only
    (block,) = rr.district_review_blocks(rows, own_page, M, staff=True)
    assert block["peer"] == f"District 2 ({D2})"
    assert block["round"] == "2" and block["rated_round"] == "1"
    public_rows = rows[[c for c in PUBLIC_COLUMNS["district_reviews"] if c in rows]]
    (block,) = rr.district_review_blocks(public_rows, own_page, M, staff=False)
    assert block["peer"] == f"District 2 ({D2})" and block["round"] == "2"
    s.dispose()
