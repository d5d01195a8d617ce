from __future__ import annotations

from django.db import models


class BareEvent(models.Model):
    """One row per request, the body kept as text: what any webhook receiver has to do at least."""

    body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
