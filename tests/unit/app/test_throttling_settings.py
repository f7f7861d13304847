"""The throttling settings: defaults, parsing, and what the container hands the use cases."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest

from neodyme_app.config import Settings, SettingsError
from neodyme_app.container import build_container
from neodyme_domain.throttling import LoginLimits, ThrottleLimits

SECRET = "s" * 32


def test_defaults_are_five_failures_in_15_minutes_and_lockouts_up_to_an_hour() -> None:
    settings = Settings.from_env({"NEODYME_SECRET_KEY": SECRET})

    assert settings.login_limits == LoginLimits(
        account=ThrottleLimits(5, timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=1)),
        address=ThrottleLimits(
            100, timedelta(minutes=15), timedelta(minutes=15), timedelta(hours=1)
        ),
    )
    assert settings.login_limits == LoginLimits()  # the domain's defaults agree
    assert settings.trusted_proxy_networks == ()


def test_limits_and_trusted_proxies_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "NEODYME_SECRET_KEY": SECRET,
            "NEODYME_LOGIN_MAX_FAILURES": "3",
            "NEODYME_LOGIN_WINDOW_SECONDS": "60",
            "NEODYME_LOGIN_LOCKOUT_SECONDS": "30",
            "NEODYME_LOGIN_MAX_LOCKOUT_SECONDS": "120",
            "NEODYME_ADDRESS_MAX_FAILURES": "40",
            "NEODYME_TRUSTED_PROXIES": " 10.0.0.1, 192.168.0.0/16 ,2001:db8::/32",
        }
    )

    limits = settings.login_limits
    assert limits.account == ThrottleLimits(
        3, timedelta(seconds=60), timedelta(seconds=30), timedelta(seconds=120)
    )
    assert limits.address.max_failures == 40
    assert settings.trusted_proxies == "10.0.0.1/32,192.168.0.0/16,2001:db8::/32"
    assert settings.trusted_proxy_networks == (
        ipaddress.ip_network("10.0.0.1/32"),
        ipaddress.ip_network("192.168.0.0/16"),
        ipaddress.ip_network("2001:db8::/32"),
    )


def test_the_container_wires_the_limits_and_proxies() -> None:
    container = build_container(
        Settings(
            database_url="memory://",
            secret_key=SECRET,
            login_max_failures=2,
            address_max_failures=7,
            trusted_proxies="10.0.0.0/8",
        )
    )

    assert container.authenticate_user()._limits.account.max_failures == 2
    assert container.authenticate_user()._limits.address.max_failures == 7
    assert container.request_password_reset()._limits.max_failures == 7
    assert container.trusted_proxies() == (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NEODYME_LOGIN_MAX_FAILURES", "0"),
        ("NEODYME_LOGIN_WINDOW_SECONDS", "-5"),
        ("NEODYME_ADDRESS_MAX_FAILURES", "many"),
        ("NEODYME_TRUSTED_PROXIES", "10.0.0.1, proxy.internal"),
        ("NEODYME_TRUSTED_PROXIES", "10.0.0.0/33"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"NEODYME_SECRET_KEY": SECRET, variable: value})

    assert variable in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_first_lockout_longer_than_the_longest_is_refused() -> None:
    env = {
        "NEODYME_SECRET_KEY": SECRET,
        "NEODYME_LOGIN_LOCKOUT_SECONDS": "7200",
    }

    with pytest.raises(SettingsError, match="NEODYME_LOGIN_MAX_LOCKOUT_SECONDS"):
        Settings.from_env(env)
