"""Checkpoints: interim indicators, the comparison and off-track flag, plan flags, briefs,
and the interim file layouts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from schemas.interim import InterimError, read_csv_text, validate_interim
from sqis.checkpoints.markdown import brief_markdown
from sqis.checkpoints.rules import (
    CheckpointError,
    checkpoint_flags,
    compare_to_identification,
    identification_year,
    interim_indicators,
)
from sqis.checkpoints.run import run_checkpoint
from sqis.methodology import for_year
from sqis.reports.checkpoint_briefs import render_brief

M = for_year("2015-16")
A, B = "01611190000001", "01611190000002"
AT = datetime(2016, 1, 15, 17, 0, tzinfo=UTC)


def _sid(i: int) -> str:
    return f"p{i:05d}"  # stands for a pseudonym


def _attendance(
    school: str, chronic: int, fine: int, short: int = 0, start: int = 0
) -> pd.DataFrame:
    """``chronic`` students absent 10 of 50 days, ``fine`` absent 1 of 50, ``short`` enrolled
    20 days (under the 31-day rule, so not counted)."""
    n = chronic + fine + short
    return pd.DataFrame(
        {
            "student_id": [_sid(i) for i in range(n)],
            "school_code": school,
            "days_enrolled": [50] * (chronic + fine) + [20] * short,
            "days_absent": [10] * chronic + [1] * fine + [15] * short,
        }
    )


def _tests(school: str, subject: str, met: int, not_met: int, start: int = 0) -> pd.DataFrame:
    n = met + not_met
    return pd.DataFrame(
        {
            "student_id": [_sid(start + i) for i in range(n)],
            "school_code": school,
            "subject": subject,
            "performance_level": [3, 4] * (met // 2)
            + [3] * (met % 2)
            + [1, 2] * (not_met // 2)
            + [2] * (not_met % 2),
        }
    )


def _ind(rows: list[tuple[str, str, str, float, float]]) -> pd.DataFrame:
    """(school, group, indicator, numerator, denominator) → an indicators frame."""
    f = pd.DataFrame(
        rows, columns=["school_code", "student_group", "indicator", "numerator", "denominator"]
    )
    f["value"] = 100 * f["numerator"] / f["denominator"]
    f["meets_nsize"] = f["denominator"] >= 20
    return f


# ---- interim indicators ------------------------------------------------------------------
def test_chronic_so_far_uses_the_31_day_rule_and_the_10_percent_share():
    att = _attendance(A, chronic=6, fine=18, short=5)
    out = interim_indicators(att, None, None, M)
    (row,) = out.itertuples()
    assert (row.school_code, row.student_group, row.indicator) == (A, "ALL", "CHRONIC")
    # 6 of the 24 enrolled 31+ days were absent on at least 10% of days (10 of 50)
    assert (row.numerator, row.denominator, row.value, row.meets_nsize) == (6, 24, 25.0, True)


def test_met_so_far_is_level_3_or_4_per_subject_and_per_group():
    tests = pd.concat([_tests(A, "ELA", met=5, not_met=15), _tests(A, "MATH", met=2, not_met=2)])
    groups = pd.DataFrame(
        {
            "student_id": [_sid(i) for i in (0, 1, 2, 19)],
            "student_group": ["SWD", "SWD", "EL", "SWD"],
        }
    )
    out = interim_indicators(None, tests, groups, M).set_index(["indicator", "student_group"])
    assert out.loc[("ELA_MET", "ALL"), "value"] == 25.0  # 5 of 20
    assert out.loc[("MATH_MET", "ALL"), "value"] == 50.0  # 2 of 4
    assert bool(out.loc[("MATH_MET", "ALL"), "meets_nsize"]) is False
    # SWD students 0, 1 (met) and 19 (not met) took ELA; 0 and 1 took MATH, both met
    assert out.loc[("ELA_MET", "SWD"), ["numerator", "denominator"]].tolist() == [2, 3]
    assert out.loc[("MATH_MET", "SWD"), "value"] == 100.0
    assert out.loc[("ELA_MET", "EL"), ["numerator", "denominator"]].tolist() == [1, 1]


def test_nothing_delivered_gives_an_empty_frame():
    out = interim_indicators(None, None, None, M)
    assert out.empty and "meets_nsize" in out.columns


# ---- comparison --------------------------------------------------------------------------
def _focus() -> pd.DataFrame:
    return pd.DataFrame(
        {"school_code": [A, B], "designation": ["FOCUS", "FOCUS"], "reason_group": ["SWD", "EL"]}
    )


def test_off_track_when_worse_by_more_than_the_tolerance_in_the_bad_direction():
    ident = _ind(
        [
            (A, "ALL", "CHRONIC", 20, 100),  # 20%
            (A, "SWD", "ELA_MET", 30, 100),  # 30%
            (A, "ALL", "ELA_MET", 40, 100),  # 40%
        ]
    )
    interim = _ind(
        [
            (A, "ALL", "CHRONIC", 23, 100),  # 23%: 3 points worse (up) → off track
            (A, "SWD", "ELA_MET", 29, 100),  # 29%: 1 point worse → within 2 points
            (A, "ALL", "ELA_MET", 30, 100),  # 30%: 10 points worse → off track
        ]
    )
    out = compare_to_identification(interim, ident, _focus().iloc[:1], M)
    got = out.set_index(["student_group", "indicator"])
    assert bool(got.loc[("ALL", "CHRONIC"), "off_track"]) is True
    assert got.loc[("ALL", "CHRONIC"), "worse_by"] == pytest.approx(3.0)
    assert bool(got.loc[("SWD", "ELA_MET"), "off_track"]) is False
    assert got.loc[("SWD", "ELA_MET"), "change"] == pytest.approx(-1.0)
    assert bool(got.loc[("ALL", "ELA_MET"), "off_track"]) is True
    # ALL and the reason group only, for each interim indicator
    assert set(out["student_group"]) == {"ALL", "SWD"} and len(out) == 6


def test_improvement_and_small_groups_are_not_off_track():
    ident = _ind([(A, "ALL", "CHRONIC", 30, 100), (A, "SWD", "CHRONIC", 2, 25)])
    interim = _ind([(A, "ALL", "CHRONIC", 10, 100), (A, "SWD", "CHRONIC", 9, 10)])
    got = compare_to_identification(interim, ident, _focus().iloc[:1], M).set_index(
        ["student_group", "indicator"]
    )
    assert bool(got.loc[("ALL", "CHRONIC"), "off_track"]) is False  # 20 points better
    # SWD: 90% so far vs 8% — far worse, but 10 students so far do not meet the n-size of 20
    assert bool(got.loc[("SWD", "CHRONIC"), "off_track"]) is False


def test_identification_year_from_years_in_status():
    assert identification_year("2016-17", 1) == "2016-17"
    assert identification_year("2016-17", 2) == "2015-16"
    ident = pd.concat(
        [
            _ind([(A, "ALL", "ELA_MET", 50, 100)]).assign(year="2015-16"),
            _ind([(A, "ALL", "ELA_MET", 30, 100)]).assign(year="2016-17"),
        ]
    )
    interim = _ind([(A, "ALL", "ELA_MET", 40, 100)])
    des = _focus().iloc[:1].assign(years_in_status=2)
    got = compare_to_identification(interim, ident, des, M, year="2016-17")
    row = got[(got["student_group"] == "ALL") & (got["indicator"] == "ELA_MET")].iloc[0]
    assert row["identification_year"] == "2015-16" and row["identification_value"] == 50.0
    assert bool(row["off_track"]) is True  # 40% now against 50% when identified


# ---- plan flags --------------------------------------------------------------------------
def test_plan_not_approved_is_flagged_at_checkpoint_2_and_not_at_1():
    plans = pd.DataFrame(
        {"school_code": [A, B, "01611190000003"], "status": ["SUBMITTED", "APPROVED", None]}
    )
    one = checkpoint_flags(plans, 1, M).set_index("school_code")
    two = checkpoint_flags(plans, 2, M).set_index("school_code")
    assert not one["plan_not_approved"].any()
    assert two["plan_not_approved"].to_dict() == {A: True, B: False, "01611190000003": True}
    assert two.loc["01611190000003", "plan_status"] == "DRAFT"
    assert checkpoint_flags(plans, 4, M)["plan_not_approved"].sum() == 2


# ---- the checkpoint and its brief --------------------------------------------------------
def _communities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "community_id": ["2015-16-SWD-MS-1", "2015-16-SWD-MS-1"],
            "school_code": [A, B],
            "reason_group": ["SWD", "SWD"],
            "school_type": ["MS", "MS"],
        }
    )


SCHOOLS = pd.DataFrame(
    {
        "school_code": [A, B],
        "school_name": ["<script>alert(1)</script> Middle", "O'Brien & Sons Academy"],
        "district_name": ["Fresno Unified", "Long Beach Unified"],
    }
)


def test_run_checkpoint_records_rows_with_plan_flags_attendance_and_interim():
    plans = pd.DataFrame({"school_code": [A, B], "status": ["APPROVED", "SUBMITTED"]})
    ident = _ind([(A, "ALL", "CHRONIC", 10, 100), (B, "ALL", "CHRONIC", 10, 100)])
    interim = _ind([(A, "ALL", "CHRONIC", 11, 100), (B, "ALL", "CHRONIC", 20, 100)])
    part = pd.DataFrame(
        {"school_code": [A, B], "attended": ["Y", "N"], "attendees": ["Principal", ""]}
    )
    res = run_checkpoint(
        "2015-16",
        2,
        _communities(),
        plans,
        interim,
        ident,
        M,
        schools=SCHOOLS,
        participation=part,
        held_at=AT,
    )
    assert res.date == date(2016, 1, 15)
    rows = res.rows.set_index("school_code")
    assert set(rows["status"]) == {"HELD"} and set(rows["date"]) == {date(2016, 1, 15)}
    assert rows.loc[A, "flags"] == []
    assert rows.loc[B, "flags"] == ["PLAN_NOT_APPROVED", "ABSENT", "OFF_TRACK:ALL:CHRONIC"]
    assert rows.loc[A, "attendees"] == "Principal" and pd.isna(rows.loc[B, "attendees"])
    assert rows.loc[B, "interim"]["CHRONIC"]["ALL"]["value"] == 20
    assert rows.loc[B, "interim"]["CHRONIC"]["ALL"]["identification_value"] == 10
    assert list(res.briefs) == ["2015-16-SWD-MS-1"]
    md = brief_markdown(res)
    assert "| 2015-16-SWD-MS-1 | 2 | 1 | 1 | 1 | 1 |" in md


def test_unknown_checkpoint_number_is_refused():
    with pytest.raises(CheckpointError, match="checkpoint 5 is not one of the checkpoints"):
        run_checkpoint(
            "2015-16",
            5,
            _communities(),
            _communities()[["school_code"]].assign(status="DRAFT"),
            None,
            None,
            M,
        )


def test_brief_escapes_school_names_and_is_accessible():
    plans = pd.DataFrame({"school_code": [A], "status": ["DRAFT"]})
    interim = _ind([(A, "ALL", "CHRONIC", 30, 100), (A, "SWD", "CHRONIC", 5, 25)])
    ident = _ind([(A, "ALL", "CHRONIC", 10, 100), (A, "SWD", "CHRONIC", 12, 30)])
    res = run_checkpoint(
        "2015-16", 2, _communities(), plans, interim, ident, M, schools=SCHOOLS, held_at=AT
    )
    html = render_brief(res.briefs["2015-16-SWD-MS-1"])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Middle" in html
    assert "O&#39;Brien &amp; Sons Academy" in html
    assert '<html lang="en">' in html
    assert html.count("<caption>") == 2 and '<th scope="col">' in html
    assert "plan not approved" in html
    # a brief is a staff document (issue 18): SWD's 5 of 25 so far is shown as it is
    assert "20.0%" in html and "30.0%" in html


def test_brief_without_interim_data_says_so():
    plans = pd.DataFrame({"school_code": [A, B], "status": ["APPROVED", "APPROVED"]})
    res = run_checkpoint("2015-16", 1, _communities(), plans, None, None, M, held_at=AT)
    html = render_brief(res.briefs["2015-16-SWD-MS-1"])
    assert "No interim data was delivered" in html
    assert res.rows["flags"].map(len).sum() == 0


# ---- interim file layouts ----------------------------------------------------------------
HEADER = b"student_id,school_code,days_enrolled,days_absent\n"


def test_valid_attendance_file_types_columns():
    raw = read_csv_text(HEADER + b"1234567890,01611190000001,40,3\n", "attendance")
    f = validate_interim("attendance", raw)
    assert f["days_enrolled"].tolist() == [40] and str(f["days_absent"].dtype) == "int64"


def test_bad_interim_rows_name_file_row_column_and_rule_without_the_student_id():
    raw = read_csv_text(
        HEADER
        + b"1234567890,01611190000001,40,3\n"
        + b"98765,01611190000001,x,3\n"
        + b"5555566666,01611190000001,20,30\n",
        "attendance",
    )
    with pytest.raises(InterimError) as e:
        validate_interim("attendance", raw)
    msg = str(e.value)
    errors = e.value.errors.set_index(["row", "column"])
    assert errors.loc[(3, "days_enrolled"), "rule"] == "integer"
    assert errors.loc[(3, "student_id"), "rule"].startswith("str_matches")
    assert errors.loc[(4, "days_absent"), "rule"] == "days_absent_le_days_enrolled"
    assert len(errors) == 3
    assert "attendance.csv row 3, column days_enrolled: value 'x' breaks rule integer" in msg
    assert "98765" not in msg and "5555566666" not in msg


def test_interim_assessments_subject_level_and_extra_columns():
    raw = read_csv_text(
        b"student_id,school_code,subject,performance_level\n1234567890,01611190000001,SCI,5\n",
        "interim_assessments",
    )
    with pytest.raises(InterimError) as e:
        validate_interim("interim_assessments", raw)
    assert "row 2, column subject: value 'SCI' breaks rule isin(['ELA', 'MATH'])" in str(e.value)
    assert "row 2, column performance_level: value '5'" in str(e.value)
    extra = read_csv_text(
        b"student_id,school_code,subject,performance_level,name\n1234567890,01611190000001,ELA,3,x\n",
        "interim_assessments",
    )
    with pytest.raises(InterimError, match="header, column name breaks rule column_unexpected"):
        validate_interim("interim_assessments", extra)


def test_participation_file_flags_and_free_text():
    raw = read_csv_text(
        b"school_code,attended,attendees\n01611190000001,Y,Principal & coach\n01611190000002,N,\n",
        "participation",
    )
    f = validate_interim("participation", raw)
    assert f["attended"].tolist() == [True, False]
    assert f["attendees"].tolist() == ["Principal & coach", ""]
    bad = read_csv_text(b"school_code,attended,attendees\n01611190000001,yes,\n", "participation")
    with pytest.raises(InterimError, match="column attended: value 'yes'"):
        validate_interim("participation", bad)


# ---- `sqis checkpoint` end to end: results store, interim files, briefs ------------------
def _seed_store(url: str):  # noqa: ANN202
    from sqis import plans as pl
    from sqis.store import ResultsStore

    store = ResultsStore(url)
    store.upgrade()
    store.write_schools(
        "2015-16",
        pd.DataFrame(
            {
                "school_code": [A, B],
                "district_code": ["0161119", "0161119"],
                "school_name": ["<script>x</script> Middle", "O'Brien & Sons Academy"],
                "district_name": ["Fresno Unified", "Fresno Unified"],
                "school_type": ["MS", "MS"],
                "title_i": [True, True],
                "low_grade": [6, 6],
                "high_grade": [8, 8],
            }
        ),
    )
    run = store.start_run("2015-16", M.version, M.checksum, {}, "test")
    des = pd.DataFrame(
        {
            "school_code": [A, B],
            "designation": ["FOCUS", "FOCUS"],
            "reason_group": ["SWD", "SWD"],
            "reason_indicator": ["ELA_MET", "ELA_MET"],
            "years_in_status": [1, 1],
            "escalation": ["NONE", "NONE"],
            "exited": [False, False],
        }
    )
    ident = _ind(
        [
            (A, "ALL", "CHRONIC", 10, 100),  # 10% at identification
            (B, "ALL", "CHRONIC", 20, 100),  # 20%
            (A, "SWD", "CHRONIC", 12, 40),
        ]
    )
    store.replace_year(
        run,
        "2015-16",
        {"designations": des, "indicators": ident, "communities": _communities()},
    )
    store.finish_run(run, "SUCCEEDED")
    # the 2015-16 results start the plans of service year 2016-17
    store.ensure_plans("2016-17", [A, B], pl.plan_deadline("2016-17", M))
    store.plan_submit(A, "2016-17", "Principal")
    store.plan_approve(A, "2016-17", "Superintendent")
    return store


def _interim_root(tmp_path) -> str:  # noqa: ANN001
    root = tmp_path / "data"
    folder = root / "2016-17" / "interim" / "checkpoint-2"  # the service year's interim data
    folder.mkdir(parents=True)
    # school A: 3 of 30 chronically absent (10%: on track); school B: 12 of 30 (40%: off track)
    lines = ["student_id,school_code,days_enrolled,days_absent"]
    for i in range(30):
        lines.append(f"{1000000000 + i},{A},80,{8 if i < 3 else 0}")
        lines.append(f"{2000000000 + i},{B},80,{9 if i < 12 else 1}")
    (folder / "attendance.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "participation.csv").write_text(
        f"school_code,attended,attendees\n{A},Y,Principal and ELD coach\n{B},Y,Principal\n",
        encoding="utf-8",
    )
    return str(root)


def test_checkpoint_command_records_rows_and_writes_briefs(db_url, tmp_path):  # noqa: ANN001
    from typer.testing import CliRunner

    from sqis_cli import app

    store = _seed_store(db_url)
    out = tmp_path / "out"
    res = CliRunner().invoke(
        app,
        [
            "checkpoint", "--year", "2016-17", "--number", "2", "--data", _interim_root(tmp_path),
            "--out", str(out), "--db", db_url, "--absent", B,
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "1000000000" not in res.output
    assert "communities formed from the 2015-16 results" in res.output
    rows = store.read("checkpoints", "2016-17").set_index("school_code")
    assert set(rows["date"].astype(str)) == {"2017-01-15"}
    assert set(rows["status"]) == {"HELD"} and set(rows["number"]) == {2}
    assert rows.loc[A, "plan_status"] == "APPROVED" and rows.loc[B, "plan_status"] == "DRAFT"
    assert list(rows.loc[A, "flags"]) == []
    assert list(rows.loc[B, "flags"]) == ["PLAN_NOT_APPROVED", "ABSENT", "OFF_TRACK:ALL:CHRONIC"]
    assert rows.loc[A, "attendees"] == "Principal and ELD coach"
    assert rows.loc[B, "interim"]["CHRONIC"]["ALL"]["value"] == 40
    # filed under the results year, in its publication's manifest
    key = "checkpoints/2016-17-checkpoint-2/2015-16-SWD-MS-1.html"
    brief = (out / "2015-16" / key).read_text()
    manifest = json.loads((out / "2015-16" / "manifest.json").read_text())
    assert key in {f["key"] for f in manifest["files"]}
    assert "2015-16 results · service year 2016-17" in brief and "January 15, 2017" in brief
    assert "O&#39;Brien &amp; Sons Academy" in brief and "<script>x" not in brief
    assert "40.0%" in brief and "1000000000" not in brief
    store.dispose()


def test_checkpoint_command_refuses_a_year_without_communities(tmp_path):  # noqa: ANN001
    from typer.testing import CliRunner

    from sqis.store import ResultsStore
    from sqis_cli import app

    url = f"sqlite:///{tmp_path / 'r.db'}"
    ResultsStore(url).upgrade()
    res = CliRunner().invoke(app, ["checkpoint", "--year", "2016-17", "--number", "1", "--db", url])
    assert res.exit_code == 1
    assert "communities formed from the 2015-16 results" in res.output
    assert "run the year first (`sqis run --data <root> --year 2015-16`)" in res.output
    # a date to run as: 1 December 2016 → checkpoint 1 of 2016-17, refused the same way
    res = CliRunner().invoke(app, ["checkpoint", "--date", "2016-12-01", "--db", url])
    assert res.exit_code == 1 and "checkpoint 1 of 2016-17" in res.output


def test_groups_for_interim_data_come_from_the_latest_ingested_year(monkeypatch):
    from sqis import ingest
    from sqis.checkpoints.io import _latest_groups
    from sqis.yeardata import YearData

    students = pd.DataFrame(
        {
            "student_id": [_sid(0), _sid(1)],
            "school_code": A,
            "race_ethnicity": ["HI", "NR"],
            "el_status": ["EL", "EO"],
            "swd": [True, False],
            "sed": [False, False],
            "foster": [False, False],
            "homeless": [False, False],
        }
    )
    asked: list[str] = []

    def load_year(year: str, store_root: str | None = None) -> YearData:
        asked.append(year)
        if year == "2015-16":  # the year under way is not delivered until it ends
            raise ingest.NotIngested(f"{year} not ingested")
        empty = pd.DataFrame()
        return YearData(year, empty, students, empty, empty, empty, empty)

    monkeypatch.setattr(ingest, "load_year", load_year)
    g = _latest_groups("2015-16", M, None)
    assert asked == ["2015-16", "2014-15"]
    got = set(zip(g["student_id"], g["student_group"], strict=True))
    assert got == {
        (_sid(0), "ALL"), (_sid(0), "HI"), (_sid(0), "EL"), (_sid(0), "SWD"), (_sid(1), "ALL"),
    }  # fmt: skip


def test_brief_is_well_formed_html5():
    import html5lib

    plans = pd.DataFrame({"school_code": [A, B], "status": ["APPROVED", "DRAFT"]})
    interim = _ind([(A, "ALL", "CHRONIC", 30, 100)])
    ident = _ind([(A, "ALL", "CHRONIC", 20, 100)])
    res = run_checkpoint(
        "2015-16", 3, _communities(), plans, interim, ident, M, schools=SCHOOLS, held_at=AT
    )
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    doc = parser.parse(render_brief(res.briefs["2015-16-SWD-MS-1"]))
    assert doc.get("lang") == "en"
    tables = doc.findall(".//table")
    assert len(tables) == 2 and all(t.find("caption") is not None for t in tables)
    assert all(th.get("scope") in ("col", "row") for th in doc.iter("th"))


def test_methodology_refuses_unknown_interim_indicators_and_time_zones():
    with pytest.raises(ValueError, match="unknown interim indicators"):
        M.communities.model_validate(
            {**M.communities.model_dump(), "interim_indicators": ["NOT_AN_INDICATOR"]}
        )
    with pytest.raises(ValueError, match="unknown time zone"):
        M.communities.model_validate({**M.communities.model_dump(), "timezone": "Mars/Base"})


def test_a_student_at_two_schools_counts_in_each_schools_groups():
    att = pd.DataFrame(
        {
            "student_id": [_sid(1), _sid(1), _sid(2)],
            "school_code": [A, B, B],
            "days_enrolled": [40, 40, 40],
            "days_absent": [4, 0, 0],  # 10% at A: chronic there; not at B
        }
    )
    groups = pd.DataFrame({"student_id": [_sid(1), _sid(1)], "student_group": ["SWD", "ALL"]})
    out = interim_indicators(att, None, groups, M).set_index(["school_code", "student_group"])
    assert out.loc[(A, "SWD"), ["numerator", "denominator"]].tolist() == [1, 1]
    assert out.loc[(B, "SWD"), ["numerator", "denominator"]].tolist() == [0, 1]
    assert out.loc[(B, "ALL"), ["numerator", "denominator"]].tolist() == [0, 2]
    assert len(out) == 4  # ALL and SWD at each school; no duplicate ALL rows


def test_brief_shows_an_off_track_flag_computed_from_a_small_cell():
    plans = pd.DataFrame({"school_code": [A, B], "status": ["APPROVED", "APPROVED"]})
    # SWD so far: 15 of 25 (60%) against 40% — off track, and 10 students were not
    # chronically absent: a small cell. A brief is a staff document (issue 18: the staff
    # edition shows every value), so the school's leaders see the rate and the flag.
    interim = _ind([(A, "SWD", "CHRONIC", 15, 25)])
    ident = _ind([(A, "SWD", "CHRONIC", 12, 30)])
    res = run_checkpoint(
        "2015-16", 2, _communities(), plans, interim, ident, M, schools=SCHOOLS, held_at=AT
    )
    assert res.rows.set_index("school_code").loc[A, "flags"] == ["OFF_TRACK:SWD:CHRONIC"]
    html = render_brief(res.briefs["2015-16-SWD-MS-1"])
    assert "60.0%" in html and '<td class="flag">' in html
    assert "no school is off track" not in html
    assert "| 1 |" in brief_markdown(res)
