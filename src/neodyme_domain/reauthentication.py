"""The password asked again before a change that an access token alone must not make."""

from __future__ import annotations

from neodyme_domain.errors import InvalidCredentials
from neodyme_domain.model import User
from neodyme_domain.passwords import check_length_bound
from neodyme_domain.ports import PasswordHasher


async def confirm_password(hasher: PasswordHasher, user: User, password: str) -> None:
    """INVALID_CREDENTIALS (naming the account) unless ``password`` is ``user``'s: whoever
    holds a stolen access token must not move the account's address or its second factor.
    Bounded before any hash, as every password is."""
    check_length_bound(password)
    if not await hasher.verify(user.hashed_password, password):
        raise InvalidCredentials(context={"user_id": user.id})
