"""Safe production defaults: what production refuses (no SMTP host unless e-mails are logged
on purpose, argon2 below OWASP's minimum), the nonsensical numbers refused everywhere, the
JWT clock leeway, and the NEODYME_* variables that name no setting. Each refusal is one
line naming the variable, and `neodyme` exits with code 2 before doing anything."""

from __future__ import annotations

import re
import uuid
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from dependency_injector import providers

from neodyme_adapters.clock import ManualClock
from neodyme_app.cli import EXIT_BAD_SETTINGS, main
from neodyme_app.config import (
    MAX_JWT_LEEWAY,
    RESERVED_PREFIXES,
    EmailBackend,
    Environment,
    Settings,
    SettingsError,
)
from neodyme_app.container import build_container
from neodyme_domain.errors import InvalidToken
from neodyme_domain.ports import TokenService

SECRET = "s" * 48
PRODUCTION = {
    "NEODYME_ENVIRONMENT": "production",
    "NEODYME_SECRET_KEY": SECRET,
    "NEODYME_SMTP_HOST": "smtp.example.com",
}
"""A production configuration that starts: the base each refusal changes one thing of."""
ANY = {"NEODYME_SECRET_KEY": SECRET}
"""Development, or any environment: for what is refused everywhere."""

OWASP_PAIRS = [(47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)]
"""OWASP Password Storage Cheat Sheet: argon2id memory (KiB) and passes, p=1, of equal
strength."""

REFUSALS: dict[str, tuple[dict[str, str], str]] = {
    "production without an SMTP host": (
        PRODUCTION | {"NEODYME_SMTP_HOST": ""},
        "NEODYME_SMTP_HOST must be set in production (or set NEODYME_EMAIL_BACKEND=log to"
        " log that e-mails were sent, without sending them)",
    ),
    "the smtp backend without a host": (
        ANY | {"NEODYME_EMAIL_BACKEND": "smtp"},
        "NEODYME_EMAIL_BACKEND=smtp needs NEODYME_SMTP_HOST",
    ),
    "production with the tests' argon2 cost": (
        PRODUCTION | {"NEODYME_ARGON2_MEMORY_KIB": "64", "NEODYME_ARGON2_TIME_COST": "1"},
        "NEODYME_ARGON2_MEMORY_KIB=64 with NEODYME_ARGON2_TIME_COST=1 is below OWASP's"
        " argon2id minimum, refused in production: at that time cost, memory must be at"
        " least 47104 KiB (OWASP: m=47104 t=1, m=19456 t=2, m=12288 t=3, m=9216 t=4,"
        " m=7168 t=5+)",
    ),
    "argon2 memory below 8 KiB a lane": (
        ANY | {"NEODYME_ARGON2_MEMORY_KIB": "64", "NEODYME_ARGON2_PARALLELISM": "9"},
        "NEODYME_ARGON2_MEMORY_KIB=64, NEODYME_ARGON2_TIME_COST=2,"
        " NEODYME_ARGON2_PARALLELISM=9: memory must be at least 8 KiB per lane and below 4 TiB",
    ),
    "a negative hash concurrency": (
        ANY | {"NEODYME_HASH_CONCURRENCY": "-2"},
        "NEODYME_HASH_CONCURRENCY='-2' is not valid: must be zero or a positive integer",
    ),
    "a zero database pool": (
        ANY | {"NEODYME_DB_POOL_SIZE": "0"},
        "NEODYME_DB_POOL_SIZE='0' is not valid: must be a positive integer",
    ),
    "an infinite request timeout": (
        ANY | {"NEODYME_REQUEST_TIMEOUT": "inf"},
        "NEODYME_REQUEST_TIMEOUT='inf' is not valid: must be a positive number",
    ),
    "a leeway beyond five minutes": (
        ANY | {"NEODYME_JWT_LEEWAY": "301"},
        "NEODYME_JWT_LEEWAY='301' is not valid: must be at most 300 seconds",
    ),
    "a leeway as long as the access token": (
        ANY | {"NEODYME_JWT_LEEWAY": "60", "NEODYME_ACCESS_TOKEN_TTL": "60"},
        "NEODYME_JWT_LEEWAY=60 must be shorter than NEODYME_ACCESS_TOKEN_TTL=60",
    ),
    "a misspelt setting": (
        ANY | {"NEODYME_SMPT_HOST": "smtp.example.com"},
        "NEODYME_SMPT_HOST is not a setting; did you mean NEODYME_SMTP_HOST?",
    ),
    "a setting in lower case": (
        ANY | {"NEODYME_jwt_leeway": "5"},
        "NEODYME_jwt_leeway is not a setting; did you mean NEODYME_JWT_LEEWAY?",
    ),
    "a variable like no setting": (
        ANY | {"NEODYME_XYZZY": "1"},
        "NEODYME_XYZZY is not a setting; `neodyme settings` lists them",
    ),
}


