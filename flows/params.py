"""The parameters of the sqis flows: one pydantic model per flow, rendered as a form in the UI.

Each model is the single parameter of its flow, so the Prefect UI shows one form with
a field per setting, and a deployment's defaults are a plain mapping of these fields.
Settings that are not parameters (the results store URL, the store root, the
pseudonym key) come from ``SQIS_*`` environment variables on the worker.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sqis import years


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_year(v: str | None) -> str | None:
    if v is not None and v != "":
        years.start_of(v)
        return v
    return None


class AnnualCycleParams(_Params):
    """One school year's accountability run."""

    year: str | None = Field(
        default=None,
        description=(
            "Results year YYYY-YY (e.g. 2015-16): the school year whose delivery is computed; "
            "its results decide the next school year. Empty: the school year that ended "
            "before the run date."
        ),
    )
    as_of: date | None = Field(
        default=None,
        description=(
            "Run as on this date (YYYY-MM-DD) when the year is empty: re-runs a missed "
            "calendar day. Empty: today (America/Los_Angeles)."
        ),
    )
    data_root: str = Field(
        default="./data", description="The data root: a folder or s3://bucket/prefix."
    )
    out_root: str | None = Field(
        default=None, description="Where exports and reports go. Empty: SQIS_OUT_ROOT."
    )
    db_url: str | None = Field(
        default=None, description="Results store URL. Empty: SQIS_DATABASE_URL."
    )
    methodology: str | None = Field(
        default=None,
        description="Methodology version or file path. Empty: the one that applies to the year.",
    )
    pdf: Literal["auto", "all", "none"] = Field(
        default="auto", description="PDF reports: auto (when WeasyPrint works), all, none."
    )
    replace: bool = Field(
        default=False,
        description="Accept a changed delivery for a year already ingested (re-validates it).",
    )
    force: str | None = Field(
        default=None,
        description=(
            "Run past a refusal (another store's publication, an earlier year missing or "
            "stale, another methodology): the reason, recorded on the run. Empty: refuse."
        ),
    )

    _year = field_validator("year")(classmethod(lambda cls, v: _check_year(v)))
