"""Pseudonymising student IDs at ingest (DATA_CONTRACT.md: ``student_id`` is pseudonymised).

A student's pseudonym is the HMAC-SHA256 (hex, 64 characters) of the state student ID
under the consortium's key (``SQIS_PSEUDONYM_KEY``). The same ID gives the same pseudonym
in every year and every file, so growth (last year's score) and persistence (two years
back) still join; without the key nobody can recompute a pseudonym from an ID. A run
without a key is refused (``MissingKeyError``); the key is never logged nor put in an
error. ``key_id`` is a short fingerprint of the key (itself an HMAC, revealing nothing),
recorded with each ingested year so that years pseudonymised under different keys are
never mixed.

Speed: each distinct ID is hashed once (Arrow's dictionary encoding finds them), with
the HMAC's inner and outer SHA-256 states keyed once (RFC 2104) and copied per ID, and
the digests turned into hex text in one vectorised step.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sqis.settings import MissingKeyError

_KEY_ID_MESSAGE = b"sqis pseudonym key fingerprint v1"
_DIGEST_BYTES = hashlib.sha256().digest_size  # 32 → 64 hex characters
_BLOCK = hashlib.sha256().block_size  # 64
_IPAD = bytes(x ^ 0x36 for x in range(256))  # RFC 2104, as hmac.py builds them
_OPAD = bytes(x ^ 0x5C for x in range(256))
# each byte → its two lowercase hex characters
_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), np.uint8).reshape(256, 2)


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or not key:
        raise MissingKeyError("no pseudonymisation key: student IDs cannot be pseudonymised")


def _keyed_states(key: bytes) -> tuple[hashlib._Hash, hashlib._Hash]:
    """The HMAC-SHA256 inner and outer hash states after the padded key (RFC 2104)."""
    k = bytes(key)
    if len(k) > _BLOCK:
        k = hashlib.sha256(k).digest()
    k = k.ljust(_BLOCK, b"\0")
    return hashlib.sha256(k.translate(_IPAD)), hashlib.sha256(k.translate(_OPAD))


def hmac_hex(values: list[bytes], key: bytes) -> pa.LargeStringArray:
    """HMAC-SHA256(key, value) of each value, as 64 lowercase hex characters (no nulls)."""
    _check_key(key)
    inner, outer = _keyed_states(key)
    inner_copy, outer_copy = inner.copy, outer.copy
    digests: list[bytes] = []
    append = digests.append
    for v in values:  # one per distinct ID: the C hash calls are the whole cost
        h = inner_copy()
        h.update(v)
        o = outer_copy()
        o.update(h.digest())
        append(o.digest())
    n = len(digests)
    raw = np.frombuffer(b"".join(digests), np.uint8)
    text = _HEX[raw].reshape(-1)  # 2 characters per byte
    width = 2 * _DIGEST_BYTES
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))


def pseudonymise_arrow(ids: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """Each text ID → its pseudonym (``large_string``), null stays null; one HMAC per distinct."""
    _check_key(key)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks() if ids.num_chunks != 1 else ids.chunk(0)
    ids = ids.cast(pa.large_string())
    width = _digits_width(ids)
    if width is not None:  # the usual case: distinct numbers are found faster than text
        encoded = pc.dictionary_encode(pc.cast(ids, pa.int64()))
        text = pc.utf8_lpad(pc.cast(encoded.dictionary, pa.large_string()), width, "0")
    else:
        encoded = pc.dictionary_encode(ids)
        text = encoded.dictionary
    hashed = hmac_hex(text.cast(pa.large_binary()).to_pylist(), key)
    return hashed.take(encoded.indices)


def _digits_width(ids: pa.Array) -> int | None:
    """The length of the IDs when every present one is that many (1–18) ASCII digits.

    Then the ID's number gives back its text exactly (zero-padded to that length).
    """
    if len(ids) == 0 or pc.any(pc.invert(pc.ascii_is_decimal(ids))).as_py():
        return None
    bounds = pc.min_max(pc.binary_length(ids)).as_py()
    low, high = bounds["min"], bounds["max"]
    return high if low is not None and low == high and high <= 18 else None


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """Each ID → HMAC-SHA256(key, ID) as 64 hex characters; missing stays missing.

    Each distinct ID is hashed once (a student appears in several rows and files).
    """
    _check_key(key)
    text = ids.astype("str")
    arr = pa.array(text.array, pa.large_string())
    values = pseudonymise_arrow(arr, key).to_pandas(types_mapper=pd.ArrowDtype).array
    return pd.Series(values, index=ids.index, name=ids.name).astype("str")


def key_id(key: bytes) -> str:
    """A 16-hex-character fingerprint of the key (the key cannot be recovered from it)."""
    _check_key(key)
    return hmac.new(bytes(key), _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16]


# ---- educators (DATA_CONTRACT.md `educators`, `rosters`: "pseudonymised at ingest like
# student IDs (a separate key domain)") ------------------------------------------------------
_EDUCATOR_DOMAIN = b"sqis educator pseudonym key v1"


def educator_key(key: bytes) -> bytes:
    """The educator key domain's key: HMAC-SHA256(consortium key, a fixed label).

    Derived from the same ``SQIS_PSEUDONYM_KEY``, so nothing new is to be kept, and
    separate from the students' domain: an educator ID that happens to equal a student ID
    gets another pseudonym, and one domain's pseudonyms say nothing of the other's.
    """
    _check_key(key)
    return hmac.new(bytes(key), _EDUCATOR_DOMAIN, hashlib.sha256).digest()


def pseudonymise_educators(ids: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array:
    """Each educator ID → HMAC-SHA256(``educator_key(key)``, ID) as 64 hex characters."""
    return pseudonymise_arrow(ids, educator_key(key))
