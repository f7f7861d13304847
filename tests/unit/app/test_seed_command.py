"""`neodyme seed` takes its password like `users create` (stdin or a prompt, never an
argument), holds it to the password policy, and never prints it. The real command, on
memory:// (nothing on disk)."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from neodyme_app import credentials_csv
from neodyme_app.cli import build_parser, main
from neodyme_domain import BOOK_POLICY

ENV = {
    "PATH": "/usr/bin:/bin",
    "NEODYME_ENVIRONMENT": "testing",
    "NEODYME_SECRET_KEY": "s" * 48,
    "NEODYME_DATABASE_URL": "memory://",
    "NEODYME_ARGON2_MEMORY_KIB": "64",
    "NEODYME_ARGON2_TIME_COST": "1",
}


def run(argv: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv],
        input=stdin,
        env=ENV,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def seed(stdin: str, cwd: Path, *more: str) -> subprocess.CompletedProcess[str]:
    argv = ["-m", "neodyme_app.cli", "seed", "--users", "3", "--password-stdin", *more]
    return run(argv, cwd, stdin)


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


# --- --realistic and --credentials-csv: in this process (faster than a new one each) -----------


def run_seed(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["seed", *args], environ=ENV)
    out, err = capsys.readouterr()
    return code, out, err


def test_realistic_seeding_writes_private_credentials_and_shows_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "credentials.csv"

    code, out, err = run_seed(
        capsys, "--users", "40", "--realistic", "--seed", "7", "--credentials-csv", str(csv_path)
    )

    assert code == 0, err
    assert out == (
        "seeded 40 users, each with an invented name, address and password"
        " (--seed 7 invents the same people again)\n"
    )
    assert "40/40" in err  # the progress bar, on stderr
    assert err.splitlines()[-1] == (
        f"neodyme: warning: {csv_path} holds the passwords of 40 accounts in clear text"
        " (mode 0600): for load tests only; delete it when done"
    )
    assert stat.S_IMODE(csv_path.stat().st_mode) == 0o600
    rows = credentials_csv.read(csv_path)
    assert len(rows) == 40
    assert len({row.email.lower() for row in rows}) == 40
    assert len({row.password for row in rows}) == 40
    for row in rows:
        BOOK_POLICY.check(row.password)
        assert row.password not in out + err
    assert any(not row.full_name.isascii() for row in rows)  # UTF-8 round trip


def test_the_same_seed_writes_the_same_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    for path in (first, second):
        code, _, err = run_seed(
            capsys, "--users", "5", "--realistic", "--seed", "99", "--credentials-csv", str(path)
        )
        assert code == 0, err

    assert first.read_text(encoding="utf-8") == second.read_text(encoding="utf-8")


def test_an_existing_credentials_file_is_replaced_and_made_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "credentials.csv"
    csv_path.write_text("old,rows,here\n" * 50)
    csv_path.chmod(0o644)

    code, out, err = run_seed(
        capsys, "--users", "2", "--realistic", "--credentials-csv", str(csv_path)
    )

    assert code == 0, err
    assert stat.S_IMODE(csv_path.stat().st_mode) == 0o600
    assert len(credentials_csv.read(csv_path)) == 2
    assert "(--seed " in out  # a random seed, printed so that the run can be repeated


def test_shared_password_seeding_can_write_credentials_too(tmp_path: Path) -> None:
    csv_path = tmp_path / "credentials.csv"
    password = "Seeded-Password-1!"

    done = seed(password + "\n", tmp_path, "--credentials-csv", str(csv_path))

    assert done.returncode == 0, done.stderr
    assert done.stdout == "seeded 3 users, all with the password you gave\n"
    rows = credentials_csv.read(csv_path)
    assert [row.password for row in rows] == [password] * 3
    assert len({row.email for row in rows}) == 3
    assert stat.S_IMODE(csv_path.stat().st_mode) == 0o600
    assert password not in done.stdout + done.stderr


def test_an_unwritable_credentials_path_fails_before_seeding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-directory" / "credentials.csv"

    code, out, err = run_seed(
        capsys, "--users", "3", "--realistic", "--credentials-csv", str(missing)
    )

    assert code == 1
    assert err == f"neodyme: cannot write {missing}: No such file or directory\n"  # no progress
    assert out == ""


def test_realistic_seeding_takes_no_password() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["seed", "--users", "3", "--realistic", "--password-stdin"])


def test_a_seed_without_realistic_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_seed(capsys, "--users", "3", "--seed", "4")

    assert (code, out) == (2, "")
    assert err == "neodyme: --seed invents people: it goes with --realistic\n"


def test_without_the_realistic_extra_the_command_says_what_to_install(tmp_path: Path) -> None:
    # A process of its own where Faker cannot be imported, as where the extra is missing.
    without_faker = (
        "import sys; sys.modules['faker'] = None; from neodyme_app.cli import main;"
        " sys.exit(main(['seed', '--users', '3', '--realistic']))"
    )
    done = run(["-c", without_faker], tmp_path)

    assert done.returncode == 1
    assert done.stderr == (
        "neodyme: realistic people need Faker and tqdm, which neodyme does not install by"
        " default: pip install 'neodyme[realistic]'\n"
    )
