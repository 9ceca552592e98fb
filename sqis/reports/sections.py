"""The sections added to the school report and the district page since their templates
were written, each in its own partial template and module, hooked into the contexts of
``sqis.reports.school_view`` and ``district_view`` by one call each:

- ``educators`` (``sqis.reports.educator_sections``): the school's teachers for its
  principal (staff edition only), the district's educators by level and their trend;
- ``district_index`` (``sqis.reports.district_summary``): the district's SQII, domain
  scores, prior SQII, SQI Goal and whether it is met.

``attach_staff`` / ``attach_public`` prepare them once for the year (``YearContext.sections``);
``school_keys`` / ``district_keys`` give a report's context its keys (``None`` where a
section has nothing to show: the template leaves it out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqis.reports import district_summary, educator_sections

if TYPE_CHECKING:
    from sqis.disclosure import PublicFrames
    from sqis.report_frames import ReportFrames
    from sqis.reports.year_context import YearContext


def attach_staff(yc: YearContext, frames: ReportFrames) -> YearContext:
    """The staff edition's sections, from the report frames."""
    educator_sections.attach_staff(yc, frames)
    district_summary.attach_staff(yc, frames)
    return yc


def attach_public(yc: YearContext, pf: PublicFrames) -> YearContext:
    """The public edition's sections, from :class:`sqis.disclosure.PublicFrames` only."""
    educator_sections.attach_public(yc, pf)
    district_summary.attach_public(yc, pf)
    return yc


def school_keys(yc: YearContext, school_code: str) -> dict[str, Any]:
    """The school report's keys: ``educators`` (staff edition only, else ``None``)."""
    return {"educators": educator_sections.school_section(yc, school_code)}


def district_keys(yc: YearContext, district_code: str) -> dict[str, Any]:
    """The district page's keys: ``district_index`` and ``educators``."""
    return {
        "district_index": district_summary.district_section(yc, district_code),
        "educators": educator_sections.district_section(yc, district_code),
    }
