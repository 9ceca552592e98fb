"""The checkpoint from the results store and the data root: :func:`hold_checkpoint` reads
the communities, plans, designations, schools and identification indicators from the store
and the optional interim files, runs ``sqis.checkpoints.run.run_checkpoint``, records its
rows and renders the briefs for the results year's publication (:func:`brief_key`);
:func:`checkpoint` (the ``sqis checkpoint`` command and the checkpoint flow) holds it with
the run's settings and publishes the briefs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from sqis import years
from sqis.checkpoints.rules import CheckpointError, identification_year, interim_indicators
from sqis.checkpoints.run import CheckpointResult, run_checkpoint
from sqis.methodology import Methodology
from sqis.publish import publish_more
from sqis.settings import get_settings
from sqis.years import SchoolYear


@dataclass
class HeldCheckpoint:
    """What :func:`hold_checkpoint` did: the result, the briefs to publish under the
    results year's folder (``files``, keyed as :func:`brief_key`) and what it read."""

    result: CheckpointResult
    recorded: int
    files: dict[str, bytes]
    interim_checksums: dict[str, str]

    @property
    def results_year(self) -> str:
        """The year whose folder the briefs are published in."""
        return years.results_year(self.result.year)


def brief_key(service_year: str, number: int, community: str) -> str:
    """Where a community's brief goes in the results year's publication (DATA_CONTRACT.md
    "Outputs": the year folder is the results year, its dates fall in the service year)."""
    return f"checkpoints/{service_year}-checkpoint-{number}/{community}.html"


def _latest_groups(year: str, m: Methodology, store_root: str | None) -> pd.DataFrame | None:
    """Student groups of the latest validated students file (this year, else last year):
    the interim files carry no group flags, and pseudonyms are stable across years."""
    try:
        from sqis import ingest  # type: ignore[attr-defined]
        from sqis.groups import student_groups
    except ImportError:
        return None
    for y in (year, years.shift(year, -1)):
        try:
            yd = ingest.load_year(y, store_root=store_root)
        except ingest.NotIngested:  # not ingested: try the year before
            continue
        g = student_groups(yd.students, m)
        ids = yd.students["student_id"].to_numpy()[yd.students.index.get_indexer(g.index)]
        return pd.DataFrame({"student_id": ids, "student_group": g["student_group"].astype(str)})
    return None


