"""A whole calendar, walked through the flows' own date logic (``as_of``) on a real Prefect
server (the test harness's), on SQLite and PostgreSQL (METHODOLOGY.md "Results year and
service year").

August 2014 and 2015: the annual runs of 2013-14 and 2014-15 (history, so that 2015-16 has
Focus schools in a second year). Then the year under test:

- 15 August 2016: the annual run computes the 2015-16 results, which form the communities,
  plans and partnerships of 2016-17;
- 15 October 2016 … 15 June 2017: checkpoints 1–4 of 2016-17, with interim deliveries under
  ``<root>/2016-17/interim/checkpoint-<n>/``, compared with the 2015-16 values;
- 1 November 2016 and 1 May 2017: the fall and spring Oversight reports of 2016-17;
- a re-run of the 2015-16 results keeps both reports and every brief;
- 15 August 2017: the annual run of the 2016-17 results, whose year-2 Focus schools work
  under the plan approved the year before.

Every artifact and file is checked for the year it names.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sqis import years

pytestmark = [pytest.mark.prefect, pytest.mark.slow]

YEARS = ["2013-14", "2014-15", "2015-16", "2016-17"]
RESULTS, SERVICE = "2015-16", "2016-17"
CHECKPOINT_DAYS = [date(2016, 10, 15), date(2017, 1, 15), date(2017, 4, 15), date(2017, 6, 15)]


@pytest.fixture(scope="module")
def consortium() -> Iterator[Path]:
    """Four generated years, and the interim deliveries of 2016-17's four checkpoints."""
    from sqis.synthetic import generate
    from sqis.synthetic.interim import write_interim

    with tempfile.TemporaryDirectory(prefix="sqis-walk-") as d:
        root = Path(d) / "data"
        # seed 2016: under core-2015.1 (FOCUS's 10% of the schools left after PRIORITY) a
        # school first designated FOCUS by the 2015-16 results is in its second year in 2016-17
        generate(root, YEARS, 20000, 4, 2016)
        for n in range(1, 5):
            write_interim(str(root), SERVICE, n, 4, seed=2016)
        yield root


def _artifacts(flow_run_id: Any) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as c:
        arts = c.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a for a in arts}


def _manifest(out: Path, year: str) -> dict[str, str]:
    files = json.loads((out / year / "manifest.json").read_text())["files"]
    return {f["key"]: f["sha256"] for f in files}


