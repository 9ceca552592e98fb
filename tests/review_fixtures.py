"""A small results store for the review and decision commands' tests: one results year
(2015-16, deciding service year 2016-17) of three districts, with a PEER_REVIEW, a
DISTRICT_ACTION and a DISTRICT_TURNAROUND school, stored as a run would store it; the
`sqis` console entry point run in this process; the records tables read back whole."""

from __future__ import annotations

import sys
from typing import Any

import pandas as pd
import pytest

from sqis.store import ResultsStore

YEAR, SERVICE = "2015-16", "2016-17"
D1, D2, D3 = "0110001", "0110002", "0110003"
P1 = D1 + "0000001"  # PRIORITY, year 1: PEER_REVIEW
P5 = D1 + "0000002"  # PRIORITY, year 5: DISTRICT_ACTION
F5 = D2 + "0000003"  # FOCUS, year 5: DISTRICT_TURNAROUND
N1 = D2 + "0000004"  # not designated
X1 = D3 + "0000005"  # not designated
RECORD_TABLES = (
    "priority_reviews",
    "escalation_steps",
    "district_reviews",
    "district_review_items",
    "oversight_meetings",
    "oversight_decisions",
)


def _school(code: str, district: str) -> dict[str, Any]:
    return {
        "school_code": code,
        "district_code": district,
        "school_name": f"School {code[-2:]}",
        "district_name": f"District {district[-1]}",
        "school_type": "ES",
        "title_i": True,
        "low_grade": 0,
        "high_grade": 5,
    }


def _des(code: str, designation: str, years_in: int, escalation: str) -> dict[str, Any]:
    return {
        "school_code": code,
        "designation": designation,
        "reason_group": None,
        "reason_indicator": None,
        "years_in_status": years_in,
        "escalation": escalation,
        "partner_school_code": None,
        "exited": False,
        "gap": None,
        "gap_group": None,
        "meets_goal": None,
    }


def store_with_results(db_url: str, year: str = YEAR) -> ResultsStore:
    """The store at ``db_url`` (upgraded) holding ``year``'s schools and designations."""
    s = ResultsStore(db_url)
    s.upgrade()
    schools = pd.DataFrame(
        [_school(P1, D1), _school(P5, D1), _school(F5, D2), _school(N1, D2), _school(X1, D3)]
    )
    des = pd.DataFrame(
        [
            _des(P1, "PRIORITY", 1, "PEER_REVIEW"),
            _des(P5, "PRIORITY", 5, "DISTRICT_ACTION"),
            _des(F5, "FOCUS", 5, "DISTRICT_TURNAROUND"),
            _des(N1, "NONE", 0, "NONE"),
            _des(X1, "NONE", 0, "NONE"),
        ]
    )
    run = s.start_run(year, "core-2015.1", "0" * 64, {}, "test")
    s.replace_year(run, year, {"schools": schools, "designations": des})
    s.finish_run(run, "SUCCEEDED")
    return s


def records(s: ResultsStore) -> dict[str, list[dict[str, Any]]]:
    """Every records table, whole (to compare before and after a refusal)."""
    return {t: s.read(t).astype(str).to_dict("records") for t in RECORD_TABLES}


def sqis(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `sqis ARGS` through the console entry point: (exit code, stdout, stderr)."""
    from sqis_cli import main

    old = sys.argv
    sys.argv = ["sqis", *args]
    try:
        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = old
    out, err = capsys.readouterr()
    return code, out, err


def one_error(err: str) -> str:
    """The one `error: …` line of a refusal (asserts there is exactly one line)."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]
