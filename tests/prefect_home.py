"""A PREFECT_HOME whose Prefect database is migrated already, for tests that start a Prefect
server of their own (``sqis run``'s temporary server, ``prefect server start``).

A Prefect server on a new SQLite database runs every one of Prefect's migrations first:
about 12 CPU-seconds, on every server a test starts (a dozen in the suite). The migrated
database is made once per machine and Prefect version (``prefect server database upgrade``,
under a file lock, so concurrent xdist workers make it once) and each test's home gets a
copy: the server still checks its migrations at start, and finds them done. The path of a
new database's migrations is still run by every test that does not use this (the session
harness of ``tests/conftest.py``, the PostgreSQL servers).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from importlib.metadata import version
from pathlib import Path

BIN = Path(__file__).resolve().parents[1] / ".venv" / "bin"


def _template() -> Path:
    """The migrated ``prefect.db``, made on first use."""
    root = Path(tempfile.gettempdir()) / f"sqis-test-prefect-{version('prefect')}-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    db = root / "prefect.db"
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not db.exists():
            build = Path(tempfile.mkdtemp(dir=root))
            env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
            env.update(PREFECT_HOME=str(build), PREFECT_SERVER_ANALYTICS_ENABLED="false")
            done = subprocess.run(
                [str(BIN / "prefect"), "server", "database", "upgrade", "-y"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            if done.returncode != 0 or not (build / "prefect.db").exists():
                raise RuntimeError(f"prefect server database upgrade failed: {done.stderr[-2000:]}")
            os.replace(build / "prefect.db", db)  # whole, or not there
            shutil.rmtree(build, ignore_errors=True)
    return db


def migrated_prefect_home(home: Path) -> Path:
    """``home`` (created) holding a copy of the migrated Prefect database; returns ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template(), home / "prefect.db")
    return home
