"""``sel.csv``: one row per student per construct, student survey (DATA_CONTRACT.md, *sel*).

Enrolment at the school is a cross-file rule (``schemas.cross_file``).
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import ContractModel, key_columns, n_digits
from schemas.limits import SCHOOL_CODE_DIGITS, STUDENT_ID_DIGITS, SURVEY_SCORE_RANGE
from sqis import codes


class Sel(ContractModel):
    student_id: Series[str] = pa.Field(ascii_digits=n_digits(STUDENT_ID_DIGITS))
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    construct: Series[str] = pa.Field(isin=list(codes.SEL_CONSTRUCTS))
    score: Series[float] = pa.Field(ge=SURVEY_SCORE_RANGE[0], le=SURVEY_SCORE_RANGE[1])

    class Config:
        unique_key = key_columns("student_id", "school_code", "construct")
