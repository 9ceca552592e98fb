"""The output tables as DATA_CONTRACT.md (*Outputs*) lays them out, read back from CSV, and
the frames the stages hand each other.

``indicators.csv, index.csv, designations.csv, communities.csv, districts.csv``,
``goal_support.csv``, ``partnership_flags.csv``: one model
each, for the files as written by ``sqis.exports`` (flags ``Y``/``N``, missing values
empty). A test, a downstream consumer or ``check_output`` can hold an export to the
contract.

The frames between stages (docs/architecture.md, *Frames between stages*): one model each
(``FRAMES``), the one declaration of the frame's columns, their order and their pandas
types. Where a frame is its file's shape (``index``, ``goal_support`` …) the file's model
is the frame's; where it carries more (``designations`` with ``gap`` …) its model extends
the file's. A stage's empty frame is ``empty(Model)`` and its columns ``columns(Model)``:
no module declares them again.
"""

from __future__ import annotations

import functools
import io
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.engines import pandas_engine
from pandera.typing import Series

from schemas.base import (
    ContractModel,
    column_kinds,
    concat_errors,
    contract_schema,
    key_columns,
    n_digits,
    parse_columns,
    schema_errors,
)
from schemas.limits import DISTRICT_CODE_DIGITS, SCHOOL_CODE_DIGITS
from sqis import codes

LEVELS = (1, 10)  # index levels 1–10 (METHODOLOGY.md, *Index levels*)
SQII_RANGE = (10.0, 100.0)  # METHODOLOGY.md, *SQII* step 3


class Indicators(ContractModel):
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    student_group: Series[str] = pa.Field(isin=list(codes.STUDENT_GROUPS))
    indicator: Series[str] = pa.Field(isin=list(codes.INDICATORS))
    numerator: Series[float] = pa.Field(ge=0, nullable=True)  # empty for means, ratios
    denominator: Series[int] = pa.Field(ge=0)
    value: Series[float] = pa.Field(nullable=True)
    level: Series[pd.Int64Dtype] = pa.Field(ge=LEVELS[0], le=LEVELS[1], nullable=True)
    meets_nsize: Series[bool]

    class Config:
        unique_key = key_columns("school_code", "student_group", "indicator")

    @pa.dataframe_check(name="level empty where meets_nsize is N")
    @classmethod
    def _no_level_under_nsize(cls, df: pd.DataFrame) -> pd.Series:
        return df["meets_nsize"] | df["level"].isna()


class Index(ContractModel):
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS), unique=True)
    academic: Series[float] = pa.Field(ge=LEVELS[0], le=LEVELS[1], nullable=True)
    social_emotional: Series[float] = pa.Field(ge=LEVELS[0], le=LEVELS[1], nullable=True)
    culture_climate: Series[float] = pa.Field(ge=LEVELS[0], le=LEVELS[1], nullable=True)
    sqii: Series[float] = pa.Field(ge=SQII_RANGE[0], le=SQII_RANGE[1], nullable=True)
    prior_sqii: Series[float] = pa.Field(ge=SQII_RANGE[0], le=SQII_RANGE[1], nullable=True)
    goal: Series[float] = pa.Field(le=SQII_RANGE[1], nullable=True)
    meets_goal: Series[pd.BooleanDtype] = pa.Field(nullable=True)


class Designations(ContractModel):
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS), unique=True)
    designation: Series[str] = pa.Field(isin=list(codes.DESIGNATIONS))
    reason_group: Series[str] = pa.Field(isin=list(codes.STUDENT_GROUPS), nullable=True)
    reason_indicator: Series[str] = pa.Field(isin=list(codes.INDICATORS), nullable=True)
    years_in_status: Series[int] = pa.Field(ge=0)
    escalation: Series[str] = pa.Field(isin=list(codes.ESCALATIONS))
    partner_school_code: Series[str] = pa.Field(
        ascii_digits=n_digits(SCHOOL_CODE_DIGITS), nullable=True
    )
    exited: Series[bool]


class Communities(ContractModel):
    community_id: Series[str] = pa.Field(str_matches=r"\s*\S")
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    reason_group: Series[str] = pa.Field(isin=list(codes.STUDENT_GROUPS), nullable=True)
    checkpoint: Series[int] = pa.Field(ge=1)
    date: Series[str] = pa.Field(str_matches=r"^\d{4}-\d{2}-\d{2}$")
    status: Series[str] = pa.Field(isin=list(codes.CHECKPOINT_STATUSES))

    class Config:
        unique_key = key_columns("community_id", "school_code", "checkpoint")


