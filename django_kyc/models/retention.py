"""The erasure-request register, and the rule that dates when an applicant's records may go.

The date rule sits here, beside the models, because :meth:`Applicant.save` keeps ``retention_until`` in step
with it: a model must not reach up into the service layer (``services.retention``) for a pure function.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_kyc.conf import kyc_settings


def add_years(moment: datetime, years: int) -> datetime:
    """``moment`` plus whole calendar years; 29 February becomes 28 February in a common year."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def retention_years(country: str = "") -> int:
    """The retention period for an applicant living in ``country``: per-country rules override the default,
    because some jurisdictions require longer (Spain: 10 years)."""
    by_country = kyc_settings.RETENTION_YEARS_BY_COUNTRY
    if isinstance(by_country, Mapping) and country and country.upper() in by_country:
        return int(by_country[country.upper()])
    return int(kyc_settings.RETENTION_YEARS)


def compute_retention_until(relationship_ended_at: datetime | None, country: str = "") -> datetime | None:
    """When the records may go: ``None`` while the relationship lasts (the period has not started)."""
    if relationship_ended_at is None:
        return None
    return add_years(relationship_ended_at, retention_years(country))


class ErasureStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    SCHEDULED = "scheduled", _("Scheduled (retention or legal hold)")
    DONE = "done", _("Done")
    REFUSED = "refused", _("Refused")


class ErasureSource(models.TextChoices):
    SUBJECT = "subject", _("The person (data subject)")
    STAFF = "staff", _("Staff, on the person's behalf")
    API = "api", _("API")
    SYSTEM = "system", _("System")


class ErasureRequest(models.Model):
    """The erasure-request register (GDPR Art. 17).

    A request inside the AML retention period cannot be honoured yet (Art. 17(3)(b)); it is kept here as
    ``scheduled`` with ``due_at`` and executed by the purge once the period lapses, so the register shows
    what was asked, when, and when it was done.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    applicant = models.ForeignKey(
        "django_kyc.Applicant", on_delete=models.CASCADE, related_name="erasure_requests", verbose_name=_("applicant")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=16, choices=ErasureSource.choices, default=ErasureSource.SUBJECT)
    status = models.CharField(
        _("status"), max_length=16, choices=ErasureStatus.choices, default=ErasureStatus.REQUESTED, editable=False
    )
    due_at = models.DateTimeField(
        _("due at"), null=True, blank=True, editable=False, help_text=_("When retention lapses, if known.")
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("erasure request")
        verbose_name_plural = _("erasure requests")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["status", "due_at"], name="kyc_erasure_due_idx")]
        permissions = [("purge_applicant", _("Can purge applicants' personal data"))]

    def __str__(self) -> str:
        return f"{self.applicant} {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in (ErasureStatus.REQUESTED, ErasureStatus.SCHEDULED)
