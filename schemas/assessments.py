"""``assessments.csv``: one row per student per subject (DATA_CONTRACT.md, *assessments*).

The subject/grade combination and enrolment at the school are cross-file rules
(``schemas.cross_file``).
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import ContractModel, key_columns, n_digits
from schemas.limits import SCALE_SCORE_RANGE, SCHOOL_CODE_DIGITS, STUDENT_ID_DIGITS
from sqis import codes

ANY_ASSESSED_GRADE = sorted({g for grades in codes.ASSESSED_GRADES.values() for g in grades})


class Assessments(ContractModel):
    student_id: Series[str] = pa.Field(ascii_digits=n_digits(STUDENT_ID_DIGITS))
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    subject: Series[str] = pa.Field(isin=list(codes.SUBJECTS))
    grade: Series[int] = pa.Field(isin=ANY_ASSESSED_GRADE)
    scale_score: Series[float] = pa.Field(ge=SCALE_SCORE_RANGE[0], le=SCALE_SCORE_RANGE[1])
    performance_level: Series[int] = pa.Field(isin=list(codes.PERFORMANCE_LEVELS))

    class Config:
        unique_key = key_columns("student_id", "subject")
