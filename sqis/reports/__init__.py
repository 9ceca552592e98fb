"""Public reports: school reports, Focus/Priority data reports, district indexes, Oversight Panel.

``render_year_reports`` and ``render_oversight`` turn the year's frames into files
(``{key: bytes}``) that ``sqis.publish.publish_year`` writes. Every number shown passes
through ``sqis.suppression.suppress`` first. See docs/reports.md.
"""

from __future__ import annotations

from sqis.reports.oversight import render_oversight
from sqis.reports.render import render_year_reports

__all__ = ["render_oversight", "render_year_reports"]
