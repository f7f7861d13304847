"""Password policy profiles (book, nist, blocklists) and how passwords are compared:
in their NFKC form, and never truncated."""

from __future__ import annotations

import pytest

from neodyme_adapters.argon2_hasher import Argon2Hasher
from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_adapters.memory import InMemoryUnitOfWork, MemoryDatabase
from neodyme_domain import BOOK_POLICY, ValidationFailed, WeakPassword
from neodyme_domain.passwords import (
    BOOK_MIN_LENGTH,
    PolicyProfile,
    RuleBasedPolicy,
    build_policy,
    min_length,
    normalise,
    shortest_password,
)
from neodyme_domain.use_cases import (
    AuthenticateCommand,
    AuthenticateUser,
    RegisterCommand,
    RegisterUser,
)

BLOCKLIST = frozenset({"correcthorsebatterystaple", "password123!", "iloveyou12345678"})
"""Lower-cased, as ``build_policy`` expects (the real list comes case-folded)."""


def refusal(policy: RuleBasedPolicy, password: str) -> WeakPassword | None:
    try:
        policy.check(password)
    except WeakPassword as error:
        return error
    return None


def unmet(policy: RuleBasedPolicy, password: str) -> list[str]:
    """The rules ``password`` fails under ``policy``, in the policy's order."""
    error = refusal(policy, password)
    if error is None:
        return []
    assert error.code == "WEAK_PASSWORD"
    assert "requirements not met" in error.message
    assert error.details == {"unmet": list(error.unmet)}
    return list(error.unmet)


# --- profiles ------------------------------------------------------------------------------


def test_the_book_profile_without_a_blocklist_is_the_books_policy() -> None:
    policy = build_policy(PolicyProfile.BOOK)

    assert policy == BOOK_POLICY
    assert unmet(policy, "Password123!") == []
    assert unmet(policy, "Password123") == ["special"]


@pytest.mark.parametrize("profile", ["book", "nist"])
def test_profiles_are_named_in_configuration_by_their_value(profile: str) -> None:
    assert PolicyProfile(profile).value == profile


@pytest.mark.parametrize(
    ("profile", "shortest"), [(PolicyProfile.BOOK, 8), (PolicyProfile.NIST, 15)]
)
def test_the_shortest_password_a_client_is_told_is_where_the_policy_starts_accepting(
    profile: PolicyProfile, shortest: int
) -> None:
    policy = build_policy(profile, BLOCKLIST)
    fitting = "Aa1!" + "x" * (shortest - 4)  # every composition rule met: only length counts

    assert shortest_password(profile) == shortest
    assert unmet(policy, fitting) == []
    assert unmet(policy, fitting[:-1]) == ["min_length"]


def test_the_nist_profile_needs_a_blocklist() -> None:
    with pytest.raises(
        ValueError, match=r"^the nist profile needs a blocklist of common passwords$"
    ):
        build_policy(PolicyProfile.NIST)


@pytest.mark.parametrize("length", [1, 12, 64])
def test_a_minimum_length_rule_counts_characters_and_holds_from_that_many(length: int) -> None:
    policy = RuleBasedPolicy((min_length(length),))

    assert unmet(policy, "\u00e9" * length) == []
    assert unmet(policy, "x" * (length + 1)) == []
    assert unmet(policy, "\u00e9" * (length - 1)) == ["min_length"]


def test_the_nist_profile_accepts_an_empty_blocklist() -> None:
    policy = build_policy(PolicyProfile.NIST, frozenset())

    assert unmet(policy, "fifteen chars!!") == []


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaaaaaaa",  # 15 characters, one class
        "all lower case passphrase",
        "123456789012345",
        "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
    ],
)
def test_nist_accepts_15_characters_without_any_composition_rule(password: str) -> None:
    assert unmet(build_policy(PolicyProfile.NIST, BLOCKLIST), password) == []


@pytest.mark.parametrize("password", ["", "Sh0rt!", "Secure#Pass123", "aaaaaaaaaaaaaa"])
def test_nist_refuses_anything_under_15_characters_however_composed(password: str) -> None:
    assert unmet(build_policy(PolicyProfile.NIST, BLOCKLIST), password) == ["min_length"]


@pytest.mark.parametrize(
    "password",
    ["correcthorsebatterystaple", "CorrectHorseBatteryStaple", "CORRECTHORSEBATTERYSTAPLE"],
)
def test_a_blocklisted_password_is_refused_whatever_its_case(password: str) -> None:
    policy = build_policy(PolicyProfile.NIST, BLOCKLIST)

    with pytest.raises(WeakPassword) as raised:
        policy.check(password)

    assert raised.value.unmet == ("common_password",)
    assert raised.value.details == {"unmet": ["common_password"]}
    assert "common_password" in raised.value.message


def test_a_blocklisted_password_typed_in_full_width_letters_is_refused() -> None:
    # NFKC folds full-width forms to ASCII before the list is consulted.
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in "correcthorsebatterystaple")

    assert unmet(build_policy(PolicyProfile.NIST, BLOCKLIST), full_width) == ["common_password"]


def test_a_short_blocklisted_password_names_both_rules() -> None:
    policy = build_policy(PolicyProfile.NIST, frozenset({"letmein"}))

    assert unmet(policy, "LetMeIn") == ["min_length", "common_password"]


