"""Who sees what: a user sees only their own applicant; staff need the model permissions.

Querysets are filtered (so other people's objects are a 404, not a 403 that confirms they exist) and
object permissions check writes.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from django_kyc.models import Applicant
from django_kyc.pii import can_view_pii
from django_kyc.services.review_policy import review_notice_open
from django_kyc.status import APPLICANT_EDITABLE, APPLICANT_MAY_SUBMIT


def may_choose_backend(user: Any, alias: str) -> bool:
    """Which provider verifies someone is the site's decision: applicants may pick only among
    ``DJANGO_KYC["USER_SELECTABLE_BACKENDS"]`` (default: ``DEFAULT_BACKEND`` and ``AML_BACKEND``, the aliases
    they get when they name none); staff who may change applicants may pick any configured alias."""
    from django_kyc.conf import kyc_settings

    if user.is_authenticated and user.has_perm("django_kyc.change_applicant"):
        return True
    allowed = kyc_settings.USER_SELECTABLE_BACKENDS
    return alias in (allowed if allowed is not None else [kyc_settings.DEFAULT_BACKEND, kyc_settings.AML_BACKEND])


def can_view_all(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_perm("django_kyc.view_applicant"))


def can_change_all(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_perm("django_kyc.change_applicant"))


def visible_applicants(user: Any) -> QuerySet[Applicant]:
    queryset = Applicant.objects.all()
    if can_view_all(user):
        return queryset
    return queryset.filter(user_id=user.pk)


def owns(user: Any, applicant: Applicant) -> bool:
    return applicant.user_id is not None and applicant.user_id == user.pk


def may_act_for(user: Any, applicant: Applicant) -> bool:
    """The owner, or staff who may change applicants: who may write, and who may hold hosted-flow
    credentials (a client token lets its bearer complete the provider's flow as the applicant)."""
    return owns(user, applicant) or can_change_all(user)


def may_see_pii(user: Any, applicant: Applicant) -> bool:
    """The applicant's own data, or staff trusted with personal data (``view_applicant_pii``), as in the
    admin: ``view_applicant`` alone shows references and statuses, not who the person is."""
    return owns(user, applicant) or can_view_pii(user)


def applicant_actions(user: Any, applicant: Applicant) -> dict[str, bool]:
    """What ``user`` may do to ``applicant`` through the API right now.

    The applicant serializer shows it (``actions``), so a frontend enables its buttons from the answer instead
    of copying these rules, and the views refuse what it says no to (409), so the two cannot disagree. It reads
    only the applicant's row (status, next review): no query per row of a list.
    """
    acting = may_act_for(user, applicant)
    # a review whose notice period has opened lets a verified person verify again before it lapses
    submit = acting and (applicant.status in APPLICANT_MAY_SUBMIT or review_notice_open(applicant))
    return {
        "update": acting and applicant.status in APPLICANT_EDITABLE,
        "upload_document": submit,
        "start_verification": submit,
    }


class IsOwnerOrStaff(BasePermission):
    """Reads follow the queryset filter; writes need ownership or the change permission."""

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        applicant: Applicant = obj if isinstance(obj, Applicant) else obj.applicant
        if request.method in SAFE_METHODS:
            return owns(request.user, applicant) or can_view_all(request.user)
        return may_act_for(request.user, applicant)


class CanScreen(BasePermission):
    """An AML screening may be started by the applicant themself (their own person, wallet or transaction;
    the result tells them nothing a sanctions list would not) or by staff with ``add_amlcheck``.

    Checked on the applicant, after the queryset filter has found it, so someone else's applicant stays a
    404 instead of a 403 that would be answered before anyone looked.
    """

    message = _("You do not have permission to start AML screenings.")

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        applicant: Applicant = obj if isinstance(obj, Applicant) else obj.applicant
        return owns(request.user, applicant) or bool(
            request.user.is_authenticated and request.user.has_perm("django_kyc.add_amlcheck")
        )
