"""Hidden fields cannot be guessed through the query string: on every django_kyc admin, staff without
``view_applicant_pii`` can neither filter (``?last_name__startswith=J``, ``?aml_check__applicant__email=...``)
nor search (``?q=``) nor sort on personal data, reached directly or through relations, and nobody filters on a
credential. The paths are enumerated from the models' relations, so a new admin or relation is covered."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin as django_admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.models import Permission, User
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import reverse

from django_kyc import pii
from django_kyc.models import AmlCheck, Applicant
from django_kyc.services import aml
from django_kyc.services.audit import Change
from tests.support.factories import make_verification

pytestmark = pytest.mark.django_db

KYC_ADMINS = sorted(
    (
        (model, model_admin)
        for model, model_admin in django_admin.site._registry.items()
        if model._meta.app_label == "django_kyc"
    ),
    key=lambda pair: pair[0]._meta.model_name or "",
)
IDS = [model._meta.model_name for model, _ in KYC_ADMINS]


def personal_paths(model: type[Model], depth: int = 3, prefix: str = "") -> Iterator[str]:
    """Every query-string path from ``model`` to a personal field, following relations ``depth`` deep."""
    personal = pii.personal_fields(model)
    for field in model._meta.get_fields():
        if field.name in personal:
            yield prefix + field.name
        elif field.is_relation and field.related_model is not None and depth > 1:
            yield from personal_paths(field.related_model, depth - 1, f"{prefix}{field.name}__")  # type: ignore[arg-type]


def reaches_personal_field(model: type[Model], path: str) -> bool:
    return any(name in pii.personal_fields(owner) for owner, name in pii.path_fields(model, path))


def staff(name: str, *, with_pii: bool) -> User:
    """Every permission this app defines, with or without the one that shows personal data."""
    perms = Permission.objects.filter(content_type__app_label="django_kyc")
    if not with_pii:
        perms = perms.exclude(codename="view_applicant_pii")
    user = User.objects.create_user(username=name, password="pw", is_staff=True)
    user.user_permissions.set(perms)
    return User.objects.get(pk=user.pk)


def changelist(model: type[Model]) -> str:
    return reverse(f"admin:django_kyc_{model._meta.model_name}_changelist")


@pytest.fixture
def no_pii(db: Any) -> Client:
    client = Client()
    client.force_login(staff("nopii", with_pii=False))
    return client


@pytest.fixture
def with_pii(db: Any) -> Client:
    client = Client()
    client.force_login(staff("pii", with_pii=True))
    return client


@pytest.fixture
def applicant(make_applicant: Any) -> Applicant:
    applicant = make_applicant(
        last_name="Secretname", email="jane@example.com", phone="+441234", postal_code="AB1", city="Hiddenham"
    )
    applicant.address_line = "1 Hidden Road"
    applicant.save()
    make_verification(applicant)
    return applicant


def test_every_django_kyc_admin_follows_the_personal_data_rules() -> None:
    from django_kyc.admin.base import KycModelAdmin

    assert KYC_ADMINS
    assert [model for model, model_admin in KYC_ADMINS if not isinstance(model_admin, KycModelAdmin)] == []


@pytest.mark.parametrize(
    ("lookup", "value"),
    [
        ("last_name__startswith", "Se"),
        ("first_name__startswith", "Ja"),
        ("email__startswith", "ja"),
        ("phone__contains", "+44"),
        ("postal_code__startswith", "AB"),
        ("address_line__icontains", "hidden"),
        ("city__iexact", "hiddenham"),
    ],
)
def test_the_reported_applicant_lookups_are_refused_without_the_permission(
    no_pii: Client, with_pii: Client, applicant: Applicant, lookup: str, value: str
) -> None:
    """Each of these would otherwise confirm a hidden value a letter at a time."""
    assert no_pii.get(changelist(Applicant), {lookup: value}).status_code == 400
    assert with_pii.get(changelist(Applicant), {lookup: value}).context["cl"].result_count == 1


def test_the_refusal_names_the_lookup(no_pii: Client, applicant: Applicant, caplog: Any) -> None:
    with caplog.at_level(logging.ERROR, logger="django.security.DisallowedModelAdminLookup"):
        response = no_pii.get(changelist(Applicant), {"last_name__startswith": "S"})
    assert response.status_code == 400
    assert "Filtering by last_name__startswith not allowed" in caplog.text
    assert "Secretname" not in response.content.decode()


@pytest.mark.parametrize(("model", "model_admin"), KYC_ADMINS, ids=IDS)
def test_no_path_to_personal_data_is_filterable_without_the_permission(
    no_pii: Client, with_pii: Client, applicant: Applicant, model: type[Model], model_admin: Any
) -> None:
    statuses = {
        path: no_pii.get(changelist(model), {f"{path}__startswith": "S"}).status_code for path in personal_paths(model)
    }
    assert {path: status for path, status in statuses.items() if status != 400} == {}
    # with the permission, the model's own fields filter as before (across relations Django's own rule
    # applies: only what list_filter offers); encrypted fields cannot be filtered on at all
    for name in pii.personal_fields(model):
        if not type(model._meta.get_field(name)).__module__.startswith("django_kyc.crypto"):
            assert with_pii.get(changelist(model), {f"{name}__startswith": "S"}).status_code == 200, name


def test_the_paths_reach_the_applicant_through_relations() -> None:
    """The enumeration really walks relations (or the parametrised test above would prove little)."""
    from django_kyc.models import AmlHit, Document, ReviewDecision

    assert {"applicant__last_name", "applicant__user__email"} <= set(personal_paths(ReviewDecision))
    assert "aml_check__applicant__email" in set(personal_paths(AmlHit))
    assert {"number", "applicant__postal_code"} <= set(personal_paths(Document))
    assert {"documents__number", "user__email", "aml_checks__address"} <= set(personal_paths(Applicant))


def test_the_hosted_flow_token_cannot_be_read_back_through_a_filter(applicant: Applicant, no_pii: Client) -> None:
    """A client token lets its bearer finish the provider's flow as the applicant; the admin shows it to no one."""
    from django_kyc.models import Verification

    Verification.objects.filter(applicant=applicant).update(client_token="tok_secret", client_link="https://x/tok")
    for lookup in ("client_token__startswith", "client_link__contains"):
        assert no_pii.get(changelist(Verification), {lookup: "tok"}).status_code == 400, lookup


