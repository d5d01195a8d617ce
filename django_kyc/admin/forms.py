from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from django_kyc.reasons import reason_choices
from django_kyc.status import RiskLevel, VerificationStatus

#: Every decision a reviewer takes on a verification, by name.
DECISION_LABELS: dict[str, Any] = {
    "approve": _("Approve"),
    "decline": _("Decline"),
    "request_resubmission": _("Request resubmission"),
    "retry": _("Retry submission"),
}
#: What the review queue holds: verifications waiting for a human.
WAITING = (VerificationStatus.REVIEW, VerificationStatus.ERROR)


def decisions_for_status(status: str) -> dict[str, Any]:
    """The decisions a verification in ``status`` allows, for the list's pages and the case page alike: one
    while it waits for a human, and a retry only when its submission failed."""
    if status not in WAITING:
        return {}
    return {
        name: label for name, label in DECISION_LABELS.items() if name != "retry" or status == VerificationStatus.ERROR
    }


class DecisionForm(forms.Form):
    """A reason code and a comment. With ``decision`` ("approve", "decline", "true_positive", ...) only the
    reason codes that fit that decision are offered (and accepted)."""

    reason_code = forms.ChoiceField(label=_("Reason"), choices=())
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, decision: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason_code"].choices = [("", "---------"), *reason_choices(decision)]  # type: ignore[attr-defined]


class RiskLevelForm(DecisionForm):
    """A new risk level, with the reason code and comment every reviewer act is recorded with."""

    risk_level = forms.ChoiceField(label=_("New risk level"), choices=RiskLevel.choices)
    field_order = ["risk_level", "reason_code", "comment"]
