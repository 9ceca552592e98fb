"""A year's student IDs as integer codes: one Arrow hash pass per year.

Pseudonymised student IDs are 64-character strings; linking rows by them (an assessment
to its enrolment, this year's score to last year's) hashes every string each time. The
year's IDs in students, assessments and sel become integer codes once — the same student,
the same code in all three — and growth and every district's indicators link by those.

Once per year, not per call: the caller holding the year makes one ``YearKeys`` and
hands it to growth and to every district (``sqis.indicators.YearLookups``,
``sqis.year_inputs.Inputs``); ``student_keys`` and ``student_keys_linking`` compute afresh.
"""

from __future__ import annotations

from collections.abc import Callable

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
