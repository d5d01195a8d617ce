"""Field-level encryption: what reaches the database is ciphertext, and everything above it still works."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core.checks import Error, Warning
from django.core.exceptions import FieldError
from django.db import connection
from django.db.models import TextField, Value
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from django_kyc import crypto
from django_kyc.checks import check_encryption_keys
from django_kyc.crypto import (
    DecryptionError,
    blind_index,
    decrypt_str,
    encrypt_str,
    normalize_identifier,
)
from django_kyc.exceptions import KycConfigurationError
from django_kyc.models import AmlCheck, Applicant, Document, Verification, WebhookEvent
from tests.support.kyc_settings import kyc_settings_with

OTHER_KEY = Fernet.generate_key().decode()


def raw_column(model: type[Any], column: str, pk: Any) -> str:
    """The value as stored, read with a plain cursor: no field class gets a chance to decrypt it."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    pk_value = model._meta.pk.get_db_prep_value(pk, connection)
    with connection.cursor() as cursor:
        # identifiers come from model metadata and are quoted by the backend; the value is a parameter
        sql = f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE {pk_column} = %s"  # noqa: S608
        cursor.execute(sql, [pk_value])
        (value,) = cursor.fetchone()
    return str(value)


# --- primitives ---------------------------------------------------------------------------------------------


def test_round_trip_and_randomised_ciphertext() -> None:
    token = encrypt_str("X1234567 ü")
    assert "X1234567" not in token
    assert decrypt_str(token) == "X1234567 ü"
    assert encrypt_str("X1234567 ü") != token  # Fernet is randomised: equal values do not show as equal


def test_wrong_key_is_a_clear_error_naming_the_setting() -> None:
    token = encrypt_str("secret")
    with (
        override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[OTHER_KEY])),
        pytest.raises(DecryptionError, match=r'DJANGO_KYC\["ENCRYPTION_KEYS"\].*kyc_rotate_keys'),
    ):
        decrypt_str(token, label="django_kyc.Document.number")


def test_missing_keys_refuse_to_encrypt_in_production_and_use_a_derived_key_in_debug() -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[]), DEBUG=False):
        with pytest.raises(KycConfigurationError, match="ENCRYPTION_KEYS"):
            encrypt_str("x")
        with override_settings(DEBUG=True):
            assert decrypt_str(encrypt_str("x")) == "x"


def test_malformed_key_is_a_configuration_error() -> None:
    with (
        override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=["not-a-key"])),
        pytest.raises(KycConfigurationError, match=r"ENCRYPTION_KEYS\"\]\[0\]"),
    ):
        encrypt_str("x")


