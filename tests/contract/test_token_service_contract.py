"""The TokenService port on the PyJWT adapter: what it issues it accepts, until it expires;
anything else (other type, key, issuer, audience, algorithm, missing claim, a single
changed character) is InvalidToken and never another exception.

The clock starts in 2030, ahead of the wall clock, on purpose: expiry and issue time must be
judged by the injected clock, not by the machine's.
"""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neodyme_adapters.clock import ManualClock
from neodyme_adapters.jwt_tokens import JwtTokenService
from neodyme_domain.errors import InvalidToken, ValidationFailed
from neodyme_domain.model import Email, User, parse_full_name
from neodyme_domain.tokens.model import AccessClaims, RefreshClaims

SECRET = "contract-test-secret-" + "0123456789abcdef" * 4  # >= 64 bytes: fine for HS512 too
START = datetime(2030, 1, 1, 12, 0, 0, 250_000, tzinfo=UTC)
SID = "session-1"
REQUIRED = ("exp", "iat", "sub", "jti", "type", "iss", "aud")
BASE64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
"""The base64url alphabet, in order: a character's index is the 6 bits it stands for."""


def service(clock: ManualClock | None = None, **overrides: Any) -> JwtTokenService:
    return JwtTokenService(secret=SECRET, clock=clock or ManualClock(START), **overrides)


def user(clock: ManualClock | None = None, *, superuser: bool = False) -> User:
    return User.register(
        email=Email.parse("ada@example.com"),
        full_name="Ada Lovelace",
        hashed_password="x",
        now=(clock or ManualClock(START)).now(),
        is_superuser=superuser,
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def access_payload(account: User, now: datetime, **changes: Any) -> dict[str, Any]:
    issued = int(now.timestamp())
    payload: dict[str, Any] = {
        "sub": str(account.id),
        "type": "access",
        "jti": "token-1",
        "permissions": list(account.permissions),
        "ver": account.token_version,
        "sid": SID,
        "iss": "neodyme",
        "aud": "neodyme-api",
        "iat": issued,
        "exp": issued + 900,
    }
    payload.update(changes)
    return payload


def refresh_payload(account: User, now: datetime, **changes: Any) -> dict[str, Any]:
    payload = access_payload(account, now, type="refresh", fam="family-1")
    del payload["permissions"], payload["ver"], payload["sid"]
    payload.update(changes)
    return payload


def forge(payload: dict[str, Any], *, algorithm: str = "HS256", key: str = SECRET) -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


# Round trips


@pytest.mark.parametrize("superuser", [False, True], ids=["user", "superuser"])
def test_access_token_round_trips(superuser: bool) -> None:
    clock = ManualClock(START)
    tokens = service(clock)
    account = user(clock, superuser=superuser)

    token = tokens.issue_access(account, clock.now(), SID)
    claims = tokens.decode_access(token)

    assert claims.user_id == account.id
    assert claims.permissions == account.permissions
    assert claims.token_id
    assert claims.session_id == SID
    assert claims.expires_at == datetime.fromtimestamp(
        int((clock.now() + tokens.access_ttl).timestamp()), UTC
    )


def test_permissions_of_a_user_and_of_a_superuser() -> None:
    tokens = service()

    plain = tokens.decode_access(tokens.issue_access(user(), START, SID))
    admin = tokens.decode_access(tokens.issue_access(user(superuser=True), START, SID))

    assert plain.permissions == ("users:read:self", "users:write:self")
    assert set(admin.permissions) == {
        "users:read:self",
        "users:write:self",
        "users:read:any",
        "users:write:any",
    }


def test_access_token_carries_the_documented_claims() -> None:
    account = user()
    token = service().issue_access(account, START, SID)

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})

    assert header["alg"] == "HS256"
    assert claims["sub"] == str(account.id)
    assert claims["type"] == "access"
    assert claims["sid"] == SID
    assert claims["iss"] == "neodyme"
    assert claims["aud"] == "neodyme-api"
    assert claims["iat"] == int(START.timestamp())
    assert claims["exp"] == int((START + timedelta(minutes=15)).timestamp())
    assert set(REQUIRED) <= set(claims)


