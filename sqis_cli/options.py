"""The options every ``sqis`` command spells the same way (one vocabulary):

``--data`` (the deliveries), ``--out`` (the staff edition), ``--public-out`` (the public
edition), ``--db`` (the results store), ``--store-root`` (the validated store), ``--year``,
``--date``; and the choices as enums, shown and completed in ``--help``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer

DB_HELP = (
    "Results store URL: sqlite:///path/sqis.db or postgresql+psycopg://user@host/db. "
    "Default: SQIS_DATABASE_URL."
)


def db_option() -> Any:
    return typer.Option(None, "--db", help=DB_HELP)


def store_root_option() -> Any:
    return typer.Option(
        None, "--store-root", help="The validated store (folder or s3://). Default SQIS_STORE_ROOT."
    )


class Pdf(StrEnum):
    """``--pdf``: which reports also get a PDF."""

    auto = "auto"
    all = "all"
    none = "none"


class Term(StrEnum):
    """``--term``: the Oversight Panel meeting."""

    fall = "fall"
    spring = "spring"


class TaskRunner(StrEnum):
    """``--task-runner``: threads in this process, or Dask worker processes."""

    default = "default"
    dask = "dask"


class Format(StrEnum):
    """``--format`` of generated deliveries."""

    csv = "csv"
    parquet = "parquet"


def store(db: str | None, *, create: bool = False, check: bool = True) -> Any:
    """The results store of ``--db`` for a command. ``create=False``: a SQLite file that does
    not exist is refused, not made (a mistyped path makes no folder and no file);
    ``check``: the schema must be this sqis's (``sqis db upgrade`` otherwise)."""
    from sqis.store import ResultsStore

    s = ResultsStore(db, create=create)
    if check:
        s.check_schema()
    return s
