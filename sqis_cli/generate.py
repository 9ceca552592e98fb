"""``sqis generate``: write a synthetic consortium as a data root (docs/synthetic.md).

Exit codes: 0 written; 2 arguments that cannot be used (a bad year range, too few
students for the districts, an existing year folder without ``--overwrite``): one
``error: …`` line, never a traceback.
"""

from __future__ import annotations

import typer

from sqis_cli.app import DELIVERIES, app
from sqis_cli.errors import friendly
from sqis_cli.options import Format


@app.command("generate", rich_help_panel=DELIVERIES)
@friendly
def generate_command(
    out: str = typer.Option(
        ..., "--out", help="Folder or s3://bucket/prefix to write: OUT/<year>/<file>.csv|.parquet."
    ),
    years_: str = typer.Option(
        "2013-14..2017-18", "--years", help="School years, e.g. 2013-14..2017-18 or 2015-16."
    ),
    students: int = typer.Option(40000, "--students", min=100, help="Students in the first year."),
    districts: int = typer.Option(8, "--districts", min=1, help="Number of districts."),
    seed: int = typer.Option(2013, "--seed", help="Random seed: same arguments, same bytes."),
    fmt: Format = typer.Option(Format.csv, "--format", help="The delivered files' format."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace year folders that already exist under --out."
    ),
) -> None:
    """Generate a synthetic CORE-like consortium: every contract file for every year."""
    from sqis import years
    from sqis.synthetic import generate

    year_list = years.parse_range(years_)
    fmt = Format(fmt)
    try:
        summary = generate(out, year_list, students, districts, seed, str(fmt), overwrite=overwrite)  # type: ignore[arg-type]
    except (ValueError, FileExistsError) as e:
        if isinstance(e, years.YearError):
            raise
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
    if summary.skipped:
        typer.echo(f"{out}: already generated with these arguments; nothing to do")
        return
    first = year_list[0]
    n_rows = summary.rows.get((first, "students"), 0)
    typer.echo(
        f"wrote {len(year_list)} year(s) × {len(summary.rows) // max(len(year_list), 1)} files "
        f"({fmt}) to {summary.root}: {summary.n_schools} schools ({summary.n_title_i} Title I), "
        f"{n_rows:,} enrolment rows in {first}, in {summary.seconds:.1f}s"
    )
    extreme = {r: n for r, n in sorted(summary.roles.items()) if r != "NONE"}
    if extreme:
        typer.echo("extreme schools by role: " + ", ".join(f"{r} {n}" for r, n in extreme.items()))


@app.command("generate-interim", rich_help_panel=DELIVERIES)
@friendly
def generate_interim_command(
    data: str = typer.Option(..., "--data", help="A synthetic data root (from sqis generate)."),
    year: str = typer.Option(..., "--year", help="Service year YYYY-YY of the checkpoints."),
    number: list[int] = typer.Option(
        [], "--number", min=1, help="Checkpoint number (repeatable; default: every checkpoint)."
    ),
    seed: int = typer.Option(2013, "--seed", help="Random seed: same arguments, same bytes."),
) -> None:
    """Write synthetic interim deliveries (<data>/<year>/interim/checkpoint-<n>/), cut from
    the year's synthetic yearly files: for demos and tests of the checkpoints."""
    from sqis import years
    from sqis.methodology import for_year
    from sqis.settings import get_settings
    from sqis.synthetic.interim import write_interim

    year = years.SchoolYear(year)
    m = for_year(year.results_year, None, get_settings().methodology_dir)
    total = len(m.communities.checkpoints)
    for n in number or range(1, total + 1):
        if n > total:
            typer.secho(f"error: --number {n}: the methodology has {total}", fg="red", err=True)
            raise typer.Exit(2)
        for key in write_interim(data, year, n, total, seed):
            typer.echo(f"wrote {key}")
