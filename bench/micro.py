"""Micro-benchmarks of the hot pure code, as ratios to a fixed reference workload.

`make bench-micro` prints them, `make bench-baseline` writes bench/micro_baseline.json,
`make bench-check` fails when one is more than 30% worse than that baseline:

    .venv/bin/python -m bench.micro [--write-baseline [--runs 5] | --check]

An absolute time means nothing on a shared machine (another process, a slower core, a
busy neighbour on the host), and nothing from one machine to the next. So each subject
(the password policy check, an access token issued and verified, a login on the memory
adapters with cheap argon2) is timed in rounds that alternate with a reference workload
of a similar nature and a fixed size: ref, subject, ref, subject, ..., ref. The figure
is the subject's fastest round over the reference's fastest (``Rounds.ratio`` says why
the fastest): 1.5 means "a round of the subject costs 1.5 rounds of the reference".
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
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.history import machine_identity, revision
from neodyme_adapters.argon2_hasher import CHEAP_PARAMETERS
from neodyme_app.config import Environment, Settings
from neodyme_app.container import build_container
from neodyme_domain.errors import WeakPassword
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
WORKLOAD = {
    "reference": REFERENCE_REPEATS,
    "policy": POLICY_REPEATS,
    "token": TOKEN_REPEATS,
    "login": LOGIN_REPEATS,
    "rounds": ROUNDS,
}

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


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str
    what: str
    run: Callable[[], object]
    """One round of the subject's fixed workload."""
    prepare: Callable[[], object] = lambda: None
    """Run before each round, untimed: what puts the subject back where a round starts."""


def settings() -> Settings:
    """The unit tier's: in-memory storage, cheap argon2 (64 KiB, one pass), defaults else."""
    return Settings(
        environment=Environment.TESTING,
        database_url="memory://",
        secret_key="micro-benchmark-secret-key-of-32-bytes",
        argon2_memory_kib=CHEAP_PARAMETERS.memory_kib,
        argon2_time_cost=CHEAP_PARAMETERS.time_cost,
    )


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

        yield [
            Benchmark(
                "policy",
                f"password policy check, {len(POLICY_PASSWORDS)} passwords",
                check_policy,
            ),
            Benchmark(
                "token", "access token issued and verified (JwtTokenService)", issue_and_verify
            ),
            Benchmark(
                "login",
                "AuthenticateUser on memory:// with cheap argon2",
                lambda: loop.run_until_complete(logins()),
                # A write transaction on memory:// copies the whole state (refresh tokens,
                # events), so each login would cost more than the one before: every round
                # starts from the state right after the registration instead.
                prepare=lambda: setattr(database, "state", registered.copy()),
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


def measure(rounds: int = ROUNDS) -> dict[str, dict[str, Any]]:
    """Every benchmark: its ratio, and the quartiles of its rounds' pair ratios (the
    noise), after a few untimed rounds that warm the caches."""
    figures: dict[str, dict[str, Any]] = {}
    with subjects() as benchmarks:
        # What the imports and the container made lives until the end: out of the
        # collector's sight, each round's collection walks only that round's garbage.
        gc.collect()
        gc.freeze()
        try:
            for benchmark in benchmarks:
                alternate(reference_workload, benchmark, WARMUP_ROUNDS)
                timed = alternate(reference_workload, benchmark, rounds)
                q1, median, q3 = statistics.quantiles(timed.pair_ratios(), n=4)
                figures[benchmark.name] = {
                    "what": benchmark.what,
                    "ratio": round(timed.ratio, 4),
                    "pairs": [round(q1, 4), round(median, 4), round(q3, 4)],
                }
        finally:
            gc.unfreeze()
    return figures


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


def print_figures(figures: dict[str, dict[str, Any]], baseline: dict[str, Any] | None) -> None:
    known = (baseline or {}).get("benchmarks", {})
    print(
        f"{'benchmark':10} {'ratio':>6} {'baseline':>9} {'change':>7}"
        f"  {'pairs: q1 / median / q3':>23}  what"
    )
    for name, figure in figures.items():
        before = known.get(name, {}).get("ratio")
        change = "" if before is None else f"{(figure['ratio'] / before - 1) * 100:+.1f}%"
        pairs = " / ".join(f"{value:.3f}" for value in figure["pairs"])
        print(
            f"{name:10} {figure['ratio']:6.3f} {'' if before is None else f'{before:.3f}':>9}"
            f" {change:>7}  {pairs:>23}  {figure['what']}"
        )


def machine_note(then: dict[str, Any], now: dict[str, Any]) -> str:
    """The ratios cancel a machine's speed, not its kind: another CPU or Python weighs on
    interpreted code and C code differently. Said, not failed on; the baseline's machine
    is the one to write it on again if the check fails for that reason."""
    differ = [key for key in ("cpu", "cores", "python") if then.get(key) != now.get(key)]
    if not differ:
        return f"baseline machine: this one ({now['cpu']}, Python {now['python']})"
    changes = ", ".join(f"{key} {then.get(key)} -> {now.get(key)}" for key in differ)
    return f"note: the baseline was written on another machine ({changes})"


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
    options = parser.parse_args()
    baseline = load_baseline(options.baseline)

    if options.write_baseline:
        runs = []
        for number in range(1, options.runs + 1):
            runs.append(measure())
            print(f"run {number}/{options.runs}")
            print_figures(runs[-1], None)
        document = baseline_document(runs)
        options.baseline.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        written = ", ".join(f"{n} {b['ratio']:.3f}" for n, b in document["benchmarks"].items())
        print(f"\nwrote {_shown(options.baseline)}: {written}")
        return

    started = time.monotonic()
    if baseline is not None:
        print(machine_note(baseline.get("machine", {}), machine_identity()))
    figures = measure()
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
