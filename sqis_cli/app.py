"""The ``sqis`` command: one Typer app; each command module registers on it.

``sqis --help`` groups the commands in the order of the yearly calendar (``PANELS``):
the deliveries, the annual run of a results year, the service year it decides, and the
results store.
"""

from __future__ import annotations

import os

import typer

# help panels, in the order of the yearly calendar
DELIVERIES = "1. Deliveries"
ANNUAL = "2. The annual run of a results year"
SERVICE = "3. The service year it decides"
STORE = "4. The results store"
PANELS = (DELIVERIES, ANNUAL, SERVICE, STORE)

app = typer.Typer(
    name="sqis",
    help=(
        "The School Quality Improvement System: ingest and validate a year's delivery, "
        "compute the index, designate schools, schedule communities of practice and "
        "render reports. Year Y's results decide year Y+1: run and cycle take the results "
        "year, checkpoint, oversight, plan and calendars the service year. Settings come "
        "from SQIS_* environment variables (see README)."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"sqis {version('sqis')}")
        raise typer.Exit()


@app.callback()
def options(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: bool = typer.Option(
        False, "-v", "--verbose", help="Show the runs' INFO log lines on the console too."
    ),
) -> None:
    """Options for every command."""
    if verbose:
        os.environ["SQIS_VERBOSE"] = "1"
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"


def verbose() -> bool:
    """Whether ``-v`` was given (the console shows INFO lines)."""
    return os.environ.get("SQIS_VERBOSE") == "1"
