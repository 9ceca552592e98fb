"""Community calendars: the checkpoints of a community of practice as an iCalendar file
(METHODOLOGY.md, *Communities of practice and checkpoints*: "four checkpoints in the school
year (default 15 October, 15 January, 15 April, 15 June, America/Los_Angeles)").

One ``.ics`` per community, one event per checkpoint, in the methodology's time zone
(``communities.timezone``, with its VTIMEZONE), starting at ``communities.meeting_start``
local time for ``communities.meeting_minutes``. Event UIDs derive from the community and
the checkpoint number, so a re-sent calendar updates the events people already imported
instead of duplicating them.

One ``.ics`` per school in a Reward partnership or designated REWARD, with the Reward
School Symposium (Reward schools) and the Partnership Building Convening (both schools of
every pair) of the service year (METHODOLOGY.md "Reward School Symposium and Partnership
Building Convening"; ``events`` of the methodology).

Every file names both years ("2015-16 results · service year 2016-17"): the results year
decides, the events fall in the service year after it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from icalendar import Calendar, Event

from sqis import years
from sqis.methodology import Methodology

PRODID = "-//CORE//School Quality Improvement System//EN"
UID_DOMAIN = "sqis.core-districts"


def event_uid(community_id: str, number: int) -> str:
    """The stable UID of a community's checkpoint event."""
    return f"{community_id}-checkpoint-{number}@{UID_DOMAIN}"


def community_calendar(
    community_id: str,
    dates: dict[int, date],
    year: str,
    m: Methodology,
    description: str = "",
    stamp: datetime | None = None,
) -> bytes:
    """The community's checkpoints as an iCalendar (RFC 5545) file (*Communities of practice
    and checkpoints*).

    ``year`` is the service year; ``dates`` maps checkpoint numbers to its local dates
    (``m.checkpoint_dates(year)``); ``description`` goes into every event (never put
    student data in it). ``stamp`` is the DTSTAMP (when the calendar was produced; now,
    by default).
    """
    spec = m.communities
    results = years.results_year(year)
    cal = _calendar(f"Community of practice {community_id} ({results} results · {year})", m)
    events = [
        _event(
            event_uid(community_id, number),
            datetime.combine(dates[number], spec.meeting_start, tzinfo=ZoneInfo(spec.timezone)),
            spec.meeting_minutes,
            f"Community of practice {community_id}: checkpoint {number} of {year}",
            description,
            stamp,
        )
        for number in sorted(dates)
    ]
    return _finish(cal, events)


def _calendar(name: str, m: Methodology) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", m.communities.timezone)
    return cal


def _event(
    uid: str,
    start: datetime,
    minutes: int,
    summary: str,
    description: str,
    stamp: datetime | None,
) -> Event:
    ev = Event()
    ev.add("uid", uid)
    ev.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    ev.add("dtstart", start)
    ev.add("dtend", start + timedelta(minutes=minutes))
    ev.add("summary", summary)
    if description:
        ev.add("description", description)
    ev.add("sequence", 0)
    ev.add("status", "CONFIRMED")
    ev.add("transp", "OPAQUE")
    return ev


def _finish(cal: Calendar, events: list[Event]) -> bytes:
    for ev in events:
        cal.add_component(ev)
    if events:
        # the VTIMEZONE's transitions, for the events' span (a year either side)
        days = [ev.decoded("dtstart").date() for ev in events]
        first, last = min(days), max(days)
        cal.add_missing_timezones(
            first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 1, 12, 31)
        )
    return cal.to_ical()


def results_stamp(results_year: str, m: Methodology) -> datetime:
    """The DTSTAMP of the calendars an annual run writes: the first day of the service
    year (UTC), not the clock, so a re-run of the results year writes the same bytes."""
    start = years.start_of(years.service_year(results_year))
    return datetime(start, m.communities.school_year_starts_month, 1, tzinfo=UTC)


def school_events_calendar(
    school_code: str,
    service_year: str,
    symposium: bool,
    partners: list[str],
    m: Methodology,
    stamp: datetime | None = None,
) -> bytes:
    """A school's Reward School Symposium (when ``symposium``: a Reward school) and its
    Partnership Building Convening (when it has ``partners``) of ``service_year``."""
    spec = m.events
    tz = ZoneInfo(m.communities.timezone)
    results = years.results_year(service_year)

    def at(day: date, t: time) -> datetime:
        return datetime.combine(day, t, tzinfo=tz)

    events = []
    if symposium:
        events.append(
            _event(
                f"{service_year}-symposium-{school_code}@{UID_DOMAIN}",
                at(m.event_date(service_year, "symposium"), spec.start),
                spec.minutes,
                f"Reward School Symposium {service_year}",
                f"CORE trains the coaching teams of Reward schools ({results} results).",
                stamp,
            )
        )
    if partners:
        events.append(
            _event(
                f"{service_year}-convening-{school_code}@{UID_DOMAIN}",
                at(m.event_date(service_year, "convening"), spec.start),
                spec.minutes,
                f"Partnership Building Convening {service_year}",
                "Partner schools (CDS " + ", ".join(sorted(partners)) + ") meet to plan the "
                f"year's partnership ({results} results).",
                stamp,
            )
        )
    name = f"School {school_code}: CORE events ({results} results · {service_year})"
    return _finish(_calendar(name, m), events)


def year_calendars(
    results_year: str,
    communities: pd.DataFrame,
    designations: pd.DataFrame,
    partnerships: pd.DataFrame,
    m: Methodology,
) -> dict[str, bytes]:
    """Every calendar an annual run of ``results_year`` publishes, keyed under the year's
    folder: ``communities/<community_id>.ics`` (the service year's checkpoints) and
    ``events/<school_code>.ics`` (Symposium and Convening). One file per community or
    school, never per student."""
    service = years.service_year(results_year)
    stamp = results_stamp(results_year, m)
    dates = m.checkpoint_dates(service)
    files: dict[str, bytes] = {}
    for cid, g in communities.groupby("community_id", sort=True):  # one per community
        desc = (
            f"Community of practice {cid}: Focus schools of reason group "
            f"{g['reason_group'].iloc[0]} ({g['school_type'].iloc[0]}), {len(g)} schools, "
            f"formed from the {results_year} results. Bring your plan status and interim data."
        )
        files[f"communities/{cid}.ics"] = community_calendar(
            str(cid), dates, service, m, desc, stamp
        )
    pairs = partnerships[["school_code", "partner_school_code"]].dropna().astype(str)
    partners_of: dict[str, list[str]] = {}
    for a, b in zip(pairs["school_code"], pairs["partner_school_code"], strict=True):
        partners_of.setdefault(a, []).append(b)
        partners_of.setdefault(b, []).append(a)
    reward = set(designations.loc[designations["designation"] == "REWARD", "school_code"])
    reward |= set(pairs["partner_school_code"])
    for code in sorted(reward | set(partners_of)):  # one per school in an event
        files[f"events/{code}.ics"] = school_events_calendar(
            code, service, code in reward, partners_of.get(code, []), m, stamp
        )
    return files
