"""Micro-benchmarks of the hot pure code, as ratios to a fixed reference workload.

`make bench-micro` prints them, `make bench-baseline` writes bench/micro_baseline.json,
`make bench-check` fails when one is more than 30% worse than that baseline:

    .venv/bin/python -m bench.micro [--write-baseline [--runs 5] | --check] [--only NAME,...]

``--only`` measures the benchmarks named; with ``--write-baseline`` it writes them into
the baseline and keeps the others' figures as they were (a new benchmark gets a baseline
without the old ones being measured again on a day of other noise).

An absolute time means nothing on a shared machine (another process, a slower core, a
busy neighbour on the host), and nothing from one machine to the next. So each subject
(the password policy check, an access token issued and verified, a login on the memory
adapters with cheap argon2, an access token verified as a resource server verifies it) is
timed in rounds that alternate with a reference workload of a similar nature and a fixed
size: ref, subject, ref, subject, ..., ref. The figure is the subject's fastest round
over the reference's fastest (``Rounds.ratio`` says why the fastest): 1.5 means "a round
of the subject costs 1.5 rounds of the reference".

A subject that is weighed against another one (``Benchmark.against``: an EdDSA or ES256
token checked with the key of the JWKS against an HS256 token checked with the secret) is
also timed in rounds alternating with that one, and the ratio of the two is printed below
the table, with their operations per second of CPU time.
Rounds are timed in process CPU time (every thread of this process, the argon2 workers'
included), so the time spent waiting for a core that another process holds is not
counted at all. docs/performance.md gives the spread measured on a busy 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import hashlib
import hmac
import http.server
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

from bench.history import machine_identity, revision
from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS
from neodyme_app.config import Environment, JwtAlgorithm, Settings
from neodyme_app.container import build_container
from neodyme_app.embedded import open_neodyme
from neodyme_domain.errors import WeakPassword
from neodyme_domain.model import User
from neodyme_domain.use_cases import AuthenticateCommand, RegisterCommand

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "bench/micro_baseline.json"
BOUND = 0.30
"""How much worse than the baseline a ratio may get before `make bench-check` fails."""
ROUNDS = 41
"""Timed subject rounds per benchmark, each between two reference rounds."""
WARMUP_ROUNDS = 3

# The fixed workloads. Changing one changes what a ratio means: the baseline records them
# and `make bench-check` refuses to compare against a baseline of other workloads.
REFERENCE_REPEATS = 120
POLICY_REPEATS = 300
TOKEN_REPEATS = 120
LOGIN_REPEATS = 30
VERIFY_REPEATS = 120
WORKLOAD = {
    "reference": REFERENCE_REPEATS,
    "policy": POLICY_REPEATS,
    "token": TOKEN_REPEATS,
    "login": LOGIN_REPEATS,
    "verify": VERIFY_REPEATS,
    "rounds": ROUNDS,
}
RESOURCE_SERVER_CLAIMS = ["exp", "iat", "sub"]
"""What a resource server requires of a token, as examples/resource_server.py does."""

PASSWORD = "Bench-Password-1!"
POLICY_PASSWORDS = (
    PASSWORD,
    "Tr0ub4dor&3",
    "Ünïcödé-Pässwörd-9",
    # Typed on a full-width keyboard: NFKC folds it to "Wide-Pass-1", a normalisation that
    # does work (the other passwords are already in their NFKC form).
    "".join(chr(ord(ch) + 0xFEE0) for ch in "Wide-Pass-1"),
    "correct horse battery staple",  # weak: no upper-case letter, no digit
    "SHORT1!",  # weak: too short, no lower-case letter
)
"""What the policy checks in each repeat: accepted passwords and refused ones (the refusal
raises WeakPassword naming every unmet rule, which registration forms hit often)."""

_REFERENCE_CLAIMS = {
    "sub": "3f2b8f0e-5c1d-4a7e-9b6a-2d4c8e1f0a9b",
    "type": "access",
    "jti": "9c4e2a7b5d1f4e8a8b3c6d2e1f0a9b7c",
    "permissions": ["users:read", "users:write"],
    "ver": 3,
    "iat": 1_700_000_000,
    "exp": 1_700_000_900,
    "iss": "neodyme",
    "aud": "neodyme-api",
}
_REFERENCE_KEY = b"reference-workload-key-of-32-bytes!!"
_REFERENCE_TEXT = "Reference-Workload: Ünïcödé text, digits 0123456789 & symbols!"
_REFERENCE_BUFFER = bytes(range(256)) * 64  # 16 KiB


def reference_workload() -> None:
    """What the subjects are made of, in fixed amounts and nothing of neodyme's: a JSON
    round trip of a token's claims, an HMAC-SHA256 and base64url as in signing a JWT, a
    case-fold and character-class scan of a Unicode text as in the policy, and a hash of a
    16 KiB buffer for C code working through memory (argon2 in a login). Only the standard
    library, whose speed changes with the interpreter and the machine, never with us."""
    for _ in range(REFERENCE_REPEATS):
        text = json.dumps(_REFERENCE_CLAIMS, separators=(",", ":"), sort_keys=True)
        claims = json.loads(text)
        mac = hmac.new(_REFERENCE_KEY, text.encode(), hashlib.sha256).digest()
        base64.urlsafe_b64decode(base64.urlsafe_b64encode(mac))
        folded = _REFERENCE_TEXT.casefold()
        sum(1 for ch in folded if ch.isalnum() or ch.isspace())
        hashlib.blake2b(_REFERENCE_BUFFER).digest()
        claims["ver"] += 1


def unprepared() -> None:
    """The preparation of a round that needs none."""


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    what: str
    run: Callable[[], object]
    """One round of the subject's fixed workload."""
    prepare: Callable[[], object] = unprepared
    """Run before each round, untimed: what puts the subject back where a round starts."""
    operations: int = 0
    """What one round does, counted (0: not counted): the operations per second printed."""
    against: str | None = None
    """Another benchmark's name: the two are also timed in alternating rounds, and the
    subject's cost printed as a ratio to that one's (same run, same stretch of time)."""


