"""The patterns of the OpenAPI document accept nothing the domain refuses (a client that
follows the document is never told 422), and mean the same in Python (msgspec, which
enforces them) and Rust (schemathesis, which checks requests and responses with them)."""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterator

import jsonschema_rs
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neodyme_app.http import schemas
from neodyme_app.http.schemas import EMAIL_PATTERN, FULL_NAME_PATTERN, RegisterBody
from neodyme_domain.errors import ValidationFailed
from neodyme_domain.model import MAX_EMAIL_LENGTH, MAX_FULL_NAME_LENGTH, Email, parse_full_name

JOINERS = {"\u200c", "\u200d"}


def every_character() -> Iterator[str]:
    return map(chr, range(sys.maxunicode + 1))


def refused_in_names() -> list[str]:
    """What ``parse_full_name`` calls control characters, in this Python's Unicode."""
    categories = {"Cc", "Cf", "Zl", "Zp"}
    return [
        ch
        for ch in every_character()
        if unicodedata.category(ch) in categories and ch not in JOINERS
    ]


def matches(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


def test_the_space_class_is_what_strip_removes() -> None:
    spaces = re.compile(f"[{schemas._SPACE}]")
    everything = "".join(every_character())  # one search through it, not a million matches
    assert spaces.findall(everything) == [ch for ch in everything if ch.isspace()]


def test_no_name_with_a_character_the_domain_refuses_matches() -> None:
    refused = refused_in_names()
    assert [f"U+{ord(ch):04X}" for ch in refused if matches(FULL_NAME_PATTERN, f"A{ch}b")] == []
    for ch in refused[:: len(refused) // 10]:
        with pytest.raises(ValidationFailed):
            parse_full_name(f"A{ch}b")
    assert all(matches(FULL_NAME_PATTERN, f"A{ch}b") for ch in JOINERS)


@pytest.mark.parametrize(
    "name",
    [
        "Ada",
        "  Ada Lovelace  ",
        "Zoë",
        "名前",
        "\u200c\u0632\u0647\u0631\u0627\u200d",
        "\tTabbed\n",
        "x" * 200,
        "🙂",
    ],
)
def test_names_the_domain_takes_match(name: str) -> None:
    assert matches(FULL_NAME_PATTERN, name)
    parse_full_name(name)


@pytest.mark.parametrize("name", ["", "   ", "\n", "Bad\r\nBcc: x@y.z", "Nul\x00", "a\u202eb"])
def test_names_the_domain_refuses_do_not_match(name: str) -> None:
    assert not matches(FULL_NAME_PATTERN, name)
    with pytest.raises(ValidationFailed):
        parse_full_name(name)


@pytest.mark.parametrize(
    "email",
    [
        "ada@example.com",
        "  Ada.Lovelace+tag@Sub.Example.COM \n",
        "o'brien!#$%&*/=?^_`{|}~-@x-y.example",
        "a@b.c1",
        f"{'x' * 64}@example.com",
        f"a@{'b' * 63}.com",
    ],
)
def test_addresses_the_domain_takes_match(email: str) -> None:
    assert matches(EMAIL_PATTERN, email)
    Email.parse(email)


@pytest.mark.parametrize(
    "email",
    [
        "not-an-email",
        "a@localhost",
        "a@b.123",
        ".a@b.co",
        "a.@b.co",
        "a..b@b.co",
        "a@-b.co",
        "a@b-.co",
        f"{'x' * 65}@example.com",
        f"a@{'b' * 64}.com",
        "a b@c.de",
        "a@b.co\x00",
    ],
)
def test_addresses_the_domain_refuses_do_not_match(email: str) -> None:
    assert not matches(EMAIL_PATTERN, email)
    with pytest.raises(ValidationFailed):
        Email.parse(email)


@settings(max_examples=100, deadline=None)
@given(st.from_regex(FULL_NAME_PATTERN).filter(lambda s: len(s) <= MAX_FULL_NAME_LENGTH))
def test_every_name_the_document_allows_is_taken(name: str) -> None:
    parse_full_name(name)


@settings(max_examples=100, deadline=None)
@given(st.from_regex(EMAIL_PATTERN).filter(lambda s: len(s) <= MAX_EMAIL_LENGTH))
def test_every_address_the_document_allows_is_taken(email: str) -> None:
    Email.parse(email)


RUST_VALIDATORS = {
    pattern: jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    for pattern in (EMAIL_PATTERN, FULL_NAME_PATTERN)
}


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(st.from_regex(EMAIL_PATTERN), st.text(), st.from_regex(FULL_NAME_PATTERN)),
)
def test_python_and_rust_agree(text: str) -> None:
    for pattern, rust in RUST_VALIDATORS.items():
        assert rust.is_valid(text) == matches(pattern, text), (pattern, text)


def test_msgspec_enforces_the_patterns() -> None:
    def register(email: str, name: str) -> RegisterBody:
        body = {"email": email, "full_name": name, "password": "x"}
        return msgspec.json.decode(msgspec.json.encode(body), type=RegisterBody)

    register("ada@example.com", "Ada")
    with pytest.raises(msgspec.ValidationError, match="email"):
        register("ada", "Ada")
    with pytest.raises(msgspec.ValidationError, match="full_name"):
        register("ada@example.com", "Ada\x00")
