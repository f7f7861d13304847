"""Input abuse, table-driven, over the real server: malformed JSON (400), other content types
(415), bodies over the limit (413), missing, mistyped and unknown fields, invalid e-mails,
empty and overlong names, NUL and control characters, overlong passwords and tokens, path
ids that are not UUIDs, nonsense paging parameters (422), forged one-time tokens (400/401).

Every answer must be the expected 4xx in api.md's envelope, and nothing may be written:
each case is sent by a freshly registered user, and the contents of every table of the
database (users, refresh_tokens, one_time_tokens, email_outbox, security_events,
login_throttle, and any added later: every row, compared by the digest of its text; in
the outbox, all but the columns the e-mail dispatcher keeps) must be the same after the
request as before, so that an update in place is caught as surely as an insert. The
table holds only requests that must never write when refused: register,
change-password, forgot/reset-password, verify, refresh, logout, PATCH and DELETE
/users/me, GET/PATCH /users/{id}, GET /users/me/events, and login refused *before* the
credentials are checked (a failed credential check may legitimately record an event and
count towards throttling, so it is not in this table).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from tests.e2e.api import Api, Cli, bearer, describe, expect_error, unique_email
from tests.support.smtp import SmtpSink

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
CHANGE = "/api/v1/auth/change-password"
FORGOT = "/api/v1/auth/forgot-password"
RESET = "/api/v1/auth/reset-password"
VERIFY = "/api/v1/auth/verify"
ME = "/api/v1/users/me"
EVENTS = "/api/v1/users/me/events"
PASSWORD = "AbusePassword123!"
BODY_LIMIT = 64 * 1024  # NEODYME_MAX_BODY_BYTES, default
OVER_LIMIT = "x" * (100 * 1024)  # the 100 KB password (or name)
NO_BODY = object()


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    status: int
    code: str
    body: Any = NO_BODY
    """A JSON value to send, or NO_BODY; ``raw`` bytes take precedence."""
    raw: bytes | None = None
    content_type: str | None = "application/json"
    auth: bool = False
    """Send the fresh user's access token. ``{me}`` in ``path`` is that user's id."""
    field_named: str | None = None
    """For 422: the field ``details.fields`` must name."""
    headers: dict[str, str] = field(default_factory=dict)

    def content(self) -> bytes | None:
        if self.raw is not None:
            return self.raw
        if self.body is NO_BODY:
            return None
        return json.dumps(self.body).encode()


def _registration(**changes: Any) -> dict[str, Any]:
    """A valid registration body for a new address, with ``changes`` (None removes)."""
    body: dict[str, Any] = {
        "email": unique_email("abuse"),
        "full_name": "Abuse Case",
        "password": PASSWORD,
    }
    for name, value in changes.items():
        if value is None:
            body.pop(name)
        else:
            body[name] = value
    return body


def _cases() -> Iterator[Case]:
    valid = json.dumps(_registration()).encode()

    # Malformed JSON: 400 BAD_REQUEST.
    for name, raw in {
        "truncated": valid[:-10],
        "unquoted keys": b'{email: "a@example.com", full_name: "A", password: "x"}',
        "single quotes": b"{'email': 'a@example.com'}",
        "trailing comma": valid[:-1] + b",}",
        "trailing garbage": valid + b"garbage",
        "two documents": valid + valid,
        "invalid utf-8": b'{"email": "\xff\xfe@example.com"}',
        "lone surrogate escape": valid.replace(b"Abuse Case", b"\\ud800"),
        "NaN literal": b'{"email": NaN}',
        "empty body": b"",
        "whitespace only": b"   \n",
        "nested 20000 deep (list)": b"[" * 20_000 + b"]" * 20_000,
        "nested 60000 deep, unclosed": b"[" * 60_000,
        "nested 10000 deep (object)": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    }.items():
        yield Case(f"register, {name}", "POST", REGISTER, 400, "BAD_REQUEST", raw=raw)
    yield Case("login, truncated", "POST", LOGIN, 400, "BAD_REQUEST", raw=b'{"email": "a@')
    yield Case("refresh, truncated", "POST", REFRESH, 400, "BAD_REQUEST", raw=b'{"refresh')
    yield Case("verify, nested", "POST", VERIFY, 400, "BAD_REQUEST", raw=b"[" * 60_000)
    for method, path in (("PATCH", ME), ("DELETE", ME), ("POST", CHANGE)):
        yield Case(
            f"{method} {path}, truncated", method, path, 400, "BAD_REQUEST", raw=b"{", auth=True
        )

    # A JSON document that is not an object: 422 VALIDATION_ERROR.
    for name, raw in {"array": b"[]", "null": b"null", "string": b'"x"', "number": b"1"}.items():
        yield Case(
            f"register, top-level {name}", "POST", REGISTER, 422, "VALIDATION_ERROR", raw=raw
        )

    # Not JSON: 415 UNSUPPORTED_MEDIA_TYPE (even when the bytes are JSON).
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "text/json",
        None,
    ):
        yield Case(
            f"register as {content_type or 'no content type'}",
            "POST",
            REGISTER,
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            raw=valid,
            content_type=content_type,
        )
    yield Case(
        "login as form",
        "POST",
        LOGIN,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        raw=b"email=a%40example.com&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    yield Case(
        "PATCH me as text",
        "PATCH",
        ME,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        raw=b'{"full_name": "Text"}',
        content_type="text/plain",
        auth=True,
    )

    # Over the body limit: 413 PAYLOAD_TOO_LARGE, before any parsing (so before hashing).
    yield Case(
        "register, 100 KB password",
        "POST",
        REGISTER,
        413,
        "PAYLOAD_TOO_LARGE",
        body=_registration(password=OVER_LIMIT),
    )
    yield Case(
        "login, 100 KB password",
        "POST",
        LOGIN,
        413,
        "PAYLOAD_TOO_LARGE",
        body={"email": unique_email("abuse"), "password": OVER_LIMIT},
    )
    yield Case(
        "change-password, 100 KB new password",
        "POST",
        CHANGE,
        413,
        "PAYLOAD_TOO_LARGE",
        body={"current_password": PASSWORD, "new_password": OVER_LIMIT},
        auth=True,
    )
    yield Case(
        "reset-password, 100 KB new password",
        "POST",
        RESET,
        413,
        "PAYLOAD_TOO_LARGE",
        body={"token": "t" * 43, "new_password": OVER_LIMIT},
    )
    yield Case(
        "register, 100 KB name",
        "POST",
        REGISTER,
        413,
        "PAYLOAD_TOO_LARGE",
        body=_registration(full_name=OVER_LIMIT),
    )
    yield Case(
        "PATCH me, 100 KB name",
        "PATCH",
        ME,
        413,
        "PAYLOAD_TOO_LARGE",
        body={"full_name": OVER_LIMIT},
        auth=True,
    )
    yield Case(
        "register, a body just over the limit",
        "POST",
        REGISTER,
        413,
        "PAYLOAD_TOO_LARGE",
        raw=b" " * (BODY_LIMIT + 1 - len(valid)) + valid + b" ",
    )

    # Passwords over 1024 characters (but within the body limit): 422, at every endpoint.
    long_password = "Aa1!" * 257  # 1028 characters, and it would pass the policy
    for name, path, body, auth, field_name in (
        ("register", REGISTER, _registration(password=long_password), False, "password"),
        ("login", LOGIN, {"email": unique_email("x"), "password": long_password}, False, None),
        (
            "change-password, new",
            CHANGE,
            {"current_password": PASSWORD, "new_password": long_password},
            True,
            "new_password",
        ),
        (
            "change-password, current",
            CHANGE,
            {"current_password": long_password, "new_password": PASSWORD + "x"},
            True,
            "current_password",
        ),
        ("reset-password", RESET, {"token": "t" * 43, "new_password": long_password}, False, None),
    ):
        yield Case(
            f"{name}, 1028-character password",
            "POST",
            path,
            422,
            "VALIDATION_ERROR",
            body=body,
            auth=auth,
            field_named=field_name,
        )
    yield Case(
        "delete me, 1028-character password",
        "DELETE",
        ME,
        422,
        "VALIDATION_ERROR",
        body={"password": long_password},
        auth=True,
        field_named="password",
    )

    # Missing fields: 422.
    for missing in ("email", "full_name", "password"):
        yield Case(
            f"register without {missing}",
            "POST",
            REGISTER,
            422,
            "VALIDATION_ERROR",
            body=_registration(**{missing: None}),
            field_named=missing,
        )
    for name, method, path, body, auth in (
        ("register, empty object", "POST", REGISTER, {}, False),
        ("login without password", "POST", LOGIN, {"email": unique_email("x")}, False),
        ("refresh, empty object", "POST", REFRESH, {}, False),
        ("logout, empty object", "POST", LOGOUT, {}, False),
        ("verify, empty object", "POST", VERIFY, {}, False),
        ("forgot-password, empty object", "POST", FORGOT, {}, False),
        ("reset-password without password", "POST", RESET, {"token": "t" * 43}, False),
        ("change-password without new", "POST", CHANGE, {"current_password": PASSWORD}, True),
        ("delete me, empty object", "DELETE", ME, {}, True),
    ):
        yield Case(name, method, path, 422, "VALIDATION_ERROR", body=body, auth=auth)

    # Mistyped fields: 422.
    for name, changes in {
        "email a number": {"email": 123},
        "email a float": {"email": 0.5},
        "email a list": {"email": ["a@example.com"]},
        "name a list": {"full_name": ["Ada"]},
        "name an object": {"full_name": {"first": "Ada"}},
        "name a bool": {"full_name": True},
        "password a number": {"password": 12345678},
        "password a bool": {"password": True},
        "password an object": {"password": {"$ne": ""}},
    }.items():
        body = _registration() | changes
        field_name = next(iter(changes))
        yield Case(
            f"register, {name}",
            "POST",
            REGISTER,
            422,
            "VALIDATION_ERROR",
            body=body,
            field_named=field_name,
        )
    for name in ("email", "full_name", "password"):
        yield Case(
            f"register, {name} null",
            "POST",
            REGISTER,
            422,
            "VALIDATION_ERROR",
            raw=json.dumps(_registration() | {name: "<null>"}).replace('"<null>"', "null").encode(),
            field_named=name,
        )
    yield Case(
        "login, password an object",
        "POST",
        LOGIN,
        422,
        "VALIDATION_ERROR",
        body={"email": unique_email("x"), "password": {"$gt": ""}},
    )
    yield Case(
        "refresh, token a number",
        "POST",
        REFRESH,
        422,
        "VALIDATION_ERROR",
        body={"refresh_token": 5},
    )
    yield Case("verify, token a list", "POST", VERIFY, 422, "VALIDATION_ERROR", body={"token": []})
    yield Case(
        "PATCH me, name a number",
        "PATCH",
        ME,
        422,
        "VALIDATION_ERROR",
        body={"full_name": 5},
        auth=True,
    )
    yield Case(
        "PATCH {id}, is_active a string",
        "PATCH",
        "/api/v1/users/{me}",
        422,
        "VALIDATION_ERROR",
        body={"is_active": "false"},
        auth=True,
    )

    # Invalid e-mail addresses: 422 at registration and at forgot-password.
    for name, email in {
        "empty": "",
        "spaces": "   ",
        "no at": "not-an-email",
        "no domain": "ada@",
        "no local part": "@example.com",
        "two ats": "ada@@example.com",
        "space inside": "ada lovelace@example.com",
        "NUL": "ada\x00@example.com",
        "CR LF Bcc": "ada@example.com\r\nBcc: victim@example.com",
        "LF": "ada@example.com\nvictim@example.com",
        "two addresses": "ada@example.com, victim@example.com",
        "display name": "Ada <ada@example.com>",
        "local part of 65": "a" * 65 + "@example.com",
        "over 254 characters": "a" * 60 + "@" + "b" * 200 + ".com",
        "over the schema bound": "a" * 400 + "@example.com",
    }.items():
        yield Case(
            f"register, e-mail {name}",
            "POST",
            REGISTER,
            422,
            "VALIDATION_ERROR",
            body=_registration(email=email) if email else _registration() | {"email": email},
            field_named="email",
        )
        if name in {"no at", "NUL", "CR LF Bcc"}:
            yield Case(
                f"forgot-password, e-mail {name}",
                "POST",
                FORGOT,
                422,
                "VALIDATION_ERROR",
                body={"email": email},
                field_named="email",
            )

    # Names: empty, blank, over 200 characters, control characters (NUL, CR/LF: no e-mail
    # header injection), invisible formatting characters. 422 at registration and PATCH.
    bad_names = {
        "empty": "",
        "blank": "   \t ",
        "201 characters": "a" * 201,
        "256 characters, schema bound": "a" * 300,
        "NUL": "Ada\x00Lovelace",
        "BEL": "Ada\x07",
        "ESC sequence": "Ada\x1b[31mRed",
        "DEL": "Ada\x7f",
        "CR LF Bcc header": "Ada\r\nBcc: victim@example.com",
        "LF header": "Ada\nX-Injected: yes",
        "CR": "Ada\rLovelace",
        "NEL": "Ada\x85Lovelace",
        "line separator": "Ada\u2028Lovelace",
        "paragraph separator": "Ada\u2029Lovelace",
        "right-to-left override": "Ada\u202elecalevoL",
    }
    for name, full_name in bad_names.items():
        yield Case(
            f"register, name {name}",
            "POST",
            REGISTER,
            422,
            "VALIDATION_ERROR",
            body=_registration() | {"full_name": full_name},
            field_named="full_name",
        )
        yield Case(
            f"PATCH me, name {name}",
            "PATCH",
            ME,
            422,
            "VALIDATION_ERROR",
            body={"full_name": full_name},
            auth=True,
            field_named="full_name",
        )

    # Unknown fields: 422, never ignored (no mass assignment).
    for extra in (
        {"is_superuser": True},
        {"is_verified": True},
        {"is_active": False},
        {"id": str(uuid.uuid4())},
        {"hashed_password": "$argon2id$v=19$m=64,t=1,p=1$x$y"},
        {"permissions": ["users:read:any"]},
    ):
        (name,) = extra
        yield Case(
            f"register with {name}",
            "POST",
            REGISTER,
            422,
            "VALIDATION_ERROR",
            body=_registration() | extra,
            field_named=name,
        )
    for extra in (
        {"is_superuser": True},
        {"email": unique_email("takeover")},
        {"password": "NewPassword123!"},
        {"is_active": False},
        {"is_verified": True},
        {"id": str(uuid.uuid4())},
    ):
        (name,) = extra
        yield Case(
            f"PATCH me with {name}",
            "PATCH",
            ME,
            422,
            "VALIDATION_ERROR",
            body={"full_name": "Still Me"} | extra,
            auth=True,
            field_named=name,
        )
    for name, path, body in (
        ("login", LOGIN, {"email": unique_email("x"), "password": PASSWORD, "remember": True}),
        ("refresh", REFRESH, {"refresh_token": "t" * 43, "scope": "admin"}),
        ("forgot-password", FORGOT, {"email": unique_email("x"), "redirect": "https://evil"}),
        ("verify", VERIFY, {"token": "t" * 43, "email": unique_email("x")}),
    ):
        yield Case(
            f"{name} with an unknown field", "POST", path, 422, "VALIDATION_ERROR", body=body
        )

    # Tokens: overlong is a schema error (422); forged, empty-ish or with NUL is refused.
    yield Case(
        "refresh, 4097-character token",
        "POST",
        REFRESH,
        422,
        "VALIDATION_ERROR",
        body={"refresh_token": "t" * 4097},
    )
    yield Case(
        "refresh, empty token",
        "POST",
        REFRESH,
        422,
        "VALIDATION_ERROR",
        body={"refresh_token": ""},
    )
    for name, token in {"garbage": "not-a-token", "NUL": "eyJ\x00abc", "dots": "..."}.items():
        yield Case(
            f"refresh, {name} token",
            "POST",
            REFRESH,
            401,
            "INVALID_TOKEN",
            body={"refresh_token": token},
        )
        yield Case(
            f"logout, {name} token",
            "POST",
            LOGOUT,
            401,
            "INVALID_TOKEN",
            body={"refresh_token": token},
        )
        yield Case(
            f"verify, {name} token", "POST", VERIFY, 400, "INVALID_TOKEN", body={"token": token}
        )
        yield Case(
            f"reset-password, {name} token",
            "POST",
            RESET,
            400,
            "INVALID_TOKEN",
            body={"token": token, "new_password": "NewPassword123!"},
        )

    # Path ids that are not UUIDs: 422 naming user_id.
    for name, raw_id in {
        "word": "not-a-uuid",
        "number": "123",
        "uuid with a suffix": f"{uuid.uuid4()}-x",
        "NUL": "%00",
        "SQL": "1%27%20OR%20%271%27%3D%271",
        "overlong": "a" * 2000,
    }.items():
        yield Case(
            f"GET users/{{id}}, {name}",
            "GET",
            f"/api/v1/users/{raw_id}",
            422,
            "VALIDATION_ERROR",
            auth=True,
            content_type=None,
            field_named="user_id",
        )
    yield Case(
        "PATCH users/{id}, not a uuid",
        "PATCH",
        "/api/v1/users/not-a-uuid",
        422,
        "VALIDATION_ERROR",
        body={"is_active": False},
        auth=True,
        field_named="user_id",
    )

    # Paging parameters.
    for name, query in {
        "limit a word": "limit=abc",
        "limit zero": "limit=0",
        "limit negative": "limit=-1",
        "limit over 200": "limit=201",
        "limit 10**30": "limit=" + "9" * 30,
        "cursor garbage": "cursor=garbage",
        "cursor NUL": "cursor=%00",
        "cursor 5000 characters": "cursor=" + "A" * 5000,
    }.items():
        yield Case(
            f"events, {name}",
            "GET",
            f"{EVENTS}?{query}",
            422,
            "VALIDATION_ERROR",
            auth=True,
            content_type=None,
        )


CASES = list(_cases())


@pytest.fixture(scope="module")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, poolclass=NullPool)
    yield engine
    engine.dispose()


COLUMNS = (
    "SELECT table_name, column_name FROM information_schema.columns"
    " WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
    " ORDER BY table_name, ordinal_position"
)
DELIVERY_STATE = {"attempts", "next_attempt_at", "sent_at", "last_error", "dead_at"}
"""The outbox columns that the server's e-mail dispatcher writes in the background (it
sends the abuser's welcome e-mail meanwhile): left out of the comparison, rather than
waiting for every e-mail to be sent around each of the many cases. Every other column of
the outbox, and every column of every other table, is compared."""


@dataclass(frozen=True)
class Snapshot:
    """Every row of every table, each as the digest of its text form, by table."""

    rows: dict[str, frozenset[str]]
    """Table -> the md5 of each row's compared columns."""
    columns: dict[str, str]
    """Table -> the row expression that is digested: ``ROW(col, ...)``."""

    def changes(self, later: Snapshot, engine: Engine) -> dict[str, dict[str, Any]]:
        """By table, the rows (as text) that ``later`` has and this had not, and how many
        this had that ``later`` has not (their text is gone with them)."""
        changed: dict[str, dict[str, Any]] = {}
        for table in sorted(self.rows.keys() | later.rows.keys()):
            before, after = self.rows.get(table, frozenset()), later.rows.get(table, frozenset())
            if before != after:
                new_rows = _rows_text(engine, table, later.columns[table], after - before)
                changed[table] = {"new or changed": new_rows, "gone": len(before - after)}
        return changed


