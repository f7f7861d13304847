"""Edit one's own profile. Only the name is the user's to change."""

from __future__ import annotations

from dataclasses import dataclass

from neodyme_domain.messages import NO_ORIGIN, RequestOrigin, SecurityEvent
from neodyme_domain.model import User
from neodyme_domain.ports import Clock, UnitOfWork
from neodyme_domain.use_cases.fresh import fresh_copy


@dataclass(frozen=True, slots=True)
class UpdateProfileCommand:
    user: User
    full_name: str | None = None
    """None leaves the name as it is."""
    origin: RequestOrigin = NO_ORIGIN


class UpdateProfile:
    def __init__(self, *, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def __call__(self, cmd: UpdateProfileCommand) -> User:
        if cmd.full_name is None:
            return cmd.user
        now = self._clock.now()
        async with self._uow as uow:
            user = await fresh_copy(uow, cmd.user)
            user.rename(cmd.full_name, now)
            await uow.users.update(user)
            await uow.events.record(SecurityEvent.of("profile_updated", now, user.id, cmd.origin))
            await uow.commit()
        return user
