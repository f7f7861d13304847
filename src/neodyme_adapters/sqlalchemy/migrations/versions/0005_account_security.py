"""Account security: sessions, the second factor (TOTP authenticators, recovery codes,
pending second-factor logins), users.mfa_enabled and the address of e-mail change links.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Written by hand against the previous revision, never generated from the current tables.
SQLite: adding columns with constant defaults and creating tables are plain statements, no
batch ("move and copy") operation (see 0002 on why that matters for ``users``).

Every refresh-token family on record becomes a session (id = family id), so that a client
signed in before the upgrade keeps refreshing: the refresh use case now needs the session.
Its access tokens carry no ``sid`` and are refused from the upgrade on; the client's next
refresh gives it one that does. A family none of whose tokens is live is an ended session.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _owner(table: str) -> tuple[sa.Column[object], sa.ForeignKeyConstraint]:
    return (
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=f"fk_{table}_user_id_users", ondelete="CASCADE"
        ),
    )


_BACKFILL_SESSIONS = """
INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, ended_at)
SELECT family_id, user_id, MIN(issued_at), MAX(issued_at), MAX(expires_at),
       CASE WHEN COUNT(*) = COUNT(revoked_at) THEN MAX(revoked_at) END
FROM refresh_tokens
GROUP BY family_id, user_id
"""


def upgrade() -> None:
    op.add_column(
        "users",
        sa.Column("mfa_enabled", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    )
    op.add_column("one_time_tokens", sa.Column("new_email", sa.String(254), nullable=True))

    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), nullable=False),
        *_owner("sessions"),
        _timestamp("created_at"),
        _timestamp("last_used_at"),
        _timestamp("expires_at"),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("client_ip", sa.String(64), nullable=True),
        _timestamp("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_user_id_last_used_at", "sessions", ["user_id", "last_used_at"])
    op.execute(_BACKFILL_SESSIONS)

    op.create_table(
        "totp_authenticators",
        *_owner("totp_authenticators"),
        sa.Column("sealed_secret", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("confirmed_at", nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="pk_totp_authenticators"),
    )
    op.create_table(
        "recovery_codes",
        *_owner("recovery_codes"),
        sa.Column("code_digest", sa.String(64), nullable=False),
        _timestamp("used_at", nullable=True),
        sa.PrimaryKeyConstraint("user_id", "code_digest", name="pk_recovery_codes"),
    )
    op.create_table(
        "mfa_challenges",
        sa.Column("token_digest", sa.String(64), nullable=False),
        *_owner("mfa_challenges"),
        sa.Column("user_stamp", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at"),
        sa.Column("failures", sa.Integer(), nullable=False, server_default=sa.text("0")),
        _timestamp("used_at", nullable=True),
        sa.PrimaryKeyConstraint("token_digest", name="pk_mfa_challenges"),
    )
    op.create_index("ix_mfa_challenges_user_id", "mfa_challenges", ["user_id"])
    op.create_index("ix_mfa_challenges_expires_at", "mfa_challenges", ["expires_at"])


def downgrade() -> None:
    op.drop_table("mfa_challenges")
    op.drop_table("recovery_codes")
    op.drop_table("totp_authenticators")
    op.drop_table("sessions")
    op.drop_column("one_time_tokens", "new_email")
    op.drop_column("users", "mfa_enabled")
