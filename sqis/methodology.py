"""The methodology file: every number of the School Quality Improvement System.

A methodology is a YAML file under ``sqis/methodologies/`` (or ``SQIS_METHODOLOGY_DIR``),
validated on load by the pydantic models below, and selected per school year: the
file with the latest ``applies_from`` not after the year. Code holds no threshold,
weight, share or cut point; it asks the methodology. A run records the methodology's
``version`` and the SHA-256 of the file it was loaded from.

METHODOLOGY.md (``docs/methodology.md``) explains each setting.

Why one module over 500 lines: the models are the schema of one file, in the file's order,
and ``Methodology``'s checks span its sections (every indicator has its cut points, the
domains pool each domain once, the designation rules name indicators and groups that
exist); split by section, the schema and its checks would be in pieces.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sqis import codes, years
from sqis.errors import USAGE, SqisError
from sqis.years import SchoolYear

BUILTIN_DIR = Path(__file__).resolve().parent / "methodologies"


class MethodologyError(ValueError, SqisError):
    """A methodology file that does not load or does not validate."""

    exit_code = USAGE


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorSpec(_Model):
    domain: Literal["academic", "social_emotional", "culture_climate"]
    direction: Literal["higher", "lower"]
    school_types: tuple[Literal["ES", "MS", "HS"], ...]
    # how `value` reads: a percentage 0–100, a mean on the survey scale, a percentile, a ratio
    scale: Literal["percent", "mean", "percentile", "ratio"]
    # which groups the indicator exists for; None = every student group
    groups: tuple[str, ...] | None = None


# METHODOLOGY.md "Public suppression": the thresholds are settings with a floor the code
# enforces: a methodology cannot publish counts under 11 (nor give a level to a group under
# 11). A methodology file that sets them lower does not load.
PUBLIC_MIN_COUNT = 11


class SuppressionSpec(_Model):
    min_count: int = 1
    max_count: int = 10
    suppressed_label: str = "*"
    # a file without it (or empty): "n<" and the methodology's n-size
    # (``Methodology._nsize_label``)
    under_nsize_label: str = ""

    @model_validator(mode="after")
    def _floor(self) -> SuppressionSpec:
        """Counts 1 to ``PUBLIC_MIN_COUNT`` − 1 are always suppressed (METHODOLOGY.md)."""
        if not 0 <= self.min_count <= 1 or self.max_count < PUBLIC_MIN_COUNT - 1:
            raise ValueError(
                f"suppression: min_count {self.min_count} and max_count {self.max_count} "
                f'would publish counts under {PUBLIC_MIN_COUNT}; METHODOLOGY.md "Public '
                f'suppression" requires min_count 0 or 1 and max_count at least '
                f"{PUBLIC_MIN_COUNT - 1}"
            )
        return self


class SchoolLevelSpec(_Model):
    """School indicator level = all_weight × level(ALL) + (1 − all_weight) × mean(subgroups)."""

    all_weight: float = Field(ge=0, le=1)
    # LOWEST_RACE stands for the lowest-performing race/ethnicity group meeting the n-size
    subgroups: tuple[str, ...]


class DomainSpec(_Model):
    name: str
    weight: float = Field(gt=0)
    # the methodology domains (academic, social_emotional, culture_climate) scored together
    pools: tuple[Literal["academic", "social_emotional", "culture_climate"], ...]


class RulesSpec(_Model):
    chronic_absent_share: float = Field(gt=0, lt=1)  # absent ≥ this share of days enrolled
    chronic_min_days_enrolled: int = Field(ge=1)
    grad_cohort_offsets: dict[str, int]  # GRAD4: 3 → cohort entered grade 9 three years before
    persist_from_grade: int
    persist_to_grade: int
    persist_years_back: int = Field(ge=1)
    climate_favourable_score: float
    sel_score_range: tuple[float, float]
    # ELA_MET/MATH_MET/SCI_MET: performance level 3 (met) or 4 (exceeded)
    met_min_performance_level: int = Field(default=3, ge=1, le=4)
    # MS_PERSIST: "type" = at the school types listed for it (core-2013.1: MS only);
    # "span" = besides, only at schools whose grade span includes persist_from_grade
    # (K-8 and 6-12 schools too: list every type for MS_PERSIST)
    persist_schools: Literal["type", "span"] = "type"
    # CLIMATE_*: what the n-size counts: "rows" (respondent-construct rows, core-2013.1)
    # or "respondents" (distinct respondent_id per school and respondent type)
    climate_nsize_counts: Literal["rows", "respondents"] = "rows"


class LevelBandsSpec(_Model):
    """Index levels: 1 .. average_from-1 below average, .. above_average_from-1 average."""

    average_from: int = Field(default=4, ge=2, le=10)
    above_average_from: int = Field(default=8, ge=2, le=10)

    @model_validator(mode="after")
    def _ordered(self) -> LevelBandsSpec:
        if self.above_average_from <= self.average_from:
            raise ValueError("level_bands: above_average_from must exceed average_from")
        return self


class CalibrationSpec(_Model):
    """How `sqis calibrate` turns a baseline year into cut points (Index levels)."""

    quantiles: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    decimals: int = Field(default=2, ge=0, le=6)  # cut points are rounded; ties nudged by 10^-d
    min_schools: int = Field(default=10, ge=1)  # fewer schools of a type: keep the base cuts

    @field_validator("quantiles")
    @classmethod
    def _nine_ascending(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if len(v) != 9 or any(not 0 < q < 1 for q in v) or list(v) != sorted(set(v)):
            raise ValueError("calibration.quantiles: nine strictly ascending shares in (0, 1)")
        return v


class GrowthSpec(_Model):
    shrinkage: Literal["none", "empirical_bayes"] = "none"
    percentile_cut_points: tuple[float, ...]
    # percentiles are ranked among groups whose denominator meets the n-size
    min_students_per_model: int = Field(ge=2)


class GoalSpec(_Model):
    improvement_share: float = Field(gt=0, le=1)  # goal = prior + share × (100 − prior)


class DesignationSpec(_Model):
    """METHODOLOGY.md "Designations". The defaults of the switches are core-2013.1's rules."""

    priority_share: float = Field(gt=0, lt=1)
    focus_share: float = Field(gt=0, lt=1)
    reward_performance_share: float = Field(gt=0, lt=1)
    reward_progress_share: float = Field(gt=0, lt=1)
    # what FOCUS's and REWARD's shares are of: "all" Title I schools with an SQII
    # (core-2013.1), or those "remaining" at the step (after PRIORITY; after both)
    shares_of: Literal["all", "remaining"] = "all"
    # REWARD's top-quarter gap exclusion: "quantile" = gap ≥ the Title I gaps'
    # reward_gap_exclusion_quantile (core-2013.1; ties can exclude every school);
    # "count" = the ⌈reward_gap_exclusion_share⌉ largest Title I gaps, ties by school code
    reward_gap_exclusion: Literal["quantile", "count"] = "quantile"
    reward_gap_exclusion_quantile: float | None = Field(default=None, gt=0, lt=1)
    reward_gap_exclusion_share: float | None = Field(default=None, gt=0, lt=1)
    grad_indicator: str
    grad_threshold: float
    gap_indicators: tuple[str, ...]
    # the subgroups whose gap (and GRAD4) can make a school FOCUS
    gap_groups: tuple[str, ...]

    @model_validator(mode="after")
    def _exclusion_setting(self) -> DesignationSpec:
        needed = {
            "quantile": ("reward_gap_exclusion_quantile", self.reward_gap_exclusion_quantile),
            "count": ("reward_gap_exclusion_share", self.reward_gap_exclusion_share),
        }[self.reward_gap_exclusion]
        if needed[1] is None:
            raise ValueError(
                f"designations.reward_gap_exclusion {self.reward_gap_exclusion!r} needs "
                f"designations.{needed[0]}"
            )
        return self


