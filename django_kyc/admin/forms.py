from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from django_kyc.reasons import reason_choices
from django_kyc.status import RiskLevel


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