class Districts(ContractModel):
    """METHODOLOGY.md "District index": enrolment-weighted means of the schools' scores."""

    district_code: Series[str] = pa.Field(ascii_digits=n_digits(DISTRICT_CODE_DIGITS), unique=True)
    academic: Series[float] = pa.Field(ge=LEVELS[0], le=LEVELS[1], nullable=True)
    social_emotional: Series[float] = pa.Field(ge=LEVELS[0], le=LEVELS[1], nullable=True)
    culture_climate: Series[float] = pa.Field(ge=LEVELS[0], le=LEVELS[1], nullable=True)
    sqii: Series[float] = pa.Field(ge=SQII_RANGE[0], le=SQII_RANGE[1], nullable=True)
    prior_sqii: Series[float] = pa.Field(ge=SQII_RANGE[0], le=SQII_RANGE[1], nullable=True)
    goal: Series[float] = pa.Field(le=SQII_RANGE[1], nullable=True)
    meets_goal: Series[pd.BooleanDtype] = pa.Field(nullable=True)


class DistrictsFrame(Districts):
    """``sqis.districts.district_index`` (the results store's ``district_index``):
    ``districts.csv``'s columns, and the schools counted and their enrolment."""

    schools: Series[pd.Int64Dtype] = pa.Field(ge=0)
    enrolment: Series[pd.Int64Dtype] = pa.Field(ge=0)

    class Config:
        ordered = True
        coerce = False


class GoalSupport(ContractModel):
    """METHODOLOGY.md "Support for schools missing their goal": one row per school missing
    its goal that is not PRIORITY or FOCUS; ``support_school_code`` empty where none
    qualifies (and ``weakest_indicator`` empty for a school without a level)."""

    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS), unique=True)
    weakest_indicator: Series[str] = pa.Field(isin=list(codes.INDICATORS), nullable=True)
    support_school_code: Series[str] = pa.Field(
        ascii_digits=n_digits(SCHOOL_CODE_DIGITS), nullable=True
    )

    @pa.dataframe_check(name="a school does not support itself")
    @classmethod
    def _not_itself(cls, df: pd.DataFrame) -> pd.Series:
        return df["support_school_code"].isna() | (df["support_school_code"] != df["school_code"])


class PartnershipFlags(ContractModel):
    """METHODOLOGY.md "Escalation": each school required to partner that got none."""

    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    flag: Series[str] = pa.Field(isin=list(codes.PARTNERSHIP_FLAGS))

    class Config:
        unique_key = key_columns("school_code", "flag")


class Educators(ContractModel):
    """``educators.csv`` (staff edition only; METHODOLOGY.md "Educator effectiveness")."""

    educator_key: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{64}\Z")  # the pseudonym
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    role: Series[str] = pa.Field(isin=list(codes.EDUCATOR_ROLES))
    practice: Series[float] = pa.Field(ge=1.0, le=4.0)
    growth: Series[float] = pa.Field(nullable=True)
    growth_rating: Series[pd.Int64Dtype] = pa.Field(ge=1, le=4, nullable=True)
    summative: Series[float] = pa.Field(ge=1.0, le=4.0)
    level: Series[int] = pa.Field(isin=list(codes.EDUCATOR_LEVELS))
    flag: Series[str] = pa.Field(isin=list(codes.EDUCATOR_FLAGS))

    class Config:
        unique_key = key_columns("educator_key", "school_code")

    @pa.dataframe_check(name="NO_GROWTH exactly where there is no growth rating")
    @classmethod
    def _no_growth(cls, df: pd.DataFrame) -> pd.Series:
        return (df["flag"] == "NO_GROWTH") == df["growth_rating"].isna()


class EducatorDistribution(ContractModel):
    """``educator-distribution.csv`` as the staff edition writes it (every count shown)."""

    entity_type: Series[str] = pa.Field(isin=["CONSORTIUM", "DISTRICT", "SCHOOL"])
    entity_code: Series[str] = pa.Field(str_matches=r"^(ALL|[0-9]{7}|[0-9]{14})\Z")
    role: Series[str] = pa.Field(isin=list(codes.EDUCATOR_ROLES))
    rated: Series[int] = pa.Field(ge=1)
    level_1: Series[int] = pa.Field(ge=0)
    level_2: Series[int] = pa.Field(ge=0)
    level_3: Series[int] = pa.Field(ge=0)
    level_4: Series[int] = pa.Field(ge=0)

    class Config:
        unique_key = key_columns("entity_type", "entity_code", "role")

    @pa.dataframe_check(name="rated is the sum of the levels")
    @classmethod
    def _total(cls, df: pd.DataFrame) -> pd.Series:
        return df["rated"] == df["level_1"] + df["level_2"] + df["level_3"] + df["level_4"]


