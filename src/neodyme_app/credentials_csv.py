"""The credentials file of load tests: ``email,password,full_name`` rows of seeded accounts,
written by ``neodyme seed --credentials-csv`` and read by bench/locustfile.py.

It holds passwords in clear text, so it is created readable and writable by its owner
only (mode 0600, also when it already existed with a wider mode), and the command that
writes it says so on stderr.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

FIELDS = ("email", "password", "full_name")


@dataclass(frozen=True, slots=True)
class Credentials:
    email: str
    password: str
    full_name: str


def open_private(path: Path) -> TextIO:
    """``path`` emptied (or created) with mode 0600, open for writing UTF-8 rows. Opened
    before the slow seeding starts, so that a path that cannot be written fails at once."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # os.open's mode applies only to a file it creates
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def write(file: TextIO, rows: Iterable[Credentials]) -> int:
    """Write the header and ``rows``; return how many rows."""
    writer = csv.writer(file)
    writer.writerow(FIELDS)
    count = 0
    for row in rows:
        writer.writerow((row.email, row.password, row.full_name))
        count += 1
    return count


def read(path: Path) -> list[Credentials]:
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise ValueError(f"{path}: expected the columns {','.join(FIELDS)}")
        return [Credentials(row["email"], row["password"], row["full_name"]) for row in reader]
