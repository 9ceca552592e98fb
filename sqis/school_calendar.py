"""The school calendar's arithmetic (METHODOLOGY.md "Results year and service year",
"Communities of practice and checkpoints", "Oversight Panel"): the school year a day
falls in, the results year the annual cycle computes on a day, and the checkpoint and
Oversight Panel meeting due on a day. The scheduled flows take their year from these
when none is given (``flows.annual_cycle``, ``flows.checkpoint``, ``flows.oversight``);
the dates themselves are the methodology's.
"""

from __future__ import annotations

from datetime import date

from sqis import years
from sqis.errors import SqisError
from sqis.methodology import Methodology


class CalendarError(ValueError, SqisError):
    """No checkpoint or Oversight Panel date of the methodology falls on or before a day."""


def school_year_of(day: date, m: Methodology) -> str:
    """The school year a calendar day falls in (``communities.school_year_starts_month``)."""
    start = day.year if day.month >= m.communities.school_year_starts_month else day.year - 1
    return years.from_start(start)


def year_just_ended(day: date, m: Methodology) -> str:
    """The results year the annual cycle computes on ``day``: the school year before the one
    ``day`` falls in (METHODOLOGY.md "Results year and service year": the August run of
    2016 computes 2015-16, whose results decide 2016-17)."""
    return years.results_year(school_year_of(day, m))


def checkpoint_due(day: date, m: Methodology) -> tuple[str, int]:
    """The service year and number of the latest checkpoint on or before ``day``.

    METHODOLOGY.md "Communities of practice and checkpoints": four checkpoints in the
    service year (the communities were formed from the year before's results). Before the
    year's first checkpoint, the last checkpoint of the year before is due.
    """
    year = school_year_of(day, m)
    for y in (year, years.shift(year, -1)):
        due = [n for n, d in sorted(m.checkpoint_dates(y).items()) if d <= day]
        if due:
            return y, due[-1]
    raise CalendarError(f"no checkpoint of the methodology falls on or before {day}")


def term_due(day: date, m: Methodology) -> tuple[str, str]:
    """The service year and term (fall/spring) of the latest Oversight date on or before ``day``.

    METHODOLOGY.md "Oversight Panel": the panel meets each fall and spring of the service
    year Y+1 and reviews Y's results and Y+1's follow-through.
    """
    year = school_year_of(day, m)
    candidates: list[tuple[date, str, str]] = []
    for y in (year, years.shift(year, -1)):
        for term in m.oversight.terms:
            d = m.oversight_date(y, term)
            if d <= day:
                candidates.append((d, y, term))
    if not candidates:
        raise CalendarError(f"no Oversight Panel date falls on or before {day}")
    _, y, due = max(candidates)
    return y, due
