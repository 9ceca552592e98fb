"""The parameters of the sqis flows: one pydantic model per flow, rendered as a form in the UI.

Each model is the single parameter of its flow, so the Prefect UI shows one form with
a field per setting, each with a title, a description and its choices; empty text means
"derive it" (from the run's date or the settings), so no field is a nullable toggle. A
deployment's defaults are a plain mapping of these fields. The UI renders a description
as Markdown and drops what looks like an HTML tag: no ``<year>`` placeholders in them.

Nothing secret is a parameter: the results store URL, the store root and the pseudonym
key come from ``SQIS_*`` settings on the worker (or a Prefect Secret block), so no
password is ever stored with a flow run's parameters.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sqis.years import SchoolYear


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_year(v: str) -> str:
    """A year field is checked on the form and stays text (the UI's and the API's); the
    flow parses it into a ``SchoolYear`` once, at its start."""
    v = (v or "").strip()
    if v:
        SchoolYear(v)
    return v


def _check_date(v: str | date) -> str:
    if isinstance(v, date):
        return v.isoformat()
    v = (v or "").strip()
    if v:
        try:
            date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a date of the form YYYY-MM-DD") from None
    return v


def _check_methodology(v: str) -> str:
    """A known version or an existing file: refused before any run starts."""
    v = (v or "").strip()
    if not v:
        return v
    if v.endswith((".yaml", ".yml")) or Path(v).exists():
        if not Path(v).is_file():
            raise ValueError(f"methodology file {v!r} does not exist")
        return v
    from sqis.methodology import available
    from sqis.settings import get_settings

    known = [m.version for m in available(get_settings().methodology_dir)]
    if v not in known:
        raise ValueError(f"no methodology {v!r}: known versions are {', '.join(known)}")
    return v


def as_date(text: str) -> date | None:
    """A parameter's date (empty: none)."""
    return date.fromisoformat(text) if text else None


def parameter_date(value: Any) -> date | None:
    """A flow run's raw ``as_of`` parameter as a date (the UI and API send ISO text;
    empty: none), for the run names, which read parameters before validation."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)) if str(value) else None


YEAR_HELP = "Empty: derived from the run date ({})."
AS_OF = Field(
    default="",
    title="Run as on",
    description=(
        "Run as on this date (YYYY-MM-DD) when the year is empty, to re-run a missed calendar "
        "day. Empty: today (America/Los_Angeles)."
    ),
)
OUT_ROOT = Field(
    default="",
    title="Out root",
    description="Where the staff edition goes (folder or s3://…). Empty: SQIS_OUT_ROOT.",
)
PUBLIC_ROOT = Field(
    default="",
    title="Public root",
    description=(
        "Where the public edition goes (folder or s3://…, e.g. a public bucket). "
        "Empty: SQIS_PUBLIC_ROOT, else the out root's public/ folder."
    ),
)


class AnnualCycleParams(_Params):
    """One results year's accountability run."""

    year: str = Field(
        default="",
        title="Results year",
        description=(
            "Results year YYYY-YY (e.g. 2015-16): the school year whose delivery is computed; "
            "its results decide the next school year. "
            + YEAR_HELP.format("the school year that ended before it")
        ),
    )
    as_of: str = AS_OF
    data_root: str = Field(
        default="./data",
        title="Data root",
        description="The deliveries: a folder or s3://bucket/prefix with a YYYY-YY/ folder a year.",
    )
    out_root: str = OUT_ROOT
    public_root: str = PUBLIC_ROOT
    methodology: str = Field(
        default="",
        title="Methodology",
        description="Methodology version or file path. Empty: the one that applies to the year.",
    )
    pdf: Literal["auto", "all", "none"] = Field(
        default="auto",
        title="PDF reports",
        description="auto: the Focus and Priority data reports when WeasyPrint works; all; none.",
    )
    replace: bool = Field(
        default=False,
        title="Accept a changed delivery",
        description="Re-validate and store a year already ingested from other files.",
    )
    force: str = Field(
        default="",
        title="Force, because…",
        description=(
            "Run past a refusal (another store's publication, an earlier year missing or "
            "stale, another methodology): the reason, recorded on the run. Empty: refuse."
        ),
    )

    _year = field_validator("year")(classmethod(lambda cls, v: _check_year(v)))
    _as_of = field_validator("as_of", mode="before")(classmethod(lambda cls, v: _check_date(v)))
    _methodology = field_validator("methodology")(classmethod(lambda cls, v: _check_methodology(v)))


class CheckpointParams(_Params):
    """A community-of-practice checkpoint of a service year."""

    year: str = Field(
        default="",
        title="Service year",
        description=(
            "Service year YYYY-YY of the checkpoint (its communities were formed from the "
            "year before's results). " + YEAR_HELP.format("the checkpoint due on it")
        ),
    )
    # text choices: the UI's select leaves out a choice of 0 (and shows nothing selected)
    number: Literal["due", "1", "2", "3", "4"] = Field(
        default="due",
        title="Checkpoint",
        description=(
            "1 (October), 2 (January), 3 (April), 4 (June), or due: the one due on the date."
        ),
    )
    as_of: str = AS_OF
    data_root: str = Field(
        default="",
        title="Data root",
        description=(
            "Where the interim deliveries are: a folder or s3://… holding "
            "YYYY-YY/interim/checkpoint-N/ (service year, checkpoint). "
            "Empty: no interim data."
        ),
    )
    out_root: str = OUT_ROOT

    _year = field_validator("year")(classmethod(lambda cls, v: _check_year(v)))
    _as_of = field_validator("as_of", mode="before")(classmethod(lambda cls, v: _check_date(v)))
    _number = field_validator("number", mode="before")(
        classmethod(lambda cls, v: str(checkpoint_number(v) or "due"))
    )


def checkpoint_number(value: Any) -> int | None:
    """A checkpoint given as 1–4 or "1"–"4"; None for the one due ("due", 0 or empty)."""
    if value in (None, "", "due", 0, "0"):
        return None
    if isinstance(value, bool) or str(value) not in ("1", "2", "3", "4"):
        raise ValueError(f"checkpoint {value!r}: use 1, 2, 3, 4 or due")
    return int(value)


class OversightParams(_Params):
    """A meeting of the Oversight Panel."""

    year: str = Field(
        default="",
        title="Service year",
        description=(
            "Service year YYYY-YY of the meeting (it reviews the year before's results). "
            + YEAR_HELP.format("the meeting due on it")
        ),
    )
    term: Literal["due", "fall", "spring"] = Field(
        default="due",
        title="Meeting",
        description="fall (1 November), spring (1 May), or due: the meeting due on the date.",
    )
    as_of: str = AS_OF
    out_root: str = OUT_ROOT
    public_root: str = PUBLIC_ROOT

    _year = field_validator("year")(classmethod(lambda cls, v: _check_year(v)))
    _as_of = field_validator("as_of", mode="before")(classmethod(lambda cls, v: _check_date(v)))
