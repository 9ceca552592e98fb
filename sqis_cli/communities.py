"""``sqis checkpoint``, ``sqis plan submit|approve|status`` and ``sqis calendars``: the
communities of practice from the shell (docs/communities.md)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from sqis_cli.app import app
from sqis_cli.errors import friendly

F = TypeVar("F", bound=Callable[..., Any])

plan_app = typer.Typer(
    help="Focus school plans: DRAFT → SUBMITTED → APPROVED (the superintendent approves).",
    no_args_is_help=True,
)
app.add_typer(plan_app, name="plan")

YEAR = typer.Option(..., "--year", help="school year YYYY-YY")
URL = typer.Option(None, "--url", help="results store URL (default: SQIS_DATABASE_URL)")


def _refusals(fn: F) -> F:
    """Plan refusals and checkpoint problems: one clear line, exit 1; store trouble: exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from schemas.interim import InterimError
        from sqis.checkpoints import CheckpointError
        from sqis.plans import PlanStateError as RulePlanStateError
        from sqis.store import PlanStateError, StoreError

        try:
            return fn(*args, **kwargs)
        except (PlanStateError, RulePlanStateError, CheckpointError, InterimError) as e:
            typer.secho(f"error: {e}", fg="red", err=True)
            raise typer.Exit(1) from None
        except StoreError as e:
            typer.secho(f"error: {e}", fg="red", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _store(url: str | None) -> Any:
    from sqis.store import ResultsStore

    store = ResultsStore(url)
    store.check_schema()
    return store


def _school(code: str) -> str:
    import re

    from schemas.interim import SCHOOL_CODE_PATTERN

    if not re.fullmatch(SCHOOL_CODE_PATTERN, code):
        typer.secho(f"error: --school {code!r} is not a 14-digit CDS code", fg="red", err=True)
        raise typer.Exit(2)
    return code


@app.command("checkpoint")
@friendly
@_refusals
def checkpoint(
    year: str = YEAR,
    number: int = typer.Option(..., "--number", min=1, help="checkpoint number (1–4)"),
    data: str | None = typer.Option(
        None, "--data", help="data root holding <year>/interim/checkpoint-<n>/ (optional)"
    ),
    out: str | None = typer.Option(None, "--out", help="output root (default: SQIS_OUT_ROOT)"),
    absent: list[str] = typer.Option(
        [], "--absent", help="school code not represented at the checkpoint (repeatable)"
    ),
    methodology: str | None = typer.Option(None, "--methodology", help="version or file"),
    url: str | None = URL,
) -> None:
    """Record checkpoint N for every community of practice of the year and write its briefs."""
    from sqis import methodology as meth
    from sqis import years
    from sqis.checkpoints import hold_checkpoint
    from sqis.settings import get_settings

    years.start_of(year)
    s = get_settings()
    m = meth.for_year(year, methodology, s.methodology_dir)
    key = s.require_pseudonym_key() if data else None
    held = hold_checkpoint(
        _store(url),
        year,
        number,
        m,
        data_root=data,
        out_root=out or s.out_root,
        key=key,
        store_root=s.store_root,
        absent=[_school(a) for a in absent],
    )
    r = held.result
    n = len(r.briefs)
    typer.echo(
        f"checkpoint {number} of {year} ({r.date.isoformat()}): {n} "
        f"{'community' if n == 1 else 'communities'}, {held.recorded} school rows recorded"
    )
    if held.interim_checksums:
        typer.echo(f"  interim files read: {', '.join(sorted(held.interim_checksums))}")
    flagged = r.rows[r.rows["flags"].map(bool)]
    for row in flagged.itertuples(index=False):
        typer.echo(f"  {row.community_id} {row.school_code}: {', '.join(row.flags)}")
    root = (out or s.out_root).rstrip("/")
    for k in held.written:
        typer.echo(f"  wrote {root}/{k}")


@app.command("calendars")
@friendly
@_refusals
def calendars(
    year: str = YEAR,
    out: str | None = typer.Option(None, "--out", help="output root (default: SQIS_OUT_ROOT)"),
    methodology: str | None = typer.Option(None, "--methodology", help="version or file"),
    url: str | None = URL,
) -> None:
    """Write one .ics calendar per community: <out>/<year>/communities/<community_id>.ics."""
    from sqis import methodology as meth
    from sqis import years
    from sqis.calendar import community_calendar
    from sqis.settings import get_settings
    from sqis.storage import open_storage

    years.start_of(year)
    s = get_settings()
    m = meth.for_year(year, methodology, s.methodology_dir)
    comm = _store(url).read("communities", year)
    if comm.empty:
        typer.secho(f"error: no communities of practice are stored for {year}", fg="red", err=True)
        raise typer.Exit(1)
    target = open_storage(out or s.out_root)
    dates = m.checkpoint_dates(year)
    for cid, g in comm.groupby("community_id", sort=True):
        desc = (
            f"Community of practice {cid}: Focus schools of reason group "
            f"{g['reason_group'].iloc[0]} ({g['school_type'].iloc[0]}), "
            f"{len(g)} schools. Bring your plan status and interim data."
        )
        data = community_calendar(str(cid), dates, year, m, desc)
        key = f"{year}/communities/{cid}.ics"
        target.write_bytes(key, data, "text/calendar; charset=utf-8")
        typer.echo(f"wrote {key}")


@plan_app.command("submit")
@friendly
@_refusals
def plan_submit(
    school: str = typer.Option(..., "--school", help="14-digit CDS code"),
    year: str = YEAR,
    by: str = typer.Option(..., "--by", help="who submits (name and role)"),
    url: str | None = URL,
) -> None:
    """A school submits its plan to the superintendent (DRAFT → SUBMITTED)."""
    from sqis import years

    years.start_of(year)
    _store(url).plan_submit(_school(school), year, by)
    typer.echo(f"plan of {school} for {year}: SUBMITTED by {by}")


@plan_app.command("approve")
@friendly
@_refusals
def plan_approve(
    school: str = typer.Option(..., "--school", help="14-digit CDS code"),
    year: str = YEAR,
    by: str = typer.Option(..., "--by", help="the approving superintendent (name)"),
    url: str | None = URL,
) -> None:
    """The superintendent approves a submitted plan (SUBMITTED → APPROVED; else refused)."""
    from sqis import years

    years.start_of(year)
    if not by.strip():
        typer.secho("error: --by must name the approver", fg="red", err=True)
        raise typer.Exit(1)
    _store(url).plan_approve(_school(school), year, by)
    typer.echo(f"plan of {school} for {year}: APPROVED by {by}")


@plan_app.command("status")
@friendly
@_refusals
def plan_status(
    year: str = YEAR,
    school: str | None = typer.Option(None, "--school", help="one school (default: all)"),
    url: str | None = URL,
) -> None:
    """The plans of the year (one school's with --school): status, deadline, who and when."""
    from sqis import years

    years.start_of(year)
    frame = _store(url).plan_status(_school(school) if school else None, year=year)
    if frame.empty:
        what = f"school {school}" if school else "any school"
        typer.secho(f"no plan for {what} in {year}", err=True)
        raise typer.Exit(1)
    typer.echo("school_code     status     deadline    submitted_by / approved_by")
    for r in frame.itertuples(index=False):
        who = " / ".join(str(x) for x in (r.submitted_by, r.approved_by) if _present(x))
        typer.echo(f"{r.school_code}  {r.status:<9}  {_text(r.deadline):<10}  {who}")


def _present(x: Any) -> bool:
    import pandas as pd

    return x is not None and not (isinstance(x, float) and pd.isna(x)) and x is not pd.NA


def _text(x: Any) -> str:
    return str(x) if _present(x) else "-"
