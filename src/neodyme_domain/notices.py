"""Security notices: the e-mails that tell a user something changed on their account.

One template per notice, named like the security event it follows (``password_changed``,
``mfa_enabled``...). Each says what happened, when, from which device, and what to do if
it was not them: the user is the one who can tell a change was not theirs. Notices are
queued in the outbox in the transaction of the change, like every e-mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from neodyme_domain.messages import EmailMessage, RequestOrigin
from neodyme_domain.model import User

NoticeKind = Literal[
    "password_changed",
    "email_change_requested",
    "mfa_enabled",
    "mfa_disabled",
    "recovery_code_used",
    "new_device_sign_in",
    "passkey_added",
    "passkey_removed",
    "identity_linked",
    "identity_unlinked",
]

_TAKE_BACK_CONTROL = (
    'reset your password now with "Forgot password", then turn on two-factor sign-in'
    " and end the sessions you do not recognise."
)


@dataclass(frozen=True, slots=True)
class _Template:
    subject: str
    what: str
    """What happened, one sentence; ``{name}`` fields come from the notice's facts."""
    if_not_you: str


_TEMPLATES: dict[NoticeKind, _Template] = {
    "password_changed": _Template(
        "Your neodyme password was changed",
        "the password of your account was changed, and every session was signed out.",
        _TAKE_BACK_CONTROL,
    ),
    "email_change_requested": _Template(
        "A change of your neodyme e-mail address was requested",
        "someone asked to change the address of your account to {new_email}. Nothing"
        " changes unless the link sent to that address is opened.",
        "do not worry about the link, but change your password now: whoever asked knew it.",
    ),
    "mfa_enabled": _Template(
        "Two-factor sign-in was turned on",
        "two-factor sign-in was turned on for your account.",
        _TAKE_BACK_CONTROL,
    ),
    "mfa_disabled": _Template(
        "Two-factor sign-in was turned off",
        "two-factor sign-in was turned off for your account ({by}).",
        _TAKE_BACK_CONTROL,
    ),
    "recovery_code_used": _Template(
        "A recovery code was used to sign in",
        "a recovery code was used to sign in to your account; {remaining} unused codes remain.",
        _TAKE_BACK_CONTROL + " Then generate new recovery codes.",
    ),
    "new_device_sign_in": _Template(
        "New sign-in to your neodyme account",
        "your account was signed in from a device or address it has not used recently.",
        _TAKE_BACK_CONTROL,
    ),
    "passkey_added": _Template(
        "A passkey was added to your neodyme account",
        'a passkey named "{name}" was added to your account: it can sign in without a password.',
        _TAKE_BACK_CONTROL + " Then remove the passkey you do not recognise.",
    ),
    "passkey_removed": _Template(
        "A passkey was removed from your neodyme account",
        'the passkey named "{name}" was removed from your account.',
        _TAKE_BACK_CONTROL,
    ),
    "identity_linked": _Template(
        "A sign-in provider was linked to your neodyme account",
        "your {provider} account ({email}) was linked to your account: it can now sign in to it.",
        _TAKE_BACK_CONTROL + " Then unlink the provider you do not recognise.",
    ),
    "identity_unlinked": _Template(
        "A sign-in provider was unlinked from your neodyme account",
        "your {provider} account ({email}) was unlinked: it no longer signs in to yours.",
        _TAKE_BACK_CONTROL,
    ),
}


def security_notice(
    kind: NoticeKind,
    user: User,
    at: datetime,
    origin: RequestOrigin,
    *,
    to: str | None = None,
    **facts: str,
) -> EmailMessage:
    """The notice ``kind`` for ``user`` (to their address unless ``to`` says otherwise),
    about something done at ``at`` from ``origin``."""
    template = _TEMPLATES[kind]
    device = origin.user_agent or "an unknown device"
    address = origin.client_ip or "an unknown address"
    body = (
        f"Hello {user.full_name},\n\n"
        f"{template.what.format(**facts)}\n\n"
        f"When: {at:%Y-%m-%d %H:%M} UTC\n"
        f"Device: {device}, from {address}\n\n"
        "If this was you, there is nothing to do. If it was not you, "
        f"{template.if_not_you}\n"
    )
    return EmailMessage(
        kind=kind,
        to=to or user.email.value,
        subject=template.subject,
        body=body,
        data={
            "user_name": user.full_name,
            "user_id": str(user.id),
            "occurred_at": at.isoformat(),
            "user_agent": origin.user_agent or "",
            "client_ip": origin.client_ip or "",
            **facts,
        },
    )
