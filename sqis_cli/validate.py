"""``sqis validate`` and ``sqis ingest``: check a year's delivery, then store it.

Exit codes: 0 clean (or ingested / unchanged), 1 the delivery breaks the data contract
(a summary is printed and the full report written as CSV), 2 input that cannot be used
at all (a file missing or unreadable, a bad year, no pseudonymisation key, a changed
delivery without ``--replace``): one ``error: …`` line per problem, never a traceback.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sqis_cli.app import DELIVERIES, app
from sqis_cli.errors import friendly

_ROOT_HELP = "Data root: a folder or s3://bucket/prefix holding one YYYY-YY folder per year."


def _print_report(report, path: str) -> None:
    console = Console(stderr=False)
    table = Table(title=escape(f"Delivery {report.year} — {report.data_root}"))
    table.add_column("file")
    table.add_column("rows", justify="right")
    table.add_column("status")
    counts = report.summary().groupby("file")["count"].sum() if not report.ok else {}
    from sqis import codes

    for name in codes.CONTRACT_FILES:
        raw = report.files.get(name)
        if name in report.unreadable:
            table.add_row(name, "-", "[red]unreadable[/red]")
        else:
            n = int(counts.get(name, 0)) if len(counts) else 0
            status = "[green]ok[/green]" if n == 0 else f"[red]{n} failures[/red]"
            table.add_row(name, f"{raw.n_rows:,}" if raw else "-", status)
    console.print(table)
    if not report.ok:
        summary = Table(title="Failures by file, rule and column")
        for c in ("file", "rule", "column", "count"):
            summary.add_column(c, justify="right" if c == "count" else "left")
        for r in report.summary().itertuples(index=False):  # delivered names: no markup
            summary.add_row(escape(r.file), escape(r.rule), escape(r.column), f"{r.count:,}")
        console.print(summary)
    if getattr(report, "truncated", False):
        console.print(
            "the report lists the first failures of each file, rule and column; "
            "its report:truncated rows say how many more there are"
        )
    console.print(escape(f"full report: {path}"))
    for message in report.unreadable.values():
        typer.secho(f"error: {message}", fg="red", err=True)


def _write(report, path: str | None, year: str) -> str:
    """Write the CSV report (``--report``, or under the out root, where a symbolic link
    out of the root is refused); a place that cannot be written is an ``error:`` (exit 2)."""
    from sqis.settings import get_settings
    from sqis.storage import StorageError
    from sqis.validation import default_report_path

    where = path or default_report_path(year)
    try:
        if path:
            return report.write_csv(path)
        return report.write_to(str(get_settings().out_root), f"validation/validation-{year}.csv")
    except (OSError, StorageError) as e:
        typer.secho(f"error: cannot write the report to {where}: {e}", fg="red", err=True)
        raise typer.Exit(2) from None


def _methodology(year: str, choice: str | None):
    from sqis.methodology import for_year
    from sqis.settings import get_settings

    return for_year(year, choice, get_settings().methodology_dir)


@app.command("validate", rich_help_panel=DELIVERIES)
@friendly
def validate_command(
    root: str = typer.Option(..., "--data", help=_ROOT_HELP),
    year: str = typer.Option(..., "--year", help="School year, YYYY-YY."),
    report: str | None = typer.Option(
        None,
        "--report",
        help="Where to write the full CSV report (default "
        "<SQIS_OUT_ROOT>/validation/validation-<year>.csv).",
    ),
    methodology: str | None = typer.Option(
        None, "--methodology", help="Methodology version or file (default: the year's)."
    ),
) -> None:
    """Check a year's delivery against the data contract; exit 1 if anything fails."""
    from sqis.validation import validate_delivery
    from sqis.years import SchoolYear

    year = SchoolYear(year)
    m = _methodology(year, methodology)
    result = validate_delivery(root, year, m)
    path = _write(result, report, year)
    _print_report(result, path)
    if result.unreadable:
        raise typer.Exit(2)
    if not result.ok:
        raise typer.Exit(1)


@app.command("ingest", rich_help_panel=DELIVERIES)
@friendly
def ingest_command(
    root: str = typer.Option(..., "--data", help=_ROOT_HELP),
    year: str = typer.Option(..., "--year", help="School year, YYYY-YY."),
    replace: bool = typer.Option(
        False, "--replace", help="Store a changed delivery; the previous one is kept."
    ),
    store_root: str | None = typer.Option(
        None, "--store-root", help="Store root (default SQIS_STORE_ROOT)."
    ),
    report: str | None = typer.Option(
        None, "--report", help="Where to write the CSV report if the delivery fails validation."
    ),
    methodology: str | None = typer.Option(
        None, "--methodology", help="Methodology version or file (default: the year's)."
    ),
) -> None:
    """Validate, pseudonymise and store a year's delivery (nothing is stored if it fails)."""
    from sqis.ingest import DeliveryInvalid, IngestError, ingest_year
    from sqis.years import SchoolYear

    year = SchoolYear(year)
    m = _methodology(year, methodology)
    try:
        result = ingest_year(root, year, store_root=store_root, replace=replace, methodology=m)
    except DeliveryInvalid as e:
        path = _write(e.report, report, year)
        _print_report(e.report, path)
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2 if e.report.unreadable else 1) from None
    except IngestError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
    where = f"{result.store_uri}/validated/{year}"
    if result.status == "unchanged":
        typer.echo(f"{year}: unchanged (the same files are already ingested in {where})")
        return
    rows = ", ".join(f"{n} {k:,}" for n, k in result.rows.items())
    typer.echo(f"{year}: {result.status} into {where} ({rows})")
    if result.previous_version is not None:
        typer.echo(f"previous delivery kept in {where}/versions/{result.previous_version}/")
