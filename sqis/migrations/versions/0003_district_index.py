"""The district index: per district and year, the enrolment-weighted domain scores and
SQII, the prior SQII and the SQI goal (METHODOLOGY.md "District index").

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "district_index",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("district_code", sa.String(7), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("academic", sa.Float(), nullable=True),
        sa.Column("social_emotional", sa.Float(), nullable=True),
        sa.Column("culture_climate", sa.Float(), nullable=True),
        sa.Column("sqii", sa.Float(), nullable=True),
        sa.Column("prior_sqii", sa.Float(), nullable=True),
        sa.Column("goal", sa.Float(), nullable=True),
        sa.Column("meets_goal", sa.Boolean(), nullable=True),
        sa.Column("schools", sa.Integer(), nullable=False),
        sa.Column("enrolment", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", "district_code", name="pk_district_index"),
    )


def downgrade() -> None:
    op.drop_table("district_index")
