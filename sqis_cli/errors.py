"""Turn the domain's expected errors into one clear line and an exit code, never a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Print ``error: …`` and exit 2 for the errors a user can fix (bad input, settings)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqis.methodology import MethodologyError
        from sqis.settings import MissingKeyError
        from sqis.storage import StorageError
        from sqis.store import StoreError
        from sqis.store.bulk import BulkWriteError
        from sqis.years import YearError

        try:
            return fn(*args, **kwargs)
        except (
            MethodologyError,
            MissingKeyError,
            StorageError,
            StoreError,
            BulkWriteError,
            YearError,
        ) as e:
            typer.secho(f"error: {e}", fg="red", err=True)
            raise typer.Exit(2) from None
        except FileNotFoundError as e:
            typer.secho(f"error: {e}", fg="red", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]
