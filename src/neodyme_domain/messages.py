"""E-mails and security events: what the domain asks the outside world to deliver or keep."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from neodyme_domain.model import User, UserId, new_id


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """A rendered e-mail. ``kind`` and ``data`` keep what it is about for tests and logs."""

    kind: str
    to: str
    subject: str
    body: str
    data: dict[str, str] = field(default_factory=dict)

    @classmethod
    def welcome(cls, user: User) -> EmailMessage:
        return cls(
            kind="welcome",
            to=user.email.value,
            subject="Welcome to neodyme",
            body=(
                f"Hello {user.full_name},\n\n"
                "your neodyme account is ready. You can log in with this address.\n"
            ),
            data={"user_name": user.full_name, "user_id": str(user.id)},
        )

    @classmethod
    def password_reset(cls, user: User, link: str, valid_for: timedelta) -> EmailMessage:
        return cls(
            kind="password_reset",
            to=user.email.value,
            subject="Reset your neodyme password",
            body=(
                f"Hello {user.full_name},\n\n"
                "someone (hopefully you) asked to reset the password of this account.\n"
                f"Open this link within {_minutes(valid_for)} minutes to choose a new one:\n\n"
                f"{link}\n\n"
                "If it was not you, ignore this e-mail: your password stays as it is.\n"
            ),
            data={"user_name": user.full_name, "user_id": str(user.id), "link": link},
        )

    @classmethod
    def verification(cls, user: User, link: str, valid_for: timedelta) -> EmailMessage:
        return cls(
            kind="email_verification",
            to=user.email.value,
            subject="Confirm your e-mail address for neodyme",
            body=(
                f"Hello {user.full_name},\n\n"
                f"open this link within {_minutes(valid_for)} minutes to confirm that this"
                " address is yours:\n\n"
                f"{link}\n"
            ),
            data={"user_name": user.full_name, "user_id": str(user.id), "link": link},
        )

    @classmethod
    def email_change(
        cls, user: User, new_email: str, link: str, valid_for: timedelta
    ) -> EmailMessage:
        """To the new address: the link that proves it is the user's and switches to it."""
        return cls(
            kind="email_change",
            to=new_email,
            subject="Confirm your new e-mail address for neodyme",
            body=(
                f"Hello {user.full_name},\n\n"
                "someone (hopefully you) asked to use this address for their neodyme account.\n"
                f"Open this link within {_minutes(valid_for)} minutes to confirm it; until"
                " then the account keeps its old address:\n\n"
                f"{link}\n\n"
                "If it was not you, ignore this e-mail: nothing changes.\n"
            ),
            data={"user_name": user.full_name, "user_id": str(user.id), "link": link},
        )


def _minutes(delta: timedelta) -> int:
    """Whole minutes, rounded down: an e-mail never promises more time than the link has."""
    return delta // timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An e-mail waiting in the outbox, with its delivery bookkeeping."""

    id: uuid.UUID
    message: EmailMessage
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    dead_at: datetime | None = None
    """When delivery was given up (after the last allowed attempt); never claimed again
    unless an operator puts it back (``neodyme outbox retry --dead``)."""


@dataclass(frozen=True, slots=True)
class OutboxBacklog:
    """The outbox at a glance, for operators (``neodyme outbox status``) and metrics.

    ``pending``: not sent and not given up; ``failing``: those of them that failed at least
    once (waiting for a retry); ``dead``: given up; ``oldest_pending_at``: when the oldest
    pending e-mail was queued (how late the outbox runs), None when nothing is pending.
    """

    pending: int
    failing: int
    dead: int
    oldest_pending_at: datetime | None


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """A fact for the audit trail and analytics: ``user_registration``, ``user_login``,
    ``login_failed`` (``data["reason"]``: unknown_email, invalid_password, inactive,
    throttled when refused by login throttling before the password was checked, or
    changed_meanwhile when a password change, reset or deactivation committed during the
    login)..."""

    type: str
    occurred_at: datetime
    user_id: UserId | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=new_id)

    @classmethod
    def of(
        cls, type: str, at: datetime, user_id: UserId | None, origin: RequestOrigin, **data: Any
    ) -> SecurityEvent:
        return cls(
            type=type,
            occurred_at=at,
            user_id=user_id,
            client_ip=origin.client_ip,
            user_agent=origin.user_agent,
            data=data,
        )


@dataclass(frozen=True, slots=True)
class RequestOrigin:
    """Where a request came from, for the audit trail. Empty for in-process callers."""

    client_ip: str | None = None
    user_agent: str | None = None


NO_ORIGIN = RequestOrigin()
"""The origin of an in-process call: no address, no user agent."""
