"""Turn the domain's expected errors into one clear line and an exit code, never a traceback.

Every error sqis raises on purpose derives from :class:`sqis.errors.SqisError`, which
carries its exit code (1 a refusal, 2 something the user fixes) and the line to print: the
command maps that one base here and in ``sqis_cli.main``, never a list of classes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])


def fail(e: Exception) -> NoReturn:
    """Print ``error: …`` for an expected error and exit with its code (a missing file: 2)."""
    from sqis.errors import USAGE, SqisError

    if isinstance(e, SqisError):
        message, code = e.user_message, e.exit_code
    else:
        message, code = str(e), USAGE
    typer.secho(f"error: {message}", fg="red", err=True)
    raise typer.Exit(code) from None


def friendly(fn: F) -> F:
    """Print ``error: …`` and exit with the error's code for every :class:`SqisError` (2 for
    the errors a user can fix: bad input, settings, store; 1 for a refusal) and exit 2 for a
    missing file."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqis.errors import SqisError

        try:
            return fn(*args, **kwargs)
        except (SqisError, FileNotFoundError) as e:
            fail(e)

    return wrapper  # type: ignore[return-value]