def settings(algorithm: JwtAlgorithm = JwtAlgorithm.HS256) -> Settings:
    """The unit tier's: in-memory storage, cheap argon2 (64 KiB, one pass), defaults else;
    access tokens signed with ``algorithm``."""
    return Settings(
        environment=Environment.TESTING,
        database_url="memory://",
        secret_key="micro-benchmark-secret-key-of-32-bytes",
        argon2_memory_kib=CHEAP_PARAMETERS.memory_kib,
        argon2_time_cost=CHEAP_PARAMETERS.time_cost,
        jwt_algorithm=algorithm,
    )


async def asymmetric_token(algorithm: JwtAlgorithm, user: User) -> tuple[str, dict[str, Any]]:
    """An access token for ``user`` from neodyme on ``algorithm`` (its key made and loaded
    as `neodyme serve` does at start: ``open_neodyme``), and the JWKS it publishes, the
    document of GET /.well-known/jwks.json."""
    async with open_neodyme(settings(algorithm)) as container:
        now = container.clock().now()
        token = container.tokens().issue_access(user, now, "session-1")
        ring = container.key_ring()
        assert ring is not None, f"{algorithm}: no key ring"
        return token, ring.jwks(now)


def jwks_key(token: str, jwks: dict[str, Any]) -> tuple[jwt.PyJWK, int]:
    """The key that verifies ``token``, as a resource server gets it: ``jwt.PyJWKClient``
    fetching ``jwks`` over HTTP (from a server on a loopback port, gone once fetched),
    and caching it. Also how many fetches the server answered."""
    body = json.dumps(jwks).encode()
    fetches = 0

    class Jwks(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            nonlocal fetches
            fetches += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/jwk-set+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Jwks) as server:
        thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
        thread.start()
        try:
            port = server.server_address[1]
            client = jwt.PyJWKClient(
                f"http://127.0.0.1:{port}/.well-known/jwks.json", cache_keys=True
            )
            key = client.get_signing_key_from_jwt(token)
            # The cached key, as the client answers every later token of that kid.
            assert client.get_signing_key_from_jwt(token) is key
        finally:
            server.shutdown()
            thread.join()
    return key, fetches


