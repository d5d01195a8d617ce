from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from django_kyc.reasons import reason_choices
from django_kyc.status import RiskLevel


class DecisionForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("Reason"), choices=())
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["reason_code"].choices = [("", "---------"), *reason_choices()]  # type: ignore[attr-defined]


class RiskLevelForm(DecisionForm):
    """A new risk level, with the reason code and comment every reviewer act is recorded with."""

    risk_level = forms.ChoiceField(label=_("New risk level"), choices=RiskLevel.choices)
    field_order = ["risk_level", "reason_code", "comment"]
