"""Signing keys: the asymmetric keys of EdDSA / ES256 access tokens, by generation.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Written by hand against the previous revision, never generated from the current tables.
One new table, nothing else changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("generation", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("sealed_private_key", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active_from", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("generation", name="pk_signing_keys"),
        sa.UniqueConstraint("kid", name="uq_signing_keys_kid"),
    )


def downgrade() -> None:
    op.drop_table("signing_keys")
