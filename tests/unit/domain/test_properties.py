"""Properties of the domain, checked on generated inputs rather than chosen examples.

Property tests build their fakes inside the test body: a fresh database per example, so
one example can never see another's users.
"""

from __future__ import annotations

import string
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS, Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import (
    BOOK_POLICY,
    Email,
    InvalidCredentials,
    User,
    ValidationFailed,
    WeakPassword,
)
from neodyme_domain.model import parse_full_name
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    RegisterCommand,
    RegisterUser,
)

SECRET = "neodyme-property-tests-signing-secret-0123456789"
USE_CASE_EXAMPLES = settings(max_examples=40, deadline=None)

# --- strategies ----------------------------------------------------------------------------


@st.composite
def case_variants(draw: st.DrawFn, text: str) -> str:
    """``text`` with the case of any subset of its characters swapped."""
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(ch.swapcase() if flip else ch for ch, flip in zip(text, flips, strict=True))


@st.composite
def emails_with_variant(draw: st.DrawFn) -> tuple[str, str]:
    """An address, and the same address in other case with surrounding blanks."""
    address = draw(st.emails())
    padding = st.sampled_from(["", " ", "  ", "\t", "\n", " \r\n "])
    return address, draw(padding) + draw(case_variants(address)) + draw(padding)


def _kind(ch: str) -> str:
    """The policy's classification of one character, as the spec words it: a lower-case
    letter, an upper-case letter, a digit, or none of these (a special character)."""
    if ch.islower():
        return "lowercase"
    if ch.isupper():
        return "uppercase"
    if ch.isdigit():
        return "digit"
    return "special"


def expected_unmet(password: str) -> list[str]:
    """An oracle written from api.md, independently of passwords.py. The rules apply to
    the password's NFKC form, the form it is hashed and compared in: ``¼`` counts as a
    digit, a fraction slash (special) and a digit; ``e`` with a combining accent, as one
    lower-case letter. The minimum length holds for the password as sent too (the API's
    ``minLength``)."""
    normal = unicodedata.normalize("NFKC", password)
    present = {_kind(ch) for ch in normal}
    unmet = [] if min(len(password), len(normal)) >= 8 else ["min_length"]
    return unmet + [k for k in ("lowercase", "uppercase", "digit", "special") if k not in present]


@st.composite
def valid_passwords(draw: st.DrawFn) -> str:
    """A password meeting every rule of the book's policy, drawn from all of Unicode."""
    required = [
        draw(st.characters(categories=("Ll",))),
        draw(st.characters(categories=("Lu",))),
        draw(st.characters(categories=("Nd",))),
        draw(
            st.one_of(
                st.sampled_from(string.punctuation + " "),
                st.characters(exclude_categories=("Cs",)).filter(lambda ch: _kind(ch) == "special"),
            )
        ),
    ]
    # No lone surrogates: they have no UTF-8 form, and the domain refuses them (422).
    filler = draw(st.text(st.characters(exclude_categories=("Cs",)), min_size=4, max_size=30))
    password = "".join(draw(st.permutations([*required, *filler])))
    # Rarely, normalisation takes a required kind away (a combining accent as the special
    # character composes with a letter; a circled digit as the special becomes a digit).
    assume(expected_unmet(password) == [])
    return password


PASSWORD_CANDIDATES = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " ", max_size=40),
    valid_passwords(),
)

FORBIDDEN_IN_NAMES = ("Cc", "Cf", "Cs", "Zl", "Zp")
FULL_NAMES = st.text(
    st.characters(exclude_categories=FORBIDDEN_IN_NAMES), min_size=1, max_size=200
).filter(lambda name: name.strip() != "")


# --- e-mail --------------------------------------------------------------------------------


@given(st.emails())
def test_email_normalisation_is_idempotent_and_lower_cases_only_the_domain(raw: str) -> None:
    once = Email.parse(raw)
    twice = Email.parse(str(once))

    assert twice == once
    assert twice.value == once.value
    local, _, domain = raw.rpartition("@")
    assert once.value == f"{local}@{domain.lower()}"


@given(emails_with_variant())
def test_email_is_case_and_blank_insensitive(pair: tuple[str, str]) -> None:
    address, variant = pair
    original, other = Email.parse(address), Email.parse(variant)

    assert other == original
    assert other.key == original.key
    assert hash(other) == hash(original)
    assert other.value.rpartition("@")[2] == original.value.rpartition("@")[2]


# --- password policy -----------------------------------------------------------------------


