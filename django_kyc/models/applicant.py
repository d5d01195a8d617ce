from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection, Iterable
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_kyc.crypto import EncryptedDateField
from django_kyc.models.retention import compute_retention_until
from django_kyc.models.screening import SCREENED_FIELDS, next_screening_after, rescheduled_for_risk
from django_kyc.queue import enqueue_on_commit
from django_kyc.status import ApplicantStatus, ReviewReason, RiskLevel

#: What :meth:`Applicant.save` compares with the values the row was read with (``from_db``).
_SNAPSHOT_FIELDS = (*SCREENED_FIELDS, "status", "risk_level")


def new_reference() -> str:
    """Our reference for an applicant, sent to providers instead of a database id or any PII."""
    return f"kyc_{secrets.token_hex(10)}"


class Applicant(models.Model):
    """A person being verified. ``status`` is an aggregate kept by the transition service."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,  # KYC records outlive accounts: record-keeping rules require it
        null=True,
        blank=True,
        related_name="kyc_applicant",
    )
    reference = models.CharField(_("reference"), max_length=64, unique=True, default=new_reference, editable=False)
    external_id = models.CharField(
        _("external id"), max_length=128, blank=True, db_index=True, help_text=_("The site's own id, if any.")
    )

    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)  # a date in Python
    nationality = models.CharField(_("nationality"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2"))
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    country = models.CharField(_("country of residence"), max_length=2, blank=True)
    address_line = models.CharField(_("address"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=128, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=32, blank=True)

    status = models.CharField(
        _("status"),
        max_length=32,
        choices=ApplicantStatus.choices,
        default=ApplicantStatus.UNVERIFIED,
        editable=False,
    )
    # Changed only through django_kyc.services.risk.set_risk_level (audited): the four-eyes rule reads it, so no
    # form, serializer or bulk action may write it.
    risk_level = models.CharField(
        _("risk level"), max_length=16, choices=RiskLevel.choices, default=RiskLevel.LOW, editable=False
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, editable=False)

    # Ongoing due diligence (docs/review-policy.md): written only by django_kyc.services.review_policy
    # (audited), read by the daily review run, the "due for review" queue and the API.
    next_review_at = models.DateTimeField(
        _("next review"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the applicant must be reviewed again (periodic review or document expiry)."),
    )
    review_reason = models.CharField(
        _("review reason"), max_length=32, choices=ReviewReason.choices, blank=True, editable=False
    )
    review_notified_at = models.DateTimeField(
        _("review notice sent at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the person was asked to verify again for the review now scheduled."),
    )
    reverification_required_at = models.DateTimeField(
        _("re-verification required since"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When a review lapsed; only an approval after this moment makes the applicant verified again."),
    )

    # Retention (docs/retention.md): records are kept for a period counted from the end of the relationship.
    relationship_ended_at = models.DateTimeField(
        _("relationship ended at"),
        null=True,
        blank=True,
        help_text=_("When the business relationship ended (or onboarding was refused); starts the retention."),
    )
    retention_until = models.DateTimeField(
        _("retain until"),
        null=True,
        blank=True,
        editable=False,
        db_index=True,
        help_text=_("Computed from the relationship end and DJANGO_KYC retention settings."),
    )
    legal_hold = models.BooleanField(
        _("legal hold"), default=False, help_text=_("Blocks every purge, even after retention lapses.")
    )
    legal_hold_reason = models.TextField(_("legal hold reason"), blank=True)
    pii_redacted_at = models.DateTimeField(_("personal data purged at"), null=True, blank=True, editable=False)
    # Ongoing screening (docs/rescreening.md): kept in step by save() and services.rescreening.
    next_screening_at = models.DateTimeField(
        _("next screening"),
        null=True,
        blank=True,
        editable=False,
        db_index=True,
        help_text=_("When the approved applicant is screened against sanctions and PEP lists again."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("applicant")
        verbose_name_plural = _("applicants")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="kyc_applicant_status_idx"),
            models.Index(fields=["risk_level", "status"], name="kyc_applicant_risk_idx"),
            # the daily review run pages through due applicants by (next_review_at, id); the queue sorts by it
            models.Index(fields=["next_review_at", "id"], name="kyc_applicant_review_idx"),
        ]
        permissions = [
            ("review_applicant", _("Can approve, decline or request resubmission")),
            ("view_applicant_pii", _("Can view applicants' personal data")),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keep ``retention_until`` and ``next_screening_at`` in step with what they are computed from, whoever
        saves the row; a change of a screened field (name, date of birth, nationality) of an approved applicant
        makes them due now and enqueues their re-screening when the transaction commits."""
        self.retention_until = compute_retention_until(self.relationship_ended_at, self.country)
        update_fields = kwargs.get("update_fields")
        added: set[str] = set()
        if update_fields is not None and {"relationship_ended_at", "country"} & set(update_fields):
            added.add("retention_until")
        rescheduled, changed = self._keep_screening_in_step(update_fields)
        if rescheduled:
            added.add("next_screening_at")
        if update_fields is not None and added:
            kwargs["update_fields"] = {*update_fields, *added}
        super().save(*args, **kwargs)
        self._remember(_SNAPSHOT_FIELDS if update_fields is None else update_fields)
        if changed:
            enqueue_on_commit("rescreen_applicant", str(self.pk), ",".join(changed))

    @classmethod
    def from_db(cls, db: str | None, field_names: Collection[str], values: Collection[Any]) -> Applicant:
        instance = super().from_db(db, field_names, values)
        instance._remember(field_names)
        return instance

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        fields = kwargs.get("fields")
        self._remember(_SNAPSHOT_FIELDS if fields is None else fields)

    def _remember(self, names: Iterable[str]) -> None:
        """Keep the values ``save()`` compares with to see what changed (only loaded ones: a deferred field is
        not in ``__dict__``)."""
        snapshot = self.__dict__.setdefault("_snapshot", {})
        snapshot.update(
            {name: self.__dict__[name] for name in names if name in _SNAPSHOT_FIELDS and name in self.__dict__}
        )

    def _keep_screening_in_step(self, update_fields: Iterable[str] | None) -> tuple[bool, list[str]]:
        """Move ``next_screening_at`` for this save: scheduled when the applicant is approved, at the new pace
        when the risk level changes, now when a screened field changed. Returns whether it moved, and the
        screened fields that changed (for an approved applicant whose data has not been purged)."""
        saving = None if update_fields is None else set(update_fields)
        snapshot: dict[str, Any] = self.__dict__.get("_snapshot", {})

        def moved(name: str) -> bool:
            return (
                (saving is None or name in saving)
                and name in snapshot
                and _differs(snapshot[name], getattr(self, name))
            )

        now, before = timezone.now(), self.next_screening_at
        if moved("risk_level") and self.next_screening_at is not None:
            self.next_screening_at = rescheduled_for_risk(
                self.next_screening_at, snapshot["risk_level"], self.risk_level, now
            )
        changed: list[str] = []
        if self.status == ApplicantStatus.VERIFIED:
            approved_now = snapshot.get("status") != ApplicantStatus.VERIFIED and (saving is None or "status" in saving)
            if approved_now and self.next_screening_at is None:
                self.next_screening_at = next_screening_after(self.verified_at or now, self.risk_level)
            if self.pii_redacted_at is None:
                # a blank filled in (a provider completing what it read at approval) is not a change of identity
                changed = [name for name in SCREENED_FIELDS if moved(name) and snapshot[name] not in (None, "")]
            if changed:
                self.next_screening_at = now
        return self.next_screening_at != before, changed

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.middle_name, self.last_name) if part)


def _differs(before: Any, after: Any) -> bool:
    """A screened value changed: a date read back and the same date typed as text are one value."""
    return str(before if before is not None else "") != str(after if after is not None else "")


class ReviewDueItem(Applicant):
    """The "due for review" queue in admin: approved applicants whose periodic review or identity document
    falls due soon or has lapsed, soonest first."""

    class Meta:
        proxy = True
        verbose_name = _("applicant due for review")
        verbose_name_plural = _("due for review")
