"""`neodyme seed` takes its password like `users create` (stdin or a prompt, never an
argument), holds it to the password policy, and never prints it. The real command, on
memory:// (nothing on disk)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from neodyme_app.cli import build_parser

ENV = {
    "PATH": "/usr/bin:/bin",
    "NEODYME_ENVIRONMENT": "testing",
    "NEODYME_SECRET_KEY": "s" * 48,
    "NEODYME_DATABASE_URL": "memory://",
    "NEODYME_ARGON2_MEMORY_KIB": "64",
    "NEODYME_ARGON2_TIME_COST": "1",
}


def seed(stdin: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neodyme_app.cli", "seed", "--users", "3", "--password-stdin"],
        input=stdin,
        env=ENV,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_seed_reads_the_password_from_stdin_and_never_prints_it(tmp_path: Path) -> None:
    password = "Seeded-Password-1!"

    done = seed(password + "\n", tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "seeded 3 users, all with the password you gave\n"
    assert password not in done.stdout + done.stderr


def test_a_weak_seed_password_is_one_line_exit_1_and_seeds_nothing(tmp_path: Path) -> None:
    done = seed("password\n", tmp_path)

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "neodyme: WEAK_PASSWORD: Password requirements not met: uppercase, digit, special"
    ]
    assert done.stdout == ""  # nothing seeded, nothing echoed


def test_seed_takes_no_password_argument() -> None:
    # An argument lands in shell history and in `ps`: there is none to give.
    with pytest.raises(SystemExit):
        build_parser().parse_args(["seed", "--users", "3", "--password", "Seeded-Password-1!"])
