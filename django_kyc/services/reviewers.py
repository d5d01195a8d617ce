"""Who may decide: the rule every reviewer decision shares, whatever it decides on.

Verification decisions, AML hit resolutions and risk level changes (:mod:`~django_kyc.services.review`,
:mod:`~django_kyc.services.risk`) all start with :func:`check_reviewer`. It lives apart from them so each can
use it without importing the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from django_kyc.reasons import reason_codes

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

REVIEW_PERMISSION = "django_kyc.review_applicant"
#: Needed, on top of ``review_applicant``, to confirm a four-eyes proposal.
APPROVE_HIGH_RISK_PERMISSION = "django_kyc.approve_high_risk"


def check_reviewer(user: AbstractBaseUser | AnonymousUser, reason_code: str) -> None:
    """The one rule for every reviewer decision (verifications, AML hits, risk levels): the permission, and a
    reason code from the catalogue."""
    if not user.has_perm(REVIEW_PERMISSION):  # type: ignore[union-attr]
        raise PermissionDenied(_("You do not have permission to decide on KYC verifications."))
    if reason_code not in reason_codes():
        raise ValidationError({"reason_code": _("Unknown reason code %(code)s.") % {"code": repr(reason_code)}})
