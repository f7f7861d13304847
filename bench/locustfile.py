"""The load test of `make load` (docs/testing.md, "Realistic test data"): simulated people
use a RUNNING neodyme the way real ones do, and the run ends with a verdict.

Each simulated user logs in as one account of the credentials file that
``neodyme seed --realistic --credentials-csv`` wrote (accounts with invented names in many
scripts, real-looking addresses and distinct passwords), then, between pauses of 0.5-2 s:

- 70% ``GET /api/v1/auth/me`` (every page of a client app checks who is signed in);
- 15% ``POST /api/v1/auth/refresh`` (the access token runs out; the pair rotates);
- 10% ``POST /api/v1/auth/login``, of which one in eight with a mistyped password: its
  401 is the expected answer, counted apart as ``login (wrong password)``, not an error;
- 5% ``POST /api/v1/auth/register`` of a newly invented person (the same generator); a 409
  for an address someone already has is an expected answer, counted as ``(address taken)``.

Anything else is an error. At the end the verdict is printed: the error rate and the 95th
percentile of all latencies against ``--max-error-rate`` (percent) and ``--max-p95-ms``;
the exit code is 1 when either is passed, 0 otherwise (locust's own table comes first).

Run by hand: ``locust -f bench/locustfile.py --headless --host http://127.0.0.1:8000
-u 20 -r 5 -t 30s --credentials bench/results/credentials.csv``.

Throttling: all simulated users come from one machine. Each sends its own
``X-Forwarded-For`` address (198.18.0.0/15, the range reserved for benchmarks); a server
started with ``NEODYME_TRUSTED_PROXIES=127.0.0.1`` counts them as the distinct clients they
stand for. Otherwise they share 127.0.0.1, whose ceiling of failed logins (100 in 15
minutes, NEODYME_LOGIN_MAX_FAILURES_PER_ADDRESS) a long run's mistyped passwords reach.
"""

from __future__ import annotations

import itertools
import json
import secrets
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.env import Environment

from neodyme_adapters.common_passwords import common_passwords
from neodyme_adapters.faker_people import FakerPeople
from neodyme_app import credentials_csv
from neodyme_domain.passwords import BOOK_RULES, RuleBasedPolicy, min_length, not_common
from neodyme_domain.ports import Person

API = "/api/v1/auth"
CREDENTIALS: list[credentials_csv.Credentials] = []
_NEXT_ROW: Iterator[credentials_csv.Credentials] = iter(())
_CLIENT_NUMBERS = itertools.count(1)
_VERDICT: list[str] = []

ANY_POLICY = RuleBasedPolicy((*BOOK_RULES, min_length(15), not_common(common_passwords())))
"""Registrations must pass the server's policy, which this file cannot see: passwords that
pass both profiles (book, and NIST with its blocklist) pass either."""

PEOPLE: Iterator[Person] = FakerPeople(ANY_POLICY).people(secrets.randbelow(2**32))


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    parser.add_argument(
        "--credentials",
        default="bench/results/credentials.csv",
        help="email,password,full_name rows of seeded accounts (neodyme seed --realistic)",
    )
    parser.add_argument("--max-error-rate", type=float, default=1.0, help="percent")
    parser.add_argument("--max-p95-ms", type=float, default=500.0, help="milliseconds")


@events.init.add_listener
def _load_credentials(environment: Environment, **_: Any) -> None:
    """Read the credentials and log in with the first: a file seeded into another database
    than the server's would otherwise turn the whole run into errors."""
    global _NEXT_ROW
    options = environment.parsed_options
    if options is None:  # locust used as a library: nothing to check
        return
    path = Path(options.credentials)
    try:
        CREDENTIALS[:] = credentials_csv.read(path)
    except (OSError, ValueError) as exc:
        _refuse(f"cannot read the credentials ({exc}): see `make load` in docs/testing.md")
    if not CREDENTIALS:
        _refuse(f"{path} holds no credentials")
    _NEXT_ROW = itertools.cycle(CREDENTIALS)
    status = _probe_login(str(environment.host), CREDENTIALS[0])
    if status != 200:
        _refuse(
            f"{CREDENTIALS[0].email} of {path} does not log in at {environment.host}"
            f" (HTTP {status}): seed the server's own database (delete {path} and run"
            " `make load` again, with the server's NEODYME_DATABASE_URL)"
        )