def test_each_access_token_has_its_own_id() -> None:
    tokens = service()
    account = user()

    first = tokens.decode_access(tokens.issue_access(account, START, SID))
    second = tokens.decode_access(tokens.issue_access(account, START, SID))

    assert first.token_id != second.token_id


def test_refresh_token_round_trips() -> None:
    clock = ManualClock(START)
    tokens = service(clock)
    account = user(clock)
    expires = clock.now() + tokens.refresh_ttl

    token = tokens.issue_refresh(account.id, "family-7", "token-42", clock.now(), expires)

    assert tokens.decode_refresh(token) == RefreshClaims(
        user_id=account.id,
        family_id="family-7",
        token_id="token-42",
        expires_at=datetime.fromtimestamp(int(expires.timestamp()), UTC),
    )


def test_default_lifetimes_are_fifteen_minutes_and_thirty_days() -> None:
    tokens = service()

    assert tokens.access_ttl == timedelta(minutes=15)
    assert tokens.refresh_ttl == timedelta(days=30)


# Type confusion


def test_an_access_token_is_not_a_refresh_token() -> None:
    tokens = service()

    with pytest.raises(InvalidToken):
        tokens.decode_refresh(tokens.issue_access(user(), START, SID))


def test_a_refresh_token_is_not_an_access_token() -> None:
    tokens = service()
    token = tokens.issue_refresh(user().id, "family", "jti", START, START + timedelta(days=1))

    with pytest.raises(InvalidToken):
        tokens.decode_access(token)


@pytest.mark.parametrize("kind", ["", "ACCESS", "id", "refresh "])
def test_an_unknown_type_is_refused(kind: str) -> None:
    with pytest.raises(InvalidToken):
        service().decode_access(forge(access_payload(user(), START, type=kind)))


# Expiry, by the injected clock


def test_an_access_token_is_valid_until_its_ttl_has_passed() -> None:
    clock = ManualClock(START)
    tokens = service(clock)
    token = tokens.issue_access(user(clock), clock.now(), SID)

    clock.advance(tokens.access_ttl - timedelta(seconds=1))
    tokens.decode_access(token)

    clock.advance(timedelta(seconds=1))
    with pytest.raises(InvalidToken):
        tokens.decode_access(token)


def test_a_refresh_token_expires_at_its_given_time() -> None:
    clock = ManualClock(START)
    tokens = service(clock)
    token = tokens.issue_refresh(
        user(clock).id, "family", "jti", clock.now(), clock.now() + timedelta(hours=1)
    )

    clock.advance(timedelta(hours=1, seconds=1))

    with pytest.raises(InvalidToken):
        tokens.decode_refresh(token)


def test_a_clock_ahead_of_the_wall_clock_accepts_its_own_tokens() -> None:
    clock = ManualClock(datetime.now(UTC) + timedelta(days=3))
    tokens = service(clock)

    tokens.decode_access(tokens.issue_access(user(clock), clock.now(), SID))


def test_a_token_issued_after_the_clock_is_refused() -> None:
    account = user()
    future = START + timedelta(hours=1)

    with pytest.raises(InvalidToken):
        service().decode_access(forge(access_payload(account, future)))


# Clock leeway: servers whose clocks differ a little accept each other's fresh tokens

LEEWAY = timedelta(seconds=10)


def test_without_a_leeway_a_token_issued_a_second_ahead_is_refused() -> None:
    with pytest.raises(InvalidToken):
        service().decode_access(forge(access_payload(user(), START + timedelta(seconds=1))))


@pytest.mark.parametrize("ahead", [timedelta(seconds=1), LEEWAY], ids=["1s", "the leeway"])
def test_a_token_issued_ahead_of_the_clock_within_the_leeway_is_accepted(ahead: timedelta) -> None:
    account = user()
    tokens = service(leeway=LEEWAY)

    claims = tokens.decode_access(forge(access_payload(account, START + ahead)))
    refresh = tokens.decode_refresh(forge(refresh_payload(account, START + ahead)))

    assert (claims.user_id, refresh.user_id) == (account.id, account.id)


