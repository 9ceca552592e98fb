"""The results store (SQLAlchemy models, the ``ResultsStore`` API, bulk writes) and
:func:`open_store`, the one ``ResultsStore`` per process and database URL."""

from __future__ import annotations

import threading

from sqis.settings import get_settings
from sqis.store.bulk import BulkWriteError
from sqis.store.store import (
    PlanStateError,
    ResultsStore,
    SchemaOutdated,
    StoreError,
    StoreUnreachable,
    YearLocked,
)

__all__ = [
    "BulkWriteError",
    "PlanStateError",
    "ResultsStore",
    "SchemaOutdated",
    "StoreError",
    "StoreUnreachable",
    "YearLocked",
    "open_store",
]

_STORES: dict[str, ResultsStore] = {}
_STORES_LOCK = threading.Lock()


def open_store(db_url: str | None, *, upgrade: bool = False) -> ResultsStore:
    """The results store at ``db_url``, one per process and URL (engines are pooled).

    ``upgrade=True`` brings the schema to the latest migration first (a run does this
    once, at its start: Alembic's upgrade must not run from several threads at once).
    """
    url = db_url or get_settings().database_url
    with _STORES_LOCK:
        store = _STORES.get(url)
        if store is None:
            store = _STORES[url] = ResultsStore(url)
        if upgrade:
            store.upgrade()
    return store
