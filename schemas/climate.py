"""``climate.csv``: one row per respondent per construct (DATA_CONTRACT.md, *climate*).

Respondents are anonymous: ``respondent_id`` is a survey ID, not a student ID, and is
not pseudonymised. The key (school, type, respondent, construct) is unique, so a survey
ID is unique per respondent type and school.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import CONTROL_RULE, ContractModel, key_columns, n_digits, no_control_characters
from schemas.limits import SCHOOL_CODE_DIGITS, SURVEY_SCORE_RANGE
from sqis import codes


class Climate(ContractModel):
    respondent_id: Series[str]  # required: an empty ID is missing (not_nullable)
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    respondent_type: Series[str] = pa.Field(isin=list(codes.RESPONDENT_TYPES))
    construct: Series[str] = pa.Field(isin=list(codes.CLIMATE_CONSTRUCTS))
    score: Series[float] = pa.Field(ge=SURVEY_SCORE_RANGE[0], le=SURVEY_SCORE_RANGE[1])

    @pa.check("respondent_id", name=CONTROL_RULE, error=CONTROL_RULE)
    def _printable(cls, values: Series[str]) -> Series[bool]:
        return no_control_characters(values)

    class Config:
        unique_key = key_columns("school_code", "respondent_type", "respondent_id", "construct")
