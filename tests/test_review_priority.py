"""`sqis review priority` and `sqis review escalation` (METHODOLOGY.md "Escalation"): the
records behind PEER_REVIEW, DISTRICT_TURNAROUND and DISTRICT_ACTION, through the real
command on SQLite and PostgreSQL; every refusal one line, exit 1, nothing changed; the
records survive a re-run of the results year."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.review_fixtures import (
    F5,
    N1,
    P1,
    P5,
    YEAR,
    one_error,
    records,
    sqis,
    store_with_results,
)

FINDINGS = [
    "--leadership", "principal new in post; shared leadership team forming",
    "--strengths", "strong attendance work; family engagement",
    "--improvement", "math instruction in grades 3-5",
]  # fmt: skip


def test_a_priority_review_planned_then_completed(db_url, capsys):
    s = store_with_results(db_url)
    base = ["review", "priority", "--year", YEAR, "--school", P1, "--db", db_url]
    code, out, err = sqis(capsys, *base, "--reviewers", "R. Ortiz (LBUSD), K. Lee (SFUSD)",
                          "--date", "2016-10-20", "--status", "PLANNED")  # fmt: skip
    assert code == 0, err
    assert f"Priority peer review of school {P1} recorded (PLANNED, 2016-10-20)" in out
    code, out, err = sqis(capsys, *base, "--reviewers", "R. Ortiz (LBUSD), K. Lee (SFUSD)",
                          "--date", "2016-10-21", "--status", "COMPLETED", *FINDINGS,
                          )  # fmt: skip
    assert code == 0, err
    row = s.read("priority_reviews", YEAR).iloc[0]
    assert row["status"] == "COMPLETED" and str(row["review_date"]) == "2016-10-21"
    assert row["improvement"] == "math instruction in grades 3-5"
    assert [h["status"] for h in row["history"]] == ["PLANNED", "COMPLETED"]
    # COMPLETED is final
    before = records(s)
    code, _, err = sqis(capsys, *base, "--reviewers", "x", "--date", "2016-11-01",
                        "--status", "PLANNED")  # fmt: skip
    assert code == 1 and "is COMPLETED already" in one_error(err)
    assert records(s) == before
    s.dispose()


@pytest.mark.parametrize(
    ("school", "extra", "message"),
    [
        (N1, [], f"school {N1}'s escalation from the {YEAR} results is NONE"),
        (P5, [], "is DISTRICT_ACTION: a Priority peer review is recorded only for a PEER_REVIEW"),
        ("01100099999999", [], "is not a school of the 2015-16 results"),
        (P1, ["--date", "2015-12-01"], "outside service year 2016-17"),
        (P1, ["--status", "COMPLETED"], "needs findings on leadership"),
    ],
)
def test_priority_review_refusals_change_nothing(db_url, capsys, school, extra, message):
    s = store_with_results(db_url)
    args = {"--date": "2016-10-20", "--status": "PLANNED"}
    for k, v in zip(extra[::2], extra[1::2], strict=True):
        args[k] = v
    before = records(s)
    code, _, err = sqis(capsys, "review", "priority", "--year", YEAR, "--school", school,
                        "--reviewers", "R. Ortiz", "--db", db_url,
                        *[x for kv in args.items() for x in kv])  # fmt: skip
    assert code == 1
    assert message in one_error(err)
    assert records(s) == before
    s.dispose()


def test_a_year_not_run_is_refused(db_url, capsys):
    s = store_with_results(db_url)
    code, _, err = sqis(capsys, "review", "priority", "--year", "2016-17", "--school", P1,
                        "--reviewers", "x", "--date", "2017-10-01", "--status", "PLANNED",
                        "--db", db_url)  # fmt: skip
    assert code == 1 and "holds no 2016-17 results: run the year first" in one_error(err)
    s.dispose()


def test_turnaround_and_district_action_steps(db_url, capsys):
    s = store_with_results(db_url)

    def step(school: str, kind: str, when: str = "2016-09-15") -> tuple[int, str, str]:
        return sqis(capsys, "review", "escalation", "--year", YEAR, "--school", school,
                    "--step", kind, "--decision", "new principal and a state-approved "
                    "turnaround model", "--date", when, "--by", "Superintendent", "--db", db_url,
                    )  # fmt: skip

    code, out, err = step(P5, "DISTRICT_ACTION")
    assert code == 0 and f"DISTRICT_ACTION decision for school {P5} recorded" in out, err
    code, out, err = step(F5, "DISTRICT_TURNAROUND")
    assert code == 0, err
    rows = s.read("escalation_steps", YEAR)
    assert sorted(zip(rows["school_code"], rows["step"], rows["recorded_by"], strict=True)) == [
        (P5, "DISTRICT_ACTION", "Superintendent"),
        (F5, "DISTRICT_TURNAROUND", "Superintendent"),
    ]
    before = records(s)
    for school, kind, why in [
        (P5, "DISTRICT_ACTION", "is recorded already"),
        (F5, "DISTRICT_ACTION", "is DISTRICT_TURNAROUND: a DISTRICT_ACTION step is recorded only"),
        (P1, "DISTRICT_TURNAROUND", "is PEER_REVIEW"),
        (N1, "DISTRICT_ACTION", "is NONE"),
    ]:
        code, _, err = step(school, kind)
        assert code == 1 and why in one_error(err), err
    code, _, err = step(P5, "DISTRICT_ACTION", "2018-01-01")
    assert code == 1
    code, _, err = sqis(capsys, "review", "escalation", "--year", YEAR, "--school", P5,
                        "--step", "CLOSURE", "--decision", "x", "--date", "2016-09-15",
                        "--db", db_url)  # fmt: skip
    assert code == 2 and "'CLOSURE' is not one of" in err
    assert records(s) == before
    s.dispose()


def test_records_survive_a_rerun_of_the_results_year(db_url, capsys):
    s = store_with_results(db_url)
    code, _, err = sqis(capsys, "review", "priority", "--year", YEAR, "--school", P1,
                        "--reviewers", "R. Ortiz", "--date", "2016-10-20", "--status",
                        "COMPLETED", *FINDINGS, "--db", db_url)  # fmt: skip
    assert code == 0, err
    kept = records(s)
    # a re-run replaces the year's results (sqis.store.replace_year), not the records
    run = s.start_run(YEAR, "core-2015.1", "0" * 64, {}, "test")
    s.replace_year(
        run,
        YEAR,
        {"schools": s.read("schools", YEAR).drop(columns="year"),
         "designations": s.read("designations", YEAR).drop(columns=["year", "run_id"])},
    )  # fmt: skip
    s.finish_run(run, "SUCCEEDED")
    assert records(s) == kept
    assert isinstance(s.read("priority_reviews"), pd.DataFrame)
    s.dispose()
