"""Four-eyes proposals: a decision on a high-risk applicant waits here until a second reviewer confirms it."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("Awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


#: A proposed decision as a sentence names it ("Jane proposed decline"); a code not listed shows as itself.
DECISION_NAMES = {
    "approve": pgettext_lazy("a proposed decision, in a sentence", "approve"),
    "decline": pgettext_lazy("a proposed decision, in a sentence", "decline"),
    "request_resubmission": pgettext_lazy("a proposed decision, in a sentence", "request resubmission"),
    "true_positive": pgettext_lazy("a proposed decision, in a sentence", "confirm the match (true positive)"),
    "false_positive": pgettext_lazy("a proposed decision, in a sentence", "dismiss (false positive)"),
}


class ReviewDecision(models.Model):
    """A reviewer's decision held for a second pair of eyes.

    It targets either a verification (approve, decline, ...) or an AML hit (true/false positive). Nothing
    changes on the target until another reviewer confirms; the database refuses a row confirmed by its own
    proposer and a second open proposal on the same target, so neither a bug nor a race can bypass the rule.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    applicant = models.ForeignKey("django_kyc.Applicant", on_delete=models.CASCADE, related_name="review_decisions")
    verification = models.ForeignKey(
        "django_kyc.Verification", on_delete=models.CASCADE, null=True, blank=True, related_name="review_decisions"
    )
    aml_hit = models.ForeignKey(
        "django_kyc.AmlHit", on_delete=models.CASCADE, null=True, blank=True, related_name="review_decisions"
    )
    decision = models.CharField(_("proposed decision"), max_length=32)
    reason_code = models.CharField(_("reason code"), max_length=64)
    comment = models.TextField(_("comment"), blank=True)
    rule = models.CharField(_("four-eyes rule"), max_length=255, help_text=_("Why a second reviewer is needed."))
    status = models.CharField(
        _("status"), max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("proposed by")
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )
    confirm_comment = models.TextField(_("confirmation comment"), blank=True)
    created_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("confirmed or withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("four-eyes proposal")
        verbose_name_plural = _("four-eyes proposals")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="kyc_proposal_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(verification__isnull=False, aml_hit__isnull=True)
                | models.Q(verification__isnull=True, aml_hit__isnull=False),
                name="kyc_proposal_one_target",
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_by__isnull=True) | ~models.Q(confirmed_by=models.F("proposed_by")),
                name="kyc_proposal_four_eyes",
            ),
            models.UniqueConstraint(
                fields=["verification"],
                condition=models.Q(status="proposed"),
                name="kyc_proposal_open_verification",
            ),
            models.UniqueConstraint(
                fields=["aml_hit"], condition=models.Q(status="proposed"), name="kyc_proposal_open_hit"
            ),
        ]
        # Declared here rather than on Applicant so this feature's migration touches no other model's options.
        permissions = [
            ("approve_high_risk", _("Can confirm four-eyes decisions on high-risk applicants")),
            ("export_applicant", _("Can export applicants")),
        ]

    def __str__(self) -> str:
        return f"{self.decision} ({self.get_status_display()})"

    @property
    def decision_name(self) -> str:
        """The proposed decision in the active language, for sentences and lists."""
        return str(DECISION_NAMES.get(self.decision, self.decision.replace("_", " ")))

    @property
    def target(self) -> models.Model:
        return self.verification if self.verification_id else self.aml_hit  # type: ignore[return-value]
