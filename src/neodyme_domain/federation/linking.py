"""Linking a provider's identity to an account: one step shared by a first sign-in that
creates the account and a link its owner confirmed."""

from __future__ import annotations

from datetime import datetime

from neodyme_domain.errors import IdentityTaken
from neodyme_domain.federation.model import LinkedIdentity
from neodyme_domain.messages import RequestOrigin, SecurityEvent
from neodyme_domain.model import User, new_id
from neodyme_domain.notices import security_notice
from neodyme_domain.ports import UnitOfWork


async def link_identity(
    uow: UnitOfWork,
    user: User,
    provider: str,
    subject: str,
    email: str,
    now: datetime,
    origin: RequestOrigin,
    *,
    notify: bool = True,
) -> LinkedIdentity:
    """Store the link in ``uow``'s transaction, record ``identity_linked`` and tell the
    owner (a link is a new way into the account; ``notify`` False for the account the
    link just made, whose welcome says it all). IDENTITY_TAKEN if the subject is linked
    to an account already (a concurrent first sign-in won)."""
    identity = LinkedIdentity(
        id=new_id(),
        user_id=user.id,
        provider=provider,
        subject=subject,
        email=email,
        created_at=now,
    )
    if not await uow.linked_identities.add(identity):
        raise IdentityTaken(context={"user_id": user.id, "provider": provider})
    await uow.events.record(
        SecurityEvent.of(
            "identity_linked", now, user.id, origin, provider=provider, identity_id=str(identity.id)
        )
    )
    if notify:
        notice = security_notice(
            "identity_linked", user, now, origin, provider=provider, email=email
        )
        await uow.outbox.add(notice, now)
    return identity