def resource_server_check(
    token: str, key: Any, algorithm: str, config: Settings
) -> Callable[[], None]:
    """A round of a resource server's check of ``token``: signature, the algorithm pinned,
    issuer, audience, expiry (by the wall clock) and the claims it requires, decoded with
    PyJWT, ``VERIFY_REPEATS`` times. The key is fetched before, never in a round."""

    def verify() -> None:
        for _ in range(VERIFY_REPEATS):
            jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=config.jwt_audience,
                issuer=config.jwt_issuer,
                options={"require": RESOURCE_SERVER_CLAIMS},
            )

    return verify


@contextmanager
def subjects() -> Iterator[list[Benchmark]]:
    """The subjects, as the app wires them: the container built from ``settings()``, one
    registered account to log in."""
    container = build_container(settings())
    loop = asyncio.new_event_loop()
    try:
        command = RegisterCommand("bench@example.com", "Bench", PASSWORD)
        user = loop.run_until_complete(container.register_user()(command)).user
        database = container.memory_database()
        registered = database.state.copy()
        policy, tokens, clock = container.password_policy(), container.tokens(), container.clock()
        authenticate = container.authenticate_user()
        login = AuthenticateCommand("bench@example.com", PASSWORD)

        def check_policy() -> None:
            for _ in range(POLICY_REPEATS):
                for password in POLICY_PASSWORDS:
                    try:  # noqa: SIM105 (contextlib.suppress would be measured too)
                        policy.check(password)
                    except WeakPassword:
                        pass

        def issue_and_verify() -> None:
            for _ in range(TOKEN_REPEATS):
                tokens.decode_access(tokens.issue_access(user, clock.now(), "session-1"))

        async def logins() -> None:
            for _ in range(LOGIN_REPEATS):
                await authenticate(login)

        # Resource servers checking access tokens of the same user and claims: HS256 with
        # the shared secret, EdDSA and ES256 with the key of neodyme's JWKS.
        config = container.settings()
        hs256 = tokens.issue_access(user, clock.now(), "session-1")
        checks = {"jwt_hs256": resource_server_check(hs256, config.secret_key, "HS256", config)}
        for algorithm in (JwtAlgorithm.EDDSA, JwtAlgorithm.ES256):
            token, jwks = loop.run_until_complete(asymmetric_token(algorithm, user))
            key, _ = jwks_key(token, jwks)
            name = f"jwks_{algorithm.value.lower()}"
            checks[name] = resource_server_check(token, key, algorithm.value, config)

        yield [
            Benchmark(
                "policy",
                f"password policy check, {len(POLICY_PASSWORDS)} passwords",
                check_policy,
                operations=POLICY_REPEATS * len(POLICY_PASSWORDS),
            ),
            Benchmark(
                "token",
                "access token issued and verified (JwtTokenService)",
                issue_and_verify,
                operations=TOKEN_REPEATS,
            ),
            Benchmark(
                "login",
                "AuthenticateUser on memory:// with cheap argon2",
                lambda: loop.run_until_complete(logins()),
                # A write transaction on memory:// copies the whole state (refresh tokens,
                # events), so each login would cost more than the one before: every round
                # starts from the state right after the registration instead.
                prepare=lambda: setattr(database, "state", registered.copy()),
                operations=LOGIN_REPEATS,
            ),
            Benchmark(
                "jwt_hs256",
                "resource server: HS256 access token, jwt.decode with the secret",
                checks["jwt_hs256"],
                operations=VERIFY_REPEATS,
            ),
            Benchmark(
                "jwks_eddsa",
                "resource server: EdDSA access token, jwt.decode with the JWKS key",
                checks["jwks_eddsa"],
                operations=VERIFY_REPEATS,
                against="jwt_hs256",
            ),
            Benchmark(
                "jwks_es256",
                "resource server: ES256 access token, jwt.decode with the JWKS key",
                checks["jwks_es256"],
                operations=VERIFY_REPEATS,
                against="jwt_hs256",
            ),
        ]
    finally:
        container.hasher().close()
        loop.close()


Timer = Callable[[], int]


