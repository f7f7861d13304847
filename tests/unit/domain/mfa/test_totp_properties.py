"""RFC 6238 as the sign-in sees it, for any secret and time: a code of step t verifies at
t and one step either side, not two steps away, and never twice (the store's step)."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_adapters.totp import PyotpTotp
from neodyme_domain.mfa.model import TotpAuthenticator
from neodyme_domain.model import new_id

TOTP = PyotpTotp()
STEP = timedelta(seconds=30)

secrets_ = st.binary(min_size=20, max_size=20).map(lambda raw: base64.b32encode(raw).decode())
instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(secret=secrets_, at=instants)
@settings(max_examples=200, deadline=None)
def test_a_code_matches_its_step_within_one_step_of_drift_and_not_beyond(
    secret: str, at: datetime
) -> None:
    step = TOTP.step_at(at)
    code = TOTP.code_at(secret, step)
    others = {TOTP.code_at(secret, step + offset) for offset in (-3, -2, -1, 1, 2, 3)}
    assume(code not in others)  # a one-in-a-million collision of 6-digit codes

    for offset in (-1, 0, 1):
        assert TOTP.matching_step(secret, code, at + offset * STEP) == step
    for offset in (-2, 2):
        assert TOTP.matching_step(secret, code, at + offset * STEP) is None


@given(secret=secrets_, at=instants, offset=st.sampled_from([-1, 0, 1]))
@settings(max_examples=100, deadline=None)
def test_a_matching_code_is_spent_once(secret: str, at: datetime, offset: int) -> None:
    database = MemoryDatabase()
    user_id = new_id()
    database.state.totp[user_id] = TotpAuthenticator(user_id, "sealed", at)

    async def use(step: int | None) -> bool:
        assert step is not None
        async with InMemoryUnitOfWork(database) as uow:
            won = await uow.totp.use_step(user_id, step)
            await uow.commit()
        return won

    code = TOTP.code_at(secret, TOTP.step_at(at) + offset)
    step = TOTP.matching_step(secret, code, at)

    assert asyncio.run(use(step)) is True
    assert asyncio.run(use(TOTP.matching_step(secret, code, at))) is False
