"""The Oversight Panel's decisions (METHODOLOGY.md "Oversight Panel", "District peer
review"): `sqis oversight decide` only for a meeting held and a district of the results it
reviewed, once per meeting and district, with who and when; the decision in the NEXT
Oversight report ("the Panel's earlier decisions", both editions, the note staff only) and
in the district's history on its page; the Priority peer reviews and the districts' peer
review in the report. On SQLite and PostgreSQL, through the real command; `sqis oversight`
alone still writes a meeting's report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sqis import oversight, pipeline, report_reads, reviews, year_outputs
from sqis.methodology import for_year
from sqis.settings import reset_settings_cache
from sqis.store import ResultsStore
from sqis.years import SchoolYear
from tests.review_fixtures import D1, D2, SERVICE, YEAR, one_error, records, sqis
from tests.review_fixtures import store_with_results as _store

NOTE = "literacy coaching from the county office; report back in spring"


def _decide(capsys, db_url, *extra, district=D1, term="fall", out=None):
    args = ["oversight", "decide", "--year", SERVICE, "--term", term, "--district", district,
            "--decision", "ADDITIONAL_SUPPORT", "--note", NOTE, "--db", db_url]  # fmt: skip
    if out:
        args += ["--out", str(out)]
    return sqis(capsys, *args, *extra)


def test_decisions_only_for_a_meeting_held_and_a_known_district(db_url, capsys, tmp_path):
    s = _store(db_url)
    m = for_year(YEAR)
    before = records(s)
    code, _, err = _decide(capsys, db_url, out=tmp_path / "out")
    assert code == 1
    assert "the fall 2016-17 Oversight Panel meeting has not been held" in one_error(err)
    assert records(s) == before
    assert reviews.record_meeting(s, SERVICE, "fall", m) is True
    assert reviews.record_meeting(s, SERVICE, "fall", m) is False  # held once
    before = records(s)
    for district, why in [("0999999", "district 0999999 is not a district of the 2015-16")]:
        code, _, err = _decide(capsys, db_url, district=district)
        assert code == 1 and why in one_error(err)
    code, _, err = _decide(capsys, db_url, term="spring")
    assert code == 1 and "spring 2016-17 Oversight Panel meeting has not been held" in err
    code, _, err = sqis(capsys, "oversight", "decide", "--year", SERVICE, "--term", "fall",
                        "--district", D1, "--decision", "CLOSE", "--note", "x",
                        "--db", db_url)  # fmt: skip
    assert code == 2 and "'CLOSE' is not one of" in err
    assert records(s) == before
    code, out, err = _decide(capsys, db_url, "--by", "Panel chair")
    assert code == 0, err
    assert f"decision on district {D1} recorded (ADDITIONAL_SUPPORT, by Panel chair)" in out
    row = s.read("oversight_decisions", SERVICE).iloc[0]
    assert (row["term"], row["district_code"], row["decision"], row["note"]) == (
        "fall",
        D1,
        "ADDITIONAL_SUPPORT",
        NOTE,
    )
    assert row["decided_by"] == "Panel chair" and pd.notna(row["recorded_at"])
    before = records(s)
    code, _, err = _decide(capsys, db_url)
    assert code == 1 and "is recorded already (ADDITIONAL_SUPPORT, by Panel chair)" in err
    assert records(s) == before
    # --by defaults to SQIS_RUN_BY (else the OS user)
    import os

    os.environ["SQIS_RUN_BY"] = "oversight-staff"
    reset_settings_cache()
    try:
        code, out, err = _decide(capsys, db_url, district=D2)
    finally:
        os.environ.pop("SQIS_RUN_BY")
        reset_settings_cache()
    assert code == 0 and "by oversight-staff" in out, err
    s.dispose()


REPORT_KEY = f"reports/oversight-{SERVICE}-fall.html"


def test_a_meeting_reported_before_the_store_noted_meetings_is_held(db_url, capsys, tmp_path):
    """A report already in the results year's publication (manifest) of THIS store counts
    as held."""
    from sqis import publish as pub

    s = _store(db_url)
    out = tmp_path / "out"
    store_id = s.claim("test")["store_id"]
    pub.publish_year(YEAR, {REPORT_KEY: b"<html></html>"}, str(out), store_id=store_id)
    code, _, err = _decide(capsys, db_url, out=out)
    assert code == 0, err
    s.dispose()


def _manifest(out: Path) -> Path:
    return out / YEAR / "manifest.json"


def _other_store(path: Path) -> None:
    doc = json.loads(path.read_text())
    doc["store_id"] = "00000000-0000-0000-0000-000000000000"
    path.write_text(json.dumps(doc))


def _no_store(path: Path) -> None:
    doc = json.loads(path.read_text())
    doc.pop("store_id")
    path.write_text(json.dumps(doc))


def _report_gone(path: Path) -> None:
    (path.parent / REPORT_KEY).unlink()


def _report_altered(path: Path) -> None:
    (path.parent / REPORT_KEY).write_bytes(b"<html>not the report the manifest lists</html>")


def _not_json(path: Path) -> None:
    path.write_text("{not json")


def _fields_missing(path: Path) -> None:
    path.write_text(json.dumps({"files": [{"key": REPORT_KEY}]}))


def _files_not_a_list(path: Path) -> None:
    path.write_text(json.dumps({"year": YEAR, "run_id": "x", "created": "x", "out_root": "x",
                                "files": 7}))  # fmt: skip


@pytest.mark.parametrize(
    "tamper",
    [_other_store, _no_store, _report_gone, _report_altered, _not_json, _fields_missing,
     _files_not_a_list],
)  # fmt: skip
def test_a_manifest_not_of_this_store_or_not_whole_holds_no_meeting(
    db_url, capsys, tmp_path, tamper
):
    """The fallback to a publication is only for this store's own, intact report: a
    manifest of another store (or none), a report missing or altered, or a manifest that
    cannot be read is one refusal line, exit 1, nothing recorded."""
    from sqis import publish as pub

    s = _store(db_url)
    out = tmp_path / "out"
    store_id = s.claim("test")["store_id"]
    pub.publish_year(YEAR, {REPORT_KEY: b"<html></html>"}, str(out), store_id=store_id)
    tamper(_manifest(out))
    before = records(s)
    code, _, err = _decide(capsys, db_url, out=out)
    assert code == 1, err
    assert "the fall 2016-17 Oversight Panel meeting has not been held" in one_error(err)
    assert records(s) == before
    s.dispose()


def test_the_oversight_command_keeps_its_invocation(capsys):
    code, out, err = sqis(capsys, "oversight", "--help")
    assert code == 0 and "decide" in out and "--term" in out
    code, out, err = sqis(capsys, "oversight", "decide", "--help")
    assert code == 0 and "--decision" in out and "--note" in out


# ---- end to end: a generated year, the reports ----------------------------------------------
@pytest.fixture
def year_run(db_url, tmp_path, monkeypatch):
    from tests.consortium import KEY, run_config

    monkeypatch.setenv("SQIS_PSEUDONYM_KEY", KEY)
    reset_settings_cache()
    cfg = run_config(tmp_path, db_url=db_url)
    pipeline.run_year(YEAR, cfg)
    store = ResultsStore(db_url)
    yield cfg, store
    store.dispose()


def _html(files: dict[str, bytes]) -> str:
    (key,) = [k for k in files if k.endswith(".html")]
    return files[key].decode("utf-8")


def test_the_next_report_shows_the_decision_and_the_records(year_run, capsys, tmp_path: Path):
    cfg, store = year_run
    db = cfg.db_url
    m = for_year(YEAR)
    schools = store.read("schools", [YEAR])
    districts = sorted(set(schools["district_code"]))
    des = store.read("designations", [YEAR])
    peer = des.loc[des["escalation"] == "PEER_REVIEW", "school_code"].tolist()
    assert peer, "the small consortium has a PEER_REVIEW school"
    # the fall meeting is held: its report, then (as the flow does) the meeting noted
    fall = _html(oversight.oversight(SERVICE, "fall", store, m))
    assert "Not recorded yet" in fall and "The Panel has recorded no decision" in fall
    reviews.record_meeting(store, SERVICE, "fall", m)
    # the records: a Priority peer review, the districts' peer review (one asked to revise)
    code, _, err = sqis(capsys, "review", "priority", "--year", YEAR, "--school", peer[0],
                        "--reviewers", "R. Ortiz, K. Lee", "--date", "2016-10-20",
                        "--status", "COMPLETED", "--leadership", "LEADERSHIP-FINDING",
                        "--strengths", "attendance work", "--improvement", "math, grades 3-5",
                        "--db", db)  # fmt: skip
    assert code == 0, err
    a, b = districts
    items = m.district_review.item_codes()
    rows = [{"district_code": d, "item": i, "self_rating": 3, "narrative": "NARRATIVE-TEXT",
             "evidence": "minutes", "peer_district_code": p, "peer_rating": 2 if d == a else 3,
             "comments": "PEER-COMMENT"}
            for d, p in ((a, b), (b, a)) for i in items]  # fmt: skip
    f = tmp_path / "ratings.yaml"
    f.write_text(yaml.safe_dump(rows))
    code, out, err = sqis(capsys, "review", "district", "import", str(f), "--year", SERVICE,
                          "--db", db)  # fmt: skip
    assert code == 0 and f"{a} REVISE, {b} MEETS" in out, err
    code, _, err = sqis(capsys, "oversight", "decide", "--year", SERVICE, "--term", "fall",
                        "--district", a, "--decision", "INTERVENTION", "--note", NOTE,
                        "--by", "Panel chair", "--db", db)  # fmt: skip
    assert code == 0, err
    # the spring report: the fall decision among the Panel's earlier decisions
    spring = _html(oversight.oversight(SERVICE, "spring", store, m))
    assert (
        "The Panel&#39;s earlier decisions" in spring or "The Panel's earlier decisions" in spring
    )
    assert "Intervention" in spring and NOTE in spring and "Panel chair" in spring
    assert "Fall 2016-17" in spring
    assert "LEADERSHIP-FINDING" in spring and "R. Ortiz, K. Lee" in spring
    assert "Asked to revise and resubmit" in spring and "Meets the rubric" in spring
    assert "PEER-COMMENT" in spring
    # the public edition: the decision and the statuses, not the note, findings or comments
    public = _html(oversight.public_oversight(SERVICE, "spring", store, m))
    assert "Intervention" in public and "Asked to revise and resubmit" in public
    for staff_only in (NOTE, "Panel chair", "LEADERSHIP-FINDING", "PEER-COMMENT", "NARRATIVE"):
        assert staff_only not in public, staff_only
    # the fall report itself (re-rendered) has no decision of its own meeting
    again = _html(oversight.oversight(SERVICE, "fall", store, m))
    assert NOTE not in again and "LEADERSHIP-FINDING" in again
    # the district's page: its history (the year's reports rendered again from the store)
    frames = report_reads.report_frames(store, SchoolYear(YEAR), m=m)
    files = year_outputs.reports(frames, m, pdf="none")
    page = files[f"reports/districts/{a}.html"].decode()
    assert "History: peer review and the Oversight Panel" in page
    assert "Intervention" in page and NOTE in page and "Asked to revise and resubmit" in page
    school = files[f"reports/schools/{peer[0]}.html"].decode()  # its data report (staff)
    assert "Priority peer review, 2016-17 (2015-16 results)" in school
    assert "LEADERSHIP-FINDING" in school and "R. Ortiz, K. Lee" in school
    # a re-run of the results year keeps every record
    kept = records(store)
    pipeline.run_year(YEAR, cfg)
    assert records(store) == kept
    # ... and the run's own publication shows them: the staff pages, the public page's history
    out = Path(cfg.out_root) / YEAR / "reports"
    assert "LEADERSHIP-FINDING" in (out / "schools" / f"{peer[0]}.html").read_text()
    assert NOTE in (out / "districts" / f"{a}.html").read_text()
    # the peer by name on the district's page, rendered with its own schools only
    name_b = str(schools.loc[schools["district_code"] == b, "district_name"].iloc[0])
    assert f"{name_b} ({b})" in (out / "districts" / f"{a}.html").read_text()
    public_page = Path(cfg.out_root) / "public" / YEAR / "reports" / "districts" / f"{a}.html"
    text = public_page.read_text()
    assert "Intervention" in text and NOTE not in text and "PEER-COMMENT" not in text
