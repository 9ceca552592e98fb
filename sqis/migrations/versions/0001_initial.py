"""The results store's first schema: schools, runs, indicators, index, designations,
partnerships, communities, checkpoints, plans, year locks.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

YEAR = sa.String(7)
CODE = sa.String(14)
GROUP = sa.String(8)
INDICATOR = sa.String(32)
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "schools",
        sa.Column("year", YEAR, nullable=False),
        sa.Column("school_code", CODE, nullable=False),
        sa.Column("district_code", sa.String(7), nullable=False),
        sa.Column("school_name", sa.String(200), nullable=False),
        sa.Column("district_name", sa.String(200), nullable=False),
        sa.Column("school_type", sa.String(2), nullable=False),
        sa.Column("title_i", sa.Boolean(), nullable=False),
        sa.Column("low_grade", sa.Integer(), nullable=False),
        sa.Column("high_grade", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", "school_code", name="pk_schools"),
    )
    op.create_index("ix_schools_year_district_code", "schools", ["year", "district_code"])

    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("year", YEAR, nullable=False),
        sa.Column("methodology_version", sa.String(64), nullable=False),
        sa.Column("methodology_checksum", sa.String(64), nullable=False),
        sa.Column("input_checksums", sa.JSON(), nullable=False),
        sa.Column("output_checksums", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("run_by", sa.String(200), nullable=False),
        sa.Column("flow_run_id", sa.String(64), nullable=True),
        sa.Column("depends_on", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_year", "runs", ["year"])

    op.create_table(
        "indicators",
        sa.Column("year", YEAR, nullable=False),
        sa.Column("school_code", CODE, nullable=False),
        sa.Column("student_group", GROUP, nullable=False),
        sa.Column("indicator", INDICATOR, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("meets_nsize", sa.Boolean(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("improve_1", sa.Float(), nullable=True),
        sa.Column("improve_2", sa.Float(), nullable=True),
        sa.Column("improve_3", sa.Float(), nullable=True),
        sa.Column("prior_value", sa.Float(), nullable=True),
        sa.Column("change", sa.Float(), nullable=True),
        sa.Column("prior_level", sa.Integer(), nullable=True),
        sa.Column("level_change", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint(
            "year", "school_code", "student_group", "indicator", name="pk_indicators"
        ),
    )

    op.create_table(
        "index_scores",
        sa.Column("year", YEAR, nullable=False),
        sa.Column("school_code", CODE, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("academic", sa.Float(), nullable=True),
        sa.Column("social_emotional", sa.Float(), nullable=True),
        sa.Column("culture_climate", sa.Float(), nullable=True),
        sa.Column("sqii", sa.Float(), nullable=True),
        sa.Column("prior_sqii", sa.Float(), nullable=True),
        sa.Column("goal", sa.Float(), nullable=True),
        sa.Column("meets_goal", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("year", "school_code", name="pk_index_scores"),
    )

    op.create_table(
        "designations",
        sa.Column("year", YEAR, nullable=False),
        sa.Column("school_code", CODE, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("designation", sa.String(16), nullable=False),
        sa.Column("reason_group", GROUP, nullable=True),
        sa.Column("reason_indicator", INDICATOR, nullable=True),
        sa.Column("years_in_status", sa.Integer(), nullable=False),
        sa.Column("escalation", sa.String(32), nullable=False),
        sa.Column("partner_school_code", CODE, nullable=True),
        sa.Column("exited", sa.Boolean(), nullable=False),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("gap_group", GROUP, nullable=True),
        sa.Column("meets_goal", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("year", "school_code", name="pk_designations"),
    )

    op.create_table(
        "partnerships",
        sa.Column("year", YEAR, nullable=False),
        sa.Column("school_code", CODE, nullable=False),
        sa.Column("partner_school_code", CODE, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("year", "school_code", name="pk_partnerships"),
    )
    op.create_index(
        "ix_partnerships_year_partner_school_code", "partnerships", ["year", "partner_school_code"]
    )

    op.create_table(
        "communities",
        sa.Column("year", YEAR, nullable=False),
        sa.Column("school_code", CODE, nullable=False),
        sa.Column("community_id", sa.String(64), nullable=False),
        sa.Column("reason_group", GROUP, nullable=True),
        sa.Column("school_type", sa.String(2), nullable=True),
        sa.PrimaryKeyConstraint("year", "school_code", name="pk_communities"),
    )
    op.create_index("ix_communities_year_community_id", "communities", ["year", "community_id"])

    op.create_table(
        "checkpoints",
        sa.Column("year", YEAR, nullable=False),
        sa.Column("community_id", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("school_code", CODE, nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("held_at", TZ, nullable=True),
        sa.Column("attendees", sa.Text(), nullable=True),
        sa.Column("plan_status", sa.String(16), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=True),
        sa.Column("interim", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint(
            "year", "community_id", "number", "school_code", name="pk_checkpoints"
        ),
    )
    op.create_index("ix_checkpoints_year_school_code", "checkpoints", ["year", "school_code"])

    op.create_table(
        "plans",
        sa.Column("year", YEAR, nullable=False),
        sa.Column("school_code", CODE, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=True),
        sa.Column("submitted_at", TZ, nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_at", TZ, nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("history", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("year", "school_code", name="pk_plans"),
    )

    op.create_table(
        "year_locks",
        sa.Column("year", YEAR, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("acquired_at", TZ, nullable=False),
        sa.Column("holder", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_year_locks"),
    )


def downgrade() -> None:
    for ix, table in (
        ("ix_checkpoints_year_school_code", "checkpoints"),
        ("ix_communities_year_community_id", "communities"),
        ("ix_partnerships_year_partner_school_code", "partnerships"),
        ("ix_runs_year", "runs"),
        ("ix_schools_year_district_code", "schools"),
    ):
        op.drop_index(ix, table_name=table)
    for table in (
        "year_locks",
        "plans",
        "checkpoints",
        "communities",
        "partnerships",
        "designations",
        "index_scores",
        "indicators",
        "runs",
        "schools",
    ):
        op.drop_table(table)
