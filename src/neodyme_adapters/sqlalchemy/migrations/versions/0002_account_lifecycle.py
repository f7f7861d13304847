"""Account lifecycle: users.token_version, one-time (e-mailed link) tokens, and the index
that serves a user's security history newest first.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01

Written by hand against the previous revision, never generated from the current tables:
a migration is a frozen snapshot and must not import neodyme code that may change later.

SQLite: no batch ("move and copy") operation here, on purpose. Recreating ``users`` would
``DROP TABLE users``, and with the foreign keys the service turns on (they cannot be turned
off inside the migration's transaction) that drop deletes every row and cascades to the
refresh tokens. Adding a column with a constant default and dropping an unindexed column are
plain ``ALTER TABLE`` statements on SQLite instead (``DROP COLUMN`` needs SQLite 3.35 or
later, for the downgrade only).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Existing users start at version 0, as User.token_version does.
    op.add_column(
        "users",
        sa.Column("token_version", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )

    op.create_table(
        "one_time_tokens",
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("user_stamp", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at"),
        _timestamp("used_at", nullable=True),
        sa.PrimaryKeyConstraint("token_digest", name="pk_one_time_tokens"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_one_time_tokens_user_id_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_one_time_tokens_user_id", "one_time_tokens", ["user_id"])

    # The composite index serves lookups by user_id alone as well: it replaces the old one.
    op.create_index(
        "ix_security_events_user_id_occurred_at_id",
        "security_events",
        ["user_id", "occurred_at", "id"],
    )
    op.drop_index("ix_security_events_user_id", table_name="security_events")


def downgrade() -> None:
    op.create_index("ix_security_events_user_id", "security_events", ["user_id"])
    op.drop_index("ix_security_events_user_id_occurred_at_id", table_name="security_events")

    op.drop_table("one_time_tokens")

    op.drop_column("users", "token_version")
