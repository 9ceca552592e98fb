"""The results store (SQLAlchemy models, the ``ResultsStore`` API, bulk writes)."""

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
]
