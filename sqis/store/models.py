"""The results store's tables, as SQLAlchemy 2 declarative models.

One row per fact, keyed naturally (year + school + …) so that a duplicate is a key
violation, never a silent second copy. Every per-year table leads with ``year`` and is
indexed on ``(year, school_code)``: a year is replaced as a whole (``ResultsStore.
replace_year``) and reports read one school across years (``district_index``: one
district). The Alembic migrations ``sqis/migrations/versions/`` create exactly these
tables; a test compares the two.

No table holds a student ID: the store keeps school-level results only.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

YEAR = sa.String(7)  # YYYY-YY
CODE = sa.String(14)  # CDS school code
GROUP = sa.String(8)
INDICATOR = sa.String(32)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class School(Base):
    """``schools``: the year's delivered schools file (contract columns)."""

    __tablename__ = "schools"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    district_code: Mapped[str] = mapped_column(sa.String(7))
    school_name: Mapped[str] = mapped_column(sa.String(200))
    district_name: Mapped[str] = mapped_column(sa.String(200))
    school_type: Mapped[str] = mapped_column(sa.String(2))
    title_i: Mapped[bool] = mapped_column(sa.Boolean)
    low_grade: Mapped[int] = mapped_column(sa.Integer)
    high_grade: Mapped[int] = mapped_column(sa.Integer)
    __table_args__ = (sa.Index(None, "year", "district_code"),)


