"""A year's student IDs as integer codes: one Arrow hash pass per year.

Pseudonymised student IDs are 64-character strings; linking rows by them (an assessment
to its enrolment, this year's score to last year's) hashes every string each time. The
year's IDs in students, assessments and sel become integer codes once — the same student,
the same code in all three — and growth and every district's indicators link by those.

Once per year, not per call: the caller holding the year makes one ``YearKeys`` and
hands it to growth and to every district (``sqis.indicators.YearLookups``,
``sqis.year_inputs.Inputs``); ``student_keys`` and ``student_keys_linking`` compute afresh.

Once per delivery, not per run: ingest stores the codes beside the year's files
(``student_keys.parquet``, ``encode``/``decode``), numbered from the delivered IDs (one
pseudonym per ID, so the same codes). ``sqis.ingest.load_year`` hands them back as
``StoredKeys`` bound to the very frames read with them; ``YearKeys`` takes them instead of
hashing the year's 64-character pseudonyms again, and links another year's IDs by one
look-up into the year's distinct IDs. Frames that are not those (a replaced or emptied
frame) are hashed as before.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sqis import groups as groups_mod
from sqis.once import Once
from sqis.yeardata import YearData

# The frames whose rows carry a student ID.
STUDENT_FILES: tuple[str, ...] = ("students", "assessments", "sel")
# internal column: the year's student_id as an integer code
STUDENT_KEY = "student_key"
# The files whose student IDs have stored codes, in the order of the year's dictionary.
KEYED_FILES: tuple[str, ...] = (*STUDENT_FILES, "rosters")


def _keyed_frames(yd: YearData) -> tuple[pd.DataFrame | None, ...]:
    return (*(yd.frame(n) for n in STUDENT_FILES), yd.rosters)


@dataclass(frozen=True, eq=False)
class StoredKeys:
    """The year's codes as ingest stored them, bound to the frames read with them: used only
    while a ``YearData`` holds those very frames (``serves``)."""

    frames: tuple[pd.DataFrame | None, ...]  # students, assessments, sel, rosters
    codes: dict[str, np.ndarray]  # by file of KEYED_FILES (rosters when delivered)

    @classmethod
    def of(cls, yd: YearData, codes: dict[str, np.ndarray]) -> StoredKeys | None:
        """For ``yd``'s frames, when ``codes`` has one per row of each (else ``None``)."""
        frames = _keyed_frames(yd)
        for name, frame in zip(KEYED_FILES, frames, strict=True):
            n = None if frame is None else len(frame)
            if (n is None) != (name not in codes) or (n is not None and len(codes[name]) != n):
                return None
        for c in codes.values():
            c.setflags(write=False)
        return cls(frames, codes)

    def serves(self, yd: YearData) -> bool:
        return all(a is b for a, b in zip(self.frames, _keyed_frames(yd), strict=True))


def ingest_codes(ids: dict[str, pa.Array]) -> dict[str, np.ndarray]:
    """The year's codes by file from the delivered IDs of ``KEYED_FILES`` (those given),
    one dictionary in that order, as ``YearKeys`` numbers the pseudonyms: a pseudonym is one
    per ID, so equal IDs and equal pseudonyms are the same rows."""
    names = [n for n in KEYED_FILES if n in ids]
    return dict(zip(names, groups_mod.shared_codes(*(ids[n] for n in names)), strict=True))


def encode(codes: dict[str, np.ndarray]) -> tuple[bytes, dict[str, int]]:
    """``codes`` as the stored Parquet (one column, the files one after another) and the
    rows of each file."""
    joined = np.concatenate([codes[n] for n in KEYED_FILES if n in codes]).astype(np.int32)
    buf = io.BytesIO()
    pq.write_table(pa.table({STUDENT_KEY: joined}), buf, compression="zstd")
    return buf.getvalue(), {n: len(codes[n]) for n in KEYED_FILES if n in codes}