def test_a_key_list_is_validated_once_not_on_every_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every encrypted value read or written asks for the keys; validating them each time (a ``Fernet`` per
    key) cost more than finding the cached ``MultiFernet``. A bad list still fails on every use."""
    validations: list[object] = []
    real = crypto.validate_encryption_keys
    monkeypatch.setattr(crypto, "validate_encryption_keys", lambda keys: validations.append(keys) or real(keys))
    fresh = [OTHER_KEY, Fernet.generate_key()]  # a list no earlier test has used, so none is cached yet
    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=fresh)):
        for _ in range(3):
            assert decrypt_str(encrypt_str("x")) == "x"
    assert len(validations) == 1
    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[OTHER_KEY, "not-a-key"])):
        for _ in range(2):
            with pytest.raises(KycConfigurationError, match=r"ENCRYPTION_KEYS\"\]\[1\]"):
                encrypt_str("x")
    assert len(validations) == 3
    with override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[bytearray(OTHER_KEY.encode())])):
        assert decrypt_str(encrypt_str("x")) == "x"  # a key type that cannot be cached is still accepted


def test_blind_index_is_normalised_keyed_and_empty_for_blanks() -> None:
    assert normalize_identifier(" ab 12\t34 ") == "AB1234"
    assert blind_index("ab 1234") == blind_index("AB1234")
    assert len(blind_index("AB1234")) == 64
    assert blind_index("") == blind_index(None) == ""
    with override_settings(DJANGO_KYC=kyc_settings_with(BLIND_INDEX_KEY="another-blind-index-key-of-32-chars!!")):
        other = blind_index("AB1234")
    assert other != blind_index("AB1234")


# --- system check -------------------------------------------------------------------------------------------


def test_check_errors_on_missing_keys_in_production() -> None:
    with override_settings(DEBUG=False, DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[], BLIND_INDEX_KEY="")):
        messages = check_encryption_keys()
    assert {(type(m), m.id) for m in messages} == {(Error, "django_kyc.E020"), (Error, "django_kyc.E021")}
    assert 'DJANGO_KYC["ENCRYPTION_KEYS"]' in messages[0].msg


def test_check_warns_in_debug() -> None:
    with override_settings(DEBUG=True, DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[], BLIND_INDEX_KEY="")):
        messages = check_encryption_keys()
    assert {(type(m), m.id) for m in messages} == {(Warning, "django_kyc.W020"), (Warning, "django_kyc.W021")}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"ENCRYPTION_KEYS": [OTHER_KEY, "short"]}, "django_kyc.E022"),
        ({"BLIND_INDEX_KEY": "too-short"}, "django_kyc.E023"),
        ({"ENCRYPTION_KEYS": [OTHER_KEY], "BLIND_INDEX_KEY": OTHER_KEY}, "django_kyc.E024"),
    ],
)
def test_check_rejects_malformed_keys(changes: dict[str, Any], expected: str) -> None:
    with override_settings(DJANGO_KYC=kyc_settings_with(**changes)):
        messages = check_encryption_keys()
    assert [m.id for m in messages] == [expected]
    assert "DJANGO_KYC[" in messages[0].msg


def test_suite_keys_pass_the_check() -> None:
    assert check_encryption_keys() == []


# --- models -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_database_holds_no_plaintext(make_applicant: Callable[..., Applicant]) -> None:
    applicant = make_applicant(date_of_birth=datetime.date(1980, 2, 3))
    document = applicant.documents.get()
    body = json.dumps({"event_id": "evt_1", "first_name": "Zebulon", "document_number": "X1234567"}).encode()
    event = WebhookEvent.objects.create(backend="sandbox", event_id="evt_1", body=body)
    verification = Verification.objects.create(applicant=applicant, backend="sandbox", provider_data={"dob": "1980"})
    aml = AmlCheck.objects.create(applicant=applicant, backend="sandbox", provider_data={"name": "Zebulon"})

    stored = {
        "number": raw_column(Document, "number", document.pk),
        "date_of_birth": raw_column(Applicant, "date_of_birth", applicant.pk),
        "body": raw_column(WebhookEvent, "body", event.pk),
        "verification": raw_column(Verification, "provider_data", verification.pk),
        "aml": raw_column(AmlCheck, "provider_data", aml.pk),
    }
    for name, value in stored.items():
        assert value.startswith("gAAAAA"), name  # a Fernet token (version byte 0x80)
        for plaintext in ("X1234567", "1980", "02-03", "Zebulon", "evt_1"):
            assert plaintext not in value, (name, plaintext)

    applicant.refresh_from_db()
    document.refresh_from_db()
    event.refresh_from_db()
    assert applicant.date_of_birth == datetime.date(1980, 2, 3)
    assert document.number == "X1234567"
    assert event.body == body
    assert Verification.objects.values_list("provider_data", flat=True).get(pk=verification.pk) == {"dob": "1980"}
    assert AmlCheck.objects.get(pk=aml.pk).provider_data == {"name": "Zebulon"}


@pytest.mark.django_db
def test_binary_field_keeps_any_bytes_and_reads_rows_the_text_field_wrote() -> None:
    """``WebhookEvent.body`` was an encrypted text field; it is bytes now, over the same column (no data
    migration): a token the text field wrote (its UTF-8) reads back as exactly those bytes."""
    text = '{"event_id": "evt_old", "name": "Zoë Ångström", "emoji": "\U0001f600"}'
    event = WebhookEvent.objects.create(backend="sandbox", event_id="evt_old")
    # the token as EncryptedTextField wrote it (an expression is stored as it is, not encrypted again)
    WebhookEvent.objects.filter(pk=event.pk).update(body=Value(encrypt_str(text), output_field=TextField()))
    assert WebhookEvent.objects.get(pk=event.pk).body == text.encode("utf-8")

    anything = bytes(range(256)) * 2
    WebhookEvent.objects.filter(pk=event.pk).update(body=anything)
    assert raw_column(WebhookEvent, "body", event.pk).startswith("gAAAAA")
    assert WebhookEvent.objects.get(pk=event.pk).body == anything


@pytest.mark.django_db
def test_binary_field_refuses_text() -> None:
    """Text given for raw bytes means someone decoded them already: the loss the field exists to prevent."""
    with pytest.raises(TypeError, match=r"django_kyc\.WebhookEvent\.body holds bytes, not str"):
        WebhookEvent.objects.create(backend="sandbox", event_id="evt_text", body="{}")


@pytest.mark.django_db
def test_blind_index_lookup_finds_the_document(make_applicant: Callable[..., Applicant]) -> None:
    document = make_applicant().documents.get()
    assert document.number_bidx == blind_index("X1234567")
    assert Document.objects.get(number_bidx=blind_index("x123 4567")) == document
    assert not Document.objects.filter(number_bidx=blind_index("X1234568")).exists()

    document.number = "Y7654321"
    document.save(update_fields=["number"])  # the model adds number_bidx
    assert Document.objects.get(number_bidx=blind_index("Y7654321")) == document


@pytest.mark.django_db
def test_comparing_ciphertexts_is_refused_not_silently_empty() -> None:
    with pytest.raises(FieldError):
        Document.objects.filter(number="X1234567").exists()
    with pytest.raises(FieldError):
        Verification.objects.filter(provider_data__dob="1980").exists()
    assert Applicant.objects.filter(date_of_birth__isnull=True).count() == 0


@pytest.mark.django_db
def test_a_row_encrypted_under_a_removed_key_fails_loudly(make_applicant: Callable[..., Applicant]) -> None:
    document = make_applicant().documents.get()
    with (
        override_settings(DJANGO_KYC=kyc_settings_with(ENCRYPTION_KEYS=[OTHER_KEY])),
        pytest.raises(DecryptionError, match=r"django_kyc\.Document\.number"),
    ):
        Document.objects.get(pk=document.pk)


# --- admin and API ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_shows_decrypted_values_to_pii_viewers_and_hides_them_otherwise(
    make_applicant: Callable[..., Applicant], reviewer: User
) -> None:
    applicant = make_applicant(date_of_birth=datetime.date(1980, 2, 3))
    Verification.objects.create(applicant=applicant, backend="sandbox", provider_data={"note": "Zebulon"})
    trusted = User.objects.create_superuser("root", password="pw")
    client = Client()
    client.force_login(trusted)
    url = reverse("admin:django_kyc_applicant_change", args=[applicant.pk])
    html = client.get(url).content.decode()
    assert "X1234567" in html
    assert "1980-02-03" in html
    assert "gAAAAA" not in html

    verification = applicant.verifications.get()
    page = client.get(reverse("admin:django_kyc_verification_change", args=[verification.pk]))
    assert page.status_code == 200
    assert "Zebulon" in page.content.decode()

    client.force_login(reviewer)  # no view_applicant_pii
    html = client.get(url).content.decode()
    assert "X1234567" not in html
    assert "1980-02-03" not in html


@pytest.mark.django_db
def test_api_reads_and_writes_encrypted_fields(
    user: User, client_for: Callable[[User | None], APIClient], make_applicant: Callable[..., Applicant]
) -> None:
    applicant = make_applicant(user=user)
    api = client_for(user)
    response = api.patch(f"/kyc/api/applicants/{applicant.pk}/", {"date_of_birth": "1980-02-03"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["date_of_birth"] == "1980-02-03"
    applicant.refresh_from_db()
    assert applicant.date_of_birth == datetime.date(1980, 2, 3)
    assert "1980" not in raw_column(Applicant, "date_of_birth", applicant.pk)
    documents = api.get(f"/kyc/api/applicants/{applicant.pk}/documents/")
    assert documents.status_code == 200, documents.content
    assert "X1234567" in documents.content.decode()
