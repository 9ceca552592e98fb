"""A results year's files (DATA_CONTRACT.md "Outputs"), as ``{key: bytes}`` for
``sqis.publish`` to write (staging, manifest last):

- the staff edition: the contract's CSV exports (:func:`exports`), the school reports,
  Focus/Priority data reports and district indexes of a district (:func:`reports`), the
  service year's calendars (:func:`calendars`), the educator actions and pages
  (:func:`educator_staff_files`);
- the public edition (:func:`public_files`): the report frames through
  ``sqis.disclosure.public_frames``, the one suppression function, and nothing else.

Every report says what it was produced from (:func:`produced_stamp`: the inputs, not the
clock), so a re-run writes the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from sqis.determinations import schedule
from sqis.report_reads import drop_year, up_to

if TYPE_CHECKING:
    from sqis.determinations import YearTables
    from sqis.methodology import Methodology
    from sqis.report_frames import ReportFrames
    from sqis.store import ResultsStore
    from sqis.years import SchoolYear


def produced_stamp(year: str, input_checksums: dict[str, str], m: Methodology) -> str:
    """The "produced" line of the reports: the inputs, not the clock, so re-runs are identical."""
    digest = hashlib.sha256(json.dumps(input_checksums, sort_keys=True).encode()).hexdigest()
    return f"from the {year} delivery (inputs {digest[:12]}, methodology {m.version})"


def exports(
    tables: YearTables, m: Methodology, held: pd.DataFrame | None = None
) -> dict[str, bytes]:
    """The contract's CSV exports (DATA_CONTRACT.md "Outputs"), as ``{name.csv: bytes}``.

    ``communities.csv`` dates the checkpoints in the service year; ``held`` (the service
    year's recorded checkpoints) marks those already held, so a re-run keeps them HELD.

    Returned as bytes, not written, so that ``publish`` writes them with the reports
    atomically (manifest last).
    """
    from sqis import exports as ex

    frames = {
        "indicators": tables.indicators,
        "index": tables.index_scores,
        "designations": tables.designations,
        "communities": schedule(tables.communities, tables.year, m, held),
        "districts": tables.district_index,
        "goal_support": tables.goal_support,
        "partnership_flags": tables.partnership_flags,
    }
    files = {f"{name}.csv": ex.to_csv_bytes(name, frames[name]) for name in ex.CONTRACT}
    if not tables.educator_results.empty:  # METHODOLOGY.md "Educator effectiveness"
        files.update(ex.educator_files(tables.educator_results, tables.educator_distribution))
    return files


def reports(
    frames: ReportFrames,
    m: Methodology,
    *,
    pdf: str = "auto",
    produced: str | None = None,
) -> dict[str, bytes]:
    """School reports, Focus/Priority data reports and district indexes (``sqis.reports``).

    Keys are relative to the year's folder (``reports/schools/<code>.html``).
    """
    from sqis import reports as rep

    return rep.render_year_reports(frames, m, pdf=pdf, generated=produced)  # type: ignore[arg-type]


def public_files(
    tables: YearTables, frames: ReportFrames, m: Methodology, produced: str
) -> dict[str, bytes]:
    """The year's **public edition** (METHODOLOGY.md "Two editions"): the report frames go
    through ``sqis.disclosure.public_frames`` — the one suppression function — and
    everything public is rendered from its result (``sqis.reports.public``): school
    reports, district pages, the public CSVs and ``data-dictionary.csv``. Keys are relative
    to ``<public root>/<year>/``."""
    from sqis.disclosure import public_frames
    from sqis.reports.public import render_public_edition

    scheduled = schedule(tables.communities, tables.year, m, frames.checkpoints)
    frames = replace(frames, communities=scheduled, districts=tables.district_index)
    pf = public_frames(frames, m)
    files = render_public_edition(pf, m, produced)
    files.update(public_educator_files(tables, m, files, pf.educators))
    return files


def public_educator_files(
    tables: YearTables,
    m: Methodology,
    public: dict[str, bytes],
    suppressed: pd.DataFrame | None = None,
) -> dict[str, bytes]:
    """METHODOLOGY.md "Educator effectiveness": from the first implementation year, the
    public ``educator-distribution.csv`` — suppressed by
    ``sqis.disclosure.public_educator_distribution``, the one function for it — and its
    rows of ``data-dictionary.csv``. The pilot year publishes nothing of educators.
    ``suppressed``: ``PublicFrames.educators`` (the same function's result, years on
    record), whose rows of the year are used rather than suppressing the year again."""
    from sqis import exports as ex
    from sqis.disclosure import public_educator_distribution

    e = m.educators
    dist = tables.educator_distribution
    if e is None or e.stage(tables.year) != "implementation" or dist.empty:
        return {}
    now = None
    if suppressed is not None:
        now = suppressed[suppressed["year"] == tables.year].drop(columns=["year"])
    if now is None or len(now) != len(dist):
        now = public_educator_distribution(dist, m)
    out = {"educator-distribution.csv": ex.public_educator_distribution_csv(now)}
    if ex.DICTIONARY in public:
        out[ex.DICTIONARY] = public[ex.DICTIONARY] + ex.educator_dictionary_rows(m)
    return out


def educator_action_files(store: ResultsStore, year: SchoolYear) -> dict[str, bytes]:
    """The staff edition's ``educator-actions.csv`` (METHODOLOGY.md "Educator
    effectiveness", option 1): the actions the districts recorded on a ``TRIGGER`` of
    ``year`` and the years before (``sqis educator action``), with the service year an
    improvement plan lasts through."""
    from sqis import exports as ex

    actions = up_to(store.read("educator_actions"), year.start)
    if not actions.empty:
        actions = actions.assign(
            recorded_at=pd.to_datetime(actions["recorded_at"], utc=True).dt.strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
        )
    return {"educator-actions.csv": ex.to_csv_bytes("educator-actions", actions)}


def educator_staff_files(
    store: ResultsStore, year: SchoolYear, m: Methodology, produced: str
) -> dict[str, bytes]:
    """The staff edition's educator files besides the exports, from the results store:
    ``educator-actions.csv`` and the staff pages (``sqis.reports.educator_pages``: a page per
    school for its principal, per district, and the consortium's for the Oversight Panel).
    Rewritten by the year's run and by ``sqis educator action``."""
    from sqis.reports.educator_pages import educator_pages

    files = educator_action_files(store, year)
    history = up_to(store.read("educator_distribution"), year.start)
    files.update(
        educator_pages(
            year,
            drop_year(store.read("schools", [year])),
            drop_year(store.read("educator_results", [year])),
            history,
            drop_year(store.read("educator_actions", [year])),
            m,
            produced,
        )
    )
    return files


def calendars(tables: YearTables, m: Methodology) -> dict[str, bytes]:
    """The service year's iCalendar files (``sqis.calendar``): each community's checkpoints
    (``communities/<community_id>.ics``) and each school's Reward School Symposium and
    Partnership Building Convening (``events/<school_code>.ics``), stamped with the year's
    results so that a re-run writes the same bytes."""
    from sqis import calendar as cal

    return cal.year_calendars(
        tables.year, tables.communities, tables.designations, tables.partnerships, m
    )
