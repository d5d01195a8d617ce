"""Seeding for ``bench.bulk``: N realistic applicants written with PostgreSQL ``COPY``.

Seeding is not what is measured, but at 100,000 applicants with five or six related rows each it is most of
the run if done through the ORM (``bulk_create`` builds a model instance per row). ``COPY`` of prepared
tuples is several times faster. The values are still real: encrypted columns hold genuine Fernet tokens made
by :func:`django_kyc.crypto.encrypt_str` under the key the parent process is configured with, blind indexes
are computed by :func:`django_kyc.crypto.blind_index`, and every column a row does not set gets the value
Django itself would store for the field's default (``get_db_prep_save``), so a new NOT NULL column cannot
silently break the seed.

Needs a configured Django (``django.setup()``) pointing at the throwaway benchmark database.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connection, models
from django.utils import timezone

from django_kyc import file_encryption
from django_kyc.crypto import blind_index, encrypt_str
from django_kyc.models import (
    AmlCheck,
    Applicant,
    Document,
    DocumentFile,
    ErasureRequest,
    Verification,
    WebhookEvent,
)

#: A real one-pixel PNG: document files stay tiny, so 100,000 of them cost seconds to write, not minutes.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)
PNG_SHA256 = hashlib.sha256(PNG_BYTES).hexdigest()
#: Rows go to the server in chunks; a chunk of prepared tuples is the parent's only O(rows) memory.
CHUNK = 5_000
#: Every tenth purge applicant also has a scheduled erasure request, which the purge must close.
ERASURE_EVERY = 10

FIRST_NAMES = ("Jane", "Amir", "Chen", "Olga", "Luis", "Fatima", "Kwame", "Ingrid", "Priya", "Tom")
LAST_NAMES = ("Smith", "Haddad", "Wang", "Petrova", "García", "Okafor", "Mensah", "Larsen", "Iyer", "Brown")
COUNTRIES = ("GB", "DE", "FR", "ES", "NL", "IE", "PL", "IT", "SE", "PT")


# --- COPY --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    attname: str
    column: str
    default: Callable[[], Any]


_UNIQUE_DEFAULTS = frozenset({"uuid4", "new_reference", "now"})


def _constant(value: Any) -> Callable[[], Any]:
    def produce() -> Any:
        return value

    return produce


def _fresh(field: models.Field[Any, Any]) -> Callable[[], Any]:
    def produce() -> Any:
        return field.get_db_prep_save(field.get_default(), connection)

    return produce


def _columns(model: type[models.Model]) -> list[_Column]:
    """Every concrete column but an auto-increment key, each with a producer of Django's own default value."""
    now = timezone.now()
    columns = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.AutoField | models.BigAutoField):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            columns.append(_Column(field.attname, field.column, _constant(now)))
            continue
        default = field.default if field.has_default() else None
        if callable(default) and getattr(default, "__name__", "") in _UNIQUE_DEFAULTS:
            # ids, references, timestamps: a fresh value per row, never one shared by all
            columns.append(_Column(field.attname, field.column, _fresh(field)))
            continue
        columns.append(
            _Column(field.attname, field.column, _constant(field.get_db_prep_save(field.get_default(), connection)))
        )
    return columns


def copy_rows(model: type[models.Model], rows: Iterable[Mapping[str, Any]]) -> int:
    """``COPY`` ``rows`` (attname → value ready for the database) into ``model``'s table; returns the count.

    Values a row leaves out are the field's default, as Django would store it.
    """
    columns = _columns(model)
    names = ", ".join(connection.ops.quote_name(column.column) for column in columns)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({names}) FROM STDIN"
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([row[c.attname] if c.attname in row else c.default() for c in columns])
            count += 1
    return count


