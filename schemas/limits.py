"""Bounds the data contract fixes (DATA_CONTRACT.md, docs/data-contract.md).

These are the contract's vocabulary, not methodology numbers: they say what a valid
delivered value is, not how it is scored.
"""

from __future__ import annotations

SCHOOL_CODE_DIGITS = 14  # CDS code: 2 county + 5 district + 7 school
DISTRICT_CODE_DIGITS = 7  # the first 7 digits of the school code
STUDENT_ID_DIGITS = 10  # state student ID
GRADE_RANGE = (0, 12)  # 0 = kindergarten
DAYS_ENROLLED_RANGE = (0, 200)
SCALE_SCORE_RANGE = (2000.0, 3000.0)
SURVEY_SCORE_RANGE = (1.0, 5.0)
# A contract file's header names its columns in a few hundred bytes; a first line longer
# than this (a file without line breaks, millions of columns) is refused before parsing.
HEADER_MAX_BYTES = 1 << 16
