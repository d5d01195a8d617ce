"""Waking the inbox drain: a burst of N webhook deliveries schedules O(1) drain tasks, not N.

The inbox (``WebhookEvent`` rows in state ``received``) is the queue; a delivery only has to make sure that
some drain will look at the inbox after its row is committed. Enqueueing a django-q2 task per delivery cost
as much as the rest of the request, so a wake-up is coalesced:

- **Every broker**: a per-process window. A process wakes a drain at most once per :func:`window` seconds,
  and a drain woken that way does not stop before that long after its own start (:func:`linger`). It starts
  after the wake-up, so it is still looking when any delivery the window silenced has committed. Inside the
  window a delivery spends nothing on waking: no statement, no round trip. A lingering drain picks up the
  next deliveries within its poll interval instead of the broker's.
- **Redis broker**, in addition: ``SET <marker> NX PX`` in the broker's Redis coalesces the processes. Only
  the process that sets the marker enqueues a drain; one that finds it set knows a drain is queued and has
  not started (it deletes the marker *when it starts*), so that drain, lingering, covers this process's
  window too. A delivery after a drain started and after the window sets the marker again and wakes
  another. The expiry bounds how long a lost drain task (a pusher killed with the task in hand) can silence
  wake-ups. The round trip (about 125 µs on loopback) was most of what a Redis receipt cost over an ORM one;
  now a process makes it at most once per window.
- **Sync mode** (tests, ``sync: True``): the drain runs inline, every time, with no linger.

A wake-up that is lost anyway (the broker is down, the process dies between the commit and the wake-up, the
drain task dies with its worker) delays events, never drops them: the sweeper wakes a drain for received
events older than ``SWEEP_GRACE_SECONDS`` or whose claim ran out.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from django_kyc.conf import kyc_settings
from django_kyc.queue import enqueue, runs_inline, shared_broker

if TYPE_CHECKING:
    from django_q.brokers import Broker

logger = logging.getLogger("django_kyc.wakeup")

TASK = "drain_webhook_events"
#: how long a set Redis marker silences further wake-ups at most (a drain deletes it sooner when it starts)
MARKER_TTL_MS = 5000

_local = threading.local()


def window() -> float:
    """Seconds a process's wake-up covers on a broker without a shared marker (``WEBHOOK_DRAIN_LINGER_SECONDS``)."""
    return float(kyc_settings.WEBHOOK_DRAIN_LINGER_SECONDS)


def _redis_client(broker: Broker | None = None) -> object | None:
    """The broker's Redis connection when the broker is django-q2's Redis broker, else ``None``."""
    try:
        from django_q.brokers.redis_broker import Redis
    except ImportError:
        # the redis package is an extra ([redis]): without it no broker is a Redis broker, and the ORM broker's
        # wake-ups must not fail on the import (they did, each logged, leaving every delivery to the sweeper)
        return None

    if broker is None:
        broker = shared_broker()
    return broker.connection if isinstance(broker, Redis) else None


def marker_key(broker: Broker | None = None) -> str:
    return f"{(shared_broker() if broker is None else broker).list_key}:kyc-drain"


def wake() -> None:
    """Make sure a drain will look at the inbox after now. Never raises: the sweeper covers a lost wake-up."""
    try:
        if runs_inline():
            enqueue(TASK, "0")
            return
        broker = shared_broker()  # once: a lookup costs about as much as the rest of a wake-up, round trip aside
        client = _redis_client(broker)
        key = marker_key(broker)
        now = time.monotonic()
        woken = _local.__dict__.setdefault("woken", {})
        last = woken.get(key)
        if last is not None and now - last < window():
            return
        if client is None or client.set(key, b"1", nx=True, px=MARKER_TTL_MS):  # type: ignore[attr-defined]
            try:
                enqueue(TASK, str(window()))
            except Exception:
                if client is not None:
                    client.delete(key)  # type: ignore[attr-defined]
                raise
        woken[key] = now
    except Exception:
        logger.exception("could not wake the webhook drain; the sweeper will")


def started() -> None:
    """Called by a drain as it starts: clears the Redis marker, so the next delivery wakes another drain."""
    client = None if runs_inline() else _redis_client()
    if client is not None:
        client.delete(marker_key())  # type: ignore[attr-defined]


def forget() -> None:
    """Forget this thread's wake-up windows (tests that switch brokers in one process)."""
    _local.__dict__.pop("woken", None)
