"""Client-side rate limits: requests over a provider's published budget wait, or are retried later, and the
budget is one count across every worker that shares the cache."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.core.cache import caches
from django.core.checks import Tags, run_checks
from django.test import override_settings

from django_kyc.backends.base import KycBackend, RateLimit
from django_kyc.backends.http import ProviderHttpClient
from django_kyc.backends.ratelimit import RateLimiter
from django_kyc.exceptions import TransientProviderError
from tests.support.kyc_settings import kyc_settings_with
from tests.support.receiver import Receiver
from tests.support.services import REDIS_URL, redis_available, require_service

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


class Clock:
    """Wall-clock time that moves only when a limiter sleeps, so windows are stepped through exactly."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def limiter(clock: Clock, *limits: RateLimit, max_wait: float = 0.0, scope: str = "acme") -> RateLimiter:
    return RateLimiter(scope=scope, limits=limits, max_wait=max_wait, clock=clock, sleep=clock.sleep)


def test_requests_within_the_budget_go_straight_out() -> None:
    clock = Clock()
    budget = limiter(clock, RateLimit(5, 5))
    for _ in range(5):
        budget.acquire("POST")
    assert clock.slept == []


def test_a_request_over_the_budget_is_retried_later_with_the_wait_it_needs() -> None:
    clock = Clock()
    budget = limiter(clock, RateLimit(3, 10, methods=("post",)))
    for _ in range(3):
        budget.acquire("POST")
    with pytest.raises(TransientProviderError) as raised:
        budget.acquire("POST")
    assert "3 POST per 10 s" in str(raised.value)
    assert raised.value.retry_after is not None
    assert 0 < raised.value.retry_after <= 2 * 10  # this window's end, then as much of the next as it takes


def test_the_wait_a_full_window_reports_is_long_enough() -> None:
    """A retry after ``retry_after`` must find room: the full window still weighs on the next one's start."""
    for calls in (1, 5, 10):
        clock = Clock(now=1_000_000.0)  # a window's start
        budget = limiter(clock, RateLimit(calls, 5), scope=f"wait-{calls}")
        for _ in range(calls):
            budget.acquire("POST")
        with pytest.raises(TransientProviderError) as raised:
            budget.acquire("POST")
        assert raised.value.retry_after is not None
        clock.now += raised.value.retry_after
        budget.acquire("POST")  # room, at the first retry


def test_only_the_methods_a_limit_names_are_counted() -> None:
    """Sumsub counts POSTs and GETs in separate budgets: a burst of reads must not stall a write."""
    clock = Clock()
    budget = limiter(clock, RateLimit(1, 5, methods=("POST",)), RateLimit(2, 5, methods=("GET",)))
    budget.acquire("POST")
    budget.acquire("GET")
    budget.acquire("GET")
    with pytest.raises(TransientProviderError, match="1 POST per 5 s"):
        budget.acquire("POST")
    with pytest.raises(TransientProviderError, match="2 GET per 5 s"):
        budget.acquire("GET")


def test_a_short_wait_is_slept_rather_than_failed() -> None:
    clock = Clock(now=1_000_000.0)  # the start of a 5 s window
    budget = limiter(clock, RateLimit(2, 5), max_wait=30)
    for _ in range(6):
        budget.acquire("GET")
    # two per window, and the previous window's count weighs on the next until it has passed
    assert clock.now - 1_000_000.0 >= 10
    assert all(0 < pause <= 2 * 5 for pause in clock.slept)


def test_a_window_boundary_does_not_double_the_budget() -> None:
    """A fixed window lets `calls` go out at its end and `calls` more at the next one's start."""
    clock = Clock(now=1_000_004.9)  # the last tenth of a second of a 5 s window
    budget = limiter(clock, RateLimit(10, 5))
    for _ in range(10):
        budget.acquire("POST")
    clock.now = 1_000_005.1  # just into the next window: nearly all of the previous one still counts
    with pytest.raises(TransientProviderError):
        budget.acquire("POST")


def test_the_budget_is_per_scope() -> None:
    clock = Clock()
    limiter(clock, RateLimit(1, 5), scope="first").acquire("POST")
    limiter(clock, RateLimit(1, 5), scope="second").acquire("POST")
    with pytest.raises(TransientProviderError):
        limiter(clock, RateLimit(1, 5), scope="first").acquire("POST")


