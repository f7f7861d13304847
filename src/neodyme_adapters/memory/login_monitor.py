"""A login monitor that keeps its counts in plain attributes: for tests and in-process use."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from neodyme_domain.ports import LockoutScope, LoginMonitor, LoginOutcome


class RecordingLoginMonitor:
    """``outcomes["invalid"]`` is the number of logins that ended so; ``lockouts["account"]``
    the number of account lockouts that took effect."""

    def __init__(self) -> None:
        self.outcomes: Counter[LoginOutcome] = Counter()
        self.lockouts: Counter[LockoutScope] = Counter()

    def login(self, outcome: LoginOutcome) -> None:
        self.outcomes[outcome] += 1

    def lockout(self, scope: LockoutScope) -> None:
        self.lockouts[scope] += 1


if TYPE_CHECKING:
    _checked: type[LoginMonitor] = RecordingLoginMonitor