class EscalationSpec(_Model):
    # escalation by consecutive year in the designation: the first year at which it applies
    focus: dict[str, int]
    priority: dict[str, int]
    # from which consecutive year a school gets a Reward partner
    partner_from: dict[str, int]


# the shares of students whose difference the partner and support pairings weigh
SHARE_GROUPS: tuple[str, ...] = ("SED", "EL", "SWD")


def _check_share_weights(where: str, v: dict[str, float]) -> dict[str, float]:
    """Share weights name only SED, EL and SWD, each ≥ 0."""
    unknown = sorted(set(v) - set(SHARE_GROUPS))
    if unknown or any(w < 0 for w in v.values()):
        raise ValueError(
            f"{where}.share_weights: weights ≥ 0 for {', '.join(SHARE_GROUPS)} only, got {v}"
        )
    return v


class PartnerSpec(_Model):
    """METHODOLOGY.md "Escalation: partner choice"."""

    min_level: int = Field(ge=1, le=10)
    max_partners: int = Field(ge=1)
    school_type_mismatch_cost: float = Field(ge=0)
    share_weights: dict[str, float]  # SED, EL, SWD share differences (0–1 scale)
    keep_partner_bonus: float = Field(ge=0)
    # the Reward pool: "this_year" = this year's REWARD schools, last year's pair only
    # preferred by keep_partner_bonus (core-2013.1); "this_and_last_year" = this year's or
    # last year's REWARD schools (not PRIORITY or FOCUS now), and last year's pair is kept
    # while the partner is in the pool and still at min_level on this year's reason
    reward_pool: Literal["this_year", "this_and_last_year"] = "this_year"

    @field_validator("share_weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_share_weights("partners", v)


class GoalSupportSpec(_Model):
    """METHODOLOGY.md "Support for schools missing their goal": a school that met its goal,
    of the same type, at ``min_level`` or above (school indicator level) on the missing
    school's weakest indicator, with the most similar shares; ``max_supported`` each."""

    min_level: float = Field(ge=1, le=10)
    max_supported: int = Field(ge=1)
    share_weights: dict[str, float]  # SED, EL, SWD share differences (0–1 scale)

    @field_validator("share_weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_share_weights("goal_support", v)


class CheckpointDate(_Model):
    number: int = Field(ge=1)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class CommunitySpec(_Model):
    max_size: int = Field(ge=1)
    checkpoints: tuple[CheckpointDate, ...]
    plan_approval_due_checkpoint: int = Field(ge=1)
    school_year_starts_month: int = Field(ge=1, le=12)
    timezone: str
    # a school is off track at a checkpoint when an interim value is worse than its
    # identification value by more than this many points
    off_track_tolerance: float = Field(ge=0)
    # checkpoint meetings in community calendars: local start time and length (default)
    meeting_start: time = time(15, 30)
    meeting_minutes: int = Field(default=90, ge=1)
    # the Focus plan: how many school years it covers (seeds: a two-year plan)
    plan_years: int = Field(default=2, ge=1)
    # the indicators computed from interim deliveries and compared at checkpoints
    interim_indicators: tuple[str, ...] = ("CHRONIC", "ELA_MET", "MATH_MET")

    @field_validator("interim_indicators")
    @classmethod
    def _interim_known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(v) - set(codes.INDICATORS))
        if unknown:
            raise ValueError(f"unknown interim indicators: {unknown}")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(v)
        except Exception as e:  # ZoneInfoNotFoundError, ValueError
            raise ValueError(f"unknown time zone {v!r}") from e
        return v


class OversightTerm(_Model):
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)