def test_a_token_issued_beyond_the_leeway_is_refused() -> None:
    payload = access_payload(user(), START + LEEWAY + timedelta(seconds=1))

    with pytest.raises(InvalidToken):
        service(leeway=LEEWAY).decode_access(forge(payload))


def test_an_expired_token_is_accepted_within_the_leeway_and_refused_beyond() -> None:
    clock = ManualClock(START)
    tokens = service(clock, leeway=LEEWAY)
    token = tokens.issue_access(user(clock), clock.now(), SID)
    expiry = tokens.decode_access(token).expires_at

    clock.advance(expiry + LEEWAY - timedelta(seconds=1) - clock.now())
    tokens.decode_access(token)

    clock.advance(timedelta(seconds=1))
    with pytest.raises(InvalidToken):
        tokens.decode_access(token)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(timedelta(0), True), (LEEWAY, True), (LEEWAY + timedelta(seconds=1), False)],
    ids=["now", "the leeway ahead", "beyond the leeway"],
)
def test_a_not_before_claim_is_judged_with_the_leeway(offset: timedelta, accepted: bool) -> None:
    payload = access_payload(user(), START, nbf=int((START + offset).timestamp()))
    decode = service(leeway=LEEWAY).decode_access

    if accepted:
        decode(forge(payload))
    else:
        with pytest.raises(InvalidToken):
            decode(forge(payload))


@pytest.mark.parametrize("claim", ["iat", "nbf"])
@pytest.mark.parametrize("value", ["soon", True, float("nan"), float("inf")], ids=repr)
def test_an_unreadable_issue_or_start_time_is_refused(claim: str, value: Any) -> None:
    with pytest.raises(InvalidToken):
        service(leeway=LEEWAY).decode_access(forge(access_payload(user(), START, **{claim: value})))


def test_a_negative_leeway_is_refused() -> None:
    with pytest.raises(ValueError, match="leeway"):
        service(leeway=timedelta(seconds=-1))


@pytest.mark.parametrize(
    "exp", ["soon", None, [1], float("nan"), float("inf"), 1e300, 10**30], ids=repr
)
def test_an_unreadable_expiry_is_refused(exp: Any) -> None:
    with pytest.raises(InvalidToken):
        service().decode_access(forge(access_payload(user(), START, exp=exp)))


# Keys, issuers, audiences, algorithms


def test_a_token_signed_with_another_secret_is_refused() -> None:
    other = JwtTokenService(
        secret="another-secret-that-is-long-enough-too", clock=ManualClock(START)
    )

    with pytest.raises(InvalidToken):
        service().decode_access(other.issue_access(user(), START, SID))


@pytest.mark.parametrize(
    "overrides", [{"issuer": "someone-else"}, {"audience": "another-api"}], ids=["iss", "aud"]
)
def test_a_token_for_another_issuer_or_audience_is_refused(overrides: dict[str, Any]) -> None:
    other = service(**overrides)

    with pytest.raises(InvalidToken):
        service().decode_access(other.issue_access(user(), START, SID))


def test_a_forged_token_with_all_claims_is_accepted() -> None:
    # The control for the tests below: forge() makes tokens the service accepts, so each of
    # those fails for the one thing it changes.
    account = user()

    claims = service().decode_access(forge(access_payload(account, START)))

    assert claims.user_id == account.id
    assert service().decode_refresh(forge(refresh_payload(account, START))).family_id == (
        "family-1"
    )


def test_alg_none_is_refused() -> None:
    payload = access_payload(user(), START)
    header = {"alg": "none", "typ": "JWT"}
    unsigned = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"

    for token in (f"{unsigned}.", f"{unsigned}.{b64(b'signature')}"):
        with pytest.raises(InvalidToken):
            service().decode_access(token)


@pytest.mark.parametrize("algorithm", ["HS384", "HS512"])
def test_other_hmac_algorithms_are_refused_even_with_the_right_key(algorithm: str) -> None:
    with pytest.raises(InvalidToken):
        service().decode_access(forge(access_payload(user(), START), algorithm=algorithm))


