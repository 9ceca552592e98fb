"""The records behind the labels (METHODOLOGY.md "Escalation", "District peer review",
"Oversight Panel"): ``priority_reviews`` and ``escalation_steps`` (a PEER_REVIEW school's
peer review; what the district decided for a DISTRICT_TURNAROUND or DISTRICT_ACTION
school), ``district_reviews`` and ``district_review_items`` (the districts' peer review
cycle and ratings), ``oversight_meetings`` and ``oversight_decisions`` (the Panel's
meetings held and its decisions). Operations' records: a re-run of a year keeps them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "priority_reviews",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("school_code", sa.String(14), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reviewers", sa.String(500), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("leadership", sa.Text(), nullable=True),
        sa.Column("strengths", sa.Text(), nullable=True),
        sa.Column("improvement", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("history", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("year", "school_code", name="pk_priority_reviews"),
    )
    op.create_table(
        "escalation_steps",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("school_code", sa.String(14), nullable=False),
        sa.Column("step", sa.String(24), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", "school_code", "step", name="pk_escalation_steps"),
    )
    op.create_table(
        "district_reviews",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("district_code", sa.String(7), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("methodology_version", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("history", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("year", "district_code", name="pk_district_reviews"),
    )
    op.create_table(
        "district_review_items",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("district_code", sa.String(7), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(32), nullable=False),
        sa.Column("self_rating", sa.Integer(), nullable=True),
        sa.Column("narrative", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("peer_district_code", sa.String(7), nullable=True),
        sa.Column("peer_rating", sa.Integer(), nullable=True),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint(
            "year", "district_code", "round", "item", name="pk_district_review_items"
        ),
    )
    op.create_table(
        "oversight_meetings",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("term", sa.String(8), nullable=False),
        sa.Column("results_year", sa.String(7), nullable=False),
        sa.Column("meeting_date", sa.Date(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", "term", name="pk_oversight_meetings"),
    )
    op.create_table(
        "oversight_decisions",
        sa.Column("year", sa.String(7), nullable=False),
        sa.Column("term", sa.String(8), nullable=False),
        sa.Column("district_code", sa.String(7), nullable=False),
        sa.Column("decision", sa.String(24), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", "term", "district_code", name="pk_oversight_decisions"),
    )


def downgrade() -> None:
    for name in (
        "oversight_decisions",
        "oversight_meetings",
        "district_review_items",
        "district_reviews",
        "escalation_steps",
        "priority_reviews",
    ):
        op.drop_table(name)
