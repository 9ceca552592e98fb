"""sqis.pipeline: one year end to end without Prefect, the calendar, the stale-lock takeover."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from sqis import (
    determinations,
    index_stage,
    pipeline,
    report_reads,
    runs,
    school_calendar,
    year_inputs,
    years,
)
from sqis.methodology import for_year
from sqis.report_frames import ReportFrames

M = for_year("2015-16")


# ---- the calendar ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2016, 6, 30), "2015-16"),
        (date(2016, 7, 1), "2016-17"),  # school years start in July (the methodology's month)
        (date(2016, 1, 1), "2015-16"),
    ],
)
def test_school_year_of_a_day(day: date, year: str) -> None:
    assert school_calendar.school_year_of(day, M) == year


def test_the_annual_cycle_on_15_august_computes_the_year_that_ended() -> None:
    assert school_calendar.year_just_ended(date(2026, 8, 15), M) == "2025-26"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2015, 10, 15), ("2015-16", 1)),  # on the date itself
        (date(2015, 12, 1), ("2015-16", 1)),
        (date(2016, 1, 15), ("2015-16", 2)),
        (date(2016, 4, 15), ("2015-16", 3)),
        (date(2016, 6, 15), ("2015-16", 4)),
        (date(2016, 8, 1), ("2015-16", 4)),  # summer: the last checkpoint of the year before
        (date(2016, 10, 14), ("2015-16", 4)),
        (date(2016, 10, 15), ("2016-17", 1)),
    ],
)
def test_checkpoint_due_on_a_day(day: date, expected: tuple[str, int]) -> None:
    assert school_calendar.checkpoint_due(day, M) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2015, 11, 1), ("2015-16", "fall")),
        (date(2016, 5, 1), ("2015-16", "spring")),
        (date(2016, 4, 30), ("2015-16", "fall")),
        (date(2016, 10, 31), ("2015-16", "spring")),
    ],
)
def test_oversight_term_due_on_a_day(day: date, expected: tuple[str, str]) -> None:
    """The service year whose meeting is due (it reviews the results of the year before)."""
    assert school_calendar.term_due(day, M) == expected


# ---- the year lock --------------------------------------------------------------------
def _lock_from_a_process_that_dies(db_url: str, year: str) -> int:
    """Start a run in a child process that exits without finishing it (like a SIGKILL)."""
    code = (
        "import sys; from sqis.store import ResultsStore\n"
        "s = ResultsStore(sys.argv[1]); s.upgrade()\n"
        "print(s.start_run(sys.argv[2], 'v', 'c', {}, 'ops'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, db_url, year], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


def test_a_lock_left_by_a_dead_process_is_taken_over(db_url: str) -> None:
    from sqis.store import ResultsStore

    dead_run = _lock_from_a_process_that_dies(db_url, "2015-16")
    store = ResultsStore(db_url)
    holder = runs.lock_holder(store, "2015-16")
    assert holder is not None and holder["run_id"] == dead_run
    assert runs.lock_holder_is_dead(holder)

    cfg = pipeline.RunConfig(data_root=".", db_url=db_url, run_by="ops").resolved()
    run_id, taken = runs.start_run(store, "2015-16", M, {"a": "1"}, cfg, None)
    assert taken == dead_run
    by_id = store.runs("2015-16").set_index("id")
    assert by_id.loc[dead_run, "status"] == "FAILED"
    assert by_id.loc[run_id, "status"] == "RUNNING"
    store.finish_run(run_id, "SUCCEEDED")
    assert store.locks().empty


def test_a_lock_taken_before_revision_0007_keeps_its_holder(db_url: str) -> None:
    """Upgrading a store whose year is locked: host and pid come from the holder's text,
    so a lock left by a dead process before the upgrade is still taken over."""
    import sqlalchemy as sa

    from sqis.store import ResultsStore

    store = ResultsStore(db_url)
    store.upgrade("0006")
    with store.engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO runs (year, methodology_version, methodology_checksum, "
                "input_checksums, status, started_at, run_by) VALUES "
                "('2015-16', 'v', 'c', '{}', 'RUNNING', CURRENT_TIMESTAMP, 'ops')"
            )
        )
        run_id = c.execute(sa.text("SELECT max(id) FROM runs")).scalar_one()
        c.execute(
            sa.text(
                "INSERT INTO year_locks (year, run_id, acquired_at, holder) VALUES "
                "('2015-16', :r, CURRENT_TIMESTAMP, :h)"
            ),
            {"r": run_id, "h": f"ops on {socket.gethostname()} (pid 2147483646)"},
        )
    store.upgrade()
    holder = runs.lock_holder(store, "2015-16")
    assert holder is not None
    assert (holder["host"], holder["pid"]) == (socket.gethostname(), 2147483646)
    assert runs.lock_holder_is_dead(holder)  # no such process on this host
    store.dispose()


def test_a_lock_held_by_a_live_process_is_respected(db_url: str) -> None:
    from sqis.store import ResultsStore, YearLocked

    store = ResultsStore(db_url)
    store.upgrade()
    cfg = pipeline.RunConfig(data_root=".", db_url=db_url, run_by="ops").resolved()
    first, _ = runs.start_run(store, "2015-16", M, {}, cfg, None)  # this process: alive
    with pytest.raises(YearLocked):
        runs.start_run(store, "2015-16", M, {}, cfg, None)
    store.finish_run(first, "SUCCEEDED")


def test_a_lock_whose_flow_run_is_final_is_dead_even_on_another_host() -> None:
    holder = {
        "run_id": 3,
        "holder": "ops on elsewhere (pid 1)",
        "host": "elsewhere",
        "pid": 1,
        "flow_run_id": "f",
    }
    assert runs.lock_holder_is_dead(holder, flow_run_alive=lambda fr: False)
    assert not runs.lock_holder_is_dead(holder, flow_run_alive=lambda fr: True)
    # on another host without a flow run, nothing proves it dead: the lock stands
    assert not runs.lock_holder_is_dead({**holder, "flow_run_id": None})


# ---- a generated consortium through run_cycle ---------------------------------------
YEARS = ["2013-14", "2014-15", "2015-16"]
CONTRACT_COLUMNS = {
    "indicators.csv": "school_code,student_group,indicator,numerator,denominator,value,level,"
    "meets_nsize",
    "index.csv": "school_code,academic,social_emotional,culture_climate,sqii,prior_sqii,goal,"
    "meets_goal",
    "designations.csv": "school_code,designation,reason_group,reason_indicator,years_in_status,"
    "escalation,partner_school_code,exited",
    "communities.csv": "community_id,school_code,reason_group,checkpoint,date,status",
}
RESULT_TABLES = (
    "schools",
    "indicators",
    "index_scores",
    "designations",
    "partnerships",
    "communities",
)


def generate(root: Path, students: int, districts: int = 2, seed: int = 7) -> Path:
    """A synthetic consortium (``sqis.synthetic``) of ``YEARS`` as CSV under ``root``."""
    from sqis.synthetic import generate as gen

    gen(root, YEARS, students, districts, seed)
    return root


@pytest.fixture(scope="module")
def own_tmp() -> Iterator[Path]:
    """A private temporary folder for the module (pytest's basetemp is rotated by other
    pytest sessions running at the same time on this machine)."""
    with tempfile.TemporaryDirectory(prefix="sqis-pipeline-") as d:
        yield Path(d)


@pytest.fixture(scope="module")
def consortium(own_tmp: Path) -> Path:
    return generate(own_tmp / "data", students=3000)


def _tables(db_url: str, years: list[str]) -> dict[str, pd.DataFrame]:
    from sqis.store import ResultsStore

    s = ResultsStore(db_url)
    # run_id says which run wrote a row: the one thing a re-run must change
    return {t: s.read(t, years).drop(columns=["run_id"], errors="ignore") for t in RESULT_TABLES}


def test_a_cycle_writes_every_contract_file_and_a_rerun_replaces_identically(
    consortium: Path, own_tmp: Path
) -> None:
    tmp_path = own_tmp / "cycle"
    out = tmp_path / "out"
    db = f"sqlite:///{tmp_path / 'r.db'}"
    cfg = pipeline.RunConfig(data_root=str(consortium), out_root=str(out), db_url=db, pdf="none")
    stages: list[str] = []
    results = pipeline.run_cycle(YEARS, cfg, on_stage=lambda name, info: stages.append(name))
    assert [r.year for r in results] == YEARS
    assert stages[:8] == [
        "ingest",
        "compute_index",
        "educators",  # METHODOLOGY.md "Educator effectiveness" (none without educator files)
        "designate",
        "communities",
        "store",
        "reports",
        "publish",
    ]

    for year in YEARS:
        ydir = out / year
        for name, header in CONTRACT_COLUMNS.items():
            lines = (ydir / name).read_text(encoding="utf-8").splitlines()
            assert lines[0] == header
        index = pd.read_csv(ydir / "index.csv", dtype={"school_code": str})
        schools = pd.read_csv(consortium / year / "schools.csv", dtype={"school_code": str})
        assert sorted(index["school_code"]) == sorted(schools["school_code"])
        # the Oversight meetings of the service year are not the annual run's (flows.oversight)
        assert not list((ydir / "reports").glob("oversight-*"))
        # the service year's calendars are: one per community, one per school in an event
        communities = pd.read_csv(ydir / "communities.csv", dtype=str)
        service = years.service_year(year)
        assert set(communities["date"].str.slice(0, 4)) <= {
            str(years.start_of(service)),
            str(years.start_of(service) + 1),
        }
        for cid in set(communities["community_id"]):
            assert cid.startswith(service)
            ics = (ydir / "communities" / f"{cid}.ics").read_text(encoding="utf-8")
            assert f"{year} results" in ics and f"checkpoint 1 of {service}" in ics
        for code in schools["school_code"]:
            assert (ydir / "reports" / "schools" / f"{code}.html").exists()
        manifest = json.loads((ydir / "manifest.json").read_text())
        listed = {f["key"]: f["sha256"] for f in manifest["files"]}
        assert set(CONTRACT_COLUMNS) <= set(listed)

    # the latest school reports trend over every year on record, read back from the store
    code = schools["school_code"].iloc[0]
    html = (out / YEARS[-1] / "reports" / "schools" / f"{code}.html").read_text(encoding="utf-8")
    sqii_trend = html[html.index("<caption>Data for: SQII and SQI Goal by year") :]
    sqii_trend = sqii_trend[: sqii_trend.index("</table>")]
    index_by_year = {
        y: pd.read_csv(out / y / "index.csv", dtype={"school_code": str}).set_index("school_code")
        for y in YEARS
    }
    for year in YEARS:
        sqii = index_by_year[year].loc[code, "sqii"]
        assert f'<th scope="row">{year}</th><td class="num">{sqii:.1f}</td>' in sqii_trend, year

    # the last year's second year has a prior SQII from the store
    idx = pd.read_csv(out / YEARS[-1] / "index.csv")
    assert idx["prior_sqii"].notna().any()

    before_tables = _tables(db, YEARS)
    before_manifest = json.loads((out / YEARS[-1] / "manifest.json").read_text())["files"]
    again = pipeline.run_year(YEARS[-1], cfg)
    after_tables = _tables(db, YEARS)
    for t in RESULT_TABLES:
        pd.testing.assert_frame_equal(before_tables[t], after_tables[t], check_like=False)
        keys = [
            c
            for c in ("year", "school_code", "student_group", "indicator")
            if c in after_tables[t].columns
        ]
        assert not after_tables[t].duplicated(keys).any(), t
    after_manifest = json.loads((out / YEARS[-1] / "manifest.json").read_text())["files"]
    assert after_manifest == before_manifest
    assert again.output_checksums == results[-1].output_checksums

    from sqis.store import ResultsStore

    runs = ResultsStore(db).runs(YEARS[-1])
    assert list(runs["status"]) == ["SUCCEEDED", "SUCCEEDED"]
    assert runs.iloc[-1]["depends_on"][YEARS[-2]]["checksum"]
    assert ResultsStore(db).stale_years() == []


def test_district_by_district_equals_the_consortium_at_once(consortium: Path) -> None:
    from sqis.ingest import load_year  # noqa: F401  (the year is ingested by the cycle test)

    inputs = year_inputs.ingest(years.SchoolYear("2014-15"), str(consortium))
    empty = year_inputs.Prior("2013-14", *(pd.DataFrame() for _ in range(4)))
    whole = index_stage.compute_index(inputs, empty, M, by_district=False)
    split = index_stage.compute_index(inputs, empty, M, by_district=True)
    key_i = ["school_code", "student_group", "indicator"]
    pd.testing.assert_frame_equal(
        whole[0].sort_values(key_i).reset_index(drop=True),
        split[0].sort_values(key_i).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(
        whole[1].sort_values("school_code").reset_index(drop=True),
        split[1].sort_values("school_code").reset_index(drop=True),
    )


def test_after_the_index_only_schools_and_enrolment_are_held(consortium: Path) -> None:
    """``release_after_index``: the later stages read this year's schools and enrolment;
    every other frame is emptied in place (memory at state scale), checksums kept."""
    inputs = year_inputs.ingest(years.SchoolYear("2014-15"), str(consortium))
    sums = inputs.checksums()
    schools, students = inputs.cur.schools, inputs.cur.students
    assert inputs.prior is not None and len(inputs.prior.assessments) > 0
    empty = year_inputs.Prior("2013-14", *(pd.DataFrame() for _ in range(4)))
    indicators, index = index_stage.compute_index(inputs, empty, M)
    before = determinations.designate(inputs, indicators, index, empty, M)

    year_inputs.release_after_index(inputs)
    assert inputs.checksums() == sums  # what the run read is still on record
    assert inputs.cur.schools is schools and inputs.cur.students is students
    for yd in (inputs.cur, inputs.prior):
        for name in ("assessments", "graduation", "sel", "climate"):
            frame = yd.frame(name)
            assert frame.empty and list(frame.columns)  # columns kept, rows gone
    assert inputs.prior.students.empty and inputs.prior.schools.empty
    # designations, escalation and partners need nothing that was let go
    after = determinations.designate(inputs, indicators, index, empty, M)
    for b, a in zip(before, after, strict=True):
        pd.testing.assert_frame_equal(b, a)


def test_of_the_years_before_only_the_files_the_rules_read_are_loaded(
    consortium: Path,
) -> None:
    """Growth reads last year's scores, MS_PERSIST the enrolment two years back: the rest of
    an earlier delivery comes back empty (with its columns and types), not loaded."""
    from sqis.ingest import load_year

    inputs = year_inputs.ingest(years.SchoolYear("2015-16"), str(consortium))
    assert inputs.prior is not None and inputs.prior2 is not None
    assert len(inputs.prior.assessments) > 0 and len(inputs.prior2.students) > 0
    whole = {1: load_year("2014-15"), 2: load_year("2013-14")}
    for back, yd in ((1, inputs.prior), (2, inputs.prior2)):
        for name in ("schools", "students", "assessments", "graduation", "sel", "climate"):
            frame, full = yd.frame(name), whole[back].frame(name)
            assert frame.dtypes.to_dict() == full.dtypes.to_dict()
            if name in year_inputs.EARLIER_YEAR_FILES[back]:
                pd.testing.assert_frame_equal(frame, full)
            else:
                assert frame.empty and not full.empty
        assert yd.checksums == whole[back].checksums


def _district_frames(frames: ReportFrames, district: str) -> dict[str, pd.DataFrame]:
    """The reference: filter every frame to one district's schools."""
    schools = frames.schools
    schools = schools[schools["district_code"] == district].reset_index(drop=True)
    codes = set(schools["school_code"])
    out = {}
    for name, df in frames.held().items():
        if name == "schools":
            out[name] = schools
        elif "school_code" not in df.columns and "district_code" in df.columns:
            out[name] = df[df["district_code"] == district].reset_index(drop=True)
        elif "school_code" not in df.columns:
            out[name] = df
        else:
            out[name] = df[df["school_code"].isin(codes)].reset_index(drop=True)
    return out