def hold_checkpoint(
    store: Any,
    year: str,
    number: int,
    m: Methodology,
    *,
    data_root: str | None = None,
    key: bytes | None = None,
    store_root: str | None = None,
    absent: list[str] | None = None,
    held_at: datetime | None = None,
) -> HeldCheckpoint:
    """Record checkpoint ``number`` of service year ``year`` for every stored community and
    render the briefs (*Communities of practice and checkpoints*).

    The communities were formed from the results of ``years.results_year(year)``: that
    year's ``communities``, ``designations`` (years in status → plan year and
    identification year) and ``schools``, the plans in force in ``year`` and the
    identification years' ``indicators`` are read from ``store`` (a
    ``sqis.store.ResultsStore``); the optional interim files of ``year`` under
    ``data_root`` (``<root>/<year>/interim/checkpoint-<n>/``, ``schemas/interim.py``;
    needs ``key``). Records the rows with ``store.record_checkpoint`` (under ``year``) and
    returns one brief per community (``files``, for the results year's publication).
    ``absent`` lists school codes not represented (on top of ``participation.csv``).
    """
    from sqis.plans import plan_year
    from sqis.reports.checkpoint_briefs import render_brief
    from sqis.storage import open_storage

    results = years.results_year(year)
    if store.dependency(results) is None:
        raise CheckpointError(
            f"checkpoint {number} of {year} is held for the communities formed from the "
            f"{results} results, and the results store holds none: run the year first "
            f"(`sqis run --data <root> --year {results}`)"
        )
    comm = store.read("communities", results)
    if comm.empty:
        raise CheckpointError(
            f"the {results} results designated no Focus school, so {year} has no "
            "community of practice to hold a checkpoint for"
        )
    des = store.read("designations", results)
    yis = des.set_index("school_code")["years_in_status"] if len(des) else pd.Series(dtype=int)
    comm = comm.assign(
        years_in_status=comm["school_code"].map(yis).fillna(1).astype(int).clip(lower=1)
    )
    # each school's plan: the one its two-year cycle started with
    comm["plan_year"] = [plan_year(year, int(n), m) for n in comm["years_in_status"]]
    frames = [
        store.plan_status(year=py)[["school_code", "status"]].assign(plan_year=py)
        for py in sorted(set(comm["plan_year"]))
    ]
    plans = comm[["school_code", "plan_year"]].merge(
        pd.concat(frames), on=["school_code", "plan_year"], how="left"
    )

    interim_frame = None
    participation = None
    checksums: dict[str, str] = {}
    if data_root:
        from schemas.interim import load_interim

        if key is None:
            raise CheckpointError("interim files need the pseudonymisation key")
        delivery = load_interim(open_storage(data_root), year, number, key)
        checksums = delivery.checksums
        participation = delivery.participation
        if delivery.attendance is not None or delivery.interim_assessments is not None:
            groups = _latest_groups(year, m, store_root)
            interim_frame = interim_indicators(
                delivery.attendance, delivery.interim_assessments, groups, m
            )
    if absent:
        unknown = sorted(set(absent) - set(comm["school_code"]))
        if unknown:
            raise CheckpointError(
                f"--absent {unknown[0]}: not a school of any community of practice in {year}"
            )
        base = comm[["school_code"]]
        if participation is not None:
            base = base.merge(participation, on="school_code", how="left")
        else:
            base = base.assign(attended=None, attendees=None)
        out = base["school_code"].isin(absent)
        base = base.astype({"attended": "object", "attendees": "object"})
        base.loc[out, "attended"] = False
        base.loc[out, "attendees"] = None
        participation = base

    ident_years = sorted(
        {identification_year(results, int(n)) for n in comm["years_in_status"]},
        key=years.start_of,
    )
    identification = store.read("indicators", ident_years) if interim_frame is not None else None
    schools = store.read("schools", results)

    result = run_checkpoint(
        year,
        number,
        comm,
        plans,
        interim_frame,
        identification,
        m,
        schools=schools,
        participation=participation,
        held_at=held_at,
    )
    recorded = store.record_checkpoint(year, number, result.rows)
    files = {
        brief_key(year, number, cid): render_brief(ctx).encode("utf-8")
        for cid, ctx in result.briefs.items()
    }
    return HeldCheckpoint(result, recorded, files, checksums)


@dataclass
class CheckpointHeld:
    """A checkpoint held and published: the rule module's result and the briefs' checksums."""

    held: HeldCheckpoint
    published: dict[str, str]

    @property
    def written(self) -> list[str]:
        """The briefs' keys under the out root (``<results year>/checkpoints/…``)."""
        return [f"{self.held.results_year}/{k}" for k in sorted(self.published)]


def checkpoint(
    service_year: str,
    number: int,
    data_root: str | None,
    store: Any,
    m: Methodology,
    *,
    out_root: str | None = None,
    store_root: str | None = None,
    absent: list[str] | None = None,
) -> CheckpointHeld:
    """METHODOLOGY.md "Communities of practice and checkpoints": hold checkpoint ``number``
    of ``service_year`` for the communities formed from the year before's results.

    :func:`hold_checkpoint` records it in the results store; its briefs join
    the results year's publication (``<out>/<results year>/checkpoints/…``, in the
    manifest, kept by later re-runs of the year). Interim files under
    ``<data root>/<service year>/interim/checkpoint-<n>/`` are read when delivered (they
    need the pseudonym key).
    """
    service_year = SchoolYear(service_year)  # parsed once, here
    s = get_settings()
    key = s.require_pseudonym_key() if data_root else None
    held = hold_checkpoint(
        store,
        service_year,
        number,
        m,
        data_root=data_root,
        key=key,
        store_root=store_root or s.store_root,
        absent=absent,
    )
    published = publish_more(held.results_year, held.files, out_root or s.out_root)
    return CheckpointHeld(held, published)
