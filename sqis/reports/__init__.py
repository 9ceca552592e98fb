"""Reports in two editions (METHODOLOGY.md "Two editions"; docs/reports.md).

- **Staff** (the out root, access-controlled): ``render_year_reports`` (school reports,
  Focus/Priority data reports, district indexes) and ``render_oversight`` show every count,
  value and level.
- **Public** (the public root): ``render_public_edition`` and ``render_public_oversight``
  (``sqis.reports.public``) take only ``sqis.disclosure.PublicFrames``, which only the one
  suppression function, ``sqis.disclosure.public_frames``, makes.

Both return files (``{key: bytes}``) that ``sqis.publish.publish_year`` writes.
"""

from __future__ import annotations

from sqis.reports.oversight import render_oversight
from sqis.reports.render import render_year_reports

__all__ = ["render_oversight", "render_year_reports"]
