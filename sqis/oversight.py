"""The Oversight Panel's report of a meeting (METHODOLOGY.md "Oversight Panel"), both
editions, from the results store.

A meeting of service year Y+1 reviews the results of Y and Y+1's follow-through (its
checkpoints and plans in force): :func:`oversight_frames` reads them (refused with
``sqis.run_control.NoResults`` when Y has not been run); :func:`oversight` renders the
staff edition (``sqis.reports.render_oversight``), :func:`public_oversight` the public one
through ``sqis.disclosure.public_frames``. The ``oversight-report`` flow publishes both
into Y's publication.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from sqis import reviews
from sqis.report_frames import ReportFrames
from sqis.report_reads import drop_year, stored_plans_in_force, support_frames, up_to
from sqis.run_control import require_results
from sqis.years import SchoolYear

if TYPE_CHECKING:
    from sqis.methodology import Methodology
    from sqis.store import ResultsStore


def oversight(
    service_year: str,
    term: str,
    store: ResultsStore,
    m: Methodology,
    *,
    produced: str | None = None,
) -> dict[str, bytes]:
    """METHODOLOGY.md "Oversight Panel": the report of the ``term`` meeting of
    ``service_year``, from the results store — the staff edition (every count and gap).

    The meeting reviews the results year before ``service_year`` and the service year's
    follow-through (its checkpoints and plans in force). The schools are the results
    year's; indicators, index and designations hold the years on record up to it (with
    their ``year`` column), for the trends the panel reviews. Refused
    (``sqis.run_control.NoResults``) when the results year has not been run.
    """
    from sqis import reports as rep

    return rep.render_oversight(oversight_frames(service_year, term, store, m), term, m, produced)


def public_oversight(
    service_year: str,
    term: str,
    store: ResultsStore,
    m: Methodology,
    *,
    produced: str | None = None,
) -> dict[str, bytes]:
    """The Oversight Panel's **public** report of the ``term`` meeting of ``service_year``:
    the same frames through ``sqis.disclosure.public_frames`` (METHODOLOGY.md "Two
    editions"), rendered by ``sqis.reports.public.render_public_oversight``. Keys are
    relative to ``<public root>/<results year>/``."""
    from sqis.disclosure import public_frames
    from sqis.reports.public import render_public_oversight

    frames = oversight_frames(service_year, term, store, m)
    return render_public_oversight(public_frames(frames, m), term, m, produced)


def oversight_frames(
    service_year: str, term: str, store: ResultsStore, m: Methodology
) -> ReportFrames:
    """The report frames of an Oversight meeting of ``service_year``, of the results year
    it reviews: schools of the results year; indicators, index, designations, communities
    and the educator distribution of every year up to it; the plans in force and the
    checkpoints of the service year. The entry of both editions of the report:
    ``service_year`` is parsed here."""
    service_year = SchoolYear(service_year)
    year = require_results(store, service_year, f"the {term} Oversight Panel meeting")
    start = year.start

    def upto(table: str) -> pd.DataFrame:
        return up_to(store.read(table), start)

    des = upto("designations")
    in_force = stored_plans_in_force(store, des[des["year"] == year], service_year, m)
    return ReportFrames(
        year,
        drop_year(store.read("schools", [year])),
        upto("indicators"),
        upto("index_scores"),
        des,
        communities=upto("communities"),
        plans=in_force,
        checkpoints=drop_year(store.read("checkpoints", [service_year])),
        educator_distribution=upto("educator_distribution"),
        **support_frames(store, year, with_districts=True),
        **reviews.oversight_frames(store, service_year, term),  # sqis.reports.reviews
    )
