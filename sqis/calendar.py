"""Community calendars: the checkpoints of a community of practice as an iCalendar file
(METHODOLOGY.md, *Communities of practice and checkpoints*: "four checkpoints in the school
year (default 15 October, 15 January, 15 April, 15 June, America/Los_Angeles)").

One ``.ics`` per community, one event per checkpoint, in the methodology's time zone
(``communities.timezone``, with its VTIMEZONE), starting at ``communities.meeting_start``
local time for ``communities.meeting_minutes``. Event UIDs derive from the community and
the checkpoint number, so a re-sent calendar updates the events people already imported
instead of duplicating them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

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

    ``dates`` maps checkpoint numbers to local dates (``m.checkpoint_dates(year)``);
    ``description`` goes into every event (never put student data in it). ``stamp`` is the
    DTSTAMP (when the calendar was produced; now, by default).
    """
    spec = m.communities
    tz = ZoneInfo(spec.timezone)
    dtstamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Community of practice {community_id} ({year})")
    cal.add("x-wr-timezone", spec.timezone)
    for number in sorted(dates):
        start = datetime.combine(dates[number], spec.meeting_start, tzinfo=tz)
        ev = Event()
        ev.add("uid", event_uid(community_id, number))
        ev.add("dtstamp", dtstamp)
        ev.add("dtstart", start)
        ev.add("dtend", start + timedelta(minutes=spec.meeting_minutes))
        ev.add("summary", f"Community of practice {community_id}: checkpoint {number} of {year}")
        if description:
            ev.add("description", description)
        ev.add("sequence", 0)
        ev.add("status", "CONFIRMED")
        ev.add("transp", "OPAQUE")
        cal.add_component(ev)
    if dates:
        # the VTIMEZONE's transitions, for the school year's span (a year either side)
        first, last = min(dates.values()), max(dates.values())
        cal.add_missing_timezones(
            first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 1, 12, 31)
        )
    return cal.to_ical()
