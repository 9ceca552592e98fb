"""``rosters.csv``: one row per student per subject per teacher of record (DATA_CONTRACT.md,
*rosters*; METHODOLOGY.md "Educator effectiveness", the growth measure).

A co-taught student has a row per teacher. The student enrolled at that school this year
and the educator a ``TEACHER`` of that school in ``educators`` are cross-file rules
(``schemas.cross_file``). Both IDs are pseudonymised at ingest, each in its own key domain.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import ContractModel, key_columns, n_digits
from schemas.educators import EDUCATOR_ID_PATTERN
from schemas.limits import SCHOOL_CODE_DIGITS, STUDENT_ID_DIGITS
from sqis import codes


class Rosters(ContractModel):
    student_id: Series[str] = pa.Field(ascii_digits=n_digits(STUDENT_ID_DIGITS))
    educator_id: Series[str] = pa.Field(str_matches=EDUCATOR_ID_PATTERN)
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    subject: Series[str] = pa.Field(isin=list(codes.ROSTER_SUBJECTS))

    class Config:
        unique_key = key_columns("student_id", "educator_id", "subject")
