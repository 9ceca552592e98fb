"""The plan state machine: DRAFT → SUBMITTED → APPROVED, refusals, the deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from sqis import plans
from sqis.methodology import for_year
from sqis.plans import PlanStateError

M = for_year("2015-16")
AT = datetime(2015, 11, 2, 16, 0, tzinfo=UTC)
SCHOOL = "01611190000001"


def test_submit_then_approve_records_who_and_when():
    p = plans.new_plan(SCHOOL, "2015-16", M)
    assert p.status == "DRAFT"
    p = plans.submit(p, by="Principal Ruiz", at=AT)
    assert (p.status, p.submitted_by, p.submitted_at) == ("SUBMITTED", "Principal Ruiz", AT)
    later = datetime(2015, 12, 1, tzinfo=UTC)
    p = plans.approve(p, by="Superintendent Lee", at=later)
    assert (p.status, p.approved_by, p.approved_at) == ("APPROVED", "Superintendent Lee", later)


def test_only_a_submitted_plan_can_be_approved():
    p = plans.new_plan(SCHOOL, "2015-16", M)
    with pytest.raises(PlanStateError, match="only a SUBMITTED plan can be approved"):
        plans.approve(p, by="Superintendent Lee")
    approved = plans.approve(plans.submit(p, by="x"), by="Superintendent Lee")
    with pytest.raises(PlanStateError, match="already approved"):
        plans.approve(approved, by="Superintendent Lee")


def test_submitting_an_approved_plan_is_refused():
    approved = plans.approve(plans.submit(plans.new_plan(SCHOOL, "2015-16", M), by="x"), by="y")
    with pytest.raises(PlanStateError, match=f"cannot submit the 2015-16 plan of school {SCHOOL}"):
        plans.submit(approved, by="x")


def test_return_sends_a_submitted_plan_back_to_draft_only():
    p = plans.submit(plans.new_plan(SCHOOL, "2015-16", M), by="x")
    back = plans.return_plan(p, by="Superintendent Lee")
    assert back.status == "DRAFT" and back.submitted_by is None
    with pytest.raises(PlanStateError):
        plans.return_plan(back, by="Superintendent Lee")


def test_approver_name_required():
    p = plans.submit(plans.new_plan(SCHOOL, "2015-16", M), by="x")
    with pytest.raises(PlanStateError, match="approver's name is required"):
        plans.approve(p, by="  ")


def test_next_status_table():
    assert plans.next_status("DRAFT", "submit") == "SUBMITTED"
    assert plans.next_status("SUBMITTED", "approve") == "APPROVED"
    with pytest.raises(PlanStateError, match="unknown plan action"):
        plans.next_status("DRAFT", "publish")


def test_deadline_is_the_second_checkpoint_and_the_plan_covers_two_years():
    assert plans.plan_deadline("2015-16", M) == date(2016, 1, 15)
    assert plans.new_plan(SCHOOL, "2015-16", M).deadline == date(2016, 1, 15)
    assert plans.plan_years_covered("2015-16", M) == ["2015-16", "2016-17"]
    later = M.model_copy(
        update={"communities": M.communities.model_copy(update={"plan_approval_due_checkpoint": 3})}
    )
    assert plans.plan_deadline("2015-16", later) == date(2016, 4, 15)


def test_plan_year_continues_the_two_year_plan():
    assert plans.plan_year("2016-17", 1, M) == "2016-17"
    assert plans.plan_year("2016-17", 2, M) == "2015-16"
    assert plans.plan_year("2016-17", 3, M) == "2016-17"
    with pytest.raises(ValueError):
        plans.plan_year("2016-17", 0, M)


def test_new_plans_frame():
    f = plans.new_plans([SCHOOL, "01611190000002", SCHOOL], "2015-16", M)
    assert f["school_code"].tolist() == [SCHOOL, "01611190000002"]
    assert set(f["status"]) == {"DRAFT"}
    assert set(f["deadline"]) == {date(2016, 1, 15)}


# ---- the `sqis plan` commands against a real results store (SQLite and PostgreSQL) ---------
def _cli(*args: str):  # noqa: ANN202
    from typer.testing import CliRunner

    from sqis_cli import app

    return CliRunner().invoke(app, list(args))


def _results_run(store, year: str) -> None:  # noqa: ANN001
    """A succeeded run of ``year``: its results are in the store."""
    run = store.start_run(year, M.version, M.checksum, {}, "test")
    store.finish_run(run, "SUCCEEDED")


def test_plan_commands_submit_approve_status_and_refusals(db_url: str):
    from sqis.store import ResultsStore

    store = ResultsStore(db_url)
    store.upgrade()
    common = ["--school", SCHOOL, "--year", "2016-17", "--db", db_url]
    # the plans of service year 2016-17 follow from the 2015-16 results: none run yet
    early = _cli("plan", "status", "--year", "2016-17", "--db", db_url)
    assert early.exit_code == 1 and "--year 2015-16" in early.output
    _results_run(store, "2015-16")
    store.ensure_plans("2016-17", [SCHOOL], plans.plan_deadline("2016-17", M))

    refused = _cli("plan", "approve", *common, "--by", "Superintendent Lee")
    assert refused.exit_code == 1
    assert "only a SUBMITTED plan can become APPROVED" in refused.output

    ok = _cli("plan", "submit", *common, "--by", "Principal Ruiz")
    assert ok.exit_code == 0, ok.output
    ok = _cli("plan", "approve", *common, "--by", "Superintendent Lee")
    assert ok.exit_code == 0, ok.output
    again = _cli("plan", "submit", *common, "--by", "Principal Ruiz")
    assert again.exit_code == 1 and "APPROVED" in again.output

    status = _cli("plan", "status", "--year", "2016-17", "--db", db_url)
    assert status.exit_code == 0
    assert SCHOOL in status.output and "APPROVED" in status.output
    assert "2017-01-15" in status.output and "Superintendent Lee" in status.output
    row = store.plan_status(SCHOOL, year="2016-17").iloc[0]
    assert row["approved_by"] == "Superintendent Lee" and not pd.isna(row["approved_at"])
    store.dispose()


def test_plan_command_for_a_school_without_a_plan_is_refused(tmp_path):
    from sqis.store import ResultsStore

    url = f"sqlite:///{tmp_path / 'r.db'}"
    store = ResultsStore(url)
    store.upgrade()
    _results_run(store, "2015-16")
    res = _cli("plan", "submit", "--school", SCHOOL, "--year", "2016-17", "--by", "x", "--db", url)
    assert res.exit_code == 1 and "has no plan for 2016-17" in res.output
    bad = _cli("plan", "submit", "--school", "123", "--year", "2016-17", "--by", "x", "--db", url)
    assert bad.exit_code == 2 and "14-digit" in bad.output


def test_the_plan_in_force_in_a_service_year_is_the_one_its_cycle_started_with():
    """A Focus school in its 2nd consecutive year works under the plan of the year before;
    in its 3rd it starts a new one (METHODOLOGY.md "Escalation"; two-year plans)."""
    stored = pd.DataFrame(
        {
            "year": ["2015-16", "2016-17", "2016-17"],
            "school_code": ["A", "B", "C"],
            "status": ["APPROVED", "DRAFT", "SUBMITTED"],
        }
    )
    # designations of the 2015-16 results: they decide service year 2016-17
    des = pd.DataFrame(
        {
            "school_code": ["A", "B", "C", "D", "E"],
            "designation": ["FOCUS", "FOCUS", "FOCUS", "FOCUS", "PRIORITY"],
            "years_in_status": [2, 1, 3, 2, 1],
        }
    )
    got = plans.plans_in_force(stored, des, "2016-17", M).set_index("school_code")
    assert sorted(got.index) == ["A", "B", "C"]  # D's plan of 2015-16 was never stored
    assert got.loc["A", "plan_year"] == "2015-16" and got.loc["A", "plan_year_number"] == 2
    assert got.loc["A", "status"] == "APPROVED"
    assert got.loc["B", "plan_year"] == "2016-17" and got.loc["B", "plan_year_number"] == 1
    assert got.loc["C", "plan_year"] == "2016-17" and got.loc["C", "plan_year_number"] == 1
    assert plans.plan_deadline("2016-17", M) == date(2017, 1, 15)
