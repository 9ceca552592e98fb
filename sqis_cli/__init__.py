"""Entry point of the ``sqis`` console command.

This package is the outer shell: it may start Prefect flows (``run``, ``cycle``,
``checkpoint``, ``oversight``), which is why it lives beside ``sqis/`` and not in
it: the domain package never imports Prefect.
"""

# isort: skip_file
from __future__ import annotations

# registered in the order of the yearly calendar: `sqis --help` lists them so (app.PANELS)
from sqis_cli import generate  # noqa: F401  (generate, generate-interim)
from sqis_cli import validate  # noqa: F401  (validate, ingest)
from sqis_cli import run  # noqa: F401  (run, cycle, oversight)
from sqis_cli import calibrate  # noqa: F401  (calibrate)
from sqis_cli import communities  # noqa: F401  (checkpoint, plan, calendars)
from sqis_cli import db  # noqa: F401  (db upgrade/current/unlock, audit)
from sqis_cli.app import app


def main() -> None:
    app()
