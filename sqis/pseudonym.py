"""Pseudonymising student IDs at ingest (DATA_CONTRACT.md: ``student_id`` is pseudonymised).

A student's pseudonym is the HMAC-SHA256 (hex, 64 characters) of the state student ID
under the consortium's key (``SQIS_PSEUDONYM_KEY``). The same ID gives the same pseudonym
in every year and every file, so growth (last year's score) and persistence (two years
back) still join; without the key nobody can recompute a pseudonym from an ID. A run
without a key is refused (``MissingKeyError``); the key is never logged nor put in an
error. ``key_id`` is a short fingerprint of the key (itself an HMAC, revealing nothing),
recorded with each ingested year so that years pseudonymised under different keys are
never mixed.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pyarrow as pa

from sqis.settings import MissingKeyError

_KEY_ID_MESSAGE = b"sqis pseudonym key fingerprint v1"


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or not key:
        raise MissingKeyError("no pseudonymisation key: student IDs cannot be pseudonymised")


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """Each ID → HMAC-SHA256(key, ID) as 64 hex characters; missing stays missing.

    Each distinct ID is hashed once (a student appears in several rows and files).
    """
    _check_key(key)
    codes, uniques = pd.factorize(ids.astype("str"), use_na_sentinel=True)
    base = hmac.new(bytes(key), digestmod=hashlib.sha256)
    copy = base.copy

    def one(value: str) -> str:
        h = copy()
        h.update(value.encode("utf-8"))
        return h.hexdigest()

    hashed = pa.array([one(v) for v in uniques.tolist()] + [None], pa.large_string())
    # factorize marks missing values with -1: they take the trailing null above
    taken = hashed.take(pa.array(np.where(codes < 0, len(uniques), codes)))
    values = taken.to_pandas(types_mapper=pd.ArrowDtype).array
    return pd.Series(values, index=ids.index, name=ids.name).astype("str")


def key_id(key: bytes) -> str:
    """A 16-hex-character fingerprint of the key (the key cannot be recovered from it)."""
    _check_key(key)
    return hmac.new(bytes(key), _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16]
