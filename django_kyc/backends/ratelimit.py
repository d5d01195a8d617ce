"""Client-side request budgets: stay under a provider's published rate limit instead of learning it from 429s.

A provider that publishes a limit (Sumsub: 50 POST and 300 GET per 5 seconds per app token) counts every
process that uses the same credentials together, so the count lives in a Django cache that all workers share
(``DJANGO_KYC["PROVIDER_RATE_LIMIT_CACHE"]``; system check W042 warns about a per-process cache). The window
is a sliding-window estimate over two fixed windows (the previous window's count, weighted by how much of it
still overlaps, plus the current one's), so a burst at a window boundary cannot reach twice the budget.

A call over budget waits for room, up to ``PROVIDER_RATE_LIMIT_MAX_WAIT`` seconds; past that it raises a
:class:`~django_kyc.exceptions.TransientProviderError` with ``retry_after`` set, so the task is retried later
with backoff rather than holding a worker. The limiter fails open: if the cache cannot count (a DummyCache, a
cache outage, an alias missing from CACHES), requests go out and the provider's own 429 and ``Retry-After``
still protect us.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.core.cache import BaseCache, caches

from django_kyc.conf import kyc_settings
from django_kyc.exceptions import TransientProviderError

logger = logging.getLogger("django_kyc.http")

KEY_PREFIX = "django_kyc:rate"


@dataclass(frozen=True)
class RateLimit:
    """At most ``calls`` requests per ``per_seconds``, counting only ``methods`` (every method when empty)."""

    calls: int
    per_seconds: float
    methods: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.calls < 1 or self.per_seconds <= 0:
            raise ValueError(f"a rate limit needs calls >= 1 and per_seconds > 0, not {self.calls}/{self.per_seconds}")
        object.__setattr__(self, "methods", tuple(method.upper() for method in self.methods))

    def counts(self, method: str) -> bool:
        return not self.methods or method.upper() in self.methods

    @property
    def label(self) -> str:
        """``50 POST per 5 s``: for log lines, error messages and the docs."""
        methods = "/".join(self.methods) if self.methods else "requests"
        return f"{self.calls} {methods} per {self.per_seconds:g} s"


@dataclass
class RateLimiter:
    """The budgets of one set of credentials (``scope``: the backend alias), counted in a shared cache.

    ``clock`` and ``sleep`` are the wall clock (shared by every process) and :func:`time.sleep`; tests pass
    their own to step through windows without waiting.
    """

    scope: str
    limits: Sequence[RateLimit]
    provider: str = ""
    cache_alias: str | None = None
    max_wait: float | None = None
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    _warned: bool = field(default=False, repr=False)

    def acquire(self, method: str) -> None:
        """Take one request's place in every budget that counts ``method``; wait or raise when one is full."""
        max_wait = float(kyc_settings.PROVIDER_RATE_LIMIT_MAX_WAIT if self.max_wait is None else self.max_wait)
        waited = 0.0
        for index, limit in enumerate(self.limits):
            if not limit.counts(method):
                continue
            while True:
                wait = self._take(index, limit)
                if wait <= 0:
                    break
                if waited + wait > max_wait:
                    logger.warning("%s: %s used up, retrying in %.1f s", self.scope, limit.label, wait)
                    raise TransientProviderError(
                        f"the provider's rate limit ({limit.label}) is used up",
                        provider=self.provider or self.scope,
                        retry_after=wait,
                    )
                self.sleep(wait)
                waited += wait

    def _take(self, index: int, limit: RateLimit) -> float:
        """0 when the request fits (and is counted), else the seconds to wait before trying again."""
        now = self.clock()
        window = math.floor(now / limit.per_seconds)
        elapsed = now / limit.per_seconds - window  # fraction of the current window gone by
        current_key = f"{KEY_PREFIX}:{self.scope}:{index}:{window}"
        previous_key = f"{KEY_PREFIX}:{self.scope}:{index}:{window - 1}"
        try:
            cache = self._cache()
            cache.add(current_key, 0, timeout=math.ceil(limit.per_seconds * 2) + 1)
            current = cache.incr(current_key)
            previous = int(cache.get(previous_key) or 0)
        except Exception:
            self._warn_once()
            return 0.0
        if previous * (1 - elapsed) + current <= limit.calls:
            return 0.0
        with contextlib.suppress(Exception):  # the count then errs on the safe side until the window ends
            cache.decr(current_key)  # this request did not go out
        return self._room_after(limit, elapsed, previous, current - 1)

    @staticmethod
    def _room_after(limit: RateLimit, elapsed: float, previous: int, current: int) -> float:
        """Seconds until the estimate leaves room for one more request (previous-window share decaying)."""
        if current + 1 > limit.calls or previous == 0:
            # only the next window has room, and only once enough of this window's count (then the previous
            # one's, weighing less as that window goes by) has aged out: c * (1 - e') + 1 <= calls
            into_next = max(0.0, 1 - (limit.calls - 1) / current) if current else 0.0
            return max((1 - elapsed + into_next) * limit.per_seconds, 0.001)
        # previous * (1 - e) + current + 1 <= calls  <=>  e >= 1 - (calls - current - 1) / previous
        needed = 1 - (limit.calls - current - 1) / previous
        return max((needed - elapsed) * limit.per_seconds, 0.001)

    def _cache(self) -> BaseCache:
        return caches[self.cache_alias or kyc_settings.PROVIDER_RATE_LIMIT_CACHE]

    def _warn_once(self) -> None:
        if not self._warned:
            self._warned = True
            logger.warning("%s: the rate-limit cache cannot count; sending without a client-side limit", self.scope)
