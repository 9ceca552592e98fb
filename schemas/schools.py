"""``schools.csv``: one row per school (DATA_CONTRACT.md, *schools*).

Cross-row rules (district code is the school code's prefix, low ≤ high grade) are in
``schemas.cross_file``.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import (
    CONTROL_RULE,
    ContractModel,
    at_most,
    max_length_rule,
    n_digits,
    no_control_characters,
)
from schemas.limits import DISTRICT_CODE_DIGITS, GRADE_RANGE, NAME_MAX_CHARS, SCHOOL_CODE_DIGITS
from sqis import codes


class Schools(ContractModel):
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS), unique=True)
    district_code: Series[str] = pa.Field(ascii_digits=n_digits(DISTRICT_CODE_DIGITS))
    school_name: Series[str] = pa.Field(str_matches=r"\s*\S")
    district_name: Series[str] = pa.Field(str_matches=r"\s*\S")
    school_type: Series[str] = pa.Field(isin=list(codes.SCHOOL_TYPES))
    title_i: Series[bool]
    low_grade: Series[int] = pa.Field(ge=GRADE_RANGE[0], le=GRADE_RANGE[1])
    high_grade: Series[int] = pa.Field(ge=GRADE_RANGE[0], le=GRADE_RANGE[1])

    # names are stored in the results store (VARCHAR(200)): no NUL or other control
    # character, and no longer than it holds
    @pa.check("school_name", "district_name", name=CONTROL_RULE, error=CONTROL_RULE)
    def _printable(cls, values: Series[str]) -> Series[bool]:
        return no_control_characters(values)

    @pa.check(
        "school_name", "district_name", name="max_length", error=max_length_rule(NAME_MAX_CHARS)
    )
    def _fits(cls, values: Series[str]) -> Series[bool]:
        return at_most(values, NAME_MAX_CHARS)
