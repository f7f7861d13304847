"""The invented people of neodyme_adapters.faker_people: every one is a valid registration
under the active policy (book, or NIST with the real blocklist), a stream is a function of
its seed, and a crowd has the spread of real sign-ups (scripts, punctuation, providers)."""

from __future__ import annotations

import unicodedata
from collections import Counter
from itertools import islice

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neodyme_adapters.common_passwords import common_passwords
from neodyme_adapters.faker_people import GLOBAL_PROVIDERS, FakerPeople
from neodyme_domain.model import Email, parse_full_name
from neodyme_domain.passwords import (
    BOOK_POLICY,
    PolicyProfile,
    Rule,
    RuleBasedPolicy,
    build_policy,
    min_length,
    normalise,
)
from neodyme_domain.ports import Person

NIST_POLICY = build_policy(PolicyProfile.NIST, common_passwords())
POLICIES = {"book": BOOK_POLICY, "nist": NIST_POLICY}
PEOPLE_PER_SEED = 150


def crowd(source: FakerPeople, seed: int, size: int) -> list[Person]:
    return list(islice(source.people(seed), size))


@pytest.mark.parametrize("profile", sorted(POLICIES))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**64 - 1))
def test_every_invented_person_is_a_valid_distinct_registration(profile: str, seed: int) -> None:
    policy = POLICIES[profile]
    people = crowd(FakerPeople(policy), seed, PEOPLE_PER_SEED)

    for person in people:
        assert parse_full_name(person.full_name) == person.full_name
        assert Email.parse(person.email).value == person.email  # already in normal form
        policy.check(person.password)
    assert len({Email.parse(person.email) for person in people}) == len(people)
    assert len({normalise(person.password) for person in people}) == len(people)


def test_a_stream_is_a_function_of_its_seed() -> None:
    source = FakerPeople(BOOK_POLICY)

    first = crowd(source, 42, 60)

    assert crowd(source, 42, 60) == first
    assert crowd(FakerPeople(BOOK_POLICY), 42, 60) == first
    assert crowd(source, 43, 60) != first
    assert len({person.full_name for person in first}) > 50


def test_interleaved_streams_do_not_disturb_each_other() -> None:
    # The Faker of a locale is shared by every stream of the process (loading one costs);
    # each person reseeds it from its own stream, so interleaving changes nothing.
    source = FakerPeople(BOOK_POLICY)
    alone = crowd(source, 7, 300)

    one, other = source.people(7), source.people(8)
    interleaved = []
    for _ in range(300):
        interleaved.append(next(one))
        next(other)

    assert interleaved == alone


def scripts(text: str) -> set[str]:
    """The first word of each letter's Unicode name: LATIN, CJK, HANGUL, ARABIC..."""
    return {unicodedata.name(ch).split()[0] for ch in text if ch.isalpha()}


@pytest.fixture(scope="module")
def thousands() -> list[Person]:
    return crowd(FakerPeople(BOOK_POLICY), 2024, 3000)


def test_names_come_in_many_scripts_with_accents_and_punctuation(thousands: list[Person]) -> None:
    names = [person.full_name for person in thousands]
    seen = Counter(script for name in names for script in scripts(name))

    for script in ("LATIN", "CJK", "HANGUL", "CYRILLIC", "DEVANAGARI", "ARABIC", "HEBREW"):
        assert seen[script] >= 20, (script, seen)
    assert sum(not name.isascii() and "LATIN" in scripts(name) for name in names) >= 100
    assert sum("'" in name for name in names) >= 15  # O'Brien, d'Artagnan
    assert sum("-" in name for name in names) >= 30  # Jean-Luc, Smith-Jones
    assert any(name.startswith(("d'", "D'")) or " d'" in name or " D'" in name for name in names)


def test_addresses_have_the_shapes_people_type(thousands: list[Person]) -> None:
    locals_ = [person.email.rpartition("@")[0] for person in thousands]

    assert sum("." in local for local in locals_) > len(locals_) / 3
    assert sum("+" in local for local in locals_) >= 100  # plus-tags: about 7%
    mixed = [local for local in locals_ if local != local.lower() and local != local.upper()]
    assert len(mixed) >= 200  # Jean.Dupont: about 15%
    assert any(ch.isdigit() for local in locals_ for ch in local)


def test_a_few_providers_dominate_and_a_long_tail_follows(thousands: list[Person]) -> None:
    domains = Counter(person.email.rpartition("@")[2] for person in thousands)
    share = {domain: count / len(thousands) for domain, count in domains.items()}

    assert domains.most_common(1)[0][0] == "gmail.com"
    assert 0.35 < share["gmail.com"] < 0.52
    assert 0.62 < sum(share.get(domain, 0) for domain in GLOBAL_PROVIDERS) < 0.82
    assert set(GLOBAL_PROVIDERS) <= set(domains)
    assert sum(1 for count in domains.values() if count == 1) >= 150  # company domains


def test_passwords_are_of_several_kinds(thousands: list[Person]) -> None:
    passwords = [person.password for person in thousands]

    assert sum(not password.isascii() for password in passwords) >= 30  # passphrases
    assert sum(len(password) < 12 for password in passwords) >= 100  # memorable ones
    assert sum(len(password) >= 20 for password in passwords) >= 300


def test_memorable_passwords_too_short_for_nist_are_drawn_again() -> None:
    people = crowd(FakerPeople(NIST_POLICY), 2024, 500)

    assert min(len(normalise(person.password)) for person in people) >= 15


def test_a_stricter_policy_still_gets_passwords() -> None:
    policy = RuleBasedPolicy((min_length(60),))

    people = crowd(FakerPeople(policy), 1, 20)

    assert all(len(person.password) >= 60 for person in people)


def test_a_policy_that_refuses_everything_is_an_error_not_a_hang() -> None:
    never = RuleBasedPolicy((Rule("never", lambda password: False),))

    with pytest.raises(RuntimeError, match="refused every password"):
        next(FakerPeople(never).people(1))


def test_the_locales_can_be_narrowed() -> None:
    people = crowd(FakerPeople(BOOK_POLICY, locales={"ja_JP": 1}), 5, 30)

    assert all(scripts(person.full_name) <= {"CJK", "HIRAGANA", "KATAKANA"} for person in people)
