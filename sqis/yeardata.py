"""One school year's validated delivery, as the rules receive it.

Ingest (``sqis.ingest``) reads the contract files, validates them with ``schemas/``,
pseudonymises student IDs and hands the rules a ``YearData`` whose frames have the
contract's columns with these types:

- codes and IDs (``school_code``, ``student_id``, ``race_ethnicity``, …): strings;
  ``student_id`` is the HMAC-SHA256 pseudonym (64 hex characters), never the raw ID;
- flags (``title_i``, ``swd``, ``sed``, ``foster``, ``homeless``, ``redesignated``,
  ``expelled``, ``promoted``; graduation's ``el``, ``swd``, …): ``bool``;
- integers (grades, days, suspensions, performance_level): ``int64``;
- scores: ``float64``; ``grad_year``: string, missing (NA) where the outcome is not ``GRAD``.

Every rule function takes these frames and returns new ones; none mutates its input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from sqis import codes

if TYPE_CHECKING:
    from sqis.student_keys import StoredKeys


@dataclass
class YearData:
    year: str
    schools: pd.DataFrame
    students: pd.DataFrame
    assessments: pd.DataFrame
    graduation: pd.DataFrame
    sel: pd.DataFrame
    climate: pd.DataFrame
    # SHA-256 of each delivered file, by contract file name
    checksums: dict[str, str] = field(default_factory=dict)
    # the optional educator files (DATA_CONTRACT.md `educators`, `rosters`; both or neither),
    # ``educator_id`` and ``student_id`` pseudonymised: None where the year has none
    educators: pd.DataFrame | None = None
    rosters: pd.DataFrame | None = None
    # the student codes ingest stored for these very frames (``sqis.student_keys.StoredKeys``;
    # a frame replaced since is not theirs, and its IDs are hashed again): None where none
    stored_keys: StoredKeys | None = field(default=None, repr=False, compare=False)

    def frame(self, name: str) -> pd.DataFrame:
        if name not in codes.CONTRACT_FILES:
            raise KeyError(name)
        return getattr(self, name)

    def districts(self) -> list[str]:
        return sorted(self.schools["district_code"].unique().tolist())
