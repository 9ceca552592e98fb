"""School years as the contract writes them: ``YYYY-YY`` (``2015-16``).

A school year is a :class:`SchoolYear`, parsed once where it enters — the ``sqis``
commands, a flow's parameters, ``sqis.pipeline.run_year`` and the other entry points — and
handed down as that value: the run path reads ``year.start``, ``year.previous``,
``year.service_year`` and never parses the text again.

``SchoolYear`` is a ``str`` subclass rather than a frozen dataclass because its text *is*
the contract's label: a year is a dict key, a folder in every path (``validated/<year>/``,
``<out>/<year>/``), a value in a DataFrame's ``year`` column and in the results store, a
word in a message. As a ``str`` it goes everywhere the label went — equal to and hashing as
its text, written as its text by CSV, Parquet, JSON, SQL and Jinja — so no boundary needs a
``str(year)`` and no output changes by a byte. What it adds is the check at construction
(the same :class:`YearError`, the same message) and the arithmetic. It holds no other state
(``__slots__ = ()``): the start year is the validated text's first four ASCII digits.

The module's functions (:func:`start_of`, :func:`shift`, …) take text from outside a run —
years read back from files, folder names, frames, the store — and give ``SchoolYear``
values; handed a ``SchoolYear`` they do not parse it again (``SchoolYear(y)`` is ``y``).
"""

from __future__ import annotations

import re
from typing import Any

from sqis.errors import USAGE, SqisError

# The reports' trends: this year and the ones before it, at most this many school years.
TREND_YEARS = 5

# ASCII digits only, the whole text (``\d`` would take ``２０１５-１６``, ``$`` a trailing
# line break)
_YEAR = re.compile(r"([0-9]{4})-([0-9]{2})")


class YearError(ValueError, SqisError):
    """A school year that is not of the form ``YYYY-YY`` with consecutive years."""

    exit_code = USAGE


class SchoolYear(str):
    """A school year, ``YYYY-YY`` with consecutive years, checked once at construction.

    ``SchoolYear("2015-16")`` raises :class:`YearError` for any other text (or a non-text);
    ``SchoolYear(y)`` of a ``SchoolYear`` is ``y`` itself. Equal to its text, and a ``str``
    wherever one is taken (see the module docstring for why).
    """

    __slots__ = ()

    def __new__(cls, text: object) -> SchoolYear:
        if isinstance(text, SchoolYear):
            return text
        m = _YEAR.fullmatch(text) if isinstance(text, str) else None
        if not m:
            raise YearError(f"school year {text!r} is not of the form YYYY-YY (e.g. 2015-16)")
        if (int(m.group(1)) + 1) % 100 != int(m.group(2)):
            raise YearError(
                f"school year {text!r}: the second part must be the year after the first"
            )
        return super().__new__(cls, text)

    @classmethod
    def from_start(cls, start: int) -> SchoolYear:
        """The school year that starts in calendar year ``start``: 2015 → ``2015-16`` (made,
        not parsed: the arithmetic of ``shift``, ``next``, … reads no text)."""
        text = f"{start}-{(start + 1) % 100:02d}"
        if not 1000 <= start <= 9999:  # four digits, as the contract writes a year
            raise YearError(f"school year {text!r} is not of the form YYYY-YY (e.g. 2015-16)")
        return str.__new__(cls, text)

    @property
    def start(self) -> int:
        """The calendar year in which the school year starts: ``2015-16`` → 2015."""
        return int(self[:4])  # checked at construction: four ASCII digits

    def shift(self, years: int) -> SchoolYear:
        """The school year ``years`` later (negative: earlier)."""
        return SchoolYear.from_start(self.start + years)

    @property
    def next(self) -> SchoolYear:
        return self.shift(1)

    @property
    def previous(self) -> SchoolYear:
        return self.shift(-1)

    @property
    def service_year(self) -> SchoolYear:
        """The school year served by this results year's results (METHODOLOGY.md "Results
        year and service year": year Y's results decide Y+1): ``2015-16`` → ``2016-17``."""
        return self.next

    @property
    def results_year(self) -> SchoolYear:
        """The school year whose results decide this service year: ``2016-17`` → ``2015-16``."""
        return self.previous

    @property
    def both(self) -> str:
        """This results year and its service year in words, as reports and calendars name
        them: ``2015-16 results · service year 2016-17``."""
        return f"{self} results · service year {self.service_year}"

    def __copy__(self) -> SchoolYear:
        return self  # immutable: a copy is the value itself, not parsed again

    def __deepcopy__(self, memo: dict[int, Any]) -> SchoolYear:
        return self

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """A pydantic field typed ``SchoolYear`` (the methodology's years): text checked by
        the constructor, written back as its text."""
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )


def start_of(year: str) -> int:
    """The calendar year in which a school year starts: ``2015-16`` → 2015."""
    return SchoolYear(year).start


def from_start(start: int) -> SchoolYear:
    """The school year that starts in calendar year ``start``: 2015 → ``2015-16``."""
    return SchoolYear.from_start(start)


def shift(year: str, years: int) -> SchoolYear:
    """The school year ``years`` later (negative: earlier)."""
    return SchoolYear(year).shift(years)


def service_year(results_year: str) -> SchoolYear:
    """The school year served by ``results_year``'s results (METHODOLOGY.md "Results year and
    service year": year Y's results decide Y+1): ``2015-16`` → ``2016-17``."""
    return SchoolYear(results_year).service_year


def results_year(service_year: str) -> SchoolYear:
    """The school year whose results decide ``service_year``: ``2016-17`` → ``2015-16``."""
    return SchoolYear(service_year).results_year


def both(results_year: str) -> str:
    """Both years in words, as reports and calendars name them:
    ``2015-16 results · service year 2016-17``."""
    return SchoolYear(results_year).both


def is_year(text: str) -> bool:
    try:
        SchoolYear(text)
    except YearError:
        return False
    return True


def year_range(first: str, last: str) -> list[SchoolYear]:
    """Every school year from ``first`` to ``last``, inclusive, in order."""
    a, b = SchoolYear(first).start, SchoolYear(last).start
    if b < a:
        raise YearError(f"year range {first}..{last} runs backwards")
    return [SchoolYear.from_start(s) for s in range(a, b + 1)]


def parse_range(text: str) -> list[SchoolYear]:
    """``2013-14..2017-18`` → the five years; a single year → a list of one."""
    if ".." in text:
        first, last = text.split("..", 1)
        return year_range(first, last)  # exactly as written: no space, no line break
    return [SchoolYear(text)]