OUTPUT_MODELS: dict[str, type[ContractModel]] = {
    "indicators": Indicators,
    "index": Index,
    "designations": Designations,
    "communities": Communities,
    "districts": Districts,
    "goal_support": GoalSupport,
    "partnership_flags": PartnershipFlags,
    "educators": Educators,
    "educator-distribution": EducatorDistribution,
}


def check_output(name: str, data: bytes) -> pd.DataFrame:
    """Hold an exported CSV (``indicators`` …) to its model; failures in the error format.

    Rows are numbered as in the file (header = 1). Empty result: the file is as the
    contract says.
    """
    model = OUTPUT_MODELS[name]
    raw = pd.read_csv(io.BytesIO(data), dtype="str", keep_default_na=False)
    raw.index = pd.RangeIndex(2, len(raw) + 2, name="row")
    kinds = column_kinds(model)
    parts = []
    missing = [c for c in kinds if c not in raw.columns]
    extra = [c for c in raw.columns if c not in kinds]
    for c in missing + extra:
        rule = "column_missing" if c in missing else "column_unexpected"
        parts.append(
            pd.DataFrame({"file": [name], "row": pd.array([pd.NA], dtype="Int64"),
                          "column": [c], "value": [""], "rule": [rule]})
        )  # fmt: skip
    typed, parse_errors = parse_columns(name, raw, kinds)
    schema = contract_schema(model, [c for c in raw.columns if c in kinds])
    _, errors = schema_errors(name, schema, typed, parse_errors)
    return concat_errors([*parts, parse_errors, errors])


# ---- the frames between stages (docs/architecture.md, *Frames between stages*) -------------
def columns(model: type[pa.DataFrameModel]) -> list[str]:
    """A frame model's columns, in their order."""
    return [c for c, _ in _frame_dtypes(model)]


def dtypes(model: type[pa.DataFrameModel]) -> dict[str, Any]:
    """A frame model's columns and their pandas types, in their order."""
    return dict(_frame_dtypes(model))


def empty(model: type[pa.DataFrameModel]) -> pd.DataFrame:
    """The model's frame with no rows: its columns, in order, each of its type."""
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in _frame_dtypes(model)})


@functools.cache
def _frame_dtypes(model: type[pa.DataFrameModel]) -> tuple[tuple[str, Any], ...]:
    return tuple((name, col.dtype.type) for name, col in model.to_schema().columns.items())


class FrameModel(pa.DataFrameModel):
    """Base of a frame's own model: exactly its columns, in order, of the types the stages
    give them (never coerced: the model says what the frame is)."""

    class Config:
        strict = True
        ordered = True
        coerce = False


class IndicatorsFrame(FrameModel):
    """``sqis.indicators.compute_indicators`` (growth's rows: ``sqis.growth``): one row per
    school × group × indicator; ``numerator`` empty for means, percentiles and ratios."""

    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    student_group: Series[str] = pa.Field(isin=list(codes.STUDENT_GROUPS))
    indicator: Series[str] = pa.Field(isin=list(codes.INDICATORS))
    numerator: Series[pd.Int64Dtype] = pa.Field(ge=0, nullable=True)
    denominator: Series[int] = pa.Field(ge=0)
    value: Series[float] = pa.Field(nullable=True)
    meets_nsize: Series[bool]


class LevelledIndicatorsFrame(IndicatorsFrame):
    """``sqis.levels.assign_levels``: the level and the improvement to advance 1, 2, 3 levels."""

    level: Series[pd.Int64Dtype] = pa.Field(ge=LEVELS[0], le=LEVELS[1], nullable=True)
    improve_1: Series[float] = pa.Field(nullable=True)
    improve_2: Series[float] = pa.Field(nullable=True)
    improve_3: Series[float] = pa.Field(nullable=True)


class IndicatorChangeFrame(LevelledIndicatorsFrame):
    """``sqis.levels.add_change``: last year's value and level beside this year's (the
    year's indicators, as the results store keeps them)."""

    prior_value: Series[float] = pa.Field(nullable=True)
    prior_level: Series[pd.Int64Dtype] = pa.Field(ge=LEVELS[0], le=LEVELS[1], nullable=True)
    change: Series[float] = pa.Field(nullable=True)
    level_change: Series[pd.Int64Dtype] = pa.Field(nullable=True)


class InterimIndicatorsFrame(IndicatorsFrame):
    """``sqis.checkpoints.rules.interim_indicators``: the indicators frame, its counts as
    floats (as the interim rules compute them)."""

    numerator: Series[float] = pa.Field(ge=0, nullable=True)
    denominator: Series[float] = pa.Field(ge=0)


