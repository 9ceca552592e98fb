"""What every sqis task shares: cache keys from checksums, retry policy, the pseudonym key.

Caching is keyed on what a stage reads — the delivered files' SHA-256, the
methodology file's SHA-256, the earlier years' result checksums, the sqis code —
never on a run id: a re-run over the same inputs reuses the computed frames, and
any change to any of them computes afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from prefect.tasks import exponential_backoff

import sqis

# I/O tasks (reading deliveries, the results store, the out root) retry with backoff:
# 10 s, 20 s, 40 s, with jitter so that parallel district tasks do not retry in step.
IO_RETRIES = 3
IO_RETRY_DELAY = exponential_backoff(backoff_factor=10)
IO_RETRY_JITTER = 0.5

SECRET_BLOCK = "sqis-pseudonym-key"


@lru_cache(maxsize=1)
def code_checksum() -> str:
    """SHA-256 over the sqis package's source and methodology files (changes the cache key)."""
    root = Path(sqis.__file__).resolve().parent
    h = hashlib.sha256(sqis.__version__.encode())
    for p in sorted(root.rglob("*")):
        if p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts:
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def cache_token(stage: str, year: str, district: str | None, **parts: Any) -> str:
    """A cache key for one stage × district: the stage's inputs by checksum, never by run."""
    blob = json.dumps(
        {"stage": stage, "year": year, "district": district, "code": code_checksum(), **parts},
        sort_keys=True,
        default=str,
    )
    return (
        f"sqis-{stage}-{year}-{district or 'all'}-{hashlib.sha256(blob.encode()).hexdigest()[:32]}"
    )


def key_from_token(context: Any, parameters: dict[str, Any]) -> str | None:
    """``cache_key_fn`` for tasks that take a ``token`` argument built by ``cache_token``."""
    return parameters.get("token")


def ensure_pseudonym_key() -> None:
    """Make ``SQIS_PSEUDONYM_KEY`` available: from the environment, else the Prefect Secret block.

    The key is never logged or returned; it only lives in this process's environment.
    """
    from sqis.settings import reset_settings_cache

    if os.environ.get("SQIS_PSEUDONYM_KEY"):
        return
    try:
        from prefect.blocks.system import Secret

        value = cast(Secret[str], Secret.load(SECRET_BLOCK)).get()  # sync: not a coroutine
    except Exception:  # no block: ingest refuses with MissingKeyError's clear message
        return
    if value:
        os.environ["SQIS_PSEUDONYM_KEY"] = str(value)
        reset_settings_cache()


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    text = "-".join(parts).lower()
    return "".join(c if c.isalnum() else "-" for c in text)