def _probe_login(host: str, row: credentials_csv.Credentials) -> int:
    body = json.dumps({"email": row.email, "password": row.password}).encode()
    request = urllib.request.Request(  # noqa: S310 - the --host the operator gave
        f"{host}{API}/login", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError as error:
        _refuse(f"no neodyme answers at {host} ({error}): start it first (make run)")


def _refuse(message: str) -> Any:
    print(f"load test not started: {message}", file=sys.stderr)
    raise SystemExit(2)


class Member(FastHttpUser):
    """One person with an account: signs in, then uses the app."""

    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.account = next(_NEXT_ROW)
        number = next(_CLIENT_NUMBERS)
        self.headers = {"X-Forwarded-For": f"198.18.{number // 256 % 256}.{number % 256}"}
        self.access = self.refresh_token = ""
        self.sign_in()

    def post(self, path: str, body: dict[str, str], name: str) -> Any:
        """A POST whose outcome the caller judges (``catch_response``)."""
        return self.client.post(
            f"{API}/{path}", json=body, headers=self.headers, name=name, catch_response=True
        )

    def sign_in(self) -> None:
        credentials = {"email": self.account.email, "password": self.account.password}
        with self.post("login", credentials, "login") as response:
            if response.status_code == 200:
                self.keep(response.json())
            else:
                response.failure(f"login: HTTP {response.status_code} {response.text[:200]}")

    def keep(self, tokens: dict[str, Any]) -> None:
        self.access, self.refresh_token = tokens["access_token"], tokens["refresh_token"]

    @task(70)
    def me(self) -> None:
        with self.client.get(
            f"{API}/me",
            headers={**self.headers, "Authorization": f"Bearer {self.access}"},
            name="me",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"me: HTTP {response.status_code} {response.text[:200]}")
                self.sign_in()

    @task(15)
    def refresh(self) -> None:
        with self.post("refresh", {"refresh_token": self.refresh_token}, "refresh") as response:
            if response.status_code == 200:
                self.keep(response.json())
            else:
                response.failure(f"refresh: HTTP {response.status_code} {response.text[:200]}")
                self.sign_in()

    @task(10)
    def login(self) -> None:
        if secrets.randbelow(8):
            self.sign_in()
            return
        typo = {"email": self.account.email, "password": self.account.password[:-1]}
        with self.post("login", typo, "login (wrong password)") as response:
            if response.status_code == 401:
                response.success()
            else:
                response.failure(f"wrong password: HTTP {response.status_code}, not 401")

    @task(5)
    def register(self) -> None:
        person = next(PEOPLE)
        body = {"email": person.email, "full_name": person.full_name, "password": person.password}
        with self.post("register", body, "register") as response:
            if response.status_code == 409:
                response.request_meta["name"] = "register (address taken)"
                response.success()
            elif response.status_code != 201:
                response.failure(f"register: HTTP {response.status_code} {response.text[:200]}")


@events.quitting.add_listener
def _judge(environment: Environment, **_: Any) -> None:
    """The verdict: printed last (``_print_verdict``), and the exit code."""
    options = environment.parsed_options
    total = environment.stats.total
    if options is None or not total.num_requests:
        return
    error_rate = 100 * total.num_failures / total.num_requests
    p95 = total.get_response_time_percentile(0.95) or 0.0
    failed = error_rate > options.max_error_rate or p95 > options.max_p95_ms
    expected = {
        name: entry.num_requests
        for (name, _method), entry in environment.stats.entries.items()
        if name in ("login (wrong password)", "register (address taken)")
    }
    _VERDICT[:] = [
        f"requests: {total.num_requests}, {total.total_rps:.1f}/s;"
        f" expected refusals (not errors): {expected or 'none'}",
        f"error rate: {error_rate:.2f}% (threshold {options.max_error_rate}%)",
        f"p95 latency: {p95:.0f} ms (threshold {options.max_p95_ms:.0f} ms)",
        f"verdict: {'FAIL' if failed else 'PASS'}",
    ]
    environment.process_exit_code = 1 if failed else 0


@events.quit.add_listener
def _print_verdict(exit_code: int, **_: Any) -> None:
    if _VERDICT:
        print("\n".join(["", "== load test verdict", *_VERDICT]))
