"""The TOTP adapters: secrets sealed with rotation (Fernet), QR codes a browser opens,
and the setting that names the keys."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest
from cryptography.fernet import Fernet

from neodyme_adapters.fernet_box import FernetSecretBox, derived_key, new_key
from neodyme_adapters.qr_svg import SegnoQrCodes
from neodyme_app.config import Settings, SettingsError
from neodyme_domain.errors import SecretUnreadable

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_a_sealed_secret_opens_and_does_not_show() -> None:
    box = FernetSecretBox([Fernet.generate_key()])

    sealed = box.seal(SECRET)

    assert SECRET not in sealed
    assert box.seal(SECRET) != sealed  # a fresh IV each time
    assert box.open(sealed) == SECRET


def test_the_first_key_seals_every_key_opens_and_reseal_moves_to_the_first() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    sealed_by_old = FernetSecretBox([old]).seal(SECRET)
    rotating = FernetSecretBox([new, old])

    assert rotating.open(sealed_by_old) == SECRET
    resealed = rotating.reseal(sealed_by_old)
    assert FernetSecretBox([new]).open(resealed) == SECRET
    assert FernetSecretBox([new]).open(rotating.seal(SECRET)) == SECRET
    unreadable = r"^no configured encryption key opens this secret$"
    with pytest.raises(SecretUnreadable, match=unreadable):
        FernetSecretBox([new]).open(sealed_by_old)
    with pytest.raises(SecretUnreadable, match=unreadable):
        FernetSecretBox([new]).reseal(sealed_by_old)


def test_the_derived_key_is_a_fernet_key_of_the_secret_key_alone() -> None:
    first, again = derived_key("secret-one" * 4), derived_key("secret-one" * 4)
    other = derived_key("secret-two" * 4)

    assert first == again != other
    assert FernetSecretBox([first]).open(FernetSecretBox([again]).seal(SECRET)) == SECRET
    with pytest.raises(ValueError, match=r"^at least one key is needed$"):
        FernetSecretBox([])


def test_the_derived_key_of_a_secret_key_never_changes() -> None:
    """Secrets sealed under ``derived`` by an earlier version must stay readable: the
    derivation (HKDF-SHA-256, no salt, neodyme's info string) is fixed once and for all."""
    derived = derived_key("neodyme-known-answer-secret-key-0123456789")

    assert derived == b"I4djOLITNJzzkS1bQv23KuUUaKkKukQ-AHVxDHcBlgY="


def test_the_qr_code_is_an_svg_document() -> None:
    svg = SegnoQrCodes().svg("otpauth://totp/neodyme:ada%40example.com?secret=" + SECRET)

    root = ElementTree.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert int(root.attrib["width"]) > 100


def settings_with(keys: str) -> Settings:
    return Settings.from_env({"NEODYME_SECRET_KEY": "k" * 40, "NEODYME_ENCRYPTION_KEYS": keys})


def test_the_encryption_keys_are_fernet_keys_or_derived() -> None:
    key = new_key()

    assert settings_with(f" {key} , derived ").encryption_keys == f"{key},derived"
    assert Settings.from_env({"NEODYME_SECRET_KEY": "k" * 40}).encryption_keys == "derived"
    for bad in ("", ",", "not-a-key", key[:-4], "derived,short"):
        with pytest.raises(SettingsError) as refused:
            settings_with(bad)
        assert str(refused.value).startswith("NEODYME_ENCRYPTION_KEYS is not valid: ")
        assert key[:-4] not in str(refused.value)  # a key, even a broken one, is not shown
