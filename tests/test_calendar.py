"""Community calendars: a valid .ics a standard parser reads back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from icalendar import Calendar

from sqis.calendar import community_calendar
from sqis.methodology import for_year

M = for_year("2015-16")
STAMP = datetime(2015, 9, 1, 12, 0, tzinfo=UTC)


def _cal() -> Calendar:
    data = community_calendar(
        "2015-16-SWD-MS-1", M.checkpoint_dates("2015-16"), "2015-16", M, "Plan review", STAMP
    )
    assert isinstance(data, bytes)
    return Calendar.from_ical(data)


def test_one_event_per_checkpoint_on_the_right_local_dates():
    events = _cal().walk("VEVENT")
    assert len(events) == 4
    starts = [e.decoded("dtstart") for e in events]
    assert [s.date() for s in starts] == [
        date(2015, 10, 15),
        date(2016, 1, 15),
        date(2016, 4, 15),
        date(2016, 6, 15),
    ]
    assert all(s.time() == time(15, 30) for s in starts)
    assert all(str(s.tzinfo) == "America/Los_Angeles" for s in starts)
    # 15:30 Pacific is 22:30 UTC in October (PDT) and 23:30 UTC in January (PST)
    assert starts[0].astimezone(UTC).hour == 22 and starts[1].astimezone(UTC).hour == 23
    ends = [e.decoded("dtend") for e in events]
    assert all((b - a).total_seconds() == 90 * 60 for a, b in zip(starts, ends, strict=True))


def test_vtimezone_summary_and_stable_uids():
    cal = _cal()
    tzs = cal.walk("VTIMEZONE")
    assert [str(t["tzid"]) for t in tzs] == ["America/Los_Angeles"]
    events = cal.walk("VEVENT")
    assert (
        str(events[1]["summary"])
        == "Community of practice 2015-16-SWD-MS-1: checkpoint 2 of 2015-16"
    )
    assert str(events[0]["description"]) == "Plan review"
    again = Calendar.from_ical(
        community_calendar("2015-16-SWD-MS-1", M.checkpoint_dates("2015-16"), "2015-16", M, "x")
    )
    assert [str(e["uid"]) for e in events] == [str(e["uid"]) for e in again.walk("VEVENT")]
    assert len({str(e["uid"]) for e in events}) == 4


def test_meeting_time_comes_from_the_methodology():
    m = M.model_copy(
        update={
            "communities": M.communities.model_copy(
                update={"meeting_start": time(9, 0), "meeting_minutes": 60}
            )
        }
    )
    cal = Calendar.from_ical(community_calendar("c", {1: date(2015, 10, 15)}, "2015-16", m))
    (ev,) = cal.walk("VEVENT")
    assert ev.decoded("dtstart").time() == time(9, 0)
    assert (ev.decoded("dtend") - ev.decoded("dtstart")).total_seconds() == 3600


def test_calendars_command_writes_the_service_years_calendars(tmp_path):
    """2015-16 results: the communities' checkpoints and the Reward pair's Symposium and
    Convening fall in 2016-17, filed under the 2015-16 folder and its manifest."""
    import json

    import pandas as pd
    from typer.testing import CliRunner

    from sqis.store import ResultsStore
    from sqis_cli import app

    url = f"sqlite:///{tmp_path / 'r.db'}"
    store = ResultsStore(url)
    store.upgrade()
    out = tmp_path / "out"
    # before the results year is run: refused, naming the year to run
    res = CliRunner().invoke(
        app, ["calendars", "--year", "2016-17", "--out", str(out), "--db", url]
    )
    assert res.exit_code == 1 and "--year 2015-16" in res.output and not out.exists()

    run = store.start_run("2015-16", M.version, M.checksum, {}, "test")
    comm = pd.DataFrame(
        {
            "community_id": ["2016-17-EL-ES-1", "2016-17-SWD-MS-1", "2016-17-SWD-MS-1"],
            "school_code": ["01611190000001", "01611190000002", "01611190000003"],
            "reason_group": ["EL", "SWD", "SWD"],
            "school_type": ["ES", "MS", "MS"],
        }
    )
    des = pd.DataFrame(
        {
            "school_code": ["01611190000001", "01611190000009", "01611190000008"],
            "designation": ["FOCUS", "REWARD", "REWARD"],
            "years_in_status": [3, 1, 1],
            "escalation": ["REWARD_PARTNERSHIP", "NONE", "NONE"],
            "exited": [False, False, False],
        }
    )
    pairs = pd.DataFrame(
        {
            "school_code": ["01611190000001"],
            "partner_school_code": ["01611190000009"],
            "kind": ["FOCUS"],
            "cost": [0.5],
        }
    )
    store.replace_year(
        run, "2015-16", {"communities": comm, "designations": des, "partnerships": pairs}
    )
    store.finish_run(run, "SUCCEEDED")
    res = CliRunner().invoke(
        app, ["calendars", "--year", "2016-17", "--out", str(out), "--db", url]
    )
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in (out / "2015-16" / "communities").iterdir())
    assert files == ["2016-17-EL-ES-1.ics", "2016-17-SWD-MS-1.ics"]
    cal = Calendar.from_ical((out / "2015-16/communities/2016-17-SWD-MS-1.ics").read_bytes())
    events = cal.walk("VEVENT")
    assert len(events) == 4
    assert "2 schools" in str(events[0]["description"])
    assert [e.decoded("dtstart").date() for e in events] == [
        date(2016, 10, 15),
        date(2017, 1, 15),
        date(2017, 4, 15),
        date(2017, 6, 15),
    ]
    assert "2015-16 results" in str(cal["x-wr-calname"])

    # the Reward school: Symposium and Convening; its partner: the Convening; the other
    # Reward school (no pair): the Symposium
    def summaries(code: str) -> dict[str, date]:
        c = Calendar.from_ical((out / f"2015-16/events/{code}.ics").read_bytes())
        return {str(e["summary"]): e.decoded("dtstart").date() for e in c.walk("VEVENT")}

    assert summaries("01611190000009") == {
        "Reward School Symposium 2016-17": date(2016, 10, 1),
        "Partnership Building Convening 2016-17": date(2016, 11, 1),
    }
    assert summaries("01611190000001") == {
        "Partnership Building Convening 2016-17": date(2016, 11, 1)
    }
    assert summaries("01611190000008") == {"Reward School Symposium 2016-17": date(2016, 10, 1)}
    keys = {f["key"] for f in json.loads((out / "2015-16/manifest.json").read_text())["files"]}
    assert "events/01611190000009.ics" in keys and "communities/2016-17-EL-ES-1.ics" in keys
    store.dispose()
