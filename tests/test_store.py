"""The results store on SQLite and on the real PostgreSQL server (``db_url``)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from sqis.store import (
    PlanStateError,
    ResultsStore,
    SchemaOutdated,
    StoreError,
    StoreUnreachable,
    YearLocked,
)
from sqis.store.bulk import BulkWriteError
from sqis.store.models import Base
from sqis.store.store import MIGRATIONS_DIR

Y1, Y2, Y3 = "2014-15", "2015-16", "2016-17"


@pytest.fixture
def store(db_url: str) -> ResultsStore:
    s = ResultsStore(db_url)
    s.upgrade()
    yield s
    s.dispose()


def _start(store: ResultsStore, year: str, **kw) -> int:
    return store.start_run(year, "core-2013.1", "m" * 64, {"students": "s" * 64}, "tester", **kw)


def _indicators(n_schools: int = 3, shift: float = 0.0) -> pd.DataFrame:
    codes = [f"0161{i:010d}" for i in range(n_schools)]
    rows = []
    for k, code in enumerate(codes):
        for g in ("ALL", "SED"):
            for ind in ("ELA_MET", "SEL"):
                rows.append(
                    {
                        "school_code": code,
                        "student_group": g,
                        "indicator": ind,
                        "numerator": 5.0 if ind == "ELA_MET" else np.nan,
                        "denominator": 20.0 + k,
                        "value": 25.0 + k + shift,
                        "meets_nsize": g == "ALL",
                        "level": 3 if g == "ALL" else pd.NA,
                    }
                )
    return pd.DataFrame(rows)


def test_migration_creates_exactly_the_models(store: ResultsStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as c:
        diffs = compare_metadata(MigrationContext.configure(c), Base.metadata)
    assert diffs == []
    store.check_schema()  # at head: no error


def test_schema_outdated_on_an_empty_database(db_url: str) -> None:
    s = ResultsStore(db_url)
    head = s.head_revision()
    with pytest.raises(SchemaOutdated, match=rf"revision none.*needs {head}.*sqis db upgrade"):
        s.check_schema()
    s.dispose()


def test_schema_outdated_when_the_database_is_at_an_older_revision(
    db_url: str, tmp_path: Path
) -> None:
    current = ResultsStore(db_url)
    current.upgrade()  # the database is at this sqis's head
    head = current.head_revision()
    current.dispose()
    scripts = tmp_path / "migrations"  # a newer sqis: 0001 … head then "9999"
    shutil.copytree(MIGRATIONS_DIR, scripts)
    (scripts / "versions" / "9999_more.py").write_text(
        f'revision = "9999"\ndown_revision = "{head}"\nbranch_labels = None\n'
        "depends_on = None\ndef upgrade():\n    pass\n\ndef downgrade():\n    pass\n"
    )
    newer = ResultsStore(db_url, script_location=scripts)
    with pytest.raises(SchemaOutdated) as e:
        newer.check_schema()
    assert f"at revision {head}, this sqis needs 9999: run `sqis db upgrade`" in str(e.value)
    newer.upgrade()
    newer.check_schema()
    newer.dispose()


def test_unreachable_store_is_named_without_its_password() -> None:
    s = ResultsStore("postgresql+psycopg://sqis:hunter2@127.0.0.1:1/results")
    with pytest.raises(StoreUnreachable) as e:
        s.ensure_reachable()
    assert "127.0.0.1:1/results" in str(e.value)
    assert "hunter2" not in str(e.value)


def test_sqlite_default_url_creates_its_folder(tmp_path: Path, monkeypatch) -> None:
    from sqis.settings import reset_settings_cache

    monkeypatch.setenv("SQIS_DATABASE_URL", f"sqlite:///{tmp_path / 'deep' / 'var' / 'sqis.db'}")
    reset_settings_cache()
    s = ResultsStore()
    s.upgrade()
    assert (tmp_path / "deep" / "var" / "sqis.db").exists()


def test_second_run_of_a_year_is_refused_other_years_proceed(store: ResultsStore) -> None:
    first = _start(store, Y1)
    with pytest.raises(YearLocked) as e:
        _start(store, Y1)
    msg = str(e.value)
    assert f"run {first}" in msg and "tester" in msg
    assert f"sqis db unlock --year {Y1}" in msg
    other = _start(store, Y2)  # another year is not blocked
    assert other != first
    store.finish_run(first, "SUCCEEDED", {"2014-15/index.csv": "a" * 64})
    again = _start(store, Y1)  # the lock was released
    runs = store.runs(Y1)
    assert runs["id"].tolist() == [first, again]  # the refused start left no run behind
    assert runs["status"].tolist() == ["SUCCEEDED", "RUNNING"]
    assert runs["output_checksums"].iloc[0] == {"2014-15/index.csv": "a" * 64}


def test_concurrent_starts_of_one_year_let_exactly_one_through(store: ResultsStore) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def go() -> None:
        barrier.wait()
        try:
            _start(store, Y3)
            outcomes.append("ran")
        except YearLocked:
            outcomes.append("locked")

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["locked", "ran"]
    assert len(store.runs(Y3)) == 1


def test_unlock_clears_a_stale_lock_and_fails_its_run(store: ResultsStore) -> None:
    dead = _start(store, Y1)
    assert store.unlock(Y1) == dead
    assert store.runs(Y1)["status"].tolist() == ["FAILED"]
    assert store.unlock(Y1) is None
    new = _start(store, Y1)
    # the dead run can no longer store or finish: its lock is gone
    with pytest.raises(StoreError, match=f"run {dead} has already finished"):
        store.replace_year(dead, Y1, {"indicators": _indicators()})
    with pytest.raises(StoreError, match="already finished"):
        store.finish_run(dead, "SUCCEEDED")
    store.finish_run(new, "SUCCEEDED")


def test_replace_year_round_trips_and_never_duplicates(store: ResultsStore) -> None:
    run = _start(store, Y1)
    store.replace_year(run, Y1, {"indicators": _indicators()})
    store.replace_year(run, Y1, {"indicators": _indicators(shift=1.0)})
    got = store.read("indicators", Y1)
    assert len(got) == 12
    assert got["run_id"].unique().tolist() == [run]
    all_ela = got[(got["student_group"] == "ALL") & (got["indicator"] == "ELA_MET")]
    assert all_ela["value"].tolist() == [26.0, 27.0, 28.0]  # 25 + k + 1
    assert got["meets_nsize"].dtype == bool
    assert got["level"].isna().sum() == 6  # SED rows have no level
    assert got["numerator"].isna().sum() == 6  # SEL has no numerator
    assert store.read("indicators", Y2).empty


def test_read_filters_schools_in_the_database(store: ResultsStore) -> None:
    run = _start(store, Y1)
    ind = _indicators(n_schools=4)
    store.replace_year(run, Y1, {"indicators": ind})
    wanted = set(ind["school_code"].unique()[[0, 2]])
    got = store.read("indicators", Y1, school_codes=wanted)
    assert set(got["school_code"]) == wanted
    assert len(got) == 8  # 2 schools × 2 groups × 2 indicators
    assert store.read("indicators", Y1, school_codes=set()).empty
    assert len(store.read("runs", school_codes=wanted)) == 1  # a table without schools


def test_failed_replace_keeps_the_previous_results(store: ResultsStore) -> None:
    run = _start(store, Y1)
    designations = pd.DataFrame(
        {
            "school_code": ["01611190000001", "01611190000002"],
            "designation": ["FOCUS", "NONE"],
            "years_in_status": [1, 0],
            "escalation": ["NONE", "NONE"],
            "exited": [False, False],
        }
    )
    store.replace_year(run, Y1, {"indicators": _indicators(), "designations": designations})
    before_ind, before_des = store.read("indicators"), store.read("designations")
    # half-way: the new indicators are fine, the designations repeat a school (key violation)
    bad = pd.concat([designations, designations.iloc[[0]]], ignore_index=True)
    bad["designation"] = "PRIORITY"
    with pytest.raises(BulkWriteError, match=r"^designations: the database refused"):
        store.replace_year(run, Y1, {"indicators": _indicators(shift=5), "designations": bad})
    pd.testing.assert_frame_equal(store.read("indicators"), before_ind)
    pd.testing.assert_frame_equal(store.read("designations"), before_des)


def test_bad_values_are_named_by_table_column_and_row(store: ResultsStore) -> None:
    run = _start(store, Y1)
    bad = _indicators()
    bad.loc[4, "indicator"] = None
    with pytest.raises(BulkWriteError, match=r"indicators\.indicator: empty in 1 row.*row 5"):
        store.replace_year(run, Y1, {"indicators": bad})
    bad = _indicators()
    bad["level"] = bad["level"].astype(object)
    bad.loc[0, "level"] = 3.5
    with pytest.raises(BulkWriteError, match=r"indicators\.level: 3\.5 is not a whole number"):
        store.replace_year(run, Y1, {"indicators": bad})


def test_bulk_copy_path_round_trips_many_rows(store: ResultsStore) -> None:
    """2,400 rows: COPY on PostgreSQL, executemany chunks on SQLite; the same result."""
    frame = _indicators(n_schools=600)
    frame["value"] = frame["value"] + np.linspace(0, 1, len(frame)) / 3  # awkward floats
    run = _start(store, Y1)
    store.replace_year(run, Y1, {"indicators": frame})
    got = store.read("indicators", Y1)
    assert len(got) == len(frame)
    want = frame.sort_values(["school_code", "student_group", "indicator"]).reset_index(drop=True)
    np.testing.assert_array_equal(got["value"].to_numpy(), want["value"].to_numpy())
    assert got["meets_nsize"].tolist() == want["meets_nsize"].tolist()
    assert got["level"].isna().tolist() == want["level"].isna().tolist()


def test_stale_years_follow_content_not_run_ids(store: ResultsStore) -> None:
    def run_year(year: str, shift: float, deps: list[str]) -> None:
        rid = _start(store, year, depends_on={d: store.dependency(d) for d in deps})
        store.replace_year(rid, year, {"indicators": _indicators(shift=shift)})
        store.finish_run(rid, "SUCCEEDED")

    run_year(Y1, 0, [])
    run_year(Y2, 0, [Y1])
    run_year(Y3, 0, [Y2])
    assert store.stale_years() == []
    run_year(Y1, 0, [])  # re-run with the same results: nothing after it is stale
    assert store.stale_years() == []
    run_year(Y1, 2.5, [])  # different results: Y2 read the old Y1, Y3 read a stale Y2
    assert store.stale_years() == [Y2, Y3]
    run_year(Y2, 0, [Y1])
    run_year(Y3, 0, [Y2])
    assert store.stale_years() == []


def test_plans_move_draft_submitted_approved(store: ResultsStore) -> None:
    a, b = "01611190000001", "01611190000002"
    from datetime import date

    assert store.ensure_plans(Y1, [a, b], date(2015, 1, 15)) == 2
    with pytest.raises(PlanStateError, match="only a SUBMITTED plan can become APPROVED"):
        store.plan_approve(a, Y1, "superintendent")
    store.plan_submit(a, Y1, "principal")
    with pytest.raises(PlanStateError, match="is SUBMITTED: only a DRAFT plan"):
        store.plan_submit(a, Y1, "principal")
    store.plan_approve(a, Y1, "superintendent")
    with pytest.raises(PlanStateError, match="has no plan"):
        store.plan_submit("01611190000009", Y1, "principal")
    assert store.ensure_plans(Y1, [a, b], date(2015, 1, 15)) == 0  # nothing reset
    plans = store.plan_status(year=Y1)
    assert plans.set_index("school_code")["status"].to_dict() == {a: "APPROVED", b: "DRAFT"}
    one = store.plan_status(a, year=Y1).iloc[0]
    assert one["approved_by"] == "superintendent" and one["submitted_by"] == "principal"
    assert [h["status"] for h in one["history"]] == ["DRAFT", "SUBMITTED", "APPROVED"]
    assert pd.Timestamp(one["deadline"]).date() == date(2015, 1, 15)


def test_record_checkpoint_replaces_only_that_community(store: ResultsStore) -> None:
    def rows(community: str, flag: list[str]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "community_id": [community],
                "school_code": ["01611190000001"],
                "attendees": ["principal; coach"],
                "plan_status": ["DRAFT"],
                "flags": [flag],
                "interim": [{"ELA_MET": 31.5}],
            }
        )

    store.record_checkpoint(Y1, 1, rows("C-SED-ES-1", []))
    store.record_checkpoint(Y1, 1, rows("C-EL-ES-1", []))
    store.record_checkpoint(Y1, 1, rows("C-SED-ES-1", ["plan not approved"]))
    got = store.read("checkpoints", Y1)
    assert got["community_id"].tolist() == ["C-EL-ES-1", "C-SED-ES-1"]
    assert got["flags"].tolist() == [[], ["plan not approved"]]
    assert got["status"].tolist() == ["HELD", "HELD"]
    assert got["interim"].iloc[0] == {"ELA_MET": 31.5}
    with pytest.raises(StoreError, match="SCHEDULED or HELD"):
        store.record_checkpoint(Y1, 2, rows("C-EL-ES-1", []).assign(status="DONE"))


def test_cli_upgrade_current_unlock_and_audit(db_url: str) -> None:
    from sqis_cli import app

    cli = CliRunner()
    r = cli.invoke(app, ["db", "current", "--db", db_url])
    if db_url.startswith("sqlite"):  # no file yet: reading commands make none
        assert r.exit_code == 2 and "there is no results store" in r.output
        r = cli.invoke(app, ["audit", "--year", Y1, "--db", db_url])
        assert r.exit_code == 2 and "there is no results store" in r.output
        assert not Path(db_url.removeprefix("sqlite:///")).exists()
    else:  # an empty database
        assert r.exit_code == 0 and "revision none" in r.output and "sqis db upgrade" in r.output
        r = cli.invoke(app, ["audit", "--year", Y1, "--db", db_url])
        assert r.exit_code == 2 and "run `sqis db upgrade`" in r.output
    assert cli.invoke(app, ["db", "upgrade", "--db", db_url]).exit_code == 0
    store = ResultsStore(db_url)
    run = store.start_run(
        Y1,
        "core-2013.1",
        "c" * 64,
        {"students.csv": "d" * 64},
        "ops@core",
        depends_on={Y3: {"run_id": 1, "checksum": "e" * 64}},
        flow_run_id="flow-123",
    )
    store.finish_run(run, "SUCCEEDED", {"2014-15/index.csv": "f" * 64})
    r = cli.invoke(app, ["audit", "--year", Y1, "--db", db_url])
    assert r.exit_code == 0, r.output
    for text in (
        "SUCCEEDED",
        "ops@core",
        "core-2013.1",
        "c" * 64,
        "students.csv",
        "d" * 64,
        "2014-15/index.csv",
        "f" * 64,
        "flow-123",
    ):
        assert text in r.output
    locked = store.start_run(Y1, "core-2013.1", "c" * 64, {}, "ops@core")
    r = cli.invoke(app, ["db", "current", "--db", db_url])
    assert f"{Y1} locked by run {locked}" in r.output
    r = cli.invoke(app, ["db", "unlock", "--year", Y1, "--db", db_url])
    assert r.exit_code == 0 and f"run {locked} marked FAILED" in r.output
    store.dispose()


def test_a_database_from_a_newer_sqis_is_named(store: ResultsStore) -> None:
    with store.engine.begin() as c:
        c.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(SchemaOutdated, match="revision 0099, which this sqis does not know"):
        store.check_schema()


def test_write_schools_replaces_the_year(store: ResultsStore) -> None:
    def schools(name: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "school_code": ["01611190000001"],
                "district_code": ["0161119"],
                "school_name": [name],
                "district_name": ["Alameda"],
                "school_type": ["ES"],
                "title_i": ["Y"],
                "low_grade": [0],
                "high_grade": [5],
            }
        )

    store.write_schools(Y1, schools("Lincoln"))
    store.write_schools(Y1, schools("Lincoln Elementary"))
    store.write_schools(Y2, schools("Lincoln"))
    got = store.read("schools", [Y1, Y2])
    assert got["school_name"].tolist() == ["Lincoln Elementary", "Lincoln"]
    assert got["title_i"].tolist() == [True, True]  # Y/N flags become booleans


def test_concurrent_upgrades_of_a_fresh_postgres_database(postgres_url: str) -> None:
    errors: list[str] = []

    def go() -> None:
        s = ResultsStore(postgres_url)
        try:
            s.upgrade()
        except Exception as e:  # noqa: BLE001 - the test reports any failure
            errors.append(repr(e))
        finally:
            s.dispose()

    threads = [threading.Thread(target=go) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    s = ResultsStore(postgres_url)
    s.check_schema()
    s.dispose()


def test_two_years_store_at_the_same_time(store: ResultsStore) -> None:
    """Different years run in parallel: their replace_year calls wait, never fail."""
    runs = {y: _start(store, y) for y in (Y1, Y2, Y3)}
    frame = _indicators(n_schools=1500)  # 6,000 rows each
    barrier = threading.Barrier(len(runs))
    errors: list[str] = []

    def go(year: str) -> None:
        barrier.wait()
        try:
            for _ in range(2):
                store.replace_year(runs[year], year, {"indicators": frame})
        except Exception as e:  # noqa: BLE001 - the test reports any failure
            errors.append(f"{year}: {e!r}")

    threads = [threading.Thread(target=go, args=(y,)) for y in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = store.read("indicators")
    assert got.groupby("year").size().to_dict() == {Y1: 6000, Y2: 6000, Y3: 6000}