@override_settings(
    CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}},
    DJANGO_KYC=kyc_settings_with(PROVIDER_RATE_LIMIT_CACHE="default"),
)
def test_a_cache_that_cannot_count_lets_requests_through(caplog: pytest.LogCaptureFixture) -> None:
    """Failing open is safe: the provider's 429 and Retry-After still slow us down."""
    clock = Clock()
    budget = limiter(clock, RateLimit(1, 5))
    for _ in range(3):
        budget.acquire("POST")
    assert sum("cannot count" in record.getMessage() for record in caplog.records) == 1


@pytest.mark.redis
def test_workers_sharing_a_redis_cache_share_one_budget() -> None:
    """Two limiters (two worker processes) on one Redis cache: the second sees the first one's requests."""
    require_service("Redis", redis_available(), REDIS_URL)
    shared = {
        "default": LOCMEM,
        "shared": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
    }
    with override_settings(CACHES=shared):
        caches["shared"].clear()
        clock = Clock()
        worker_a = RateLimiter("acme", [RateLimit(3, 5)], cache_alias="shared", max_wait=0, clock=clock)
        worker_b = RateLimiter("acme", [RateLimit(3, 5)], cache_alias="shared", max_wait=0, clock=clock)
        worker_a.acquire("POST")
        worker_b.acquire("POST")
        worker_a.acquire("POST")
        with pytest.raises(TransientProviderError):
            worker_b.acquire("POST")
        caches["shared"].clear()


def test_the_http_client_sends_no_request_over_the_budget() -> None:
    """Against a real loopback server: the refused request never leaves the process."""
    clock = Clock()
    with Receiver(path="/") as server:
        client = ProviderHttpClient(
            provider="acme", base_url=server.url, rate_limiter=limiter(clock, RateLimit(2, 5, methods=("POST",)))
        )
        client.post("applicants", json={})
        client.post("applicants", json={})
        with pytest.raises(TransientProviderError) as raised:
            client.post("applicants", json={})
        assert raised.value.provider == "acme"
        assert len(server.received) == 2


class LimitedBackend(KycBackend):
    provider = "limited"
    rate_limits: ClassVar[tuple[RateLimit, ...]] = (RateLimit(50, 5, methods=("POST",)),)


def test_a_backend_declaring_rate_limits_gets_a_limited_client() -> None:
    client = LimitedBackend("limited-eu", {}).http_client("http://127.0.0.1:9/")
    assert client.rate_limiter is not None
    assert client.rate_limiter.scope == "limited-eu"  # one budget per set of credentials, i.e. per alias
    assert list(client.rate_limiter.limits) == [RateLimit(50, 5, methods=("POST",))]
    assert KycBackend("plain", {}).http_client("http://127.0.0.1:9/").rate_limiter is None


def test_a_rate_limit_needs_a_positive_budget() -> None:
    with pytest.raises(ValueError, match="calls >= 1"):
        RateLimit(0, 5)


def rate_limit_messages(caches_setting: dict[str, Any], **kyc: Any) -> list[Any]:
    backends = {
        "limited": {"CLASS": f"{__name__}.LimitedBackend"},
        "sandbox": kyc_settings_with()["BACKENDS"]["sandbox"],
    }
    kyc.setdefault("PROVIDER_RATE_LIMIT_CACHE", "default")
    with override_settings(CACHES=caches_setting, DJANGO_KYC=kyc_settings_with(BACKENDS=backends, **kyc)):
        return [m for m in run_checks(tags=[Tags.caches]) if m.id in ("django_kyc.W042", "django_kyc.E042")]


def test_rate_limits_counted_per_process_are_a_warning() -> None:
    messages = rate_limit_messages({"default": LOCMEM})
    assert [m.id for m in messages] == ["django_kyc.W042"]
    assert "'limited'" in messages[0].msg
    assert "LocMemCache" in messages[0].msg


def test_rate_limits_on_a_shared_cache_pass() -> None:
    database = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "kyc_rate"}
    assert rate_limit_messages({"default": LOCMEM, "rates": database}, PROVIDER_RATE_LIMIT_CACHE="rates") == []


def test_an_unknown_rate_limit_cache_is_an_error() -> None:
    messages = rate_limit_messages({"default": LOCMEM}, PROVIDER_RATE_LIMIT_CACHE="nowhere")
    assert [m.id for m in messages] == ["django_kyc.E042"]


@override_settings(DJANGO_KYC=kyc_settings_with(PROVIDER_RATE_LIMIT_CACHE="nowhere"))
def test_a_cache_alias_missing_from_caches_lets_requests_through() -> None:
    """System check E042 reports it at start-up; at run time a provider call must not fail because of it."""
    clock = Clock()
    budget = limiter(clock, RateLimit(1, 5))
    budget.acquire("POST")
    budget.acquire("POST")
    assert clock.slept == []
