"""The public edition's files (METHODOLOGY.md "Two editions"), rendered from
:class:`sqis.disclosure.PublicFrames` only.

Every entry point here checks its argument with :func:`sqis.disclosure.require_public`: it
renders nothing that did not pass the one suppression function, and nothing altered since.
Keys are relative to the year's folder of the **public root** (``<public>/<year>/``):

- ``reports/schools/<school_code>.html``: the public school report (no Focus/Priority data
  report: that is a staff document; no link to a staff file such as the calendars);
- ``reports/districts/<district_code>.html``: the district page;
- ``indicators.csv``, ``index.csv``, ``designations.csv``, ``communities.csv`` and
  ``data-dictionary.csv`` (``sqis.exports.public_csv_files``);
- ``reports/oversight-<service year>-<term>.html`` (:func:`render_public_oversight`, on the
  meeting dates).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from sqis.disclosure import PublicFrames, require_public
from sqis.methodology import Methodology
from sqis.reports import reviews as review_sections
from sqis.reports import support as support_section
from sqis.reports.district_view import district_context
from sqis.reports.oversight import render_public_oversight
from sqis.reports.render import environment, report_key
from sqis.reports.school_view import school_context
from sqis.reports.sections import attach_public
from sqis.reports.year_context import prepare_public_year

__all__ = ["render_public_edition", "render_public_oversight", "render_public_reports"]


def render_public_reports(
    pf: PublicFrames, m: Methodology, generated: str | None = None
) -> dict[str, bytes]:
    """The public school reports and district pages of the year (HTML; printable, no PDF)."""
    pf = require_public(pf)
    generated = generated or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    yc = attach_public(prepare_public_year(pf, m, generated), pf)
    review_sections.attach_public(yc, pf)
    support_section.attach_public(yc, pf)
    env = environment()
    school_t = env.get_template("school.html")
    district_t = env.get_template("district_index.html")
    out: dict[str, bytes] = {}
    for code in pf.schools["school_code"].astype(str):
        out[report_key("schools", code)] = school_t.render(**school_context(yc, code)).encode(
            "utf-8"
        )
    for dcode in pd.unique(pf.schools["district_code"].astype(str)):
        out[report_key("districts", dcode)] = district_t.render(
            **district_context(yc, dcode)
        ).encode("utf-8")
    return out


def render_public_edition(
    pf: PublicFrames, m: Methodology, generated: str | None = None
) -> dict[str, bytes]:
    """The year's public edition: school reports, district pages, the public CSVs and the
    data dictionary (the Oversight reports join it on the meeting dates)."""
    from sqis.exports import public_csv_files

    pf = require_public(pf)
    files = render_public_reports(pf, m, generated)
    files.update(public_csv_files(pf, m))
    return files