@pytest.mark.parametrize(("model", "model_admin"), KYC_ADMINS, ids=IDS)
def test_credentials_are_filterable_by_nobody(admin_user: User, model: type[Model], model_admin: Any) -> None:
    from django_kyc.admin.base import CREDENTIAL_FIELDS

    client = Client()
    client.force_login(admin_user)
    for label, names in CREDENTIAL_FIELDS.items():
        for path in sorted(set(paths_to(model, label, names))):
            assert client.get(changelist(model), {f"{path}__startswith": "a"}).status_code == 400, path


def paths_to(model: type[Model], label: str, names: tuple[str, ...], depth: int = 3, prefix: str = "") -> Iterator[str]:
    concrete = model._meta.concrete_model or model
    for field in model._meta.get_fields():
        if concrete._meta.label_lower == label and field.name in names:
            yield prefix + field.name
        elif field.is_relation and field.related_model is not None and depth > 1:
            yield from paths_to(field.related_model, label, names, depth - 1, f"{prefix}{field.name}__")  # type: ignore[arg-type]


def test_search_skips_personal_fields_on_every_admin(make_applicant: Any, no_pii: Client, with_pii: Client) -> None:
    """The AML checks list searches wallet addresses, which only PII viewers see."""
    applicant = make_applicant()
    check = aml.start_check(applicant, Change.system())
    AmlCheck.objects.filter(pk=check.pk).update(address="0xSecretWallet1234567890")  # set-up, as a wallet check
    assert no_pii.get(changelist(AmlCheck), {"q": "0xSecretWallet"}).context["cl"].result_count == 0
    assert with_pii.get(changelist(AmlCheck), {"q": "0xSecretWallet"}).context["cl"].result_count == 1
    request = RequestFactory().get("/")
    request.user = User.objects.get(username="nopii")
    for model, model_admin in KYC_ADMINS:
        searched = [name.lstrip("^=@") for name in model_admin.get_search_fields(request)]
        assert [path for path in searched if reaches_personal_field(model, path)] == [], model


@pytest.mark.parametrize(("model", "model_admin"), KYC_ADMINS, ids=IDS)
def test_no_sortable_column_orders_by_personal_data(model: type[Model], model_admin: Any, db: Any) -> None:
    """``?o=`` sorts by the list's columns: none may sort by a personal field for staff without the permission."""
    request = RequestFactory().get(changelist(model))
    request.user = staff("sorter", with_pii=False)
    cl: ChangeList = model_admin.get_changelist_instance(request)
    for column in cl.list_display:
        try:
            field = cl.get_ordering_field(column)
        except AttributeError:
            continue
        if isinstance(field, str):
            assert not reaches_personal_field(model, field.lstrip("-")), (model, column)