def test_a_year_on_the_calendar(
    harness: None, consortium: Path, db_url: str, tmp_path: Path
) -> None:
    from flows.annual_cycle import annual_cycle
    from flows.checkpoint import community_checkpoint
    from flows.oversight import oversight_report
    from flows.params import AnnualCycleParams, CheckpointParams, OversightParams
    from sqis.settings import reset_settings_cache
    from sqis.store import ResultsStore

    os.environ["SQIS_STORE_ROOT"] = str(tmp_path / "store")  # conftest restores it
    os.environ["SQIS_DATABASE_URL"] = db_url  # a setting, never a flow parameter
    reset_settings_cache()
    out = tmp_path / "out"

    def august(day: date) -> Any:
        params = AnnualCycleParams(
            data_root=str(consortium), out_root=str(out), pdf="none", as_of=day.isoformat()
        )
        state = annual_cycle(params, return_state=True)
        assert state.is_completed(), state.message
        return state

    for day in (date(2014, 8, 15), date(2015, 8, 15)):
        august(day)

    # ---- 15 August 2016: the 2015-16 results, for 2016-17 -------------------------------
    state = august(date(2016, 8, 15))
    res = state.result()
    assert res["year"] == RESULTS
    arts = _artifacts(state.state_details.flow_run_id)
    assert "2016-17" in arts[f"designations-{RESULTS}"].description
    assert "2015-16 results · service year 2016-17" in arts[f"reports-{RESULTS}"].data

    store = ResultsStore(db_url)
    comm = store.read("communities", [RESULTS])
    assert len(comm) and comm["community_id"].str.startswith(SERVICE).all()
    plans = store.read("plans", [SERVICE])
    des = store.read("designations", [RESULTS])
    focus = des[des["designation"] == "FOCUS"]
    starting = set(focus.loc[(focus["years_in_status"] - 1) % 2 == 0, "school_code"])
    assert set(plans["school_code"]) == starting
    # due by checkpoint 2 of the service year, not the results year: not overdue on creation
    assert set(pd.to_datetime(plans["deadline"]).dt.date) == {date(2017, 1, 15)}
    schedule = pd.read_csv(out / RESULTS / "communities.csv", dtype=str)
    assert set(schedule["date"]) == {d.isoformat() for d in CHECKPOINT_DAYS}
    manifest = _manifest(out, RESULTS)
    ics = [k for k in manifest if k.endswith(".ics")]
    assert {f"communities/{c}.ics" for c in comm["community_id"]} <= set(ics)
    assert any(k.startswith("events/") for k in ics), "the Reward pairs' Symposium and Convening"
    for k in ics:
        text = (out / RESULTS / k).read_text(encoding="utf-8")
        starts = re.findall(r"DTSTART;TZID=America/Los_Angeles:(\d{8})", text)
        assert starts and all("20161001" <= s <= "20170630" for s in starts), (k, starts)
    # a school in its first Focus year approves its plan before checkpoint 2
    first_year = focus.loc[focus["years_in_status"] == 1, "school_code"]
    approved = sorted(first_year)[0] if len(first_year) else sorted(starting)[0]
    store.plan_submit(approved, SERVICE, "Principal")
    store.plan_approve(approved, SERVICE, "Superintendent")

    # ---- the four checkpoints of 2016-17 --------------------------------------------
    briefs: set[str] = set()
    for number, day in enumerate(CHECKPOINT_DAYS, start=1):
        params = CheckpointParams(
            data_root=str(consortium), out_root=str(out), as_of=day.isoformat()
        )
        state = community_checkpoint(params, return_state=True)
        assert state.is_completed(), state.message
        done = state.result()
        assert (done["year"], done["number"]) == (SERVICE, number)
        prefix = f"{RESULTS}/checkpoints/{SERVICE}-checkpoint-{number}/"
        assert done["files"] and all(k.startswith(prefix) for k in done["files"])
        briefs |= {k.removeprefix(f"{RESULTS}/") for k in done["files"]}
        art = _artifacts(state.state_details.flow_run_id)[f"checkpoint-{SERVICE}-{number}"]
        assert f"Checkpoint {number} of {SERVICE} ({day.isoformat()})" in art.data
        assert f"formed from the {RESULTS} results" in art.data
    held = store.read("checkpoints", [SERVICE])
    assert sorted(set(held["number"])) == [1, 2, 3, 4]
    assert set(pd.to_datetime(held["date"]).dt.date) == set(CHECKPOINT_DAYS)
    # interim data of 2016-17 compared with the 2015-16 identification values
    with_interim = held[held["interim"].notna()]
    assert len(with_interim)
    in_status = focus.set_index("school_code")["years_in_status"]
    for code, rec in zip(with_interim["school_code"], with_interim["interim"], strict=True):
        expected = years.shift(RESULTS, -(int(in_status[code]) - 1))  # identified then
        seen = {g["identification_year"] for grp in rec.values() for g in grp.values()}
        assert seen == {expected}, (code, seen)
    at_two = held[held["number"] == 2].set_index("school_code")
    assert "PLAN_NOT_APPROVED" not in list(at_two.loc[approved, "flags"])
    assert store.read("checkpoints", [RESULTS]).empty

    # ---- the Oversight Panel's meetings of 2016-17 -----------------------------------
    for term, day in (("fall", date(2016, 11, 1)), ("spring", date(2017, 5, 1))):
        params = OversightParams(out_root=str(out), as_of=day.isoformat())
        state = oversight_report(params, return_state=True)
        assert state.is_completed(), state.message
        assert (state.result()["year"], state.result()["term"]) == (SERVICE, term)
        html = (out / RESULTS / "reports" / f"oversight-{SERVICE}-{term}.html").read_text()
        assert f"Oversight Panel report, {term.capitalize()} {SERVICE}" in html
        assert "2015-16 results · service year 2016-17" in html
        assert f"{day:%B} {day.day}, {day.year}" in html
    reports = {f"reports/oversight-{SERVICE}-{t}.html" for t in ("fall", "spring")}
    before = _manifest(out, RESULTS)
    assert reports | briefs <= set(before)

    # ---- a re-run of the 2015-16 results loses nothing of 2016-17 --------------------
    august(date(2016, 8, 15))
    after = _manifest(out, RESULTS)
    for key in reports | briefs:
        assert after.get(key) == before[key], key
        assert (out / RESULTS / key).exists()
    assert len(store.read("checkpoints", [SERVICE])) == len(held)
    rerun = pd.read_csv(out / RESULTS / "communities.csv", dtype=str)
    assert set(rerun["status"]) == {"HELD"}, "the re-run shows the checkpoints already held"

    # ---- 15 August 2017: the 2016-17 results; a year-2 Focus school shows its plan -----
    state = august(date(2017, 8, 15))
    assert state.result()["year"] == SERVICE
    des2 = store.read("designations", [SERVICE])
    second = des2[(des2["designation"] == "FOCUS") & (des2["years_in_status"] == 2)]
    assert len(second), "the generated consortium has a Focus school in its second year"
    for code in second["school_code"]:
        html = (out / SERVICE / "reports" / "schools" / f"{code}.html").read_text()
        assert "Focus school for 2017-18" in html
        assert "works under its two-year plan of 2016-17 (year 2 of 2)" in html
        assert "No two-year plan is on record" not in html
    if approved in set(second["school_code"]):
        html = (out / SERVICE / "reports" / "schools" / f"{approved}.html").read_text()
        assert "approved by the superintendent" in html
    # no plan of 2017-18 for a school in year 2: it continues the 2016-17 plan
    assert not set(second["school_code"]) & set(store.read("plans", ["2017-18"])["school_code"])
    store.dispose()