class EventsSpec(_Model):
    """The Reward School Symposium and the Partnership Building Convening (METHODOLOGY.md
    "Reward School Symposium and Partnership Building Convening"): local dates in the
    service year, start time and length in ``communities.timezone``."""

    symposium: OversightTerm
    convening: OversightTerm
    start: time
    minutes: int = Field(ge=1)


# The Oversight Panel's meetings of a service year, in calendar order (METHODOLOGY.md
# "Oversight Panel"): the vocabulary of ``oversight.terms``.
OversightTermName = Literal["fall", "spring"]
OVERSIGHT_TERMS: tuple[str, ...] = get_args(OversightTermName)


class OversightSpec(_Model):
    terms: dict[OversightTermName, OversightTerm]
    comparison_n_size: int = Field(ge=1)


class ReviewItem(_Model):
    """One item of the district peer review's common rubric: a code and its title."""

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")
    title: str


class DistrictReviewSpec(_Model):
    """METHODOLOGY.md "District peer review": the common rubric (versioned with the file),
    the rating scale and the rating every item must reach (``meets``, else REVISE)."""

    meets: int
    scale: tuple[int, int] = (1, 4)
    items: tuple[ReviewItem, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> DistrictReviewSpec:
        lo, hi = self.scale
        if not 1 <= lo < hi:
            raise ValueError(f"district_review.scale {list(self.scale)}: expected [low, high]")
        if not lo <= self.meets <= hi:
            raise ValueError(f"district_review.meets {self.meets} is outside the scale")
        seen = [i.code for i in self.items]
        if len(set(seen)) != len(seen):
            raise ValueError(f"district_review.items: duplicate item codes in {seen}")
        return self

    def item_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.items)