def truncate_kyc() -> None:
    """Empty every django_kyc table (and the audit trail), so each measurement starts from its own seed."""
    tables = [
        connection.ops.quote_name(model._meta.db_table)
        for model in apps.get_app_config("django_kyc").get_models()
        if not model._meta.proxy and model._meta.managed
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def analyze() -> None:
    """Fresh planner statistics, as autovacuum would have after a real load; a bulk load leaves none."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- the rows ----------------------------------------------------------------------------------------------


def _birth_date(n: int) -> date:
    return date(1950, 1, 1) + timedelta(days=(n * 7919) % 18_000)


def _document_number(n: int) -> str:
    return f"P{(n * 2_654_435_761) % 10**9:09d}{n % 97:02d}"


def _applicant(n: int, created: datetime, **extra: Any) -> dict[str, Any]:
    first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n // 10) % len(LAST_NAMES)]
    country = COUNTRIES[n % len(COUNTRIES)]
    return {
        "id": uuid.uuid4(),
        "reference": f"kyc_{uuid.uuid4().hex[:20]}",
        "external_id": f"user-{n}",
        "first_name": first,
        "last_name": f"{last}{n}",
        "date_of_birth": encrypt_str(_birth_date(n).isoformat()),
        "nationality": country,
        "email": f"{first.lower()}.{n}@example.com",
        "phone": f"+44 7700 {n % 1_000_000:06d}",
        "country": country,
        "address_line": f"{n % 300 + 1} High Street",
        "city": "London",
        "postal_code": f"N{n % 20} {n % 9}AB",
        "created_at": created,
        "updated_at": created,
        **extra,
    }


def _provider_payload(n: int, reference: str) -> str:
    """A provider payload of realistic size (a few hundred bytes of JSON), encrypted as the model stores it."""
    payload = {
        "sandbox": {"rule": "default", "reference": reference},
        "document": {"type": "passport", "number": _document_number(n), "country": "GB"},
        "person": {"name": f"Person {n}", "date_of_birth": _birth_date(n).isoformat()},
        "checks": {"liveness": 0.97, "face_similarity": 0.93, "document_authentic": True},
    }
    return encrypt_str(json.dumps(payload))


def _webhook_body(n: int, verification_id: uuid.UUID, occurred: datetime) -> str:
    body = {
        "event_id": f"evt_{n:012d}",
        "type": "verification.updated",
        "verification_id": f"sbx_{n:012d}",
        "reference": str(verification_id),
        "status": "approved",
        "reasons": [],
        "documents": [{"id": f"doc_{n}", "status": "accepted", "number": _document_number(n)}],
        "occurred_at": occurred.isoformat(),
    }
    return encrypt_str(json.dumps(body))


@dataclass(frozen=True)
class Book:
    """What was seeded: the applicant count and how many rows of each table (what the commands must touch)."""

    applicants: int
    rows: Mapping[str, int]

    @property
    def encrypted_rows(self) -> int:
        """Rows with an encrypted column: every one is stale after a key rotation."""
        names = ("Applicant", "Document", "Verification", "WebhookEvent", "AmlCheck")
        return sum(self.rows.get(name, 0) for name in names)


def seed_decided(count: int, *, storage: Path | None, ended_years_ago: float = 7.0) -> Book:
    """``count`` verified applicants whose relationship ended ``ended_years_ago`` years ago (so retention,
    five years in the suite's settings, has lapsed), each with a passport (and, with ``storage``, its image on
    disk), an approved sandbox verification carrying an encrypted provider payload, the webhook event that
    delivered the decision, and a clear AML screening; every :data:`ERASURE_EVERY`-th also has an erasure
    request scheduled for the end of retention.

    This is the book both key rotation (every row has encrypted columns under the seeding key) and the
    purge (every applicant is due) work on.
    """
    now = timezone.now()
    # stored as the document storage stores it: encrypted (one ciphertext for every copy of the same tiny
    # image; the purge only deletes them)
    encrypted_png = b"".join(file_encryption.encrypt([PNG_BYTES])) if storage is not None else b""
    ended = now - timedelta(days=round(365.25 * ended_years_ago))
    retention_until = ended.replace(year=ended.year + 5)
    applicants: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    verifications: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    erasures: list[dict[str, Any]] = []
    totals = dict.fromkeys(
        ("Applicant", "Document", "DocumentFile", "Verification", "WebhookEvent", "AmlCheck", "ErasureRequest"), 0
    )

    def flush() -> None:
        for model, rows in (
            (Applicant, applicants),
            (Document, documents),
            (DocumentFile, files),
            (Verification, verifications),
            (WebhookEvent, events),
            (AmlCheck, checks),
            (ErasureRequest, erasures),
        ):
            totals[model.__name__] += copy_rows(model, rows)
            rows.clear()

    for n in range(count):
        created = ended - timedelta(days=400, seconds=count - n)
        decided = created + timedelta(minutes=7)
        applicant = _applicant(
            n,
            created,
            status="verified",
            verified_at=decided,
            relationship_ended_at=ended,
            retention_until=retention_until,
        )
        applicants.append(applicant)
        document_id, verification_id = uuid.uuid4(), uuid.uuid4()
        number = _document_number(n)
        documents.append(
            {
                "id": document_id,
                "applicant_id": applicant["id"],
                "type": "passport",
                "number": encrypt_str(number),
                "number_bidx": blind_index(number),
                "issuing_country": applicant["country"],
                "issue_date": date(2015, 1, 1) + timedelta(days=n % 2000),
                "expiry_date": date(2025, 1, 1) + timedelta(days=n % 2000),
                "status": "accepted",
                "provider_document_id": f"sbx-doc-{n}",
                "created_at": created,
                "updated_at": decided,
            }
        )
        name = f"documents/{n % 256:02x}/{uuid.uuid4().hex}.png"
        if storage is not None:
            path = storage / name
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            path.write_bytes(encrypted_png)
        files.append(
            {
                "document_id": document_id,
                "file": name,
                "sha256": PNG_SHA256,
                "content_type": "image/png",
                "size": len(PNG_BYTES),
                "created_at": created,
            }
        )
        verifications.append(
            {
                "id": verification_id,
                "applicant_id": applicant["id"],
                "backend": "sandbox",
                "status": "approved",
                "provider_status": "approved",
                "provider_applicant_id": f"sbx-app-{n}",
                "provider_verification_id": f"sbx_{n:012d}",
                "provider_data": _provider_payload(n, applicant["reference"]),
                "client_token": f"ct_{uuid.uuid4().hex}",
                "client_link": f"https://sandbox.example.invalid/capture/{verification_id}",
                "last_event_at": decided,
                "submitted_at": created,
                "decided_at": decided,
                "decision_source": "provider",
                "created_at": created,
                "updated_at": decided,
            }
        )
        events.append(
            {
                "backend": "sandbox",
                "event_id": f"evt_{n:012d}",
                "event_type": "verification.updated",
                "provider_ref": f"sbx_{n:012d}",
                "occurred_at": decided,
                "received_at": decided,
                "body": _webhook_body(n, verification_id, decided),
                "state": "processed",
                "processed_at": decided,
                "verification_id": verification_id,
            }
        )
        checks.append(
            {
                "applicant_id": applicant["id"],
                "backend": "sandbox",
                "status": "clear",
                "provider_status": "clear",
                "provider_check_id": f"sbx-aml-{n}",
                "provider_data": encrypt_str(json.dumps({"sandbox": {"hits": [], "name": f"Person {n}"}})),
                "screened_at": decided,
                "created_at": decided,
                "updated_at": decided,
            }
        )
        if n % ERASURE_EVERY == 0:
            erasures.append(
                {
                    "applicant_id": applicant["id"],
                    "requested_at": ended,
                    "source": "subject",
                    "status": "scheduled",
                    "due_at": retention_until,
                    "note": "Waiting: records are kept until the retention period lapses.",
                }
            )
        if len(applicants) >= CHUNK:
            flush()
    flush()
    analyze()
    return Book(count, totals)


def seed_due_reviews(count: int) -> Book:
    """``count`` verified applicants whose periodic review fell due yesterday and who were never told (the
    worst day the daily review run can have: a backlog, or the policy switched on over an existing book), each
    with the approved verification the review is counted from. Every one is noticed, then lapses."""
    now = timezone.now()
    due = now - timedelta(days=1)
    applicants: list[dict[str, Any]] = []
    verifications: list[dict[str, Any]] = []
    totals = dict.fromkeys(("Applicant", "Verification"), 0)

    def flush() -> None:
        for model, rows in ((Applicant, applicants), (Verification, verifications)):
            totals[model.__name__] += copy_rows(model, rows)
            rows.clear()

    for n in range(count):
        created = now - timedelta(days=5 * 365 + 30, seconds=count - n)
        decided = created + timedelta(minutes=7)
        applicant = _applicant(
            n,
            created,
            status="verified",
            verified_at=decided,
            # ties on the date on purpose: the keyset pages on (next_review_at, id)
            next_review_at=due + timedelta(seconds=n % 3600),
            review_reason="periodic",
        )
        applicants.append(applicant)
        verifications.append(
            {
                "id": uuid.uuid4(),
                "applicant_id": applicant["id"],
                "backend": "sandbox",
                "status": "approved",
                "provider_status": "approved",
                "provider_verification_id": f"sbx_{n:012d}",
                "submitted_at": created,
                "decided_at": decided,
                "decision_source": "provider",
                "created_at": created,
                "updated_at": decided,
            }
        )
        if len(applicants) >= CHUNK:
            flush()
    flush()
    analyze()
    return Book(count, totals)


def seed_reconcile(count: int, add_submission: Callable[[str, str, datetime, str, str], None], alias: str) -> Book:
    """``count`` applicants each with a verification of backend ``alias`` waiting in ``review`` (the person
    finished on the provider's page, the decision is out), whose approval the site missed: the provider's
    book (``add_submission(submission_id, userid, created, document_number, birth_date)``) says approved.

    Reconciliation has to apply every one of them: move the verification to approved, create the passport
    the provider read, and refresh the applicant.
    """
    now = timezone.now()
    applicants: list[dict[str, Any]] = []
    verifications: list[dict[str, Any]] = []
    totals = {"Applicant": 0, "Verification": 0}
    for n in range(count):
        created = now - timedelta(days=2, seconds=count - n)
        applicant = _applicant(n, created, status="review")
        applicants.append(applicant)
        verification_id = uuid.uuid4()
        submission_id = f"{n:013x}"[-13:]
        verifications.append(
            {
                "id": verification_id,
                "applicant_id": applicant["id"],
                "backend": alias,
                "status": "review",
                "provider_status": "pending",
                "provider_verification_id": submission_id,
                "provider_data": encrypt_str(json.dumps({"argos": {"submission_id": submission_id}})),
                "client_link": f"https://form.argos.invalid/?pid=bench&userid={verification_id}",
                "submitted_at": created,
                "created_at": created,
                "updated_at": created,
            }
        )
        add_submission(submission_id, str(verification_id), created, _document_number(n), _birth_date(n).isoformat())
        if len(applicants) >= CHUNK:
            totals["Applicant"] += copy_rows(Applicant, applicants)
            totals["Verification"] += copy_rows(Verification, verifications)
            applicants.clear()
            verifications.clear()
    totals["Applicant"] += copy_rows(Applicant, applicants)
    totals["Verification"] += copy_rows(Verification, verifications)
    analyze()
    return Book(count, totals)
