"""The Jinja environment (autoescape on, templates compiled once per process) and rendering.

``render_year_reports`` renders every school's report, the Focus/Priority data reports
(PDF too, by default) and one index per district, and returns ``{key: bytes}`` for
``sqis.publish.publish_year``. Keys are relative to the year's folder of the out root:

- ``reports/schools/<school_code>.html`` (and ``.pdf`` where PDF is on)
- ``reports/districts/<district_code>.html``
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

import jinja2
import pandas as pd

from sqis.errors import SqisError
from sqis.methodology import Methodology
from sqis.report_frames import ReportFrames
from sqis.reports import reviews as review_sections
from sqis.reports import support as support_section
from sqis.reports import year_context
from sqis.reports.district_view import district_context
from sqis.reports.school_view import school_context
from sqis.reports.sections import attach_staff
from sqis.settings import TEMPLATES_DIR
from sqis.storage import safe_key

PdfMode = Literal["auto", "all", "none"]
REPORT_TEMPLATES = TEMPLATES_DIR / "reports"


class ReportError(ValueError, SqisError):
    """Frames that cannot be reported (a bad school code, an unknown PDF mode, …)."""


# what ``getattr`` finds on a plain dict (its methods): Jinja's ``x.name`` looks these up first
_DICT_ATTRS = frozenset(dir(dict))


class _ReportEnvironment(jinja2.Environment):
    """Jinja with a fast path for ``row.name`` on the plain dicts the report contexts are.

    Jinja resolves ``x.name`` as ``getattr(x, "name")`` and, on ``AttributeError``, as
    ``x["name"]``: on a dict that raises and catches an exception for every cell of every
    table. The fast path returns ``x["name"]`` directly where ``getattr`` could only have
    failed (not a dict method), which is the same value: the HTML is unchanged.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRS:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@lru_cache(maxsize=4)
def environment(path: str = str(REPORT_TEMPLATES), *, trim: bool = False) -> jinja2.Environment:
    """The reports' Jinja environment: autoescape always on, undefined names are errors.

    Built once per process for each ``trim``: with ``trim``, a line holding only a block
    tag leaves nothing behind (Jinja's ``trim_blocks`` and ``lstrip_blocks``), as
    ``checkpoint_brief.html`` is written for; the other templates are written without it.
    """
    return _ReportEnvironment(
        loader=jinja2.FileSystemLoader(path),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=trim,
        lstrip_blocks=trim,
        auto_reload=False,
        cache_size=100,
    )


def render_template(name: str, context: dict[str, Any]) -> str:
    """Render one template of ``templates/reports/`` with ``context``."""
    return environment().get_template(name).render(**context)


def report_key(kind: str, code: str, ext: str = "html") -> str:
    """``reports/<kind>/<code>.<ext>``, refusing a code that would escape the folder."""
    if not code or "/" in code or "\\" in code or code.startswith("."):
        raise ReportError(f"refusing unsafe code {code!r} for a report file name")
    return safe_key(f"reports/{kind}/{code}.{ext}")


def render_year_reports(
    frames: ReportFrames,
    m: Methodology,
    pdf: PdfMode = "auto",
    workers: int | None = None,
    generated: str | None = None,
) -> dict[str, bytes]:
    """Every school report, Focus/Priority data report and district index of the report
    frames' year.

    ``pdf``: ``"auto"`` renders PDFs of the Focus and Priority schools' reports (their
    data reports), ``"all"`` of every school report, ``"none"`` of none. PDFs are rendered
    in parallel across ``workers`` processes (default: the CPU count). A section whose
    frames the bundle does not hold (the educators, the district index, the reviews,
    support) is left out.
    """
    if pdf not in ("auto", "all", "none"):
        raise ReportError(f"pdf must be 'auto', 'all' or 'none', not {pdf!r}")
    generated = generated or datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    yc = year_context.prepare_year(frames, m, generated=generated)
    attach_staff(yc, frames)
    review_sections.attach_staff(yc, frames)
    support_section.attach_staff(yc, frames)
    env = environment()
    school_t = env.get_template("school.html")
    district_t = env.get_template("district_index.html")
    out: dict[str, bytes] = {}
    want_pdf: dict[str, str] = {}
    for code in frames.schools["school_code"].astype(str):
        key = report_key("schools", code)
        c = school_context(yc, code)
        html = school_t.render(**c)
        out[key] = html.encode("utf-8")
        designated = c["designation"]["code"] in ("FOCUS", "PRIORITY")
        if pdf == "all" or (pdf == "auto" and designated):
            want_pdf[report_key("schools", code, "pdf")] = html
    for dcode in pd.unique(frames.schools["district_code"].astype(str)):
        out[report_key("districts", dcode)] = district_t.render(
            **district_context(yc, dcode)
        ).encode("utf-8")
    if want_pdf:
        from sqis.reports.pdf import render_pdfs

        out.update(render_pdfs(want_pdf, workers=workers))
    return out
