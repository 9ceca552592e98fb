"""``graduation.csv``: one row per student per cohort (DATA_CONTRACT.md, *graduation*).

Cross-file rules (an ``HS`` school, the measured cohorts, grad_year present iff ``GRAD``,
after the cohort and not after the year) are in ``schemas.cross_file``.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import ContractModel, key_columns, n_digits, year_pattern
from schemas.limits import SCHOOL_CODE_DIGITS, STUDENT_ID_DIGITS
from sqis import codes


class Graduation(ContractModel):
    student_id: Series[str] = pa.Field(ascii_digits=n_digits(STUDENT_ID_DIGITS))
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    cohort: Series[str] = pa.Field(str_matches=year_pattern())
    outcome: Series[str] = pa.Field(isin=list(codes.GRAD_OUTCOMES))
    grad_year: Series[str] = pa.Field(str_matches=year_pattern(), nullable=True)
    race_ethnicity: Series[str] = pa.Field(isin=list(codes.RACE_CODES))
    el: Series[bool]
    swd: Series[bool]
    sed: Series[bool]
    foster: Series[bool]
    homeless: Series[bool]

    class Config:
        unique_key = key_columns("student_id", "cohort")
