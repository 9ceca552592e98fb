"""Educator effectiveness: each educator assignment's results, the distribution by level,
and the districts' actions on a trigger (METHODOLOGY.md "Educator effectiveness").

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "educator_results",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("educator_key", sa.String(64), nullable=False),
        sa.Column("school_code", sa.String(14), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("district_code", sa.String(7), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("practice", sa.Float(), nullable=False),
        sa.Column("n_students", sa.Integer(), nullable=False),
        sa.Column("mean_residual", sa.Float(), nullable=True),
        sa.Column("growth", sa.Float(), nullable=True),
        sa.Column("growth_rating", sa.Integer(), nullable=True),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.Column("growth_weight", sa.Float(), nullable=True),
        sa.Column("summative", sa.Float(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("flag", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("year", "educator_key", "school_code", name="pk_educator_results"),
    )
    op.create_index(
        "ix_educator_results_year_school_code", "educator_results", ["year", "school_code"]
    )
    op.create_index(
        "ix_educator_results_year_district_code", "educator_results", ["year", "district_code"]
    )
    op.create_table(
        "educator_distribution",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("entity_type", sa.String(16), nullable=False),
        sa.Column("entity_code", sa.String(14), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("rated", sa.Integer(), nullable=False),
        sa.Column("level_1", sa.Integer(), nullable=False),
        sa.Column("level_2", sa.Integer(), nullable=False),
        sa.Column("level_3", sa.Integer(), nullable=False),
        sa.Column("level_4", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "year", "entity_type", "entity_code", "role", name="pk_educator_distribution"
        ),
    )
    op.create_table(
        "educator_actions",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("educator_key", sa.String(64), nullable=False),
        sa.Column("school_code", sa.String(14), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("in_force_until", sa.String(7), nullable=True),
        sa.PrimaryKeyConstraint("year", "educator_key", "school_code", name="pk_educator_actions"),
    )


def downgrade() -> None:
    op.drop_table("educator_actions")
    op.drop_table("educator_distribution")
    op.drop_index("ix_educator_results_year_district_code", table_name="educator_results")
    op.drop_index("ix_educator_results_year_school_code", table_name="educator_results")
    op.drop_table("educator_results")
