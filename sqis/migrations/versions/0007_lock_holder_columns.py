"""The year lock's holder as columns: ``year_locks.holder_host`` and ``holder_pid``
(``sqis.runs.lock_holder_is_dead`` reads them instead of parsing ``holder``, the text
``user on host (pid N)`` that stays for people). Locks held while upgrading get theirs
from that text.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_HOLDER = re.compile(r" on (?P<host>\S+) \(pid (?P<pid>[0-9]+)\)$")


def upgrade() -> None:
    with op.batch_alter_table("year_locks") as batch:
        batch.add_column(sa.Column("holder_host", sa.String(255), nullable=True))
        batch.add_column(sa.Column("holder_pid", sa.Integer(), nullable=True))
    locks = sa.table(
        "year_locks",
        sa.column("year", sa.String),
        sa.column("holder", sa.String),
        sa.column("holder_host", sa.String),
        sa.column("holder_pid", sa.Integer),
    )
    bind = op.get_bind()
    for year, holder in bind.execute(sa.select(locks.c.year, locks.c.holder)).all():
        m = _HOLDER.search(holder or "")
        if m:
            bind.execute(
                sa.update(locks)
                .where(locks.c.year == year)
                .values(holder_host=m["host"], holder_pid=int(m["pid"]))
            )


def downgrade() -> None:
    with op.batch_alter_table("year_locks") as batch:
        batch.drop_column("holder_pid")
        batch.drop_column("holder_host")
