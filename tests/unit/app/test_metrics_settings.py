"""The metrics settings: NEODYME_METRICS on by default, NEODYME_METRICS_PORT a TCP port
(empty or 0: none) that cannot be the API's own."""

from __future__ import annotations

import pytest

from neodyme_app.cli import EXIT_BAD_SETTINGS, main
from neodyme_app.config import Settings, SettingsError

ANY = {"NEODYME_SECRET_KEY": "s" * 48}


def test_metrics_are_on_and_on_the_api_port_by_default() -> None:
    settings = Settings.from_env(ANY)

    assert (settings.metrics, settings.metrics_port) == (True, None)


@pytest.mark.parametrize(("raw", "port"), [("9464", 9464), ("0", None), ("", None)])
def test_a_metrics_port_is_read(raw: str, port: int | None) -> None:
    settings = Settings.from_env(ANY | {"NEODYME_METRICS_PORT": raw})

    assert settings.metrics_port == port


def test_a_metrics_port_that_is_no_port_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^NEODYME_METRICS_PORT='70000' is not valid: must"):
        Settings.from_env(ANY | {"NEODYME_METRICS_PORT": "70000"})


def test_serve_refuses_a_metrics_port_that_is_the_api_port(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = ANY | {"NEODYME_METRICS_PORT": "8123"}

    assert main(["serve", "--port", "8123"], environ=env) == EXIT_BAD_SETTINGS
    assert capsys.readouterr().err == "neodyme: NEODYME_METRICS_PORT is the API port 8123\n"
