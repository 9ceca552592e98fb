"""The indicators frame (``sqis.indicators.compute_indicators``): its columns and types.

One row per (school, student group, indicator). Its own module so that the rules making
rows of it — ``sqis.indicators`` and ``sqis.growth`` (ELA_GROWTH, MATH_GROWTH) — share
the empty frame without importing each other.
"""

from __future__ import annotations

import pandas as pd

COLUMNS = [
    "school_code",
    "student_group",
    "indicator",
    "numerator",
    "denominator",
    "value",
    "meets_nsize",
]


def empty_indicators() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "school_code": pd.Series([], dtype="str"),
            "student_group": pd.Series([], dtype="str"),
            "indicator": pd.Series([], dtype="str"),
            "numerator": pd.Series([], dtype="Int64"),
            "denominator": pd.Series([], dtype="int64"),
            "value": pd.Series([], dtype="float64"),
            "meets_nsize": pd.Series([], dtype="bool"),
        }
    )
