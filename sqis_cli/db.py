"""``sqis db upgrade|current|unlock`` and ``sqis audit``: the results store from the shell."""

from __future__ import annotations

import json

import typer

from sqis_cli.app import STORE, app
from sqis_cli.errors import friendly
from sqis_cli.options import db_option
from sqis_cli.options import store as open_store

db_app = typer.Typer(
    help="The results store: schema migrations and year locks.", no_args_is_help=True
)
app.add_typer(db_app, name="db", rich_help_panel=STORE)


URL = db_option()


@db_app.command("upgrade")
@friendly
def upgrade(url: str | None = URL) -> None:
    """Create or migrate the results store's schema to this sqis's revision."""
    store = open_store(url, create=True, check=False)
    before = store.current_revision()
    store.upgrade()
    after = store.current_revision()
    typer.echo(f"{store.safe_url}: {before or 'empty'} -> {after}")


@db_app.command("current")
@friendly
def current(url: str | None = URL) -> None:
    """Show the store's schema revision, this sqis's, and any year locks held."""
    store = open_store(url, check=False)
    rev = store.current_revision()
    head = store.head_revision()
    state = "up to date" if rev == head else "outdated: run `sqis db upgrade`"
    typer.echo(f"{store.safe_url}: revision {rev or 'none'} (this sqis needs {head}; {state})")
    if rev == head:
        for lock in store.locks().to_dict("records"):
            typer.echo(
                f"  {lock['year']} locked by run {lock['run_id']} ({lock['holder']}, "
                f"since {lock['acquired_at']})"
            )


@db_app.command("unlock")
@friendly
def unlock(
    year: str = typer.Option(..., "--year", help="school year YYYY-YY"),
    url: str | None = URL,
) -> None:
    """Clear a stale year lock left by a run that died (its run is marked FAILED)."""
    from sqis import years

    year = years.SchoolYear(year)
    store = open_store(url)
    run_id = store.unlock(year)
    if run_id is None:
        typer.echo(f"{year} was not locked")
    else:
        typer.echo(f"{year} unlocked; run {run_id} marked FAILED")


@db_app.command("stale")
@friendly
def stale(url: str | None = URL) -> None:
    """The years computed from an earlier year that changed since, or was computed after
    them: re-run them in order (exit 1 when there are any)."""
    years_ = open_store(url).stale_years()
    if not years_:
        typer.echo("no stale year")
        return
    typer.echo(f"stale: {', '.join(years_)}: re-run them in this order with `sqis run --year`")
    raise typer.Exit(1)


@app.command("audit", rich_help_panel=STORE)
@friendly
def audit(
    year: str = typer.Option(..., "--year", help="school year YYYY-YY"),
    url: str | None = URL,
) -> None:
    """Every run of a year: who, when, status, inputs, methodology, outputs."""
    from sqis import years

    year = years.SchoolYear(year)
    store = open_store(url)
    runs = store.runs(year)
    if runs.empty:
        typer.echo(f"no runs of {year}")
        return
    for r in runs.to_dict("records"):
        typer.echo(f"run {r['id']}  {r['status']}  by {r['run_by']}")
        typer.echo(f"  started {r['started_at']}  finished {r['finished_at'] or '-'}")
        if r["flow_run_id"]:
            typer.echo(f"  flow run {r['flow_run_id']}")
        typer.echo(f"  methodology {r['methodology_version']} sha256 {r['methodology_checksum']}")
        typer.echo("  inputs:")
        for k, v in sorted((r["input_checksums"] or {}).items()):
            typer.echo(f"    {k}  {v}")
        typer.echo("  outputs:")
        for k, v in sorted((r["output_checksums"] or {}).items()):
            typer.echo(f"    {k}  {v}")
        if r["depends_on"]:
            typer.echo(f"  depends on: {json.dumps(r['depends_on'], sort_keys=True)}")
    stale = store.stale_years()
    if year in stale:
        typer.secho(
            f"{year} is stale: an earlier year it read was re-run with different "
            "results; run it again",
            fg="yellow",
        )
