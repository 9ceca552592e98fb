"""Entry point of the ``sqis`` console command.

This package is the outer shell: it may start Prefect flows (``run``, ``cycle``,
``checkpoint``, ``oversight``), which is why it lives beside ``sqis/`` and not in
it: the domain package never imports Prefect.
"""

from __future__ import annotations

from sqis_cli import (
    calibrate,  # noqa: F401  (calibrate)
    communities,  # noqa: F401  (checkpoint, plan, calendars)
    db,  # noqa: F401  (registers db upgrade/current/unlock, audit)
    generate,  # noqa: F401  (registers commands)
    run,  # noqa: F401
    validate,  # noqa: F401  (validate, ingest)
)
from sqis_cli.app import app


def main() -> None:
    app()
