from __future__ import annotations

import os
import time
from typing import Any

from django.apps import AppConfig

PROBE_KEY = "kyc-bench:committed"


class ProbeConfig(AppConfig):
    name = "bench.probe"
    label = "bench_probe"

    def ready(self) -> None:
        onfido_root = os.environ.get("KYC_BENCH_ONFIDO_URL")
        if onfido_root:
            # django-onfido's API root is a module constant; pointing it at the loopback fake is the only way
            import onfido.api

            onfido.api.API_ROOT = onfido_root
        if not os.environ.get("KYC_BENCH_PROBE"):
            return
        import redis
        from django.conf import settings

        from django_kyc.signals import verification_status_changed

        client = redis.Redis.from_url(settings.REDIS_URL)

        def record(sender: Any, verification: Any, to_status: str, **kwargs: Any) -> None:
            client.hset(PROBE_KEY, str(verification.pk), f"{time.time():.6f}:{to_status}")

        verification_status_changed.connect(record, weak=False, dispatch_uid="kyc-bench-probe")