def _rows_text(engine: Engine, table: str, row: str, digests: frozenset[str]) -> list[str]:
    with engine.connect() as connection:
        found = connection.execute(
            text(f'SELECT {row}::text FROM "{table}" WHERE md5({row}::text) = ANY(:digests)'),
            {"digests": list(digests)},
        )
        return sorted(found.scalars())


def _snapshot(engine: Engine) -> Snapshot:
    with engine.connect() as connection:
        columns: dict[str, list[str]] = {}
        for table, column in connection.execute(text(COLUMNS)):
            if not (table == "email_outbox" and column in DELIVERY_STATE):
                columns.setdefault(table, []).append(f'"{column}"')
        rows = {table: f"ROW({', '.join(names)})" for table, names in columns.items()}
        return Snapshot(
            {
                table: frozenset(
                    connection.execute(text(f'SELECT md5({row}::text) FROM "{table}"')).scalars()
                )
                for table, row in rows.items()
            },
            rows,
        )


def assert_nothing_written(engine: Engine, before: Snapshot, response: Any) -> None:
    after = _snapshot(engine)
    assert after == before, f"{describe(response)}\nwritten: {before.changes(after, engine)}"


def test_the_table_is_unique_and_covers_every_status() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert {case.status for case in CASES} == {400, 401, 413, 415, 422}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_abusive_input_is_refused_in_the_envelope_and_writes_nothing(
    api: Api, engine: Engine, case: Case
) -> None:
    session = await api.signed_up(unique_email("abuser"), PASSWORD)
    user_id = session["user"]["id"]
    headers = dict(case.headers)
    if case.auth:
        headers |= bearer(session["access_token"])
    if case.content_type is not None:
        headers["Content-Type"] = case.content_type
    before = _snapshot(engine)

    response = await api.client.request(
        case.method, case.path.format(me=user_id), content=case.content(), headers=headers
    )

    error = expect_error(response, case.status, case.code)
    if case.field_named is not None:
        fields = [item["field"] for item in error["details"].get("fields", [])]
        assert case.field_named in fields, describe(response)
    assert_nothing_written(engine, before, response)


