"""The one base of every error sqis raises on purpose: :class:`SqisError`.

Each error carries the ``sqis`` command's exit code and the one line it prints
(``error: <user_message>``), so the command maps ``SqisError`` once instead of listing
classes by hand (``sqis_cli.errors.friendly``, ``sqis_cli.main``):

- ``REFUSED`` (1): the request cannot be done in this state (a plan not yet submitted, a
  delivery that breaks the contract, a year with no results);
- ``USAGE`` (2): something the user fixes before running again (a malformed year, a
  missing key or setting, an unreachable store, an unreadable methodology file).

Each error class keeps its other base (``ValueError``, ``RuntimeError``, ``LookupError``,
…) so the ``except`` clauses written against those still catch it. ``SqisError`` adds
no ``__init__``: errors stay picklable as before (Prefect stores a failed run's error).
"""

from __future__ import annotations

REFUSED = 1
USAGE = 2


class SqisError(Exception):
    """Base of every sqis error: ``exit_code`` for the command, ``user_message`` to print."""

    exit_code: int = REFUSED

    @property
    def user_message(self) -> str:
        """The one line the command prints after ``error: `` (the error's text)."""
        return str(self) or type(self).__name__


class PipelineError(RuntimeError, SqisError):
    """A stage of a year's run, or a calendar step, that cannot go on, with what to do
    about it (a year with no delivery; ``sqis.run_control.NoResults``)."""
