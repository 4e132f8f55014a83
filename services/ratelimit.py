"""Per-principal rate limits: one token bucket per subject, sized by its role's limit.

Kept per server process (each replica limits on its own; N replicas behind a balancer allow up
to N times the rate). A call that finds the bucket empty is answered RESOURCE_EXHAUSTED with the
wait until the next call fits, before any work is done.

>>> from services.config import Principal, RateLimit
>>> t = [0.0]; limiter = RateLimiter({"grader": RateLimit(1, 2)}, clock=lambda: t[0])
>>> [limiter.take(Principal("g", "grader")) for _ in range(3)]
[None, None, 1.0]
>>> t[0] = 1.0; limiter.take(Principal("g", "grader")), limiter.take(Principal("h", "grader"))
(None, None)
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Mapping

from services.config import Principal, RateLimit

MAX_BUCKETS = 100_000


class RateLimiter:
    def __init__(self, limits: Mapping[str, RateLimit], clock: Callable[[], float] = time.monotonic):
        self.limits, self.clock = dict(limits), clock
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # (role, subject) -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, principal: Principal) -> float | None:
        """None if the call may go ahead (a token is taken), else the seconds until one would."""
        limit = self.limits.get(principal.role)
        if limit is None or limit.per_second <= 0:
            return None
        key = (principal.role, principal.subject)
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (limit.burst, now))
            tokens = min(limit.burst, tokens + (now - at) * limit.per_second)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return (1 - tokens) / limit.per_second
            if len(self._buckets) >= MAX_BUCKETS:
                self._buckets.clear()  # everyone starts full again: generous, and memory stays bounded
            self._buckets[key] = (tokens - 1, now)
            return None
