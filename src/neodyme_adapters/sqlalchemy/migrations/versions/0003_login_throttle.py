"""Login throttling: one row of failure counts per key (account, client address, reset).

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01

Written by hand against the previous revision, never generated from the current tables.
A new table only: plain CREATE TABLE on both databases, no batch operation on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(320), nullable=False),
        _timestamp("window_start"),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        _timestamp("locked_until", nullable=True),
        _timestamp("expires_at"),
        sa.PrimaryKeyConstraint("key", name="pk_login_throttle"),
    )
    op.create_index("ix_login_throttle_expires_at", "login_throttle", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_login_throttle_expires_at", table_name="login_throttle")
    op.drop_table("login_throttle")
