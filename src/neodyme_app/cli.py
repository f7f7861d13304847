"""The ``neodyme`` command: serve, migrate, manage users.

Settings come from ``NEODYME_*`` variables and are validated before anything starts: a bad
value prints one line naming it and exits with code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence

from neodyme_app.config import PREFIX, Settings, SettingsError, settings_table

EXIT_BAD_SETTINGS = 2
EXIT_FAILURE = 1


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    """Granian, not uvicorn: in bench/compare_servers.sh it served 1.5x the requests/s of
    uvicorn (uvloop + httptools) on GET /health and 1.15x on GET /auth/me, one worker."""
    from granian import Granian
    from granian.constants import Interfaces

    # Workers re-read settings from the environment: hand them the generated dev secret.
    os.environ[PREFIX + "SECRET_KEY"] = settings.secret_key
    Granian(
        "neodyme_app.http.asgi:app_from_environment",
        factory=True,
        interface=Interfaces.ASGI,
        address=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),  # type: ignore[arg-type]
        log_access=settings.log_level == "DEBUG",
    ).serve()
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from neodyme_adapters.sqlalchemy import upgrade

    if settings.uses_memory_storage:
        print("memory:// has no schema to migrate")
        return 0
    upgrade(settings.database_url)
    print("database is at the latest revision")
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise SystemExit("neodyme: the passwords do not match")
    return first


def _users_create(settings: Settings, args: argparse.Namespace) -> int:
    from neodyme_app.embedded import open_neodyme
    from neodyme_domain.errors import DomainError
    from neodyme_domain.use_cases import RegisterCommand

    password = _read_password(args.password_stdin)

    async def create() -> str:
        async with open_neodyme(settings, migrate=False) as container:
            command = RegisterCommand(
                args.email, args.full_name, password, is_superuser=args.superuser
            )
            result = await container.register_user()(command)
            return str(result.user.id)

    try:
        user_id = asyncio.run(create())
    except DomainError as exc:
        print(f"neodyme: {exc.code}: {exc.message}", file=sys.stderr)
        return EXIT_FAILURE
    kind = "superuser" if args.superuser else "user"
    print(f"created {kind} {args.email} with id {user_id}")
    return 0


def _settings(settings: Settings, args: argparse.Namespace) -> int:
    print(settings_table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neodyme", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="server processes")
    serve.set_defaults(run=_serve)

    db = commands.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="migrate to the latest revision").set_defaults(run=_db_upgrade)

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

    commands.add_parser("settings", help="list the NEODYME_* variables").set_defaults(run=_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"neodyme: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    return int(args.run(settings, args))


if __name__ == "__main__":
    sys.exit(main())
