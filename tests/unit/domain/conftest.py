"""Registered users for the domain tests: each fixture is one committed registration."""

from __future__ import annotations

import pytest

from neodyme_domain.use_cases import RegisterCommand, Registered, RegisterUser
from tests.unit.domain.helpers import PASSWORD


@pytest.fixture
async def alice(register_user: RegisterUser) -> Registered:
    return await register_user(RegisterCommand("alice@example.com", "Alice Liddell", PASSWORD))


@pytest.fixture
async def bob(register_user: RegisterUser) -> Registered:
    return await register_user(RegisterCommand("bob@example.com", "Bob Builder", PASSWORD))


@pytest.fixture
async def admin(register_user: RegisterUser) -> Registered:
    return await register_user(
        RegisterCommand("admin@example.com", "Ada Admin", PASSWORD, is_superuser=True)
    )
