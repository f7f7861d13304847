"""Federation: identities of other OpenID Connect providers linked to accounts, and the
sign-ins and links in flight.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Written by hand against the previous revision, never generated from the current tables.
Two new tables, nothing else changes (an account made by a provider stores an empty
password hash, which the existing column holds).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _owner(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "linked_identities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        _timestamp("created_at"),
        _owner("linked_identities"),
        sa.PrimaryKeyConstraint("id", name="pk_linked_identities"),
        sa.UniqueConstraint("provider", "subject", name="uq_linked_identities_provider_subject"),
    )
    op.create_index("ix_linked_identities_user_id", "linked_identities", ["user_id"])
    op.create_table(
        "federation_requests",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at"),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.String(2048), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        _owner("federation_requests"),
        sa.PrimaryKeyConstraint("digest", name="pk_federation_requests"),
    )
    op.create_index("ix_federation_requests_user_id", "federation_requests", ["user_id"])
    op.create_index("ix_federation_requests_expires_at", "federation_requests", ["expires_at"])


def downgrade() -> None:
    op.drop_table("federation_requests")
    op.drop_table("linked_identities")
