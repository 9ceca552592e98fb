"""A year's student IDs as integer codes: one Arrow hash pass per year.

Pseudonymised student IDs are 64-character strings; linking rows by them (an assessment
to its enrolment, this year's score to last year's) hashes every string each time. The
year's IDs in students, assessments and sel become integer codes once — the same student,
the same code in all three — and growth and every district's indicators link by those.
Cached on the frames' identity (frames are never mutated, ``sqis.yeardata``); the entry
goes when the frames are garbage-collected.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pandas as pd

from sqis import groups as groups_mod
from sqis.yeardata import YearData

# The frames whose rows carry a student ID.
STUDENT_FILES: tuple[str, ...] = ("students", "assessments", "sel")
# internal column: the year's student_id as an integer code
STUDENT_KEY = "student_key"
# (id of each of those frames) → their codes
_KEYS: dict[tuple[int, ...], dict[str, np.ndarray]] = {}
_LOCK = threading.Lock()


def student_keys(yd: YearData) -> dict[str, np.ndarray]:
    """The year's ``student_id`` as integer codes, for the rows of students, assessments
    and sel (one dictionary across the three)."""
    return _keys(yd, None)[0]


def student_keys_linking(
    yd: YearData, other: pd.Series
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``student_keys(yd)``, and the codes of ``other`` (another year's IDs) in the same
    dictionary, in one hash pass: a student of both years has one code; a student of
    ``other`` only, a code no row of ``yd`` has."""
    keys, codes = _keys(yd, other)
    assert codes is not None
    return keys, codes


def _keys(yd: YearData, other: pd.Series | None) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    frames = [yd.frame(name) for name in STUDENT_FILES]
    key = tuple(id(f) for f in frames)
    # under the lock: district tasks on other threads wait for the pass, not redo it
    with _LOCK:
        hit = _KEYS.get(key)
        if hit is not None and not all(
            len(hit[n]) == len(f) for n, f in zip(STUDENT_FILES, frames, strict=True)
        ):
            hit = None  # another year's frames under a reused id
        if hit is not None and other is None:
            return hit, None
        columns = [f["student_id"] for f in frames]
        # codes follow first appearance: appending ``other`` leaves the year's unchanged
        codes = groups_mod.shared_codes(*columns, *([] if other is None else [other]))
        for c in codes:
            c.setflags(write=False)
        if hit is None:  # cached once, with one finalizer per frame
            hit = dict(zip(STUDENT_FILES, codes[: len(frames)], strict=True))
            _KEYS[key] = hit
            for f in frames:
                weakref.finalize(f, _KEYS.pop, key, None)
        return hit, (codes[len(frames)] if other is not None else None)