def decode(blob: bytes, rows: dict[str, int]) -> dict[str, np.ndarray]:
    """The codes by file back from ``encode``'s bytes and rows. The files are in
    ``KEYED_FILES`` order, as written, whatever the order of ``rows``' keys (a JSON object's
    keys have none: a tool may sort them)."""
    unknown = set(rows) - set(KEYED_FILES)
    if unknown:
        raise ValueError(f"{STUDENT_KEY}: rows of files that have none: {sorted(unknown)}")
    names = [n for n in KEYED_FILES if n in rows]
    joined = pq.read_table(io.BytesIO(blob))[STUDENT_KEY].to_numpy().astype(np.int64)
    if len(joined) != sum(rows[n] for n in names):
        raise ValueError(f"{STUDENT_KEY}: {len(joined)} codes for {sum(rows.values())} rows")
    bounds = np.cumsum([0, *(rows[n] for n in names)])
    return {n: joined[bounds[i] : bounds[i + 1]] for i, n in enumerate(names)}


class YearKeys:
    """One year's student keys, computed once, on first use, by whoever is handed this
    object: growth links last year's IDs through it, every district's indicators reuse
    the codes (frames are never mutated, ``sqis.yeardata``)."""

    def __init__(self, yd: YearData) -> None:
        self.year_data = yd
        self._once = Once()

    def keys(self) -> dict[str, np.ndarray]:
        """The year's ``student_id`` as integer codes, for the rows of students,
        assessments and sel (one dictionary across the three)."""
        return self._kept(lambda: _codes(self.year_data, None))[0]

    def rosters(self) -> np.ndarray:
        """The year's rosters' ``student_id`` as codes of ``keys()``'s dictionary, from the
        same hash pass (a rostered student with no row in the three files has a code no row
        of theirs has); empty when the year has no rosters. Educator growth links roster
        rows to the growth model's residuals by these (``sqis.educators``)."""
        return self._kept(lambda: _codes(self.year_data, None))[1]

    def linking(self, other: pd.Series) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """``keys()``, and the codes of ``other`` (another year's IDs) in the same
        dictionary, in one hash pass: a student of both years has one code; a student of
        ``other`` only, a code no row of the year has. Codes follow first appearance, so
        the year's codes are those of ``keys()`` either way: the pass is kept as them."""
        keys, rosters, codes = _codes(self.year_data, other)
        assert codes is not None
        return self._kept(lambda: (keys, rosters, None))[0], codes

    def _kept(
        self, compute: Callable[[], tuple[dict[str, np.ndarray], np.ndarray, np.ndarray | None]]
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The year's keys and rosters' codes: the first pass's, kept."""
        return self._once.get("keys", lambda: compute()[:2])


def student_keys(yd: YearData) -> dict[str, np.ndarray]:
    """The year's ``student_id`` as integer codes (``YearKeys.keys``, computed here)."""
    return YearKeys(yd).keys()


def student_keys_linking(
    yd: YearData, other: pd.Series
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``student_keys(yd)`` and ``other``'s codes in the same dictionary
    (``YearKeys.linking``, computed here)."""
    return YearKeys(yd).linking(other)


def _codes(
    yd: YearData, other: pd.Series | None
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray | None]:
    """One hash pass: the year's keys by file, the rosters' codes (empty without rosters)
    and ``other``'s (``None`` without it). Codes follow first appearance, so the three
    files' codes are the same whatever comes after them."""
    stored = getattr(yd, "stored_keys", None)
    if stored is not None and stored.serves(yd):
        keys = {n: stored.codes[n] for n in STUDENT_FILES}
        roster_codes = stored.codes.get("rosters", np.zeros(0, dtype=np.int64))
        return keys, roster_codes, None if other is None else _linked(yd, stored, other)
    frames = [yd.frame(name) for name in STUDENT_FILES]
    columns = [f["student_id"] for f in frames]
    rosters = [] if yd.rosters is None else [yd.rosters["student_id"]]
    extra = [] if other is None else [other]
    codes = groups_mod.shared_codes(*columns, *rosters, *extra)
    for c in codes:
        c.setflags(write=False)
    n = len(frames)
    keys = dict(zip(STUDENT_FILES, codes[:n], strict=True))
    roster_codes = codes[n] if rosters else np.zeros(0, dtype=np.int64)
    return keys, roster_codes, (codes[-1] if other is not None else None)


def _linked(yd: YearData, stored: StoredKeys, other: pd.Series) -> np.ndarray:
    """``other``'s codes in the stored dictionary, as one hash pass over the year and then
    ``other`` numbers them (an ID of the year, its code; an ID new to the year, a code after
    the year's, in order of first appearance; missing, -1): the year's distinct IDs, read
    at each one's first row, and then ``other`` are numbered in one pass, instead of every
    row of the year again."""
    frames = dict(zip(KEYED_FILES, _keyed_frames(yd), strict=True))
    distinct, seen = [], -1
    for name in (n for n in KEYED_FILES if n in stored.codes):
        codes_ = stored.codes[name]
        if len(codes_) == 0:
            continue
        # codes follow first appearance: a row is its code's first when above all before it
        running = np.maximum.accumulate(codes_)
        before = np.empty_like(codes_)
        before[0] = seen
        np.maximum(running[:-1], seen, out=before[1:])
        first = np.flatnonzero(codes_ > before)
        frame = frames[name]
        if frame is None:  # StoredKeys.of gave codes only to the frames there are
            raise ValueError(f"stored student codes for {name}, which the year has not")
        distinct.append(groups_mod.arrow_strings(frame["student_id"]).take(first))
        seen = max(seen, int(running[-1]))
    year = pa.concat_arrays(distinct) if distinct else pa.array([], pa.large_string())
    if len(year) != seen + 1:
        raise ValueError("stored student codes do not number the year's IDs from 0 in order")
    theirs = groups_mod.arrow_strings(other)
    fast = _linked_by_prefix(year, theirs)
    if fast is not None:
        fast.setflags(write=False)
        return fast
    enc = pa.chunked_array([year, theirs]).dictionary_encode()
    out = np.concatenate(
        [
            np.zeros(0, dtype=np.int64),
            *(
                pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
                for chunk in enc.chunks[1:]
            ),
        ]
    )
    out.setflags(write=False)
    return out


# Each ASCII byte's hex digit value; 255 for a byte that is none.
_HEX_VALUE = np.full(256, 255, dtype=np.uint8)
_HEX_VALUE[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10, dtype=np.uint8)
_HEX_VALUE[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16, dtype=np.uint8)
PSEUDONYM_CHARS = 64  # sqis.pseudonym: HMAC-SHA256 as hex
_PREFIX_DIGITS = 16  # hex digits in 64 bits
_CHUNK = 1 << 18  # rows compared at a time (64 bytes each)


def _pseudonym_bytes(arr: pa.Array) -> np.ndarray | None:
    """The text as an (n, 64) byte view, when every value is 64 bytes and none is missing."""
    if arr.null_count or len(arr) == 0:
        return None
    start = arr.offset
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[start : start + len(arr) + 1]
    if offsets[-1] - offsets[0] != PSEUDONYM_CHARS * len(arr) or np.any(
        np.diff(offsets) != PSEUDONYM_CHARS
    ):
        return None
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(-1, PSEUDONYM_CHARS)


def _prefix(rows: np.ndarray) -> np.ndarray | None:
    """The first 16 hex digits of each row as one 64-bit number (None: a non-hex digit)."""
    digits = _HEX_VALUE[rows[:, :_PREFIX_DIGITS]]
    if (digits == 255).any():
        return None
    packed = np.ascontiguousarray((digits[:, 0::2] << 4) | digits[:, 1::2])
    return packed.view(">u8").ravel().astype(np.uint64)


def _linked_by_prefix(year: pa.Array, theirs: pa.Array) -> np.ndarray | None:
    """``_linked``'s codes by 64-bit numbers instead of hashing 64-byte text: the year's
    distinct pseudonyms keyed by their first 16 hex digits (64 of their 256 bits), every
    match confirmed byte for byte, the IDs new to the year numbered by text. ``None`` (the
    caller hashes the text) unless every value is a 64-digit pseudonym, no two of the year's
    share a key, and every match is confirmed."""
    mine, other = _pseudonym_bytes(year), _pseudonym_bytes(theirs)
    if mine is None or other is None:
        return None
    key_mine, key_other = _prefix(mine), _prefix(other)
    if key_mine is None or key_other is None:
        return None
    index = pd.Index(key_mine)
    if not index.is_unique:
        return None
    at = index.get_indexer(key_other).astype(np.int64)
    for lo in range(0, len(at), _CHUNK):
        part = at[lo : lo + _CHUNK]
        hit = np.flatnonzero(part >= 0)
        if not np.array_equal(other[lo : lo + _CHUNK][hit], mine[part[hit]]):
            return None  # a key shared by two IDs: the text decides
    new = np.flatnonzero(at < 0)
    if len(new):
        fresh = theirs.take(pa.array(new)).dictionary_encode().indices
        at[new] = len(year) + fresh.to_numpy(zero_copy_only=False).astype(np.int64)
    return at
