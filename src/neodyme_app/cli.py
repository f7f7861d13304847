"""The ``neodyme`` command: serve, migrate, manage users.

Settings come from ``NEODYME_*`` variables and are validated before anything starts: a bad
value prints one line naming it and exits with code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from neodyme_app.config import (
    PREFIX,
    Settings,
    SettingsError,
    introspection_client_id,
    settings_table,
)

if TYPE_CHECKING:
    from neodyme_app.container import Container
    from neodyme_app.credentials_csv import Credentials

EXIT_BAD_SETTINGS = 2
EXIT_FAILURE = 1


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    """Granian, not uvicorn: in bench/compare_servers.sh it served 1.5x the requests/s of
    uvicorn (uvloop + httptools) on GET /health and 1.15x on GET /auth/me, one worker.

    Workers default to one per core (one for memory://): on 2 cores, 2 workers served
    1.6-2.3x the GET /auth/me requests/s of one, at the same registrations/s and logins/s
    (hashing uses the cores either way), for about 80 MB more memory (docs/performance.md,
    "Serving"). The event loop is uvloop, 1.4x asyncio's requests/s on GET /health."""
    from granian import Granian
    from granian.constants import Interfaces, Loops

    from neodyme_app.logs import configure_logging, granian_logging
    from neodyme_app.metrics_server import serving_metrics

    args.workers = worker_count(settings, args.workers)
    if settings.metrics and settings.metrics_port == args.port:
        print(f"neodyme: {PREFIX}METRICS_PORT is the API port {args.port}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    if settings.uses_memory_storage and args.workers > 1:
        print("neodyme: memory:// lives in one process; serve it with --workers 1", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    # Workers re-read settings from the environment: hand them the generated dev secret,
    # and share the cores between them for hashing, so that hash memory stays at
    # cores x argon2 memory however many workers there are.
    os.environ[PREFIX + "SECRET_KEY"] = settings.secret_key
    if settings.hash_concurrency == 0:
        cores = os.cpu_count() or 1
        os.environ[PREFIX + "HASH_CONCURRENCY"] = str(max(1, cores // args.workers))
    server = Granian(
        "neodyme_app.http.asgi:app_from_environment",
        factory=True,
        interface=Interfaces.ASGI,
        address=args.host,
        port=args.port,
        workers=args.workers,
        loop=Loops(args.loop),
        log_level=settings.log_level.lower(),  # type: ignore[arg-type]
        log_dictconfig=granian_logging(),  # granian's lines in our format (logs.py)
        log_access=False,  # raw paths and query strings: ours is http/access_log.py
    )
    configure_logging(settings.log_level, settings.log_format)  # after granian's dictConfig
    with serving_metrics(settings, args.host):  # before granian forks the workers
        server.serve()
    return 0


def worker_count(settings: Settings, requested: int | None) -> int:
    """``--workers`` if given, else one per core, or one for memory:// (its data lives in
    one process)."""
    if requested is not None:
        return requested
    return 1 if settings.uses_memory_storage else os.cpu_count() or 1


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from neodyme_adapters.sqlalchemy import upgrade

    if settings.uses_memory_storage:
        print("memory:// has no schema to migrate")
        return 0
    upgrade(settings.database_url)
    print("database is at the latest revision")
    return 0


def _db_purge_throttle(settings: Settings, args: argparse.Namespace) -> int:
    async def purge(container: Container) -> str:
        return f"deleted {await container.purge_throttle()()} expired login throttle states"

    return _with_neodyme(settings, purge)


def _outbox_status(settings: Settings, args: argparse.Namespace) -> int:
    from neodyme_app.outbox_dispatcher import duration_text

    async def status(container: Container) -> str:
        backlog = await container.outbox_status()()
        if backlog.oldest_pending_at is None:
            oldest = "none"
        else:
            age = duration_text(container.clock().now() - backlog.oldest_pending_at)
            oldest = f"{age} ago (queued {backlog.oldest_pending_at:%Y-%m-%d %H:%M:%S} UTC)"
        return "\n".join(
            [
                f"pending: {backlog.pending} (not sent yet)",
                f"failing: {backlog.failing} (of them, failed at least once; retried later)",
                f"dead:    {backlog.dead} (given up; `neodyme outbox retry --dead` retries them)",
                f"oldest pending: {oldest}",
            ]
        )

    return _with_neodyme(settings, status, deliver=False)


def _outbox_retry(settings: Settings, args: argparse.Namespace) -> int:
    async def retry(container: Container) -> str:
        requeued = await container.retry_outbox()(dead=args.dead)
        which = "failing and dead" if args.dead else "failing"
        return f"re-queued {requeued} {which} e-mails; the running servers send them next"

    return _with_neodyme(settings, retry, deliver=False)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise SystemExit("neodyme: the passwords do not match")
    return first


def _with_neodyme(
    settings: Settings, work: Callable[[Container], Awaitable[str]], *, deliver: bool = True
) -> int:
    """Run ``work`` on an open neodyme and print what it returns; a domain error (an
    unknown user, a weak password...) is one line on stderr and exit code 1. ``deliver``:
    send the e-mails due before exiting (see ``open_neodyme``)."""
    from neodyme_app.embedded import open_neodyme
    from neodyme_domain.errors import DomainError

    async def run() -> str:
        async with open_neodyme(settings, migrate=False, deliver=deliver) as container:
            return await work(container)

    try:
        print(asyncio.run(run()))
    except DomainError as exc:
        print(f"neodyme: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


def _users_create(settings: Settings, args: argparse.Namespace) -> int:
    from neodyme_domain.use_cases import RegisterCommand

    password = _read_password(args.password_stdin)

    async def create(container: Container) -> str:
        command = RegisterCommand(args.email, args.full_name, password, is_superuser=args.superuser)
        result = await container.register_user()(command)
        kind = "superuser" if args.superuser else "user"
        return f"created {kind} {result.user.email} with id {result.user.id}"

    return _with_neodyme(settings, create)


def _users_list(settings: Settings, args: argparse.Namespace) -> int:
    from neodyme_domain.model import User
    from neodyme_domain.pagination import MAX_PAGE_SIZE, PageRequest
    from neodyme_domain.use_cases import ListUsersQuery

    async def list_all(container: Container) -> str:
        operator = User.operator(container.clock().now())
        lines = [f"{'id':36}  {'email':40}  active verified super  name"]
        cursor: str | None = None
        while True:
            page = await container.list_users()(
                ListUsersQuery(operator, PageRequest(MAX_PAGE_SIZE, cursor))
            )
            lines += [
                f"{u.id}  {u.email.value:40}  {_yes(u.is_active):6} {_yes(u.is_verified):8}"
                f" {_yes(u.is_superuser):5}  {u.full_name}"
                for u in page.items
            ]
            if (cursor := page.next_cursor) is None:
                return "\n".join(lines)

    return _with_neodyme(settings, list_all)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _users_deactivate(settings: Settings, args: argparse.Namespace) -> int:
    from neodyme_domain.model import User
    from neodyme_domain.use_cases import FindUserQuery, SetUserActiveCommand

    async def deactivate(container: Container) -> str:
        operator = User.operator(container.clock().now())
        user = await container.find_user()(FindUserQuery(operator, args.email))
        await container.set_user_active()(SetUserActiveCommand(operator, user.id, False))
        return f"deactivated {user.email} ({user.id}); its sessions ended"

    return _with_neodyme(settings, deactivate)


def _users_reset_mfa(settings: Settings, args: argparse.Namespace) -> int:
    from neodyme_domain.mfa.reset_mfa import MfaResetCommand
    from neodyme_domain.model import User
    from neodyme_domain.use_cases import FindUserQuery

    async def reset(container: Container) -> str:
        operator = User.operator(container.clock().now())
        user = await container.find_user()(FindUserQuery(operator, args.email))
        await container.reset_mfa()(MfaResetCommand(operator, user.id))
        return f"two-factor sign-in of {user.email} ({user.id}) is off; the user was told"

    return _with_neodyme(settings, reset)


def _mfa_reseal(settings: Settings, args: argparse.Namespace) -> int:
    from neodyme_domain.errors import SecretUnreadable

    async def reseal(container: Container) -> str:
        count = await container.reseal_secrets()()
        keys = await container.reseal_signing_keys()()
        return (
            f"re-sealed {count} TOTP secrets and {keys} signing keys under the first of"
            " NEODYME_ENCRYPTION_KEYS"
        )

    try:
        return _with_neodyme(settings, reseal, deliver=False)
    except SecretUnreadable:
        print(
            "neodyme: a TOTP secret or signing key opens with none of"
            " NEODYME_ENCRYPTION_KEYS: keep the key it was sealed with in the list (nothing"
            " was changed)",
            file=sys.stderr,
        )
        return EXIT_FAILURE


def _mfa_new_key(settings: Settings, args: argparse.Namespace) -> int:
    from neodyme_adapters.fernet_box import new_key

    print(new_key())
    return 0


def _keys_rotate(settings: Settings, args: argparse.Namespace) -> int:
    from neodyme_domain.tokens.signing_keys import SigningAlgorithm

    algorithm = SigningAlgorithm(args.algorithm) if args.algorithm else settings.signing_algorithm
    if algorithm is None:
        print(
            f"neodyme: {PREFIX}JWT_ALGORITHM is HS256, which has no keys to rotate: set it to"
            " EdDSA or ES256 (or pass --algorithm)",
            file=sys.stderr,
        )
        return EXIT_BAD_SETTINGS

    from neodyme_app.outbox_dispatcher import duration_text

    async def rotate(container: Container) -> str:
        key = await container.rotate_signing_key()(algorithm)
        wait = duration_text(key.active_from - container.clock().now())
        return (
            f"added key {key.kid} ({key.algorithm}), published now; it signs from"
            f" {key.active_from:%Y-%m-%d %H:%M:%S} UTC (in {wait}), once every server holds it."
            " The keys it replaces verify until their last token expires."
        )

    return _with_neodyme(settings, rotate, deliver=False)


def _keys_list(settings: Settings, args: argparse.Namespace) -> int:
    async def list_keys(container: Container) -> str:
        statuses = await container.list_signing_keys()()
        if not statuses:
            return "no signing keys (HS256 signs with NEODYME_SECRET_KEY)"
        lines = [f"{'kid':<44} {'alg':<6} {'state':<10} {'active from (UTC)':<20} retires at (UTC)"]
        for status in statuses:
            key = status.key
            retires = f"{status.retires_at:%Y-%m-%d %H:%M:%S}" if status.retires_at else "-"
            lines.append(
                f"{key.kid:<44} {key.algorithm:<6} {status.state:<10}"
                f" {key.active_from:%Y-%m-%d %H:%M:%S}  {retires}"
            )
        return "\n".join(lines)

    return _with_neodyme(settings, list_keys, deliver=False)


def _introspection_new_client(settings: Settings, args: argparse.Namespace) -> int:
    import hashlib
    import secrets

    secret = secrets.token_urlsafe(32)
    digest = hashlib.sha256(secret.encode()).hexdigest()
    print(f"client id:     {args.client_id}")
    print(f"client secret: {secret}   (shown once: give it to the resource server)")
    print(f"add to {PREFIX}INTROSPECTION_CLIENTS (comma-separated): {args.client_id}:{digest}")
    return 0


Seeded = tuple[str, "list[Credentials]"]
"""What a seeding prints, and the credentials of the accounts it made."""


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    from neodyme_app.credentials_csv import Credentials
    from neodyme_domain.use_cases import SeedCommand

    if args.realistic:
        return _seed_realistic(settings, args)
    if args.seed is not None:
        print("neodyme: --seed invents people: it goes with --realistic", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    password = _read_password(args.password_stdin)

    async def seed(container: Container) -> Seeded:
        first_names = FREQUENCY_LISTS["female_names"][:500] + FREQUENCY_LISTS["male_names"][:500]
        command = SeedCommand(args.users, password, first_names, FREQUENCY_LISTS["surnames"][:2000])
        users = await container.seed_users()(command)
        rows = [Credentials(user.email.value, password, user.full_name) for user in users]
        return f"seeded {len(users)} users, all with the password you gave", rows

    return _seeding(settings, args.credentials_csv, seed)


def _seed_realistic(settings: Settings, args: argparse.Namespace) -> int:
    """Each user its own invented name, address and password, each password hashed: a
    progress bar on stderr counts the hashes."""
    try:
        from neodyme_adapters.faker_people import MISSING_FAKER
    except ImportError as exc:  # the message says which extra to install
        print(f"neodyme: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    try:
        from tqdm import tqdm
    except ImportError:
        print(f"neodyme: {MISSING_FAKER}", file=sys.stderr)
        return EXIT_FAILURE

    from neodyme_app.credentials_csv import Credentials
    from neodyme_domain.use_cases import RealisticSeedCommand

    seed_value = secrets.randbelow(2**32) if args.seed is None else args.seed

    async def seed(container: Container) -> Seeded:
        with tqdm(total=args.users, unit="user", desc="hashing", file=sys.stderr) as bar:
            command = RealisticSeedCommand(args.users, seed_value, progress=bar.update)
            seeded = await container.seed_realistic_users()(command)
        rows = [Credentials(a.user.email.value, a.password, a.user.full_name) for a in seeded]
        message = (
            f"seeded {len(seeded)} users, each with an invented name, address and password"
            f" (--seed {seed_value} invents the same people again)"
        )
        return message, rows

    return _seeding(settings, args.credentials_csv, seed)


def _seeding(
    settings: Settings, csv_path: Path | None, seed: Callable[[Container], Awaitable[Seeded]]
) -> int:
    """Run ``seed``; with a credentials file, open it first (a path that cannot be written
    fails before any hash is spent), write its rows, and warn that it holds passwords."""
    from neodyme_app import credentials_csv

    if csv_path is None:

        async def just_seed(container: Container) -> str:
            return (await seed(container))[0]

        return _with_neodyme(settings, just_seed)
    try:
        file = credentials_csv.open_private(csv_path)
    except OSError as exc:
        print(f"neodyme: cannot write {csv_path}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILURE
    written = 0

    async def seed_and_write(container: Container) -> str:
        nonlocal written
        message, rows = await seed(container)
        written = credentials_csv.write(file, rows)
        return message

    with file:
        code = _with_neodyme(settings, seed_and_write)
    if code == 0:
        print(
            f"neodyme: warning: {csv_path} holds the passwords of {written} accounts in clear"
            " text (mode 0600): for load tests only; delete it when done",
            file=sys.stderr,
        )
    return code


def _settings(settings: Settings, args: argparse.Namespace) -> int:
    print(settings_table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neodyme", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        help="server processes (default: one per core; one for memory://)",
    )
    serve.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop", help="event loop")
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="migrate to the latest revision").set_defaults(run=_db_upgrade)
    db.add_parser(
        "purge-throttle", help="delete expired login throttle states (run now and then)"
    ).set_defaults(run=_db_purge_throttle)

    outbox = commands.add_parser("outbox", help="the e-mail outbox").add_subparsers(
        dest="outbox_command", required=True
    )
    outbox.add_parser(
        "status", help="how many e-mails are pending, failing and dead, and the oldest's age"
    ).set_defaults(run=_outbox_status)
    retry = outbox.add_parser(
        "retry",
        help="make the failing e-mails due now",
        description="Failing e-mails are sent at the running servers' next poll instead of"
        " after their backoff. With --dead, the e-mails given up after"
        " NEODYME_OUTBOX_MAX_ATTEMPTS are queued again too, with a full budget of attempts.",
    )
    retry.add_argument("--dead", action="store_true", help="also the given-up (dead) e-mails")
    retry.set_defaults(run=_outbox_retry)

    users = commands.add_parser("users", help="manage accounts").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser(
        "create",
        help="create an account (the only way to create a superuser)",
        description="The password is prompted for, or read from stdin with --password-stdin;"
        " it is never taken as an argument, where it would land in shell history and ps.",
    )
    create.add_argument("--email", required=True)
    create.add_argument("--full-name", required=True)
    create.add_argument("--superuser", action="store_true")
    create.add_argument("--password-stdin", action="store_true")
    create.set_defaults(run=_users_create)
    users.add_parser("list", help="list every account").set_defaults(run=_users_list)
    deactivate = users.add_parser(
        "deactivate", help="deactivate an account: its tokens stop working at once"
    )
    deactivate.add_argument("email")
    deactivate.set_defaults(run=_users_deactivate)
    reset_mfa = users.add_parser(
        "reset-mfa",
        help="turn an account's two-factor sign-in off (the user lost every factor)",
    )
    reset_mfa.add_argument("email")
    reset_mfa.set_defaults(run=_users_reset_mfa)

    mfa = commands.add_parser("mfa", help="two-factor sign-in: its encryption keys").add_subparsers(
        dest="mfa_command", required=True
    )
    mfa.add_parser(
        "new-key", help="print a new key for NEODYME_ENCRYPTION_KEYS (put it first)"
    ).set_defaults(run=_mfa_new_key)
    mfa.add_parser(
        "reseal",
        help="re-encrypt every TOTP secret and signing key under the first"
        " NEODYME_ENCRYPTION_KEYS key",
    ).set_defaults(run=_mfa_reseal)

    keys = commands.add_parser(
        "keys", help="the keys of EdDSA / ES256 access tokens (NEODYME_JWT_ALGORITHM)"
    ).add_subparsers(dest="keys_command", required=True)
    rotate = keys.add_parser(
        "rotate",
        help="add a signing key: published now, signing after NEODYME_JWT_KEY_PUBLISH_SECONDS;"
        " the old ones retire once their tokens have expired",
    )
    rotate.add_argument(
        "--algorithm",
        choices=["EdDSA", "ES256"],
        help="the new key's algorithm (default: NEODYME_JWT_ALGORITHM's)",
    )
    rotate.set_defaults(run=_keys_rotate)
    keys.add_parser("list", help="the signing keys and their states").set_defaults(run=_keys_list)

    introspection = commands.add_parser(
        "introspection", help="resource servers allowed to introspect tokens"
    ).add_subparsers(dest="introspection_command", required=True)
    new_client = introspection.add_parser(
        "new-client",
        help="print a new client secret and its NEODYME_INTROSPECTION_CLIENTS entry",
    )
    new_client.add_argument(
        "client_id", type=introspection_client_id, help="1-64 letters, digits, '.', '_' or '-'"
    )
    new_client.set_defaults(run=_introspection_new_client)

    seed = commands.add_parser(
        "seed",
        help="create many realistic users quickly (demos, load tests)",
        description="Creates N users with plausible names (from zxcvbn's name lists) and"
        " addresses at example.com. For speed, the password is hashed ONCE and that same"
        " hash is stored for every seeded user: they all share one password, which must"
        " pass the password policy. It is prompted for, or read from stdin with"
        " --password-stdin, and never printed. No welcome e-mails are queued and no events"
        " are recorded. With --realistic, every user gets an invented name (many languages"
        " and scripts), address and password of its own (the `realistic` extra: Faker), each"
        " hashed: slower, with a progress bar.",
    )
    seed.add_argument("--users", type=int, required=True, metavar="N")
    how = seed.add_mutually_exclusive_group()
    how.add_argument("--password-stdin", action="store_true")
    how.add_argument(
        "--realistic",
        action="store_true",
        help="each user its own invented name, address and password (one hash each)",
    )
    seed.add_argument(
        "--seed",
        type=int,
        help="with --realistic: invent the same people again (default: random, printed)",
    )
    seed.add_argument(
        "--credentials-csv",
        type=Path,
        metavar="PATH",
        help="write email,password,full_name rows for load tests (mode 0600: passwords!)",
    )
    seed.set_defaults(run=_seed)

    commands.add_parser("settings", help="list the NEODYME_* variables").set_defaults(run=_settings)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """``environ``: the variables to read settings from, ``os.environ`` by default."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env(environ)
    except SettingsError as exc:
        print(f"neodyme: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    try:
        return int(args.run(settings, args))
    except BrokenPipeError:  # `neodyme users list | head`: the reader has what it wanted
        return 0


if __name__ == "__main__":
    sys.exit(main())