@pytest.mark.parametrize("claim", REQUIRED)
def test_an_access_token_missing_a_required_claim_is_refused(claim: str) -> None:
    payload = access_payload(user(), START)
    del payload[claim]

    with pytest.raises(InvalidToken):
        service().decode_access(forge(payload))


def test_an_access_token_carries_the_users_token_version() -> None:
    account = user()
    account.token_version = 3
    tokens = service()

    assert tokens.decode_access(tokens.issue_access(account, START, SID)).token_version == 3


def test_an_access_token_carries_its_session() -> None:
    tokens = service()

    first = tokens.decode_access(tokens.issue_access(user(), START, "session-a"))
    second = tokens.decode_access(tokens.issue_access(user(), START, "session-b"))

    assert (first.session_id, second.session_id) == ("session-a", "session-b")


@pytest.mark.parametrize("sid", [7, "", ["s"], True], ids=repr)
def test_an_access_token_with_a_session_id_that_is_no_text_is_refused(sid: Any) -> None:
    with pytest.raises(InvalidToken):
        service().decode_access(forge(access_payload(user(), START, sid=sid)))


@pytest.mark.parametrize("version", [None, "1", 1.0, True], ids=repr)
def test_an_access_token_without_an_integer_token_version_is_refused(version: Any) -> None:
    payload = access_payload(user(), START, ver=version)
    if version is None:
        del payload["ver"]

    with pytest.raises(InvalidToken):
        service().decode_access(forge(payload))


@pytest.mark.parametrize("claim", [*REQUIRED, "fam"])
def test_a_refresh_token_missing_a_required_claim_is_refused(claim: str) -> None:
    payload = refresh_payload(user(), START)
    del payload[claim]

    with pytest.raises(InvalidToken):
        service().decode_refresh(forge(payload))


@pytest.mark.parametrize("permissions", [None, "users:read:self", [1], {"a": 1}], ids=repr)
def test_access_token_permissions_must_be_a_list_of_strings(permissions: Any) -> None:
    payload = access_payload(user(), START, permissions=permissions)
    if permissions is None:
        del payload["permissions"]

    with pytest.raises(InvalidToken):
        service().decode_access(forge(payload))


@pytest.mark.parametrize("sub", ["not-a-uuid", "42", "", 42, None, ["x"]], ids=repr)
def test_a_subject_that_is_not_a_uuid_string_is_refused(sub: Any) -> None:
    with pytest.raises(InvalidToken):
        service().decode_access(forge(access_payload(user(), START, sub=sub)))


HS256_HEADER = b'{"alg":"HS256","typ":"JWT"}'
GARBAGE = [
    "",
    "garbage",
    "a.b",
    "a.b.c",
    "a.b.c.d",
    "..",
    "...",
    "Bearer abc.def.ghi",
    "é.é.é",
    "\x00.\x00.\x00",
    f"{b64(b'{}')}.{b64(b'{}')}.",
    f"{b64(b'[]')}.{b64(b'{}')}.{b64(b'x')}",
    f"{b64(HS256_HEADER)}.{b64(b'not json')}.{b64(b'x')}",
    f"{b64(b'[' * 5000)}.{b64(b'{}')}.{b64(b'x')}",
    "x" * 100_000,
]


@pytest.mark.parametrize("token", GARBAGE, ids=lambda t: repr(t)[:30])
def test_garbage_is_an_invalid_token(token: str) -> None:
    tokens = service()

    with pytest.raises(InvalidToken):
        tokens.decode_access(token)
    with pytest.raises(InvalidToken):
        tokens.decode_refresh(token)


def assert_refused_or_unchanged(
    decode: Callable[[str], AccessClaims | RefreshClaims], token: str, tampered: str
) -> None:
    original = decode(token)
    try:
        claims = decode(tampered)
    except InvalidToken:
        return
    assert claims == original, f"a changed token was accepted: {tampered!r}"