@dataclass(frozen=True, slots=True)
class Rounds:
    """The times of alternating rounds: ``reference`` has one more, first and last."""

    reference: list[int]
    subject: list[int]

    @property
    def ratio(self) -> float:
        """The subject's fastest round over the reference's fastest. On a busy machine
        noise only ever adds time (a cache that another process emptied, a migration to
        another core, an interrupt), and it comes in bursts that hit a few rounds hard: the
        fastest round of each is the one nearest the code's own cost. Alternation makes
        both minima come from the same stretch of the machine's day."""
        return min(self.subject) / min(self.reference)

    def pair_ratios(self) -> list[float]:
        """Each subject round over the mean of the reference rounds either side of it: how
        the noise spread the rounds (their quartiles are printed beside the figure)."""
        around = zip(self.reference, self.reference[1:], strict=False)
        return [spent / ((a + b) / 2) for spent, (a, b) in zip(self.subject, around, strict=True)]


def alternate(
    reference: Callable[[], object],
    subject: Benchmark,
    rounds: int,
    timer: Timer = time.process_time_ns,
) -> Rounds:
    """ref, subject, ref, subject, ..., ref."""
    timed = Rounds([_timed(reference, timer)], [])
    for _ in range(rounds):
        subject.prepare()
        timed.subject.append(_timed(subject.run, timer))
        timed.reference.append(_timed(reference, timer))
    return timed


def _timed(work: Callable[[], object], timer: Timer) -> int:
    """One call of ``work`` with the garbage collector held off (as timeit does): a
    collection falls in whichever round happens to cross its threshold, which is noise.
    The garbage of the round before is collected first, untimed."""
    gc.collect()
    gc.disable()
    try:
        start = timer()
        work()
        return max(1, timer() - start)
    finally:
        gc.enable()