@pytest.mark.parametrize(("env", "line"), REFUSALS.values(), ids=REFUSALS.keys())
def test_the_command_refuses_to_start_with_one_line_and_exit_2(
    env: dict[str, str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["settings"], environ=env) == EXIT_BAD_SETTINGS

    out, err = capsys.readouterr()
    assert err == f"neodyme: {line}\n"
    assert out == ""


def test_the_production_base_of_those_refusals_starts(capsys: pytest.CaptureFixture[str]) -> None:
    # The control: each refusal above is caused by the one thing it changes.
    assert main(["settings"], environ=PRODUCTION) == 0
    assert "NEODYME_JWT_LEEWAY" in capsys.readouterr().out


# E-mail backend


def test_production_logs_e_mails_only_when_told_to() -> None:
    logged = Settings.from_env(
        {**PRODUCTION, "NEODYME_SMTP_HOST": "", "NEODYME_EMAIL_BACKEND": "log"}
    )

    assert logged.email_delivery is EmailBackend.LOG


@pytest.mark.parametrize("environment", ["development", "testing"])
def test_elsewhere_auto_logs_e_mails_without_a_host_and_sends_them_with_one(
    environment: str,
) -> None:
    base = {"NEODYME_ENVIRONMENT": environment, "NEODYME_SECRET_KEY": SECRET}

    assert Settings.from_env(base).email_delivery is EmailBackend.LOG
    with_host = Settings.from_env(base | {"NEODYME_SMTP_HOST": "smtp.example.com"})
    assert with_host.email_backend is EmailBackend.AUTO
    assert with_host.email_delivery is EmailBackend.SMTP


@pytest.mark.parametrize("environment", ["development", "testing", "production"])
def test_the_smtp_backend_without_a_host_is_refused_everywhere(environment: str) -> None:
    env = {**PRODUCTION, "NEODYME_ENVIRONMENT": environment, "NEODYME_EMAIL_BACKEND": "smtp"}
    del env["NEODYME_SMTP_HOST"]

    with pytest.raises(
        SettingsError, match=r"^NEODYME_EMAIL_BACKEND=smtp needs NEODYME_SMTP_HOST$"
    ):
        Settings.from_env(env)


# argon2 cost


@pytest.mark.parametrize(("memory_kib", "time_cost"), [*OWASP_PAIRS, (7168, 8), (65536, 3)])
def test_production_accepts_owasp_argon2id_pairs_and_above(memory_kib: int, time_cost: int) -> None:
    settings = Settings.from_env(
        PRODUCTION
        | {"NEODYME_ARGON2_MEMORY_KIB": str(memory_kib), "NEODYME_ARGON2_TIME_COST": str(time_cost)}
    )

    assert (settings.argon2_memory_kib, settings.argon2_time_cost) == (memory_kib, time_cost)


@pytest.mark.parametrize(("memory_kib", "time_cost"), OWASP_PAIRS)
def test_production_refuses_a_kib_less_than_owasp_at_each_time_cost(
    memory_kib: int, time_cost: int
) -> None:
    env = PRODUCTION | {
        "NEODYME_ARGON2_MEMORY_KIB": str(memory_kib - 1),
        "NEODYME_ARGON2_TIME_COST": str(time_cost),
    }

    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)

    message = str(refused.value)
    assert message.startswith(
        f"NEODYME_ARGON2_MEMORY_KIB={memory_kib - 1} with NEODYME_ARGON2_TIME_COST={time_cost}"
    )
    assert f"memory must be at least {memory_kib} KiB" in message


@pytest.mark.parametrize("environment", ["development", "testing"])
def test_cheap_argon2_is_for_development_and_tests(environment: str) -> None:
    settings = Settings.from_env(
        {
            "NEODYME_ENVIRONMENT": environment,
            "NEODYME_SECRET_KEY": SECRET,
            "NEODYME_ARGON2_MEMORY_KIB": "64",
            "NEODYME_ARGON2_TIME_COST": "1",
        }
    )

    assert settings.argon2_memory_kib == 64


# Nonsensical numbers, in every environment


def _numbers() -> list[tuple[str, str]]:
    return [(spec.name, str(spec.type)) for spec in fields(Settings) if _is_number(spec.type)]


def _is_number(annotation: Any) -> bool:
    return str(annotation).removesuffix(" | None") in {"int", "float"}


ZERO_MEANS_SOMETHING = {
    "hash_concurrency",
    "hash_queue_limit",
    "jwt_leeway",
    "metrics_port",
    "new_device_notice_days",
}
"""0 = one hashing thread per core; no hash waits for a thread; no leeway; metrics on the API
port; no new-device notices. Every other number of the settings is a count, a size, a port
or a duration, and 0 makes no sense in it. (A new setting where 0 means something is added
here, with why.)"""


