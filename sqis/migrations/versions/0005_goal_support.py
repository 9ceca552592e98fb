"""Support for schools missing their goal and required partnerships not formed
(METHODOLOGY.md "Support for schools missing their goal", "Escalation"):
``goal_support`` (one row per school missing its goal that is not PRIORITY or FOCUS, its
weakest indicator and its support school, if any) and ``partnership_flags``
(``NO_ELIGIBLE_PARTNER`` for each school required to partner that got none).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goal_support",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("school_code", sa.String(14), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("weakest_indicator", sa.String(32), nullable=True),
        sa.Column("support_school_code", sa.String(14), nullable=True),
        sa.PrimaryKeyConstraint("year", "school_code", name="pk_goal_support"),
    )
    op.create_index(
        "ix_goal_support_year_support_school_code",
        "goal_support",
        ["year", "support_school_code"],
    )
    op.create_table(
        "partnership_flags",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("school_code", sa.String(14), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("flag", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("year", "school_code", "flag", name="pk_partnership_flags"),
    )


def downgrade() -> None:
    op.drop_table("partnership_flags")
    op.drop_index("ix_goal_support_year_support_school_code", table_name="goal_support")
    op.drop_table("goal_support")