def measure(rounds: int = ROUNDS, only: Collection[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every benchmark (or those named in ``only``): its ratio, the quartiles of its
    rounds' pair ratios (the noise) and its operations per second of CPU time, after a
    few untimed rounds that warm the caches; for one weighed ``against`` another, the same
    of their own alternating rounds, under ``versus``."""
    figures: dict[str, dict[str, Any]] = {}
    with subjects() as benchmarks:
        named = {benchmark.name: benchmark for benchmark in benchmarks}
        if unknown := sorted(set(only or ()) - named.keys()):
            raise ValueError(f"no benchmark {', '.join(unknown)} (there are: {', '.join(named)})")
        # What the imports and the container made lives until the end: out of the
        # collector's sight, each round's collection walks only that round's garbage.
        gc.collect()
        gc.freeze()
        try:
            for benchmark in benchmarks:
                if only is not None and benchmark.name not in only:
                    continue
                alternate(reference_workload, benchmark, WARMUP_ROUNDS)
                timed = alternate(reference_workload, benchmark, rounds)
                figures[benchmark.name] = {"what": benchmark.what, **spread(timed)}
                if benchmark.operations:
                    figures[benchmark.name]["ops_per_s"] = per_second(
                        benchmark.operations, timed.subject
                    )
                if benchmark.against is not None:
                    other = named[benchmark.against]
                    figures[benchmark.name]["versus"] = versus(benchmark, other, rounds)
        finally:
            gc.unfreeze()
    return figures


def spread(timed: Rounds) -> dict[str, Any]:
    q1, median, q3 = statistics.quantiles(timed.pair_ratios(), n=4)
    return {"ratio": round(timed.ratio, 4), "pairs": [round(q1, 4), round(median, 4), round(q3, 4)]}


def per_second(operations: int, rounds: list[int]) -> float:
    """Operations per second of CPU time in the fastest of ``rounds`` (nanoseconds)."""
    return round(operations * 1e9 / min(rounds), 1)


def versus(
    subject: Benchmark, other: Benchmark, rounds: int, timer: Timer = time.process_time_ns
) -> dict[str, Any]:
    """``subject`` weighed against ``other`` in alternating rounds, ``other`` first and
    last: the cost ratio of a round (as against the reference workload), each one's
    operations per second and the ratio of those (the subject's throughput over the
    other's). Both must count their operations and need no preparing (``other`` runs in
    the reference's place, where nothing prepares it)."""
    if not (subject.operations and other.operations):
        raise ValueError(f"{subject.name} against {other.name}: both must count operations")
    if not (subject.prepare is unprepared and other.prepare is unprepared):
        raise ValueError(f"{subject.name} against {other.name}: rounds must need no preparing")
    timed = alternate(other.run, subject, rounds, timer)
    ops, other_ops = (
        per_second(subject.operations, timed.subject),
        per_second(other.operations, timed.reference),
    )
    return {
        "name": other.name,
        **spread(timed),
        "ops_per_s": ops,
        "other_ops_per_s": other_ops,
        "throughput_ratio": round(ops / other_ops, 4),
    }


@dataclass(frozen=True, slots=True)
class Regression:
    name: str
    baseline: float | None
    now: float | None
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


def compare(
    baseline: dict[str, Any], now: dict[str, float], bound: float = BOUND
) -> list[Regression]:
    """What fails the check: a ratio more than ``bound`` worse (higher) than the baseline's,
    a benchmark without a baseline or without a figure now, or a baseline written for other
    workloads (its ratios then mean something else)."""
    if baseline.get("workload") != WORKLOAD:
        return [
            Regression(
                "workload",
                None,
                None,
                f"the baseline was written for {baseline.get('workload')}, the benchmarks are "
                f"now {WORKLOAD}: run `make bench-baseline` and commit it",
            )
        ]
    expected = {name: float(entry["ratio"]) for name, entry in baseline["benchmarks"].items()}
    failures = []
    for name in sorted(expected.keys() | now.keys()):
        before, after = expected.get(name), now.get(name)
        if before is None:
            failures.append(Regression(name, None, after, "no baseline: run `make bench-baseline`"))
        elif after is None:
            failures.append(Regression(name, before, None, "in the baseline but not measured"))
        elif after > before * (1 + bound):
            change = (after / before - 1) * 100
            failures.append(
                Regression(
                    name,
                    before,
                    after,
                    f"ratio {after:.3f} now, {before:.3f} in the baseline: {change:+.0f}% "
                    f"(more than +{bound:.0%})",
                )
            )
    return failures


def baseline_document(runs: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """The baseline: per benchmark, the median of several runs' ratios, with every run's
    ratio kept so that the spread it was written under can be read back."""
    names = sorted(runs[0])
    commit, dirty = revision(ROOT)
    return {
        "commit": commit,
        "dirty": dirty,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_identity(),
        "bound": BOUND,
        "workload": WORKLOAD,
        "benchmarks": {
            name: {
                "what": runs[0][name]["what"],
                "ratio": round(statistics.median(run[name]["ratio"] for run in runs), 4),
                "runs": [run[name]["ratio"] for run in runs],
            }
            for name in names
        },
    }


def merge_baseline(
    baseline: dict[str, Any], runs: list[dict[str, dict[str, Any]]], machine: dict[str, Any]
) -> dict[str, Any]:
    """``baseline`` with the benchmarks of ``runs`` written anew (a new benchmark, or one
    whose code changed on purpose) and every other one kept as it was, each written one
    carrying its own commit and date. Refused when the workloads the baseline was written
    for changed (its other ratios would mean something else) or when ``machine`` (this
    one) is not the baseline's (its ratios would not be comparable with the others)."""
    then = baseline.get("workload", {})
    changed = sorted(key for key in then if then[key] != WORKLOAD.get(key))
    if changed:
        raise ValueError(
            f"the baseline's workloads {', '.join(changed)} changed: write the whole baseline"
        )
    if differ := _machine_differences(baseline.get("machine", {}), machine):
        raise ValueError(
            f"the baseline was written on another machine ({', '.join(differ)}):"
            " write the whole baseline"
        )
    written = baseline_document(runs)
    provenance = {key: written[key] for key in ("commit", "dirty", "date")}
    return baseline | {
        "workload": WORKLOAD,
        "benchmarks": baseline["benchmarks"]
        | {name: entry | provenance for name, entry in written["benchmarks"].items()},
    }


def print_figures(figures: dict[str, dict[str, Any]], baseline: dict[str, Any] | None) -> None:
    known = (baseline or {}).get("benchmarks", {})
    print(
        f"{'benchmark':10} {'ratio':>6} {'baseline':>9} {'change':>7}"
        f"  {'pairs: q1 / median / q3':>23} {'ops/s':>9}  what"
    )
    for name, figure in figures.items():
        before = known.get(name, {}).get("ratio")
        change = "" if before is None else f"{(figure['ratio'] / before - 1) * 100:+.1f}%"
        pairs = " / ".join(f"{value:.3f}" for value in figure["pairs"])
        ops = f"{figure['ops_per_s']:,.0f}" if "ops_per_s" in figure else ""
        print(
            f"{name:10} {figure['ratio']:6.3f} {'' if before is None else f'{before:.3f}':>9}"
            f" {change:>7}  {pairs:>23} {ops:>9}  {figure['what']}"
        )
    weighed = {name: figure["versus"] for name, figure in figures.items() if "versus" in figure}
    if weighed:
        print("\nweighed against each other, in their own alternating rounds (ops/s of CPU time):")
    for name, against in weighed.items():
        print(f"  {versus_line(name, against)}")


def versus_line(name: str, against: dict[str, Any]) -> str:
    pairs = " / ".join(f"{value:.3f}" for value in against["pairs"])
    return (
        f"{name} {against['ops_per_s']:,.0f}/s vs {against['name']}"
        f" {against['other_ops_per_s']:,.0f}/s: {against['throughput_ratio']:.3f}x the"
        f" throughput, {against['ratio']:.3f}x the cost (pairs {pairs})"
    )


def machine_note(then: dict[str, Any], now: dict[str, Any]) -> str:
    """The ratios cancel a machine's speed, not its kind: another CPU or Python weighs on
    interpreted code and C code differently. Said, not failed on; the baseline's machine
    is the one to write it on again if the check fails for that reason."""
    differ = _machine_differences(then, now)
    if not differ:
        return f"baseline machine: this one ({now['cpu']}, Python {now['python']})"
    return f"note: the baseline was written on another machine ({', '.join(differ)})"


def _machine_differences(then: dict[str, Any], now: dict[str, Any]) -> list[str]:
    differ = [key for key in ("cpu", "cores", "python") if then.get(key) != now.get(key)]
    return [f"{key} {then.get(key)} -> {now.get(key)}" for key in differ]


def _shown(path: Path) -> str:
    """``path`` relative to the checkout when it is inside it, as the Makefile names it."""
    resolved = path.resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else str(path)


def load_baseline(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.exists() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="fail on a ratio 30%% worse")
    action.add_argument("--write-baseline", action="store_true", help="median of --runs runs")
    parser.add_argument("--runs", type=int, default=5, help="with --write-baseline")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument(
        "--only",
        type=lambda names: [name for name in names.split(",") if name],
        metavar="NAME,...",
        help="these benchmarks alone; with --write-baseline, written into the baseline"
        " beside the others, which are kept",
    )
    options = parser.parse_args()
    baseline = load_baseline(options.baseline)

    if options.write_baseline:
        if options.only and baseline is None:
            sys.exit(f"no baseline at {_shown(options.baseline)} to add to: leave out --only")
        runs = []
        for number in range(1, options.runs + 1):
            runs.append(measure(only=options.only))
            print(f"run {number}/{options.runs}")
            print_figures(runs[-1], None)
        if options.only and baseline is not None:
            try:
                document = merge_baseline(baseline, runs, machine_identity())
            except ValueError as exc:
                sys.exit(f"{_shown(options.baseline)} left as it was: {exc}")
        else:
            document = baseline_document(runs)
        options.baseline.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        written = ", ".join(
            f"{n} {b['ratio']:.3f}" for n, b in document["benchmarks"].items() if n in runs[0]
        )
        print(f"\nwrote {_shown(options.baseline)}: {written}")
        return

    started = time.monotonic()
    if baseline is not None:
        print(machine_note(baseline.get("machine", {}), machine_identity()))
        if options.only:
            kept = {n: e for n, e in baseline["benchmarks"].items() if n in options.only}
            baseline = baseline | {"benchmarks": kept}
    figures = measure(only=options.only)
    print_figures(figures, baseline)
    if not options.check:
        return
    if baseline is None:
        sys.exit(
            f"bench-check: no baseline at {_shown(options.baseline)}: run `make bench-baseline`"
        )
    now = {name: figure["ratio"] for name, figure in figures.items()}
    failures = compare(baseline, now)
    elapsed = time.monotonic() - started
    if failures:
        lines = "\n".join(f"  {failure}" for failure in failures)
        sys.exit(
            f"bench-check FAILED against {_shown(options.baseline)} ({elapsed:.0f} s):\n{lines}"
        )
    print(f"bench-check: every ratio within +{BOUND:.0%} of the baseline ({elapsed:.0f} s)")


if __name__ == "__main__":
    main()
