"""The ``sqis`` command: one Typer app; each command module registers on it."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="sqis",
    help=(
        "The School Quality Improvement System: ingest and validate a year's delivery, "
        "compute the index, designate schools, schedule communities of practice and "
        "render reports. Settings come from SQIS_* environment variables (see README)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