class DesignationsFrame(Designations):
    """``sqis.designations.designate`` (then ``sqis.escalation.escalate``,
    ``sqis.partners.with_partners``): ``designations.csv``'s columns, and the achievement
    gap and ``meets_goal`` the reports and the support stage read."""

    gap: Series[float] = pa.Field(nullable=True)
    gap_group: Series[str] = pa.Field(isin=list(codes.STUDENT_GROUPS), nullable=True)
    meets_goal: Series[pd.BooleanDtype] = pa.Field(nullable=True)

    class Config:
        ordered = True
        coerce = False


class PartnershipsFrame(FrameModel):
    """``sqis.partners.assign_partners``: a school that needs a partner and got one, its
    Reward partner, the pair's cost and the school's designation (``kind``)."""

    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS), unique=True)
    partner_school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    cost: Series[float]
    kind: Series[str] = pa.Field(isin=list(codes.DESIGNATIONS))


class CommunitiesFrame(FrameModel):
    """``sqis.communities.form_communities``: every FOCUS school in its community of practice
    (the results store's ``communities``)."""

    community_id: Series[str] = pa.Field(str_matches=r"\s*\S")
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS), unique=True)
    reason_group: Series[str] = pa.Field(isin=list(codes.STUDENT_GROUPS))
    school_type: Series[str] = pa.Field(isin=list(codes.SCHOOL_TYPES))


class ScheduleFrame(Communities):
    """``sqis.communities.schedule``: ``communities.csv``'s columns, ``date`` a
    ``datetime.date`` (the export writes it ``YYYY-MM-DD``)."""

    date: Series[pandas_engine.Date]

    class Config:
        ordered = True
        coerce = False


class EducatorMeasuresFrame(FrameModel):
    """``sqis.educators.growth_measures``: every educator assignment's growth measure and
    rating, consortium-wide (``growth`` and its rating empty under the minimum students)."""

    educator_key: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{64}\Z")  # the pseudonym
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    role: Series[str] = pa.Field(isin=list(codes.EDUCATOR_ROLES))
    practice: Series[float] = pa.Field(ge=1.0, le=4.0)
    n_students: Series[int] = pa.Field(ge=0)
    mean_residual: Series[float] = pa.Field(nullable=True)
    growth: Series[float] = pa.Field(nullable=True)
    growth_rating: Series[pd.Int64Dtype] = pa.Field(ge=1, le=4, nullable=True)


class EducatorResultsFrame(FrameModel):
    """``sqis.educators.evaluate``: the measures with each district's option, the summative
    score, the level and the flag (the results store's ``educator_results``; ``educators.csv``
    is a selection of its columns). ``growth_weight`` is empty under option 1."""

    educator_key: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{64}\Z")  # the pseudonym
    school_code: Series[str] = pa.Field(ascii_digits=n_digits(SCHOOL_CODE_DIGITS))
    district_code: Series[str] = pa.Field(ascii_digits=n_digits(DISTRICT_CODE_DIGITS))
    role: Series[str] = pa.Field(isin=list(codes.EDUCATOR_ROLES))
    practice: Series[float] = pa.Field(ge=1.0, le=4.0)
    n_students: Series[int] = pa.Field(ge=0)
    mean_residual: Series[float] = pa.Field(nullable=True)
    growth: Series[float] = pa.Field(nullable=True)
    growth_rating: Series[pd.Int64Dtype] = pa.Field(ge=1, le=4, nullable=True)
    option: Series[int] = pa.Field(isin=[1, 2])
    growth_weight: Series[float] = pa.Field(ge=0.0, le=1.0, nullable=True)
    summative: Series[float] = pa.Field(ge=1.0, le=4.0)
    level: Series[int] = pa.Field(isin=list(codes.EDUCATOR_LEVELS))
    flag: Series[str] = pa.Field(isin=list(codes.EDUCATOR_FLAGS))


# Every frame between stages and its model (docs/architecture.md, *Frames between stages*).
FRAMES: dict[str, type[pa.DataFrameModel]] = {
    "indicators": IndicatorsFrame,
    "levelled_indicators": LevelledIndicatorsFrame,
    "year_indicators": IndicatorChangeFrame,
    "interim_indicators": InterimIndicatorsFrame,
    "index": Index,
    "designations": DesignationsFrame,
    "partnerships": PartnershipsFrame,
    "partnership_flags": PartnershipFlags,
    "goal_support": GoalSupport,
    "communities": CommunitiesFrame,
    "schedule": ScheduleFrame,
    "district_index": DistrictsFrame,
    "educator_measures": EducatorMeasuresFrame,
    "educator_results": EducatorResultsFrame,
    "educator_distribution": EducatorDistribution,
}
