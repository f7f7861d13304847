"""Bodies the JSON decoder fails on in ways other than a decode error, and booleans that
msgspec's lax mode would guess: each is a 4xx in the envelope, never a 500 or a guess.
(The e2e table in tests/e2e/test_input_abuse.py covers the same over the real server.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.http.conftest import bearer
from tests.unit.http.test_error_envelope import REGISTER, assert_envelope

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"email": "\xff@example.com"}', id="invalid UTF-8 in a string"),
        pytest.param(b"\xfe\xff", id="invalid UTF-8 outside"),
        pytest.param(b"[" * 60_000, id="nested 60000 deep"),
        pytest.param(b'{"a":' * 10_000 + b"1" + b"}" * 10_000, id="objects 10000 deep"),
    ],
)
async def test_an_undecodable_body_is_400(client: Any, body: bytes) -> None:
    assert_envelope(await client.post(REGISTER, content=body, headers=JSON), 400, "BAD_REQUEST")


@pytest.mark.parametrize("value", ["false", "0", 0, 1, "true"])
async def test_is_active_takes_only_booleans(client: Any, register: Any, value: object) -> None:
    session = (await register("lax@example.com")).json()
    response = await client.patch(
        f"/api/v1/users/{session['user']['id']}",
        json={"is_active": value},
        headers=bearer(session["access_token"]),
    )
    error = assert_envelope(response, 422, "VALIDATION_ERROR")
    assert [field["field"] for field in error["details"]["fields"]] == ["is_active"]