def test_split_by_district_equals_filtering_every_frame_per_district() -> None:
    """One grouping per frame gives each district exactly what filtering gives."""
    import numpy as np

    rng = np.random.default_rng(5)
    schools = pd.DataFrame(
        {
            "school_code": pd.Series([f"S{i:02d}" for i in range(12)], dtype="str"),
            "district_code": pd.Series(rng.choice(["D1", "D2", "D3"], 12), dtype="str"),
        }
    )
    codes = [*schools["school_code"], "GONE"]  # a school no longer in this year's list
    n = 300
    empty = pd.DataFrame({"school_code": pd.Series([], dtype="str")})
    frames = ReportFrames(
        "2014-15",
        schools,
        pd.DataFrame(
            {
                "year": pd.Series(rng.choice(["2013-14", "2014-15"], n), dtype="str"),
                "school_code": pd.Series(rng.choice(codes, n), dtype="str"),
                "value": rng.normal(size=n),
            }
        ),
        empty,
        empty,
        plans=empty,
        # a frame of neither schools nor districts goes whole to every district
        panel_decisions=pd.DataFrame({"x": [1, 2, 3]}),
        # a district's rows (the district index, the educator distribution): by district_code,
        # the consortium's row (none) nowhere
        districts=pd.DataFrame(
            {"district_code": pd.Series(["D1", "D2", None, "D9"], dtype="str"), "x": [1, 2, 3, 4]}
        ),
    )
    districts = ["D1", "D2", "D3", "D4"]  # D4 has no school this year
    split = report_reads.split_by_district(frames, districts)
    assert list(split) == districts
    for d in districts:
        expected = _district_frames(frames, d)
        assert split[d].year == frames.year and set(split[d].held()) == set(expected)
        for name, df in expected.items():
            pd.testing.assert_frame_equal(getattr(split[d], name), df, check_index_type=False)


