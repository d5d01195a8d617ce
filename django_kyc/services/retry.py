"""Exponential backoff with jitter, shared by submissions, webhook processing and AML checks."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.utils import timezone

from django_kyc.backends.base import RetryPolicy
from django_kyc.conf import kyc_settings


def backoff_delay(attempt: int, *, base: float | None = None, cap: float | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    "Equal jitter": half the exponential step is fixed and half is random, so delays spread out across a
    fleet yet never shrink from one attempt to the next (attempt n waits between d/2 and d, attempt n+1
    between d and 2d, with d = base * 2**(n-1)), until ``cap`` is reached.
    """
    base = float(kyc_settings.RETRY_BASE_SECONDS if base is None else base)
    cap = float(kyc_settings.RETRY_MAX_SECONDS if cap is None else cap)
    step = min(cap, base * (2 ** max(0, attempt - 1)))
    return step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not cryptography


def next_attempt_at(
    attempt: int,
    retry_after: float | None = None,
    now: datetime | None = None,
    policy: RetryPolicy | None = None,
) -> datetime:
    """When to try again; a provider's ``Retry-After`` wins when it asks for longer."""
    policy = policy or RetryPolicy()
    cap = float(kyc_settings.RETRY_MAX_SECONDS if policy.max_seconds is None else policy.max_seconds)
    delay = backoff_delay(attempt, base=policy.base_seconds, cap=cap)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return (now or timezone.now()) + timedelta(seconds=delay)


def max_attempts(policy: RetryPolicy | None = None) -> int:
    """The attempt budget: the provider's published guidance, else ``DJANGO_KYC["MAX_ATTEMPTS"]``."""
    if policy is not None and policy.max_attempts is not None:
        return policy.max_attempts
    return int(kyc_settings.MAX_ATTEMPTS)


def provider_call_lease(alias: str | None = None) -> timedelta:
    """How long a claimed attempt is protected from the sweeper: longer than any provider call can take.

    The claim sets ``next_attempt_at`` this far ahead before the provider is called, so a re-enqueue while the
    call is in flight finds nothing due, and work whose worker died is picked up again once it runs out.
    """
    seconds = float(kyc_settings.HTTP_CONNECT_TIMEOUT) + float(kyc_settings.HTTP_READ_TIMEOUT)
    if alias:
        from django_kyc.backends.registry import get_backend
        from django_kyc.exceptions import KycConfigurationError

        try:
            backend = get_backend(alias)
        except KycConfigurationError:
            backend = None
        timeouts = backend.timeouts() if backend is not None else None
        if timeouts:
            # a provider with long timeouts (PassportReader asks for 60 s) may need two calls per attempt
            seconds = max(seconds, 2 * sum(timeouts))
    return timedelta(seconds=seconds + float(kyc_settings.LEASE_MARGIN_SECONDS))