@pytest.mark.parametrize(("name", "kind"), _numbers(), ids=[name for name, _ in _numbers()])
def test_every_numeric_setting_refuses_nonsense_from_the_environment(name: str, kind: str) -> None:
    variable = "NEODYME_" + name.upper()
    nonsense = ["-1", "ten"] + ([] if "None" in kind else [""])  # optional: "" is unset
    nonsense += ["nan", "inf", "-inf"] if "float" in kind else ["1.5"]
    nonsense += [] if name in ZERO_MEANS_SOMETHING else ["0"]

    for value in nonsense:
        with pytest.raises(SettingsError) as refused:
            Settings.from_env({"NEODYME_SECRET_KEY": SECRET, variable: value})
        assert str(refused.value).startswith(f"{variable}={value!r} is not valid"), value


@pytest.mark.parametrize("name", [name for name, _ in _numbers()])
def test_every_numeric_setting_refuses_nonsense_given_in_python(name: str) -> None:
    # Settings(...) (the in-process API, tests) never meets the environment's parsers.
    settings = Settings(environment=Environment.TESTING, secret_key=SECRET)

    with pytest.raises(SettingsError, match=f"^NEODYME_{name.upper()}=-1 is not valid"):
        replace(settings, **{name: -1}).validated()
    with pytest.raises(SettingsError):
        build_container(replace(settings, **{name: -1}))


# JWT clock leeway


def test_the_default_leeway_is_small_and_documented() -> None:
    settings = Settings.from_env({"NEODYME_SECRET_KEY": SECRET})

    assert 0 < settings.jwt_leeway <= 30
    assert settings.jwt_leeway_delta == timedelta(seconds=settings.jwt_leeway)
    (doc,) = [spec.metadata["doc"] for spec in fields(Settings) if spec.name == "jwt_leeway"]
    assert "seconds" in doc
    assert str(MAX_JWT_LEEWAY) in doc


NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)


def _tokens(settings: Settings) -> TokenService:
    """The container's token service, on a clock stopped at ``NOW``."""
    container = build_container(settings)
    container.clock.override(providers.Object(ManualClock(NOW)))
    return container.tokens()


def _issued_ahead(settings: Settings, seconds: int) -> str:
    """An access token as another server would issue it, whose clock is ``seconds`` ahead
    of the one deciding."""
    issued = int(NOW.timestamp()) + seconds
    payload = {
        "sub": str(uuid.uuid4()),
        "type": "access",
        "jti": "j",
        "permissions": [],
        "ver": 0,
        "sid": "s",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "exp": issued + settings.access_token_ttl,
    }
    return jwt.encode(payload, settings.secret_key, algorithm="HS256")


def test_the_container_gives_the_token_service_the_leeway_setting() -> None:
    settings = Settings.from_env({"NEODYME_SECRET_KEY": SECRET, "NEODYME_JWT_LEEWAY": "20"})
    tokens = _tokens(settings)

    tokens.decode_access(_issued_ahead(settings, 20))
    with pytest.raises(InvalidToken):
        tokens.decode_access(_issued_ahead(settings, 21))


def test_by_default_a_token_issued_a_second_ahead_is_accepted_and_a_minute_ahead_refused() -> None:
    settings = Settings.from_env({"NEODYME_SECRET_KEY": SECRET})
    tokens = _tokens(settings)

    tokens.decode_access(_issued_ahead(settings, 1))
    with pytest.raises(InvalidToken):
        tokens.decode_access(_issued_ahead(settings, 60))


# Variables that name no setting


def test_the_tooling_variables_are_not_settings_and_not_refused() -> None:
    env = {
        "NEODYME_SECRET_KEY": SECRET,
        "NEODYME_TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "NEODYME_BENCH_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/bench",
        "NEODYME_FUZZ_SEED": "42",
        "NEODYME_FUZZ_EXAMPLES": "500",
        "OTHER_VARIABLE": "1",
    }

    assert Settings.from_env(env).secret_key == SECRET


def test_no_setting_is_named_like_a_tooling_variable() -> None:
    names = ["NEODYME_" + spec.name.upper() for spec in fields(Settings)]

    assert not [name for name in names if name.startswith(RESERVED_PREFIXES)]


def test_a_misspelt_variable_is_named_before_any_bad_value() -> None:
    # The typo may be why the value looks wrong: it is reported first.
    env = {"NEODYME_SECRET_KEY": SECRET, "NEODYME_SMTP_PORT": "x", "NEODYME_SMTP_PROT": "25"}

    with pytest.raises(SettingsError, match=re.escape("did you mean NEODYME_SMTP_PORT?")):
        Settings.from_env(env)
