"""Heartbeats: when the background worker last ran each periodic job."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last run of one periodic job, one row per job, overwritten on every run.

    A system check cannot see whether a ``qcluster`` is running; this row can. The sweeper, a django-q2
    schedule, writes it every ``SWEEP_EVERY_MINUTES``, so its age is how long ago the cluster last did its
    work. django-q2's own task rows are no substitute: with ``save_limit: -1`` (recommended) it stores no
    successful task, and its Redis broker keeps nothing in the database.
    """

    name = models.CharField(_("name"), max_length=64, primary_key=True)
    beat_at = models.DateTimeField(_("last run at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