@pytest.mark.parametrize("unused_bits", [0b01, 0b10, 0b11])
def test_a_change_in_the_signatures_unused_bits_forges_nothing(unused_bits: int) -> None:
    # 32 signature bytes take 43 base64 characters; the last one has 2 unused bits, so four
    # characters decode to the same bytes. PyJWT 2.15 refuses the non-canonical ones; older
    # versions accept them, which is harmless: the claims are the signed ones.
    tokens = service()
    token = tokens.issue_access(user(), START, SID)
    twin = token[:-1] + BASE64URL[BASE64URL.index(token[-1]) ^ unused_bits]

    assert_refused_or_unchanged(tokens.decode_access, token, twin)


# Properties


def _parses_as_email(raw: str) -> bool:
    try:
        Email.parse(raw)
    except ValidationFailed:
        return False
    return True


def _valid_name(raw: str) -> bool:
    try:
        parse_full_name(raw)
    except ValidationFailed:
        return False
    return True


emails = st.emails().filter(_parses_as_email).map(Email.parse)
names = st.text(min_size=1, max_size=200).filter(_valid_name)
ttls = st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=3650))
starts = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@settings(deadline=None)
@given(email=emails, name=names, superuser=st.booleans(), ttl=ttls, start=starts)
def test_any_user_round_trips_through_an_access_token(
    email: Email, name: str, superuser: bool, ttl: timedelta, start: datetime
) -> None:
    clock = ManualClock(start)
    tokens = JwtTokenService(secret=SECRET, clock=clock, access_ttl=ttl)
    account = User.register(
        email=email, full_name=name, hashed_password="x", now=clock.now(), is_superuser=superuser
    )

    claims = tokens.decode_access(tokens.issue_access(account, clock.now(), SID))

    assert claims.user_id == account.id
    assert claims.permissions == account.permissions
    assert claims.expires_at == datetime.fromtimestamp(int((start + ttl).timestamp()), UTC)


@settings(deadline=None)
@given(
    family=st.text(min_size=1, max_size=64),
    token_id=st.text(min_size=1, max_size=64),
    ttl=ttls,
    start=starts,
)
def test_any_family_and_token_id_round_trip_through_a_refresh_token(
    family: str, token_id: str, ttl: timedelta, start: datetime
) -> None:
    clock = ManualClock(start)
    tokens = JwtTokenService(secret=SECRET, clock=clock)
    account = user(clock)

    token = tokens.issue_refresh(account.id, family, token_id, clock.now(), start + ttl)
    claims = tokens.decode_refresh(token)

    assert (claims.user_id, claims.family_id, claims.token_id) == (account.id, family, token_id)


single_character_changes = st.tuples(
    st.integers(0, 2),  # which segment: header, payload, signature (each as likely)
    st.integers(0, 10_000),  # where in it (modulo its length)
    st.one_of(  # a bit to flip, or a character to put there
        st.integers(0, 6),
        st.sampled_from(BASE64URL),
        st.sampled_from(".=+/ "),
        st.characters(),
    ),
)
"""Drawn independently of the token (which is random), so that Hypothesis can replay them."""


def change_one_character(token: str, change: tuple[int, int, int | str]) -> str:
    segment, index, edit = change
    segments = token.split(".")
    position = sum(len(s) + 1 for s in segments[:segment]) + index % len(segments[segment])
    original = token[position]
    replacement = chr(ord(original) ^ (1 << edit)) if isinstance(edit, int) else edit
    if replacement == original:
        replacement = chr(ord(original) ^ 1)
    return token[:position] + replacement + token[position + 1 :]


@settings(deadline=None, max_examples=300)
@given(change=single_character_changes)
def test_changing_any_single_character_is_refused_or_changes_nothing(
    change: tuple[int, int, int | str],
) -> None:
    tokens = service()
    account = user()
    access = tokens.issue_access(account, START, SID)
    refresh = tokens.issue_refresh(account.id, "family", "jti", START, START + timedelta(days=1))

    assert_refused_or_unchanged(tokens.decode_access, access, change_one_character(access, change))
    assert_refused_or_unchanged(
        tokens.decode_refresh, refresh, change_one_character(refresh, change)
    )
