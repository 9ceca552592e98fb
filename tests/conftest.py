"""Shared fixtures: result-store URLs for SQLite and the real PostgreSQL server, a pseudonym key."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqis.settings import reset_settings_cache

POSTGRES_ADMIN_URL = os.environ.get(
    "SQIS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_KEY = "test-pseudonym-key-not-a-secret"


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test gets its own settings: a test key, a store and out root under tmp_path."""
    for k in list(os.environ):
        if k.startswith("SQIS_") and not k.startswith("SQIS_TEST_"):
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("SQIS_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.setenv("SQIS_STORE_ROOT", str(tmp_path / "store"))
    monkeypatch.setenv("SQIS_OUT_ROOT", str(tmp_path / "out"))
    monkeypatch.setenv("SQIS_DATABASE_URL", f"sqlite:///{tmp_path / 'sqis.db'}")
    # reports rendered in the run's own process: a worker process costs seconds to start,
    # on every run of every test. The tests that render in workers say so (test_flows,
    # test_render_workers)
    monkeypatch.setenv("SQIS_RENDER_WORKERS", "1")
    reset_settings_cache()
    yield
    reset_settings_cache()


def _postgres_database() -> Iterator[str]:
    """A fresh database on the real server, dropped afterwards (parallel runs never collide)."""
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"sqis_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as c:
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as e:  # the machine kind starts PostgreSQL: its absence is a failure
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {e}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A results-store URL: each test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'results.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_database()


@pytest.fixture(scope="session")
def harness() -> Iterator[None]:
    """One Prefect test server per test session (per xdist worker), shared by every flow test.

    Its SQLite database waits up to 60 s for a lock (Prefect's default is 10 s): on a busy
    2-core CI machine the events writer otherwise loses task-run events to "database is
    locked".
    """
    from prefect.settings import PREFECT_API_DATABASE_TIMEOUT, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        temporary_settings(updates={PREFECT_API_DATABASE_TIMEOUT: 60.0}),
        prefect_test_harness(server_startup_timeout=120),
    ):
        yield
