"""``educators.csv``: one row per educator per school assignment (DATA_CONTRACT.md,
*educators*; METHODOLOGY.md "Educator effectiveness").

An optional file: delivered with ``rosters`` from the methodology's first educator year
(the pilot) on, never alone. The school in schools and one principal per school are
cross-file rules (``schemas.cross_file``). ``educator_id`` is pseudonymised at ingest
under its own key domain (``sqis.pseudonym.pseudonymise_educators``) and, like a student
ID, masked in every validation message (``schemas.base.STUDENT_ID_COLUMNS``).
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from schemas.base import ContractModel, key_columns, n_digits
from schemas.limits import SCHOOL_CODE_DIGITS
from sqis import codes

# DATA_CONTRACT.md: "district staff ID, 1–20 ASCII letters and digits" (contract bounds,
# not methodology numbers)
EDUCATOR_ID_PATTERN = r"^[A-Za-z0-9]{1,20}\Z"
# "practice: 1.0–4.0, the district's professional-practice rating"
PRACTICE_RANGE = (1.0, 4.0)


class Educators(ContractModel):
    educator_id: Series[str] = pa.Field(str_matches=EDUCATOR_ID_PATTERN)
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    role: Series[str] = pa.Field(isin=list(codes.EDUCATOR_ROLES))
    practice: Series[float] = pa.Field(ge=PRACTICE_RANGE[0], le=PRACTICE_RANGE[1])

    class Config:
        unique_key = key_columns("educator_id", "school_code")