def test_book_with_a_blocklist_keeps_the_books_rules_and_adds_the_list() -> None:
    policy = build_policy(PolicyProfile.BOOK, BLOCKLIST)

    assert unmet(policy, "SecurePassword123!") == []
    assert unmet(policy, "Password123!") == ["common_password"]
    assert unmet(policy, "PASSWORD123!") == ["lowercase", "common_password"]
    assert unmet(policy, "correcthorsebatterystaple") == [
        "uppercase",
        "digit",
        "special",
        "common_password",
    ]
    assert unmet(policy, "pass") == ["min_length", "uppercase", "digit", "special"]


@pytest.mark.parametrize("profile", list(PolicyProfile))
def test_every_profile_refuses_over_1024_characters_as_a_validation_error(
    profile: PolicyProfile,
) -> None:
    policy = build_policy(profile, BLOCKLIST)

    policy.check("Aa1!" * 256)  # exactly 1024: fine
    with pytest.raises(ValidationFailed) as raised:
        policy.check("Aa1!" * 256 + "x")

    assert raised.value.field == "password"


async def test_registration_under_the_nist_profile_follows_it(
    database: MemoryDatabase, hasher: Argon2Hasher, tokens: JwtTokenService, clock: ManualClock
) -> None:
    # The use case takes whatever policy it is given: the profile is configuration.
    nist = RegisterUser(
        uow=InMemoryUnitOfWork(database),
        hasher=hasher,
        policy=build_policy(PolicyProfile.NIST, BLOCKLIST),
        tokens=tokens,
        clock=clock,
    )

    with pytest.raises(WeakPassword) as raised:
        await nist(RegisterCommand("nina@example.com", "Nina", "CorrectHorseBatteryStaple"))
    assert raised.value.unmet == ("common_password",)
    registered = await nist(RegisterCommand("nina@example.com", "Nina", "just lowercase words"))
    assert registered.user.email.value == "nina@example.com"


# --- normalisation -------------------------------------------------------------------------


def test_normalise_composes_accents_and_folds_compatibility_forms() -> None:
    assert normalise("Cafe\u0301") == "Caf\u00e9"
    assert normalise("\uff11\uff12\uff13") == "123"
    assert normalise("\ufb01le") == "file"  # the "fi" ligature
    assert normalise("plain ASCII!") == "plain ASCII!"


async def test_a_decomposed_accent_verifies_against_the_hash_of_the_composed_form(
    hasher: Argon2Hasher,
) -> None:
    hashed = await hasher.hash("Caf\u00e9Cr\u00e8me2024!")

    assert await hasher.verify(hashed, "Cafe\u0301Cre\u0300me2024!")


async def test_a_composed_accent_verifies_against_the_hash_of_the_decomposed_form(
    hasher: Argon2Hasher,
) -> None:
    hashed = await hasher.hash("Cafe\u0301Cre\u0300me2024!")

    assert await hasher.verify(hashed, "Caf\u00e9Cr\u00e8me2024!")


async def test_full_width_digits_verify_against_the_hash_of_ascii_digits(
    hasher: Argon2Hasher,
) -> None:
    hashed = await hasher.hash("Secret2024!")

    assert await hasher.verify(hashed, "Secret\uff12\uff10\uff12\uff14!")


async def test_normalisation_does_not_make_different_passwords_equal(
    hasher: Argon2Hasher,
) -> None:
    hashed = await hasher.hash("Caf\u00e9Cr\u00e8me2024!")

    assert not await hasher.verify(hashed, "CafeCreme2024!")
    assert not await hasher.verify(hashed, "caf\u00e9cr\u00e8me2024!")


async def test_passwords_are_never_truncated(hasher: Argon2Hasher) -> None:
    long = "Aa1!" * 255 + "abcd"
    assert len(long) == 1024
    changed_last = long[:-1] + "e"
    changed_first = "B" + long[1:]

    hashed = await hasher.hash(long)

    assert await hasher.verify(hashed, long)
    assert not await hasher.verify(hashed, changed_last)
    assert not await hasher.verify(hashed, changed_first)
    assert not await hasher.verify(await hasher.hash(changed_last), long)


async def test_bcrypts_72_byte_limit_does_not_apply(hasher: Argon2Hasher) -> None:
    prefix = "x" * 72
    hashed = await hasher.hash(prefix + "-one")

    assert not await hasher.verify(hashed, prefix + "-two")


async def test_a_user_registered_with_a_composed_accent_logs_in_with_a_decomposed_one(
    register_user: RegisterUser, authenticate_user: AuthenticateUser
) -> None:
    registered = await register_user(
        RegisterCommand("zoe@example.com", "Zo\u00eb", "Z\u00f6e-Passw\u00f6rd-1")
    )

    result = await authenticate_user(
        AuthenticateCommand("zoe@example.com", "Zo\u0308e-Passwo\u0308rd-1")
    )

    assert result.user.id == registered.user.id


@pytest.mark.parametrize(
    "password",
    [
        "Aa1!\u00bd\u00bd",  # 6 as typed; 10 in NFKC (each one-half sign is 3)
        "Aa1!e\u0301e\u0301",  # 8 as typed; 6 in NFKC (each accent composes with its e)
    ],
    ids=["longer in NFKC", "shorter in NFKC"],
)
def test_the_minimum_length_holds_for_the_password_as_typed_and_in_nfkc(password: str) -> None:
    """What the API documents (``minLength`` of what is sent) and what is hashed (the NFKC
    form) must both be long enough: the fuzzer found the first case accepted."""
    for policy in (BOOK_POLICY, RuleBasedPolicy((min_length(BOOK_MIN_LENGTH),))):
        with pytest.raises(WeakPassword) as refused:
            policy.check(password)
        assert refused.value.unmet == ("min_length",)