@pytest.mark.parametrize("value", ["false", "0", 0, "true", 1, "no", []])
async def test_an_admin_mistyping_is_active_changes_nothing(
    api: Api, cli: Cli, engine: Engine, value: object
) -> None:
    """Booleans are booleans: a string or number in ``is_active`` is a 422, not a guess
    (it used to deactivate the account for "false", "0" and 0)."""
    admin_email = unique_email("abuse-admin")
    created = await cli.create_user(admin_email, "Admin", PASSWORD, superuser=True)
    assert created.returncode == 0, created.stderr
    admin = await api.login(admin_email, PASSWORD)
    assert admin.status_code == 200, describe(admin)
    victim = await api.signed_up(unique_email("abuse-victim"), PASSWORD)
    before = _snapshot(engine)

    response = await api.client.patch(
        f"/api/v1/users/{victim['user']['id']}",
        json={"is_active": value},
        headers=bearer(admin.json()["access_token"]),
    )

    error = expect_error(response, 422, "VALIDATION_ERROR")
    assert "is_active" in [item["field"] for item in error["details"]["fields"]]
    assert_nothing_written(engine, before, response)
    assert (await api.me(victim["access_token"])).status_code == 200


async def test_a_name_cannot_add_recipients_or_headers_to_the_welcome_email(
    api: Api, smtp_sink: SmtpSink
) -> None:
    """A name that looks like headers and addresses but has no line break is a legal name:
    it is accepted, and the welcome e-mail still goes to the one address, with no header
    of the name's making. (With CR/LF the name is refused: the table above.)"""
    email = unique_email("header")
    name = 'Ada "Bcc: victim@example.com" <evil@example.com>, Cc: other@example.com'
    session = await api.signed_up(email, PASSWORD, name)
    assert session["user"]["full_name"] == name

    message = await smtp_sink.wait_for(
        lambda m: m["X-Neodyme-Kind"] == "welcome" and email in str(m["To"])
    )
    received = next(r for r in list(smtp_sink.received) if r.message is message)
    assert received.rcpt_tos == (email,)
    assert [address.addr_spec for address in message["To"].addresses] == [email]
    assert message["Bcc"] is None
    assert message["Cc"] is None
    assert message["X-Injected"] is None
