"""School years as the contract writes them: ``YYYY-YY`` (``2015-16``)."""

from __future__ import annotations

import re

from sqis.errors import USAGE, SqisError

# The reports' trends: this year and the ones before it, at most this many school years.
TREND_YEARS = 5

# ASCII digits only, the whole text (``\d`` would take ``２０１５-１６``, ``$`` a trailing
# line break)
_YEAR = re.compile(r"([0-9]{4})-([0-9]{2})")


class YearError(ValueError, SqisError):
    """A school year that is not of the form ``YYYY-YY`` with consecutive years."""

    exit_code = USAGE


def start_of(year: str) -> int:
    """The calendar year in which a school year starts: ``2015-16`` → 2015."""
    m = _YEAR.fullmatch(year) if isinstance(year, str) else None
    if not m:
        raise YearError(f"school year {year!r} is not of the form YYYY-YY (e.g. 2015-16)")
    start = int(m.group(1))
    if (start + 1) % 100 != int(m.group(2)):
        raise YearError(f"school year {year!r}: the second part must be the year after the first")
    return start


def from_start(start: int) -> str:
    """The school year that starts in calendar year ``start``: 2015 → ``2015-16``."""
    return f"{start}-{(start + 1) % 100:02d}"


def shift(year: str, years: int) -> str:
    """The school year ``years`` later (negative: earlier)."""
    return from_start(start_of(year) + years)


def service_year(results_year: str) -> str:
    """The school year served by ``results_year``'s results (METHODOLOGY.md "Results year and
    service year": year Y's results decide Y+1): ``2015-16`` → ``2016-17``."""
    return shift(results_year, 1)


def results_year(service_year: str) -> str:
    """The school year whose results decide ``service_year``: ``2016-17`` → ``2015-16``."""
    return shift(service_year, -1)


def both(results_year: str) -> str:
    """Both years in words, as reports and calendars name them:
    ``2015-16 results · service year 2016-17``."""
    return f"{results_year} results · service year {service_year(results_year)}"


def is_year(text: str) -> bool:
    try:
        start_of(text)
    except YearError:
        return False
    return True


def year_range(first: str, last: str) -> list[str]:
    """Every school year from ``first`` to ``last``, inclusive, in order."""
    a, b = start_of(first), start_of(last)
    if b < a:
        raise YearError(f"year range {first}..{last} runs backwards")
    return [from_start(s) for s in range(a, b + 1)]


def parse_range(text: str) -> list[str]:
    """``2013-14..2017-18`` → the five years; a single year → a list of one."""
    if ".." in text:
        first, last = text.split("..", 1)
        return year_range(first, last)  # exactly as written: no space, no line break
    start_of(text)
    return [text]
