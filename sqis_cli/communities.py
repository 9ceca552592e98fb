"""``sqis checkpoint``, ``sqis plan submit|approve|status`` and ``sqis calendars``: the
communities of practice from the shell (docs/communities.md)."""

from __future__ import annotations

from typing import Any

import typer

from sqis_cli.app import SERVICE, app
from sqis_cli.errors import friendly
from sqis_cli.options import db_option
from sqis_cli.options import store as open_store

plan_app = typer.Typer(
    help="Focus school plans: DRAFT → SUBMITTED → APPROVED (the superintendent approves).",
    no_args_is_help=True,
)
app.add_typer(plan_app, name="plan", rich_help_panel=SERVICE)

YEAR = typer.Option(
    ..., "--year", help="service year YYYY-YY (the plan's first year; decided by the year before)"
)
SERVICE_YEAR = typer.Option(
    ..., "--year", help="service year YYYY-YY (decided by the year before's results)"
)
URL = db_option()


def _store(url: str | None) -> Any:
    return open_store(url)


def _school(code: str) -> str:
    import re

    from schemas.interim import SCHOOL_CODE_PATTERN

    if not re.fullmatch(SCHOOL_CODE_PATTERN, code):
        typer.secho(f"error: --school {code!r} is not a 14-digit CDS code", fg="red", err=True)
        raise typer.Exit(2)
    return code


@app.command("checkpoint", rich_help_panel=SERVICE)
@friendly
def checkpoint(
    year: str | None = typer.Option(
        None,
        "--year",
        help="service year YYYY-YY (communities formed from the year before's results); "
        "default: the checkpoint due on --date",
    ),
    number: int | None = typer.Option(
        None, "--number", min=1, help="checkpoint number (1–4); default: due on --date"
    ),
    as_of: str | None = typer.Option(
        None, "--date", help="hold the checkpoint due on this date (YYYY-MM-DD); default today"
    ),
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
    """Hold checkpoint N of a service year for every community of practice formed from the
    year before's results: record it and publish its briefs."""
    from flows.checkpoint import resolve
    from sqis import methodology as meth
    from sqis import years
    from sqis.checkpoints.io import checkpoint
    from sqis.settings import get_settings
    from sqis_cli.run import as_of_date

    if year:
        year = years.SchoolYear(year)
    year, number = resolve(year, number, as_of_date(as_of))
    s = get_settings()
    m = meth.for_year(year.results_year, methodology, s.methodology_dir)
    done = checkpoint(
        year,
        number,
        data,
        _store(url),
        m,
        out_root=out or s.out_root,
        store_root=s.store_root,
        absent=[_school(a) for a in absent],
    )
    held = done.held
    r = held.result
    n = len(r.briefs)
    typer.echo(
        f"checkpoint {number} of {year} ({r.date.isoformat()}), communities formed from the "
        f"{held.results_year} results: {n} {'community' if n == 1 else 'communities'}, "
        f"{held.recorded} school rows recorded"
    )
    if held.interim_checksums:
        typer.echo(f"  interim files read: {', '.join(sorted(held.interim_checksums))}")
    flagged = r.rows[r.rows["flags"].map(bool)]
    for row in flagged.itertuples(index=False):
        typer.echo(f"  {row.community_id} {row.school_code}: {', '.join(row.flags)}")
    root = (out or s.out_root).rstrip("/")
    for k in done.written:
        typer.echo(f"  wrote {root}/{k}")


@app.command("calendars", rich_help_panel=SERVICE)
@friendly
def calendars(
    year: str = SERVICE_YEAR,
    out: str | None = typer.Option(None, "--out", help="output root (default: SQIS_OUT_ROOT)"),
    methodology: str | None = typer.Option(None, "--methodology", help="version or file"),
    url: str | None = URL,
) -> None:
    """Re-publish a service year's calendars (the annual run writes them): each community's
    checkpoints and each school's Symposium and Convening, under the results year's folder."""
    from sqis import methodology as meth
    from sqis import publish as publication
    from sqis import run_control, years
    from sqis.calendar import year_calendars
    from sqis.settings import get_settings

    year = years.SchoolYear(year)
    s = get_settings()
    store = _store(url)
    results = run_control.require_results(store, year, "the calendar")
    m = meth.for_year(results, methodology, s.methodology_dir)
    files = year_calendars(
        results,
        store.read("communities", results),
        store.read("designations", results),
        store.read("partnerships", results),
        m,
    )
    publication.publish_more(results, files, out or s.out_root)
    for key in sorted(files):
        typer.echo(f"wrote {results}/{key}")


@plan_app.command("submit")
@friendly
def plan_submit(
    school: str = typer.Option(..., "--school", help="14-digit CDS code"),
    year: str = YEAR,
    by: str = typer.Option(..., "--by", help="who submits (name and role)"),
    url: str | None = URL,
) -> None:
    """A school submits its plan to the superintendent (DRAFT → SUBMITTED)."""
    store = _plan_store(url, year)
    store.plan_submit(_school(school), year, by)
    typer.echo(f"plan of {school} for {year}: SUBMITTED by {by}")


@plan_app.command("approve")
@friendly
def plan_approve(
    school: str = typer.Option(..., "--school", help="14-digit CDS code"),
    year: str = YEAR,
    by: str = typer.Option(..., "--by", help="the approving superintendent (name)"),
    url: str | None = URL,
) -> None:
    """The superintendent approves a submitted plan (SUBMITTED → APPROVED; else refused)."""
    store = _plan_store(url, year)
    if not by.strip():
        typer.secho("error: --by must name the approver", fg="red", err=True)
        raise typer.Exit(1)
    store.plan_approve(_school(school), year, by)
    typer.echo(f"plan of {school} for {year}: APPROVED by {by}")


@plan_app.command("status")
@friendly
def plan_status(
    year: str = YEAR,
    school: str | None = typer.Option(None, "--school", help="one school (default: all)"),
    url: str | None = URL,
) -> None:
    """The plans of the year (one school's with --school): status, deadline, who and when."""
    frame = _plan_store(url, year).plan_status(_school(school) if school else None, year=year)
    if frame.empty:
        what = f"school {school}" if school else "any school"
        typer.secho(f"no plan for {what} in {year}", err=True)
        raise typer.Exit(1)
    typer.echo("school_code     status     deadline    submitted_by / approved_by")
    for r in frame.itertuples(index=False):
        who = " / ".join(str(x) for x in (r.submitted_by, r.approved_by) if _present(x))
        typer.echo(f"{r.school_code}  {r.status:<9}  {_text(r.deadline):<10}  {who}")


def _plan_store(url: str | None, year: str) -> Any:
    """The results store, once it holds the results that started the plans of ``year``."""
    from sqis import run_control, years

    year = years.SchoolYear(year)
    store = _store(url)
    run_control.require_results(store, year, "a two-year plan")
    return store


def _present(x: Any) -> bool:
    import pandas as pd

    return x is not None and not (isinstance(x, float) and pd.isna(x)) and x is not pd.NA


def _text(x: Any) -> str:
    return str(x) if _present(x) else "-"
