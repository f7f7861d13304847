"""What a session is: the record a sign-in leaves, shown to its owner and ended by them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from neodyme_domain.model import UserId


@dataclass(frozen=True, slots=True)
class Session:
    """One sign-in (login, second-factor completion or registration): its id is the id of
    its refresh-token family and the ``sid`` claim of every access token issued in it.

    Ended sessions are kept (``ended_at`` set) so that the devices an account used
    recently stay known (new-device notices); they are never listed again.
    """

    id: str
    user_id: UserId
    created_at: datetime
    last_used_at: datetime
    """Issue of its last token pair (sign-in or refresh): moves at most once per access
    token lifetime, so that listing sessions costs no write per request."""
    expires_at: datetime
    """The family's absolute expiry: after it the session can no longer refresh."""
    user_agent: str | None = None
    client_ip: str | None = None
    ended_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.ended_at is None and self.expires_at > now
