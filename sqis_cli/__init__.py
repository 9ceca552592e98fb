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
from sqis_cli import educators  # noqa: F401  (educator action)
from sqis_cli import reviews  # noqa: F401  (review …, oversight decide)
from sqis_cli import db  # noqa: F401  (db upgrade/current/unlock, audit)
from sqis_cli.app import app


def main() -> None:
    """The console command: a wrong or missing option is one line (``error: …``, exit 2),
    not click's usage block; an error of sqis (``SqisError``) is one line and its exit code
    (a refusal 1); never a traceback."""
    import sys

    import typer

    from sqis.errors import SqisError

    # typer 0.29 carries its own copy of click (typer._click): its exceptions, not click's
    try:
        from typer._click import exceptions as cli_errors
    except ImportError:  # pragma: no cover - a typer that uses click itself
        from click import exceptions as cli_errors

    try:
        code = app(prog_name="sqis", standalone_mode=False)
    except cli_errors.NoArgsIsHelpError:  # `sqis plan`: its help was printed, as usual
        sys.exit(0)
    except cli_errors.UsageError as e:
        where = e.ctx.command_path if e.ctx is not None else "sqis"
        message = e.format_message().replace("Value error, ", "")  # pydantic's wording
        typer.secho(f"error: {message} (see `{where} --help`)", fg="red", err=True)
        sys.exit(2)
    except typer.Abort:
        typer.secho("error: interrupted", fg="red", err=True)
        sys.exit(130)
    except cli_errors.ClickException as e:
        typer.secho(f"error: {e.format_message()}", fg="red", err=True)
        sys.exit(e.exit_code)
    except SqisError as e:  # one not met inside a command (each command maps them itself)
        typer.secho(f"error: {e.user_message}", fg="red", err=True)
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