class RunStatus(StrEnum):
    """A run's ``status`` (``sqis.runs``): RUNNING while it holds its year's lock, then
    SUCCEEDED or FAILED."""

    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class Run(Base):
    """``runs``: who computed a year, from what, with which methodology, and how it ended."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    year: Mapped[str] = mapped_column(YEAR, index=True)
    methodology_version: Mapped[str] = mapped_column(sa.String(64))
    methodology_checksum: Mapped[str] = mapped_column(sa.String(64))
    input_checksums: Mapped[dict] = mapped_column(sa.JSON)
    output_checksums: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    status: Mapped[str] = mapped_column(sa.String(16))  # RunStatus
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    run_by: Mapped[str] = mapped_column(sa.String(200))
    flow_run_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    # earlier years this run read: {year: {"run_id": int, "checksum": sha256 of its results}}
    depends_on: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    # why a run was forced past a refusal (``--force``): recorded, never silent
    note: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)


class Indicator(Base):
    """``indicators``: every indicator per school × student group, with level and change."""

    __tablename__ = "indicators"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    student_group: Mapped[str] = mapped_column(GROUP, primary_key=True)
    indicator: Mapped[str] = mapped_column(INDICATOR, primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.Integer)
    numerator: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    denominator: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    value: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    meets_nsize: Mapped[bool] = mapped_column(sa.Boolean)
    level: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    improve_1: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    improve_2: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    improve_3: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    prior_value: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    change: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    prior_level: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    level_change: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)


class IndexScore(Base):
    """``index_scores``: domain scores, SQII and SQI goal per school."""

    __tablename__ = "index_scores"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.Integer)
    academic: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    social_emotional: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    culture_climate: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    sqii: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    prior_sqii: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    goal: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    meets_goal: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)


class Designation(Base):
    """``designations``: one row per school: designation, reason, escalation, partner."""

    __tablename__ = "designations"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.Integer)
    designation: Mapped[str] = mapped_column(sa.String(16))
    reason_group: Mapped[str | None] = mapped_column(GROUP, nullable=True)
    reason_indicator: Mapped[str | None] = mapped_column(INDICATOR, nullable=True)
    years_in_status: Mapped[int] = mapped_column(sa.Integer)
    escalation: Mapped[str] = mapped_column(sa.String(32))
    partner_school_code: Mapped[str | None] = mapped_column(CODE, nullable=True)
    exited: Mapped[bool] = mapped_column(sa.Boolean)
    gap: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    gap_group: Mapped[str | None] = mapped_column(GROUP, nullable=True)
    meets_goal: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)


class DistrictIndexScore(Base):
    """``district_index``: per district, the enrolment-weighted domain scores and SQII, the
    prior SQII and the SQI goal (METHODOLOGY.md "District index"; ``sqis.districts``)."""

    __tablename__ = "district_index"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    district_code: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.Integer)
    academic: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    social_emotional: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    culture_climate: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    sqii: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    prior_sqii: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    goal: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    meets_goal: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)
    # the schools weighed (an SQII and an enrolment) and their enrolment
    schools: Mapped[int] = mapped_column(sa.Integer)
    enrolment: Mapped[int] = mapped_column(sa.Integer)


class EducatorResult(Base):
    """``educator_results``: each educator assignment's growth measure, rating, summative
    score, level and flag (METHODOLOGY.md "Educator effectiveness"; ``sqis.educators``).
    ``educator_key`` is the educator's pseudonym (never the district's staff ID)."""

    __tablename__ = "educator_results"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    educator_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.Integer)
    district_code: Mapped[str] = mapped_column(sa.String(7))
    role: Mapped[str] = mapped_column(sa.String(16))
    practice: Mapped[float] = mapped_column(sa.Float)
    n_students: Mapped[int] = mapped_column(sa.Integer)
    mean_residual: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    growth: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    growth_rating: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    option: Mapped[int] = mapped_column(sa.Integer)
    growth_weight: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    summative: Mapped[float] = mapped_column(sa.Float)
    level: Mapped[int] = mapped_column(sa.Integer)
    flag: Mapped[str] = mapped_column(sa.String(16))
    __table_args__ = (
        sa.Index(None, "year", "school_code"),
        sa.Index(None, "year", "district_code"),
    )


class EducatorDistribution(Base):
    """``educator_distribution``: educators rated and counts by level per consortium,
    district and school, for each role (unsuppressed: the staff's; the public edition
    suppresses it, ``sqis.disclosure.public_educator_distribution``)."""

    __tablename__ = "educator_distribution"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    entity_type: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    entity_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.Integer)
    rated: Mapped[int] = mapped_column(sa.Integer)
    level_1: Mapped[int] = mapped_column(sa.Integer)
    level_2: Mapped[int] = mapped_column(sa.Integer)
    level_3: Mapped[int] = mapped_column(sa.Integer)
    level_4: Mapped[int] = mapped_column(sa.Integer)


class GoalSupport(Base):
    """``goal_support``: each school missing its goal that is not PRIORITY or FOCUS, its
    weakest indicator and its support school (``None``: unmatched) (METHODOLOGY.md
    "Support for schools missing their goal"; ``sqis.goal_support``)."""

    __tablename__ = "goal_support"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.Integer)
    weakest_indicator: Mapped[str | None] = mapped_column(INDICATOR, nullable=True)
    support_school_code: Mapped[str | None] = mapped_column(CODE, nullable=True)
    __table_args__ = (sa.Index(None, "year", "support_school_code"),)


class PartnershipFlag(Base):
    """``partnership_flags``: ``NO_ELIGIBLE_PARTNER`` for each school required to partner
    that got none (METHODOLOGY.md "Escalation"; ``sqis.partners``)."""

    __tablename__ = "partnership_flags"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    flag: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.Integer)


class EducatorAction(Base):
    """``educator_actions``: a district's action on a ``TRIGGER`` (METHODOLOGY.md "Educator
    effectiveness", option 1): ``ADDENDUM``, ``IMPROVEMENT_PLAN`` (in force through
    ``in_force_until``, a service year) or ``NO_ACTION`` with a reason. Kept across re-runs
    of the results year (operations' record, like plans)."""

    __tablename__ = "educator_actions"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    educator_key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    action: Mapped[str] = mapped_column(sa.String(24))
    reason: Mapped[str] = mapped_column(sa.String(500))
    recorded_by: Mapped[str] = mapped_column(sa.String(200))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    in_force_until: Mapped[str | None] = mapped_column(YEAR, nullable=True)


class Partnership(Base):
    """``partnerships``: a school paired with a Reward school, and the pairing's cost."""

    __tablename__ = "partnerships"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    partner_school_code: Mapped[str] = mapped_column(CODE)
    kind: Mapped[str] = mapped_column(sa.String(16))  # the partnered school's designation
    cost: Mapped[float | None] = mapped_column(sa.Float, nullable=True)
    __table_args__ = (sa.Index(None, "year", "partner_school_code"),)


class Community(Base):
    """``communities``: communities of practice (FOCUS schools by reason_group × type)."""

    __tablename__ = "communities"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    community_id: Mapped[str] = mapped_column(sa.String(64))
    reason_group: Mapped[str | None] = mapped_column(GROUP, nullable=True)
    school_type: Mapped[str | None] = mapped_column(sa.String(2), nullable=True)
    __table_args__ = (sa.Index(None, "year", "community_id"),)


class Checkpoint(Base):
    """``checkpoints``: one row per community × checkpoint × school."""

    __tablename__ = "checkpoints"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    community_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    number: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    date: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    status: Mapped[str] = mapped_column(sa.String(16))  # SCHEDULED / HELD
    held_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    attendees: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    plan_status: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    flags: Mapped[list | None] = mapped_column(sa.JSON, nullable=True)
    interim: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)


class Plan(Base):
    """``plans``: a FOCUS school's improvement plan and its approval trail."""

    __tablename__ = "plans"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16))  # DRAFT / SUBMITTED / APPROVED
    submitted_by: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    approved_by: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    deadline: Mapped[date | None] = mapped_column(sa.Date, nullable=True)
    history: Mapped[list | None] = mapped_column(sa.JSON, nullable=True)


