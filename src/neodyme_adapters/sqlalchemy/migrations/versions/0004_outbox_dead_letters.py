"""Outbox dead letters: email_outbox.dead_at, and the claim index that skips dead rows.

Revision ID: 0004
Revises: 0003
Create Date: 2025-04-01

Written by hand against the previous revision, never generated from the current tables.
SQLite: adding a nullable column and replacing an index are plain statements there, no
batch ("move and copy") operation. Existing rows are not dead (NULL): an outbox that piled
up before this revision keeps being retried, and gets the new attempt limit like any other.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("email_outbox", sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True))
    # The claim skips dead rows inside the index; the new index leads with sent_at as the
    # old one did, so it serves every query the old one served: the old one goes.
    op.create_index(
        "ix_email_outbox_sent_at_dead_at_next_attempt_at",
        "email_outbox",
        ["sent_at", "dead_at", "next_attempt_at"],
    )
    op.drop_index("ix_email_outbox_sent_at_next_attempt_at", table_name="email_outbox")


def downgrade() -> None:
    op.create_index(
        "ix_email_outbox_sent_at_next_attempt_at", "email_outbox", ["sent_at", "next_attempt_at"]
    )
    op.drop_index("ix_email_outbox_sent_at_dead_at_next_attempt_at", table_name="email_outbox")
    op.drop_column("email_outbox", "dead_at")
