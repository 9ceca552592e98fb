"""A year's student IDs as integer codes: one Arrow hash pass per year.

Pseudonymised student IDs are 64-character strings; linking rows by them (an assessment
to its enrolment, this year's score to last year's) hashes every string each time. The
year's IDs in students, assessments and sel become integer codes once — the same student,
the same code in all three — and growth and every district's indicators link by those.

Once per year, not per call: the caller holding the year makes one ``YearKeys`` and
hands it to growth and to every district (``sqis.indicators.YearLookups``,
``sqis.pipeline.Inputs``); ``student_keys`` and ``student_keys_linking`` compute afresh.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sqis import groups as groups_mod
from sqis.once import Once
from sqis.yeardata import YearData

# The frames whose rows carry a student ID.
STUDENT_FILES: tuple[str, ...] = ("students", "assessments", "sel")
# internal column: the year's student_id as an integer code
STUDENT_KEY = "student_key"


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
        return self._once.get("keys", lambda: _codes(self.year_data, None)[0])

    def linking(self, other: pd.Series) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """``keys()``, and the codes of ``other`` (another year's IDs) in the same
        dictionary, in one hash pass: a student of both years has one code; a student of
        ``other`` only, a code no row of the year has. Codes follow first appearance, so
        the year's codes are those of ``keys()`` either way: the pass is kept as them."""
        keys, codes = _codes(self.year_data, other)
        assert codes is not None
        return self._once.get("keys", lambda: keys), codes


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
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    frames = [yd.frame(name) for name in STUDENT_FILES]
    columns = [f["student_id"] for f in frames]
    # codes follow first appearance: appending ``other`` leaves the year's unchanged
    codes = groups_mod.shared_codes(*columns, *([] if other is None else [other]))
    for c in codes:
        c.setflags(write=False)
    keys = dict(zip(STUDENT_FILES, codes[: len(frames)], strict=True))
    return keys, (codes[len(frames)] if other is not None else None)
