"""Which fields are personal data, and who may see them: one rule for the admin and the API alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.db.models.constants import LOOKUP_SEP

#: Staff with this permission see applicants' personal data; others work from references and statuses.
PII_PERMISSION = "django_kyc.view_applicant_pii"

#: Applicant fields that identify a person.
APPLICANT_PII_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "address_line",
    "city",
    "postal_code",
)

#: Document fields that identify a person.
DOCUMENT_PII_FIELDS = ("number",)

#: AML check fields that identify a person: the wallet or transaction a crypto screening was about.
AML_CHECK_PII_FIELDS = ("address", "tx_hash")

#: Every django_kyc model's fields that identify a person, by model label. Besides the applicant's own data:
#: what providers send back (payloads and raw webhook bodies carry names, dates of birth, document numbers).
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "django_kyc.applicant": APPLICANT_PII_FIELDS,
    "django_kyc.document": DOCUMENT_PII_FIELDS,
    "django_kyc.verification": ("provider_data",),
    "django_kyc.amlcheck": (*AML_CHECK_PII_FIELDS, "provider_data"),
    "django_kyc.webhookevent": ("body",),
}

#: The linked account's fields that identify the person (when the user model has them). The username is not
#: one: every staff list names the account by it.
USER_PII_FIELDS = ("first_name", "last_name", "email")


def can_view_pii(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_perm(PII_PERMISSION))


def personal_fields(model: type[Model]) -> frozenset[str]:
    """The names of ``model``'s fields that identify a person (a proxy model has its concrete model's)."""
    concrete = model._meta.concrete_model or model
    user_model = get_user_model()
    if concrete is user_model:
        names = {*USER_PII_FIELDS, user_model.get_email_field_name()}
        return frozenset(name for name in names if _has_field(concrete, name))
    return frozenset(PERSONAL_FIELDS.get(concrete._meta.label_lower, ()))


def path_fields(model: type[Model], path: str) -> Iterator[tuple[type[Model], str]]:
    """The ``(model, field name)`` pairs a lookup path walks through, relations followed (proxies resolved to
    their concrete model).

    ``applicant__email__startswith`` on a verification walks ``(Verification, "applicant")`` then
    ``(Applicant, "email")``: the path is resolved through the models' relations, not matched by name. What
    follows the last field (``__startswith``, ``__year``) is a lookup or transform of it, and a name that
    is no field ends the walk (the ORM refuses it on its own).
    """
    for part in path.split(LOOKUP_SEP):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return
        yield model._meta.concrete_model or model, field.name
        if not field.is_relation or field.related_model is None:
            return
        model = field.related_model  # type: ignore[assignment]


def _has_field(model: type[Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True