def test_district_by_district_equals_the_consortium_with_last_years_results(
    consortium: Path,
) -> None:
    """Last year's indicators and index (change, improvement, goal) cut by district give
    the same as the consortium at once."""
    empty = year_inputs.Prior("2013-14", *(pd.DataFrame() for _ in range(4)))
    last = index_stage.compute_index(
        year_inputs.ingest(years.SchoolYear("2014-15"), str(consortium)), empty, M
    )
    prior = year_inputs.Prior("2014-15", last[0], last[1], pd.DataFrame(), pd.DataFrame())
    inputs = year_inputs.ingest(years.SchoolYear("2015-16"), str(consortium))
    whole = index_stage.compute_index(inputs, prior, M, by_district=False)
    split = index_stage.compute_index(inputs, prior, M, by_district=True)
    assert whole[0]["level_change"].notna().any()  # last year's levels were used
    key_i = ["school_code", "student_group", "indicator"]
    pd.testing.assert_frame_equal(
        whole[0].sort_values(key_i).reset_index(drop=True),
        split[0].sort_values(key_i).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(
        whole[1].sort_values("school_code").reset_index(drop=True),
        split[1].sort_values("school_code").reset_index(drop=True),
    )


# ---- the school year parsed once at the edge, the methodology chosen once (issue 22) --------
@pytest.mark.parametrize("bad", ["2015/16", "2015-17", "２０１５-１６", "2015-16\n"])
def test_a_run_with_a_bad_year_fails_at_the_edge_before_any_work(tmp_path: Path, bad: str) -> None:
    """``run_year`` parses its year first: the YearError of ``years.start_of`` (same message),
    and nothing made — no results store, no validated store, no out root."""
    from tests.consortium import consortium, run_config

    with pytest.raises(years.YearError) as refused:
        pipeline.run_year(bad, run_config(tmp_path, consortium()))
    with pytest.raises(years.YearError) as parsed:
        years.start_of(bad)
    assert str(refused.value) == str(parsed.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["2015/16", "２０１５-１６"])
def test_sqis_run_with_a_bad_year_exits_2_before_any_flow(tmp_path: Path, bad: str) -> None:
    from typer.testing import CliRunner

    from sqis_cli import app
    from tests.consortium import consortium

    out = CliRunner().invoke(
        app, ["run", "--data", str(consortium()), "--year", bad, "--out", str(tmp_path / "o")]
    )
    assert out.exit_code == 2, out.output
    assert f"error: year: school year {bad!r} is not of the form YYYY-YY" in out.output
    assert "running" not in out.output and not (tmp_path / "o").exists()


def test_a_run_chooses_its_methodology_once_and_hands_its_year_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One ``for_year`` for the run's year (``run_year``; ingest and validation are handed
    it), one for each earlier delivery ingested on a fresh store (validated under its own,
    ``year_inputs.ingest``); the stages get the ``SchoolYear``, not text."""
    from collections import Counter

    from sqis import methodology
    from tests.consortium import YEAR, consortium, pseudonym_key, run_config

    chosen: Counter[str] = Counter()
    real = methodology.for_year

    def counted(year: str, *a: object, **k: object) -> methodology.Methodology:
        chosen[str(year)] += 1
        return real(year, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(methodology, "for_year", counted)
    monkeypatch.setattr(pipeline, "for_year", counted)
    seen: list[object] = []
    real_prior = year_inputs.prior_results

    def prior(store: object, year: years.SchoolYear) -> year_inputs.Prior:
        seen.append(year)
        return real_prior(store, year)  # type: ignore[arg-type]

    monkeypatch.setattr(year_inputs, "prior_results", prior)
    with pseudonym_key():
        result = pipeline.run_year(YEAR, run_config(tmp_path, consortium()))
    assert chosen == {YEAR: 1, years.shift(YEAR, -1): 1, years.shift(YEAR, -2): 1}
    assert type(result.year) is years.SchoolYear and result.year == YEAR
    assert [type(y) for y in seen] == [years.SchoolYear]