# METHODOLOGY.md "Educator effectiveness", option 2 (seeds: "Student growth will represent a
# minimum of 20% of teacher and principal evaluation calculations"): a floor the code
# enforces, like PUBLIC_MIN_COUNT: a methodology file giving a district less does not load.
GROWTH_WEIGHT_FLOOR = 0.20
# METHODOLOGY.md "Educator effectiveness", public distribution (after Massachusetts DESE): a
# row of fewer than 6 educators shows nothing and counts of 1-5 are suppressed; a
# methodology may suppress more, never less.
EDUCATOR_PUBLIC_MIN_RATED = 6
EDUCATOR_PUBLIC_MAX_SMALL = 5


class EducatorOption(_Model):
    """One district's choice of the seeds' two options (METHODOLOGY.md "Educator
    effectiveness"): ``1`` the trigger (summative = practice), ``2`` the defined percentage
    (summative = (1 − w) × practice + w × growth rating, w = ``growth_weight`` ≥ 0.20)."""

    option: Literal[1, 2]
    growth_weight: float | None = None

    @model_validator(mode="after")
    def _weight(self) -> EducatorOption:
        if self.option == 1:
            if self.growth_weight is not None:
                raise ValueError(
                    "educators: option 1 (the trigger) has no growth_weight: summative = practice"
                )
            return self
        w = self.growth_weight
        if w is None or not GROWTH_WEIGHT_FLOOR <= w <= 1:
            raise ValueError(
                f"educators: option 2 needs growth_weight between {GROWTH_WEIGHT_FLOOR:.2f} and "
                f"1, got {w}: the seeds require student growth to be at least "
                f'{GROWTH_WEIGHT_FLOOR:.0%} of the evaluation (METHODOLOGY.md "Educator '
                'effectiveness", option 2)'
            )
        return self


class EducatorPublicSpec(_Model):
    """The public distribution's suppression (METHODOLOGY.md "Educator effectiveness")."""

    min_rated: int = EDUCATOR_PUBLIC_MIN_RATED  # a row with fewer educators shows nothing
    max_small_count: int = EDUCATOR_PUBLIC_MAX_SMALL  # counts 1..this are suppressed
    suppressed_label: str = "*"

    @model_validator(mode="after")
    def _floor(self) -> EducatorPublicSpec:
        if (
            self.min_rated < EDUCATOR_PUBLIC_MIN_RATED
            or self.max_small_count < EDUCATOR_PUBLIC_MAX_SMALL
        ):
            raise ValueError(
                f"educators.public: min_rated {self.min_rated} and max_small_count "
                f"{self.max_small_count} would publish what METHODOLOGY.md forbids (rows of "
                f"fewer than {EDUCATOR_PUBLIC_MIN_RATED} educators, counts of 1-"
                f"{EDUCATOR_PUBLIC_MAX_SMALL})"
            )
        return self


