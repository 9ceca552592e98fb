"""Settings in one place, read from the environment (prefix ``SQIS_``) or a ``.env`` file.

The README's "Settings" table lists every variable with its meaning and default;
each field below is one of them (``database_url`` is ``SQIS_DATABASE_URL``, …).
"""

from __future__ import annotations

import getpass
import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from sqis.errors import USAGE, SqisError

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = REPO_ROOT / "templates"


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user database in some containers
        return "unknown"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SQIS_", env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///var/sqis.db")
    out_root: str = Field(default="./out")
    # the public edition's root (METHODOLOGY.md "Two editions"); empty: <out root>/public
    public_root: str | None = Field(default=None)
    store_root: str = Field(default="./var/store")
    pseudonym_key: SecretStr | None = Field(default=None)
    s3_endpoint_url: str | None = Field(default=None)
    s3_region: str = Field(default="us-west-2")
    s3_sse: str | None = Field(default="AES256")
    s3_max_attempts: int = Field(default=8, ge=1)
    methodology_dir: str | None = Field(default=None)
    # district tasks the annual cycle's thread pool runs at once. One: the work holds the
    # GIL, so a second thread on 2 cores added contention and memory, not speed
    # (BENCHMARKS.md, "Hot spots"); more cores pay off through Dask worker processes
    district_workers: int = Field(default=1, ge=1)
    # worker processes rendering each district's staff reports beside the public edition
    # (sqis.render_workers); 0: one per core for a year of at least render_min_schools
    # schools, else none; 1: no worker process (render in the run's own)
    render_workers: int = Field(default=0, ge=0)
    # starting a spawned worker costs seconds of CPU (it imports the renderers): on a small
    # year that is more than rendering there saves. At 100,000 students (151 schools) the
    # year took 18.4 s with two workers against 12.2 s without; at 1,000,000 (1,509
    # schools) the reports stage 29.5 s against 39.5 s (BENCHMARKS.md)
    render_min_schools: int = Field(default=500, ge=0)
    run_by: str = Field(default_factory=_default_user)
    # how long a flow run may take before Prefect stops it (TimedOut) and its year's lock is
    # released. The annual cycle of 6,000,000 students took 166 s on the bench (BENCHMARKS.md)
    # and S3 retries back off for minutes: 8 hours lets the slowest real run finish while a
    # hung run frees the year before the next working day. Checkpoints and Oversight reports
    # read the results store only: 1 hour
    annual_timeout_hours: float = Field(default=8.0, gt=0)
    calendar_timeout_hours: float = Field(default=1.0, gt=0)
    # the Prefect notification block the failure automation sends to (make deploy creates
    # a webhook block of this name from SQIS_NOTIFY_WEBHOOK_URL when it does not exist)
    notify_block: str = Field(default="sqis-alerts")
    notify_webhook_url: str | None = Field(default=None)
    # an https:// base URL under which the out roots are served to staff (artifact links);
    # without it, s3:// out roots get presigned links and local ones file:// links
    public_base_url: str | None = Field(default=None)

    def require_pseudonym_key(self) -> bytes:
        """The key as bytes; refuses a run without one (never prints the key)."""
        if self.pseudonym_key is None or not self.pseudonym_key.get_secret_value():
            raise MissingKeyError(
                "SQIS_PSEUDONYM_KEY is not set: a real run needs the consortium's pseudonymisation "
                "key (see SECURITY.md). `make demo` creates a local one in var/demo.env."
            )
        return self.pseudonym_key.get_secret_value().encode("utf-8")

    def workers(self) -> int:
        """District tasks the default task runner runs at once (``district_workers``)."""
        return self.district_workers

    def render_processes(self, schools: int) -> int:
        """Worker processes for rendering a year of ``schools`` schools: ``render_workers``
        when set; else (0) one per core from ``render_min_schools`` schools, below it 1
        (none: the run's own process renders)."""
        if self.render_workers:
            return self.render_workers
        return (os.cpu_count() or 1) if schools >= self.render_min_schools else 1


class MissingKeyError(RuntimeError, SqisError):
    """No pseudonymisation key: student IDs cannot be pseudonymised, so nothing runs."""

    exit_code = USAGE


class SettingsError(ValueError, SqisError):
    """A setting (``SQIS_…`` in the environment or ``.env``) that is not valid: the command
    prints one line naming it and its rule, never pydantic's traceback."""

    exit_code = USAGE


# settings whose values are never echoed back (URLs may carry a password)
_QUIET = ("key", "url", "secret", "password", "token")


def _settings_error(e: ValidationError) -> SettingsError:
    lines = []
    for err in e.errors():
        field = str(err["loc"][0]) if err.get("loc") else "?"
        name = f"SQIS_{field.upper()}"
        shown = "" if any(q in field for q in _QUIET) else f"={err.get('input')!r}"
        lines.append(f"{name}{shown}: {err['msg']}")
    return SettingsError("; ".join(lines) + ' (settings: README.md "Settings", docs/operations.md)')


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read once (``reset_settings_cache`` reads them again); an invalid one
    raises :class:`SettingsError`."""
    try:
        return Settings()
    except ValidationError as e:
        raise _settings_error(e) from None


def reset_settings_cache() -> None:
    """Forget cached settings (tests that change the environment call this)."""
    get_settings.cache_clear()