class YearLock(Base):
    """``year_locks``: at most one running computation per school year."""

    __tablename__ = "year_locks"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.Integer)
    acquired_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    holder: Mapped[str] = mapped_column(sa.String(300))
    # who holds it, for the liveness check (sqis.runs.lock_holder_is_dead); revision 0007
    holder_host: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    holder_pid: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)


class StoreIdentity(Base):
    """``store_identity``: whose results store this is (one row, written by the first run).

    ``consortium`` is the fingerprint of the pseudonymisation key the store's years were
    computed with (``sqis.pseudonym.key_id``): a run under another key is another
    consortium's. ``store_id`` names this store in every publication's manifest, so a run
    into an empty or wrong database cannot overwrite what another store published.
    """

    __tablename__ = "store_identity"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(sa.String(36))
    consortium: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


# ---- the records behind the labels (METHODOLOGY.md "Escalation", "District peer review",
# "Oversight Panel"): operations' records, kept across re-runs (never in YEAR_TABLES) ----
class PriorityReview(Base):
    """``priority_reviews``: the peer review of a PEER_REVIEW school (results ``year``):
    reviewers, date, findings per area, status PLANNED → COMPLETED (``sqis.reviews``)."""

    __tablename__ = "priority_reviews"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    reviewers: Mapped[str] = mapped_column(sa.String(500))
    review_date: Mapped[date] = mapped_column(sa.Date)
    leadership: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    strengths: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    improvement: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(sa.String(200))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    history: Mapped[list | None] = mapped_column(sa.JSON, nullable=True)


class EscalationStep(Base):
    """``escalation_steps``: what the district decided for a DISTRICT_TURNAROUND or
    DISTRICT_ACTION school (results ``year``), and when."""

    __tablename__ = "escalation_steps"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    school_code: Mapped[str] = mapped_column(CODE, primary_key=True)
    step: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    decision: Mapped[str] = mapped_column(sa.Text)
    decided_on: Mapped[date] = mapped_column(sa.Date)
    recorded_by: Mapped[str] = mapped_column(sa.String(200))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class DistrictReview(Base):
    """``district_reviews``: a district's peer review of (service) ``year``: its state in the
    cycle DRAFT → SUBMITTED → PEER_REVIEWED → MEETS | REVISE → RESUBMITTED …, the round
    and every step taken (``history``) (``sqis.district_review``)."""

    __tablename__ = "district_reviews"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    district_code: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16))
    round: Mapped[int] = mapped_column(sa.Integer)
    methodology_version: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    history: Mapped[list | None] = mapped_column(sa.JSON, nullable=True)


class DistrictReviewItem(Base):
    """``district_review_items``: per round and rubric item, the district's self-rating with
    narrative and evidence, and the peer district's rating and comments."""

    __tablename__ = "district_review_items"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    district_code: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    round: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    item: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    self_rating: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    narrative: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    evidence: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    peer_district_code: Mapped[str | None] = mapped_column(sa.String(7), nullable=True)
    peer_rating: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    comments: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class OversightMeeting(Base):
    """``oversight_meetings``: an Oversight Panel meeting held (its report produced): the
    service ``year``, the term, the results year it reviewed and when it was reported."""

    __tablename__ = "oversight_meetings"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    term: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    results_year: Mapped[str] = mapped_column(YEAR)
    meeting_date: Mapped[date] = mapped_column(sa.Date)
    reported_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class OversightDecision(Base):
    """``oversight_decisions``: the Panel's decision on a district at a meeting held
    (``NONE``, ``ADDITIONAL_SUPPORT``, ``INTERVENTION``), with a note, who and when."""

    __tablename__ = "oversight_decisions"
    year: Mapped[str] = mapped_column(YEAR, primary_key=True)
    term: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    district_code: Mapped[str] = mapped_column(sa.String(7), primary_key=True)
    decision: Mapped[str] = mapped_column(sa.String(24))
    note: Mapped[str] = mapped_column(sa.Text)
    decided_by: Mapped[str] = mapped_column(sa.String(200))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


# (year, school_code) indexes: the primary keys of the per-school tables lead with it;
# checkpoints gets its own.
sa.Index("ix_checkpoints_year_school_code", Checkpoint.year, Checkpoint.school_code)

TABLES: dict[str, sa.Table] = {t.name: t for t in Base.metadata.sorted_tables}
# the tables a year's run replaces as a whole
YEAR_TABLES: tuple[str, ...] = (
    "schools",
    "indicators",
    "index_scores",
    "designations",
    "partnerships",
    "communities",
    "checkpoints",
    "district_index",
    "educator_results",
    "educator_distribution",
    "goal_support",
    "partnership_flags",
)
