"""``sqis calibrate``: freeze cut points from a baseline year into a new methodology file.

    sqis calibrate --data ROOT --year 2013-14 --out core-2014.yaml [--base core-2013.1]

Reads the baseline year (from the validated store when it has been ingested, otherwise
validating and ingesting the delivery; likewise the year two back, for MS_PERSIST, when
delivered), computes its indicators with the base methodology, and writes the base
methodology with cut points at the deciles of school-level ALL values per indicator and school type
(docs/methodology.md, "Index levels"). The file is validated before it is written.
"""

from __future__ import annotations

from pathlib import Path

import typer

from sqis_cli.app import ANNUAL, app
from sqis_cli.errors import friendly
from sqis_cli.options import store_root_option


def _year_data(data: str, year: str, store_root: str | None):
    """An ingested year from the store, else the delivery ingested now; None if neither."""
    from sqis import ingest, reading, year_inputs

    try:
        return ingest.load_year(year, store_root=store_root)
    except ingest.NotIngested:
        if not reading.delivered(data, year):
            return None
        return year_inputs.ingest_one(year, data, store_root=store_root)


@app.command("calibrate", rich_help_panel=ANNUAL)
@friendly
def calibrate(
    data: str = typer.Option(..., "--data", help="Data root: a folder or s3://bucket/prefix."),
    year: str = typer.Option(..., "--year", help="Baseline school year YYYY-YY."),
    out: Path = typer.Option(..., "--out", help="Methodology YAML file to write."),
    base: str = typer.Option(
        None, "--base", help="Base methodology version or file (default: the year's)."
    ),
    version: str = typer.Option(
        None, "--version", help="Version of the new methodology (default <base>-cal<year>)."
    ),
    applies_from: str = typer.Option(
        None, "--applies-from", help="First year it applies to (default: the year after)."
    ),
    store_root: str = store_root_option(),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing --out file."),
) -> None:
    """Write a methodology whose cut points are the baseline year's deciles."""
    from sqis import calibrate as cal
    from sqis import ingest, years
    from sqis.indicators import compute_indicators, empty_indicators
    from sqis.methodology import for_year

    year = years.SchoolYear(year)
    if out.exists() and not force:
        typer.secho(
            f"error: {out} exists: methodology files are frozen once written; choose "
            "another --out or pass --force",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)
    if applies_from:
        applies_from = years.SchoolYear(applies_from)
    m = for_year(year, choice=base)
    try:
        cur = _year_data(data, year, store_root)
        if cur is None:
            typer.secho(
                f"error: {data}: no delivery for {year} (expected a folder {year}/)",
                fg="red",
                err=True,
            )
            raise typer.Exit(2)
        # growth keeps its percentile cut points: last year is not needed, the year two
        # back is (MS_PERSIST)
        prior2 = _year_data(data, year.shift(-m.rules.persist_years_back), store_root)
    except ingest.IngestError as e:
        typer.secho(f"error: {e}", fg="red", err=True)
        raise typer.Exit(2) from None
    ind = compute_indicators(cur, None, prior2, m, growth=empty_indicators())
    result = cal.calibrate_cut_points(ind, cur.schools, m, year)
    new = cal.calibrated_methodology(m, result, year, version=version, applies_from=applies_from)
    if out.exists() and out.resolve() == Path(m.source).resolve():
        typer.secho(
            f"error: {out} is the base methodology file; write a new one", fg="red", err=True
        )
        raise typer.Exit(2)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(cal.methodology_yaml(new, year), encoding="utf-8")
    for code, st, n in result.kept_base:
        typer.echo(
            f"note: {code} at {st} schools: {n} schools with an ALL value (fewer than "
            f"{m.calibration.min_schools}); the base cut points are kept"
        )
    typer.echo(
        f"wrote {out}: methodology {new.version}, applies from {new.applies_from}, "
        f"cut points calibrated on {year} from {m.version}"
    )
