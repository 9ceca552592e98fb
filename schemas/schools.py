"""``schools.csv``: one row per school (DATA_CONTRACT.md, *schools*).

Cross-row rules (district code is the school code's prefix, low ≤ high grade) are in
``schemas.cross_file``.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import ContractModel, digits
from schemas.limits import DISTRICT_CODE_DIGITS, GRADE_RANGE, SCHOOL_CODE_DIGITS
from sqis import codes


class Schools(ContractModel):
    school_code: Series[str] = pa.Field(str_matches=digits(SCHOOL_CODE_DIGITS), unique=True)
    district_code: Series[str] = pa.Field(str_matches=digits(DISTRICT_CODE_DIGITS))
    school_name: Series[str] = pa.Field(str_matches=r"\s*\S")
    district_name: Series[str] = pa.Field(str_matches=r"\s*\S")
    school_type: Series[str] = pa.Field(isin=list(codes.SCHOOL_TYPES))
    title_i: Series[bool]
    low_grade: Series[int] = pa.Field(ge=GRADE_RANGE[0], le=GRADE_RANGE[1])
    high_grade: Series[int] = pa.Field(ge=GRADE_RANGE[0], le=GRADE_RANGE[1])
