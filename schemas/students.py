"""``students.csv``: one row per student per school enrolment (DATA_CONTRACT.md, *students*).

Cross-file and cross-column rules (school in schools, grade within the school's span,
``redesignated`` only for ``EL``, ``days_absent ≤ days_enrolled``) are in ``schemas.cross_file``.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import ContractModel, key_columns, n_digits
from schemas.limits import (
    DAYS_ENROLLED_RANGE,
    GRADE_RANGE,
    INTEGER_MAX,
    SCHOOL_CODE_DIGITS,
    STUDENT_ID_DIGITS,
)
from sqis import codes


class Students(ContractModel):
    student_id: Series[str] = pa.Field(ascii_digits=n_digits(STUDENT_ID_DIGITS))
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    grade: Series[int] = pa.Field(ge=GRADE_RANGE[0], le=GRADE_RANGE[1])
    race_ethnicity: Series[str] = pa.Field(isin=list(codes.RACE_CODES))
    gender: Series[str] = pa.Field(isin=list(codes.GENDERS))
    el_status: Series[str] = pa.Field(isin=list(codes.EL_STATUSES))
    redesignated: Series[bool]
    swd: Series[bool]
    sed: Series[bool]
    foster: Series[bool]
    homeless: Series[bool]
    days_enrolled: Series[int] = pa.Field(ge=DAYS_ENROLLED_RANGE[0], le=DAYS_ENROLLED_RANGE[1])
    days_absent: Series[int] = pa.Field(ge=DAYS_ENROLLED_RANGE[0], le=DAYS_ENROLLED_RANGE[1])
    suspensions: Series[int] = pa.Field(ge=0, le=INTEGER_MAX)  # an INTEGER, like every count
    expelled: Series[bool]
    promoted: Series[bool]

    class Config:
        unique_key = key_columns("student_id", "school_code")