def policy_refusal(password: str) -> WeakPassword | None:
    try:
        BOOK_POLICY.check(password)
    except WeakPassword as error:
        return error
    return None


@given(PASSWORD_CANDIDATES)
def test_password_policy_accepts_exactly_the_passwords_meeting_every_rule(password: str) -> None:
    expected = expected_unmet(password)

    refusal = policy_refusal(password)

    if expected:
        assert refusal is not None, f"{password!r} was accepted, but {expected} are unmet"
        assert refusal.details["unmet"] == expected
        assert "requirements not met" in refusal.message
    else:
        assert refusal is None, f"{password!r} meets every rule but was refused"


@settings(max_examples=50)
@given(valid_passwords())
def test_generated_valid_passwords_pass_the_policy(password: str) -> None:
    BOOK_POLICY.check(password)


@given(st.text(min_size=1, max_size=10), st.integers(min_value=1025, max_value=1500))
def test_any_password_over_1024_characters_is_a_validation_error(unit: str, length: int) -> None:
    password = (unit * (length // len(unit) + 1))[:length]

    with pytest.raises(ValidationFailed) as raised:
        BOOK_POLICY.check(password)

    assert raised.value.field == "password"


# --- full name -----------------------------------------------------------------------------


@given(FULL_NAMES)
def test_full_name_parsing_trims_and_is_idempotent(raw: str) -> None:
    name = parse_full_name(raw)

    assert name == raw.strip()
    assert parse_full_name(name) == name


@given(
    st.text(max_size=20),
    # The zero-width (non-)joiners are format characters that real names need: allowed.
    st.characters(categories=("Cc", "Cf", "Zl", "Zp"), exclude_characters="\u200c\u200d"),
    st.text(max_size=20),
)
def test_full_name_with_any_control_character_is_refused(
    before: str, control: str, after: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_full_name("x" + before + control + after + "x")

    assert raised.value.field == "full_name"


# --- tokens --------------------------------------------------------------------------------


@given(
    st.uuids(version=4),
    st.booleans(),
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.just(UTC),
    ),
)
def test_an_access_token_round_trips_its_user_and_permissions(
    user_id: uuid.UUID, superuser: bool, issued_at: datetime
) -> None:
    clock = ManualClock(issued_at)
    tokens = JwtTokenService(secret=SECRET, clock=clock)
    user = User.register(
        email=Email.parse("someone@example.com"),
        full_name="Someone",
        hashed_password="$argon2id$",
        now=issued_at,
        is_superuser=superuser,
    )
    user.id = user_id

    claims = tokens.decode_access(tokens.issue_access(user, clock.now(), "session-1"))

    assert claims.user_id == user_id
    assert claims.permissions == user.permissions
    assert claims.expires_at == datetime.fromtimestamp(
        int((issued_at + tokens.access_ttl).timestamp()), UTC
    )


# --- register, then authenticate -----------------------------------------------------------


@USE_CASE_EXAMPLES
@given(
    email=st.emails(),
    full_name=FULL_NAMES,
    password=valid_passwords(),
    other=st.text(max_size=40),
)
async def test_register_then_authenticate_succeeds_for_any_valid_input_and_no_other_password(
    email: str, full_name: str, password: str, other: str
) -> None:
    assume(unicodedata.normalize("NFKC", other) != unicodedata.normalize("NFKC", password))
    clock = ManualClock(datetime.now(UTC))
    database = MemoryDatabase()
    hasher = Argon2Hasher(CHEAP_PARAMETERS, max_concurrency=1)
    tokens = JwtTokenService(secret=SECRET, clock=clock)
    register = RegisterUser(
        uow=InMemoryUnitOfWork(database),
        hasher=hasher,
        policy=BOOK_POLICY,
        tokens=tokens,
        clock=clock,
    )
    authenticate = AuthenticateUser(
        uow=InMemoryUnitOfWork(database), hasher=hasher, tokens=tokens, clock=clock
    )
    try:
        registered = await register(RegisterCommand(email, full_name, password))
        clock.advance(timedelta(seconds=1))

        logged_in = await authenticate(AuthenticateCommand(email.swapcase(), password))

        assert logged_in.user.id == registered.user.id
        assert registered.user.full_name == full_name.strip()
        assert tokens.decode_access(logged_in.tokens.access_token).user_id == registered.user.id
        with pytest.raises(InvalidCredentials) as raised:
            await authenticate(AuthenticateCommand(email, other))
        assert raised.value.context["reason"] == "invalid_password"
    finally:
        hasher.close()
