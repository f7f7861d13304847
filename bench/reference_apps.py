"""Bare Litestar apps that bound what neodyme could do on this machine (bench/run.py).

- ``argon2_app``: POST /register hashes the request's password, POST /login verifies it,
  with neodyme's production argon2id parameters in a private pool of one thread per core
  (shared out between the server's workers, like neodyme's hasher), and nothing else: no
  database, no tokens.
- ``json_app``: GET /me answers a small JSON body, touching nothing; POST /introspect
  reads a form body (``token=...``, as RFC 7662 introspection is asked) and answers a
  small JSON body, checking nothing.

Served like neodyme, by granian:
``granian --interface asgi --factory bench.reference_apps:argon2_app``.
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

import msgspec
from argon2 import PasswordHasher, Type
from argon2.exceptions import VerificationError
from litestar import Litestar, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from neodyme_adapters.argon2_hasher import Argon2Parameters


class Credentials(msgspec.Struct):
    email: str
    password: str
    full_name: str | None = None


class Answer(msgspec.Struct):
    id: str
    email: str


class TokenForm(msgspec.Struct):
    token: str


class Introspection(msgspec.Struct):
    active: bool
    sub: str
    exp: int


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


def argon2_app() -> Litestar:
    parameters = Argon2Parameters()
    hasher = PasswordHasher(
        time_cost=parameters.time_cost,
        memory_cost=parameters.memory_kib,
        parallelism=parameters.parallelism,
        type=Type.ID,
    )
    # Like `neodyme serve`: the cores are shared out between the server's workers.
    workers = int(os.environ.get("BENCH_SERVER_WORKERS", "1"))
    pool = ThreadPoolExecutor(max(1, (os.cpu_count() or 1) // workers), thread_name_prefix="argon2")
    stored = hasher.hash("Reference-Password-1!")

    @post("/register", status_code=201)
    async def register(data: Credentials) -> Answer:
        await asyncio.get_running_loop().run_in_executor(pool, hasher.hash, data.password)
        return Answer("0", data.email)

    @post("/login", status_code=200)
    async def login(data: Credentials) -> Answer:
        await asyncio.get_running_loop().run_in_executor(pool, _verify, hasher, stored, data)
        return Answer("0", data.email)

    return Litestar([health, register, login])


def _verify(hasher: PasswordHasher, stored: str, data: Credentials) -> bool:
    # Whatever the password, the same work as neodyme's verify: one full argon2id run.
    try:
        return hasher.verify(stored, data.password)
    except VerificationError:
        return False


def json_app() -> Litestar:
    @get("/me")
    async def me() -> Answer:
        return Answer("8f14e45f-ceea-467f-a0e6-1a6b2d1b5e3c", "ada@example.com")

    @post("/introspect", status_code=200)
    async def introspect(
        data: Annotated[TokenForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Introspection:
        return Introspection(
            bool(data.token), "8f14e45f-ceea-467f-a0e6-1a6b2d1b5e3c", 1_700_000_900
        )

    return Litestar([health, me, introspect])