class EducatorSpec(_Model):
    """METHODOLOGY.md "Educator effectiveness": every number of the educator evaluation.

    ``pilot_year``: the first year with educator files (computed, reported to staff only);
    ``first_year``: the first implementation year (the public distribution from then on).
    """

    pilot_year: SchoolYear
    first_year: SchoolYear
    # teachers: at least this many rostered students with this and last year's score
    min_students: int = Field(ge=1)
    # teachers' mean residual shrunk toward 0 (empirical Bayes) or kept
    shrinkage: Literal["none", "empirical_bayes"]
    # growth rating 1-4: 1 + the number of these percentiles (0-100) at or below the
    # measure's percentile rank among educators of the same role (quartiles)
    rating_cut_points: tuple[float, float, float] = (25.0, 50.0, 75.0)
    # levels 1-4: 1 + the number of these at or below the summative score
    level_cut_points: tuple[float, float, float]
    # option 1: a TRIGGER where |round(practice) − growth rating| ≥ this
    trigger_difference: int = Field(default=2, ge=1, le=3)
    # how many service years an IMPROVEMENT_PLAN lasts (seeds: "a one-year improvement plan")
    improvement_plan_years: int = Field(default=1, ge=1)
    default_option: EducatorOption
    # per district (7-digit district code): its option, where it is not the default
    districts: dict[str, EducatorOption] = Field(default_factory=dict)
    public: EducatorPublicSpec = Field(default_factory=EducatorPublicSpec)

    @field_validator("rating_cut_points", "level_cut_points")
    @classmethod
    def _ascending(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError(f"educators: cut points must strictly ascend, got {list(v)}")
        return v

    @field_validator("districts")
    @classmethod
    def _codes(cls, v: dict[str, EducatorOption]) -> dict[str, EducatorOption]:
        bad = [c for c in v if len(c) != 7 or not c.isascii() or not c.isdigit()]
        if bad:
            raise ValueError(f"educators.districts: not 7-digit district codes: {bad}")
        return v

    @model_validator(mode="after")
    def _order(self) -> EducatorSpec:
        if self.first_year.start < self.pilot_year.start:
            raise ValueError("educators: first_year comes before pilot_year")
        return self

    def option_for(self, district_code: str) -> EducatorOption:
        """The district's option (``districts``), else ``default_option``."""
        return self.districts.get(district_code, self.default_option)

    def stage(self, year: str) -> Literal["none", "pilot", "implementation"]:
        """Whether ``year`` has no educator evaluation, the pilot or the implementation."""
        start = years.start_of(year)
        if start < self.pilot_year.start:
            return "none"
        return "pilot" if start < self.first_year.start else "implementation"


class Methodology(_Model):
    version: str
    applies_from: SchoolYear
    description: str = ""
    n_size: int = Field(ge=1)
    suppression: SuppressionSpec
    student_groups: tuple[str, ...]
    indicators: dict[str, IndicatorSpec]
    # cut_points[indicator][school_type] = nine ascending cut points
    cut_points: dict[str, dict[str, tuple[float, ...]]]
    school_level: SchoolLevelSpec
    level_bands: LevelBandsSpec = Field(default_factory=LevelBandsSpec)
    calibration: CalibrationSpec = Field(default_factory=CalibrationSpec)
    domains: tuple[DomainSpec, ...]
    rules: RulesSpec
    growth: GrowthSpec
    goal: GoalSpec
    designations: DesignationSpec
    escalation: EscalationSpec
    partners: PartnerSpec
    communities: CommunitySpec
    oversight: OversightSpec
    events: EventsSpec
    # METHODOLOGY.md "Support for schools missing their goal" (None: no support partners)
    goal_support: GoalSupportSpec | None = None
    # METHODOLOGY.md "Educator effectiveness" (None: the methodology evaluates no educators)
    educators: EducatorSpec | None = None
    # METHODOLOGY.md "District peer review" (None: no rubric, district reviews refused)
    district_review: DistrictReviewSpec | None = None
    optional_columns: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    # set by the loader, not by the file
    source: str = ""
    checksum: str = ""

    @field_validator("n_size")
    @classmethod
    def _n_size_floor(cls, v: int) -> int:
        if v < PUBLIC_MIN_COUNT:
            raise ValueError(
                f"n_size {v} is below the floor of {PUBLIC_MIN_COUNT}: a group the public "
                'edition must suppress (1-10 students, METHODOLOGY.md "Public suppression") '
                "cannot count for accountability"
            )
        return v

    @model_validator(mode="before")
    @classmethod
    def _nsize_label(cls, data: object) -> object:
        """The label of a group under the n-size, unless the file sets one: ``n<`` and the
        n-size (``n<20``), so that it never says another number than the rule."""
        if not isinstance(data, dict):
            return data
        supp = data.get("suppression")
        if isinstance(supp, SuppressionSpec):
            supp = supp.model_dump()
        if isinstance(supp, dict) and not supp.get("under_nsize_label") and "n_size" in data:
            data = {**data, "suppression": {**supp, "under_nsize_label": f"n<{data['n_size']}"}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Methodology:
        unknown = set(self.indicators) - set(codes.INDICATORS)
        if unknown:
            raise ValueError(f"unknown indicator codes: {sorted(unknown)}")
        missing = set(codes.INDICATORS) - set(self.indicators)
        if missing:
            raise ValueError(f"indicators missing from the methodology: {sorted(missing)}")
        bad_groups = set(self.student_groups) - set(codes.STUDENT_GROUPS)
        if bad_groups:
            raise ValueError(f"unknown student groups: {sorted(bad_groups)}")
        for code, spec in self.indicators.items():
            if spec.scale == "percentile":
                continue
            per_type = self.cut_points.get(code)
            if per_type is None:
                raise ValueError(f"no cut points for {code}")
            for st in spec.school_types:
                cuts = per_type.get(st)
                if cuts is None:
                    raise ValueError(f"no cut points for {code} at {st} schools")
                _check_cuts(f"{code}/{st}", cuts)
        _check_cuts("growth.percentile_cut_points", self.growth.percentile_cut_points)
        pooled = [d for spec in self.domains for d in spec.pools]
        if sorted(pooled) != sorted(codes.DOMAINS):
            raise ValueError(
                "domains must pool each of academic, social_emotional, culture_climate once"
            )
        numbers = [c.number for c in self.communities.checkpoints]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError("checkpoints must be numbered 1, 2, … in order")
        for ind in (*self.designations.gap_indicators, self.designations.grad_indicator):
            if ind not in self.indicators:
                raise ValueError(f"designation rule names unknown indicator {ind}")
        bad_gap = set(self.designations.gap_groups) - set(self.student_groups)
        if bad_gap:
            raise ValueError(f"designations.gap_groups names groups not formed: {sorted(bad_gap)}")
        if self.rules.persist_schools == "span":
            listed = set(self.indicators["MS_PERSIST"].school_types)
            if listed != set(codes.SCHOOL_TYPES):
                raise ValueError(
                    "rules.persist_schools 'span' puts MS_PERSIST at any school whose grade "
                    "span includes persist_from_grade: indicators.MS_PERSIST.school_types must "
                    f"list every school type ({', '.join(sorted(codes.SCHOOL_TYPES))})"
                )
        return self

    # ---- helpers every rule uses -------------------------------------------------
    def cuts(self, indicator: str, school_type: str) -> tuple[float, ...]:
        if self.indicators[indicator].scale == "percentile":
            return self.growth.percentile_cut_points
        return self.cut_points[indicator][school_type]

    def indicators_in(self, domain: str) -> list[str]:
        return [c for c, s in self.indicators.items() if s.domain == domain]

    def checkpoint_dates(self, year: str) -> dict[int, date]:
        """The checkpoint dates of a school year (local dates, America/Los_Angeles)."""
        start = years.start_of(year)
        out = {}
        for c in self.communities.checkpoints:
            cal_year = start if c.month >= self.communities.school_year_starts_month else start + 1
            out[c.number] = date(cal_year, c.month, c.day)
        return out

    def oversight_date(self, year: str, term: str) -> date:
        """The date of the ``term`` Oversight Panel meeting of school year ``year``."""
        return self._in_year(year, self.oversight.terms[term])  # type: ignore[index]

    def event_date(self, year: str, event: Literal["symposium", "convening"]) -> date:
        """The date of the Symposium or Convening of (service) school year ``year``."""
        return self._in_year(year, getattr(self.events, event))

    def today(self) -> date:
        """Today's local date in the methodology's time zone (``communities.timezone``):
        the day a scheduled run without a year is for."""
        from zoneinfo import ZoneInfo

        return datetime.now(ZoneInfo(self.communities.timezone)).date()

    def _in_year(self, year: str, when: OversightTerm) -> date:
        start = years.start_of(year)
        month = self.communities.school_year_starts_month
        return date(start if when.month >= month else start + 1, when.month, when.day)


def _check_cuts(where: str, cuts: tuple[float, ...]) -> None:
    if len(cuts) != 9:
        raise ValueError(f"{where}: nine cut points are needed, got {len(cuts)}")
    if any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
        raise ValueError(f"{where}: cut points must strictly ascend, got {list(cuts)}")


def load_file(path: str | Path) -> Methodology:
    """Load and validate one methodology file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise MethodologyError(f"methodology file {p}: cannot read ({e.strerror})") from e
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise MethodologyError(f"methodology file {p}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise MethodologyError(f"methodology file {p}: expected a mapping at the top")
    try:
        m = Methodology.model_validate(data)
    except Exception as e:  # pydantic's ValidationError lists every problem
        raise MethodologyError(f"methodology file {p} does not validate:\n{e}") from e
    return m.model_copy(update={"source": str(p), "checksum": hashlib.sha256(raw).hexdigest()})


def _search_dirs(extra: str | None) -> list[Path]:
    dirs = [BUILTIN_DIR]
    if extra:
        dirs.insert(0, Path(extra))
    return dirs


@lru_cache(maxsize=32)
def _available(extra: str | None) -> tuple[Methodology, ...]:
    found: dict[str, Methodology] = {}
    for d in _search_dirs(extra):
        for f in sorted(d.glob("*.yaml")):
            m = load_file(f)
            found.setdefault(m.version, m)
    return tuple(sorted(found.values(), key=lambda m: (m.applies_from.start, m.version)))


def available(extra_dir: str | None = None) -> list[Methodology]:
    return list(_available(extra_dir))


def latest(extra_dir: str | None = None) -> Methodology:
    """The methodology with the latest ``applies_from``: where a run given no year reads
    its time zone and when school years start, before it knows the year (the flows,
    ``deployments/deploy.py``)."""
    return _available(extra_dir)[-1]


def for_year(year: str, choice: str | None = None, extra_dir: str | None = None) -> Methodology:
    """The methodology for a school year.

    ``choice`` is a file path or a version name; without it, the methodology with the
    latest ``applies_from`` not after ``year``.
    """
    if choice:
        if choice.endswith((".yaml", ".yml")) or Path(choice).is_file():
            return load_file(choice)
        for m in _available(extra_dir):
            if m.version == choice:
                return m
        raise MethodologyError(f"no methodology with version {choice!r}")
    start = years.start_of(year)
    eligible = [m for m in _available(extra_dir) if m.applies_from.start <= start]
    if not eligible:
        raise MethodologyError(f"no methodology applies to {year}")
    return eligible[-1]
