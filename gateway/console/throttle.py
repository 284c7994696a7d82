"""Failed console logins, per account: after MAX_FAILURES within WINDOW seconds the account is refused for the
rest of the window, whatever the password (a token cannot be guessed one form at a time). Bounded: at most
MAX_ACCOUNTS accounts are tracked, the stalest forgotten first."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_FAILURES = 5
WINDOW = 300.0  # s
MAX_ACCOUNTS = 10_000


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: OrderedDict[str, list[float]] = OrderedDict()

    def _recent(self, account: str) -> list[float]:
        now = self._clock()
        kept = [t for t in self._failures.get(account, []) if now - t < WINDOW]
        if kept:
            self._failures[account] = kept
        else:
            self._failures.pop(account, None)
        return kept

    def locked(self, account: str) -> bool:
        return len(self._recent(account)) >= MAX_FAILURES

    def failed(self, account: str) -> None:
        recent = self._recent(account)
        recent.append(self._clock())
        self._failures[account] = recent
        self._failures.move_to_end(account)
        while len(self._failures) > MAX_ACCOUNTS:
            self._failures.popitem(last=False)

    def succeeded(self, account: str) -> None:
        self._failures.pop(account, None)
