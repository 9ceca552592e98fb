"""The staff edition's report frames, one typed bundle (:class:`ReportFrames`).

``sqis.report_reads.report_frames`` reads them from the results store for a results year's
reports (``sqis.report_reads.split_by_district`` cuts them per district), and
``sqis.oversight.oversight_frames`` for an Oversight Panel meeting; the staff renderers
(``sqis.reports.render_year_reports``, ``sqis.reports.render_oversight``) take them.

They hold every count, value and level (METHODOLOGY.md "Two editions"), so the public
edition never takes them: ``sqis.disclosure.public_frames`` turns them into
``sqis.disclosure.PublicFrames``, a different type that only that function makes and
that the public renderers require (``require_public``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pandas as pd


@dataclass(frozen=True, eq=False)
class ReportFrames:
    """What the staff reports of results ``year`` show. A frame left ``None`` was not read:
    its section is left out (the hand-built sample and tests give only some).

    - ``schools``: the results year's schools (codes, names, district, type, Title I,
      grades).
    - ``indicators``, ``index``, ``designations``: every year on record up to ``year``,
      with a ``year`` column (the trends); ``designations`` with ``gap``, ``gap_group``.
    - ``communities``: the year's communities of practice with their checkpoint dates (an
      Oversight meeting's: every year up to ``year``, with ``year``).
    - ``plans``: the plans in force in the service year; ``checkpoints``: the service
      year's checkpoints.
    - ``goal_support``, ``supported_by``, ``partnership_flags``: the support sections
      (``sqis.reports.support``): the schools missing their goal and their support school,
      the same pairs keyed by the support school, the partnership flags.
    - ``districts``: the year's district index (``sqis.reports.district_summary``, the
      Oversight report's districts missing their goal).
    - ``educator_results``: the year's educator results; ``educator_distribution``: the
      educator distribution of every year up to ``year``, with ``year`` and
      ``district_code`` (``sqis.reports.educator_sections``).
    - ``priority_reviews``, ``escalation_steps``, ``district_reviews``,
      ``panel_decisions``: the records of ``sqis.reviews`` (``sqis.reports.reviews``).
    """

    year: str
    schools: pd.DataFrame
    indicators: pd.DataFrame
    index: pd.DataFrame
    designations: pd.DataFrame
    communities: pd.DataFrame | None = None
    plans: pd.DataFrame | None = None
    checkpoints: pd.DataFrame | None = None
    goal_support: pd.DataFrame | None = None
    supported_by: pd.DataFrame | None = None
    partnership_flags: pd.DataFrame | None = None
    districts: pd.DataFrame | None = None
    educator_results: pd.DataFrame | None = None
    educator_distribution: pd.DataFrame | None = None
    priority_reviews: pd.DataFrame | None = None
    escalation_steps: pd.DataFrame | None = None
    district_reviews: pd.DataFrame | None = None
    panel_decisions: pd.DataFrame | None = None

    def held(self) -> dict[str, pd.DataFrame]:
        """The frames read (those not ``None``), by name."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, pd.DataFrame):
                out[f.name] = value
        return out


def frame_of(frames: Any, name: str) -> pd.DataFrame:
    """The frame ``name`` of a :class:`ReportFrames`, a ``sqis.disclosure.PublicFrames`` or a
    dict of frames (a section reads either edition's); an empty frame where none is held."""
    f = frames.get(name) if isinstance(frames, dict) else getattr(frames, name, None)
    return f if isinstance(f, pd.DataFrame) else pd.DataFrame()
