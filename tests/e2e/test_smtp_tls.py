"""The production mail path: the real server sends over STARTTLS (the default) and over
implicit TLS to a mail server whose certificate only NEODYME_SMTP_CA_FILE makes trusted,
with a login, and the e-mail arrives encrypted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.faults import Rig, address, api_of
from tests.support.certificates import PrivateCa

LOGIN = ("neodyme-tls", "tls-smtp-Password-1")


@pytest.mark.parametrize(("tls", "implicit"), [("starttls", False), ("tls", True)])
async def test_a_welcome_email_goes_out_over_tls_to_a_server_trusted_through_the_ca_file(
    tmp_path: Path, tls: str, implicit: bool
) -> None:
    ca = PrivateCa()
    with Rig(tmp_path) as rig:
        url = rig.database(f"smtp{tls}")
        sink = rig.smtp(tls_context=ca.server_context(), implicit_tls=implicit, auth=LOGIN)
        env = rig.env(
            url,
            sink.port,
            smtp_tls=tls,
            smtp_ca_file=str(ca.write_ca(tmp_path)),
            smtp_username=LOGIN[0],
            smtp_password=LOGIN[1],
        )
        server = rig.server(env)
        async with api_of(server) as api:
            email = address(tls)
            await api.signed_up(email)

            await sink.wait_for(lambda m: m["To"] == email, timeout=15)

        [received] = sink.received
        assert received.tls, "the message came over TLS"
        assert received.login == LOGIN[0]
        assert received.message["X-Neodyme-Kind"] == "welcome"
