"""The way off django-onfido: its applicants, checks and reports, imported as django-kyc rows.

django-onfido (``onfido`` in ``INSTALLED_APPS``) keeps what Onfido answered in its own tables. This reads them,
never Onfido, and writes ours:

- each Django user with an ``onfido.Applicant`` gets our :class:`~django_kyc.models.Applicant` (one per user,
  since ours is one-to-one with the user; a user with several Onfido applicants has them all on one);
- each ``onfido.Check`` becomes a :class:`~django_kyc.models.Verification` of the ``backend`` alias (an Onfido
  backend in a classic-check mode), with the Onfido applicant and check ids and the check's date. The check and
  its reports are read by the Onfido backend's own reader (:func:`django_kyc.backends.onfido.state.check_state`,
  with the alias's ``CONSIDER`` policy), as if the backend had fetched them from Onfido, and the state is
  applied by the transition service like any provider state: every status has its audit row, and webhooks
  older than it are ignored;
- each ``onfido.Report`` is a row of ``provider_data["onfido"]["reports"]``, and one that is complete but not
  clear is a reason on its verification;
- ``onfido.Event`` rows are listed (action, status, time) in the data of the audit row that records the import.

A person keeps at most one open verification, the newest: checks are imported newest first, and an older check
that would still be open is cancelled as superseded. What is not carried over is in
``docs/moving-from-django-onfido.md``.

Safe to run again: a check is imported once, keyed on its Onfido id, and a check that changed at Onfido since
(django-onfido still receiving webhooks during the switch) is brought up to date. A dry run does all the work
in transactions it rolls back, so its counts are those of a real run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Prefetch, Q

from django_kyc.backends import get_backend
from django_kyc.backends.base import ProviderState
from django_kyc.backends.onfido import OnfidoBackend
from django_kyc.backends.onfido.state import check_state
from django_kyc.exceptions import InvalidTransition, KycConfigurationError
from django_kyc.models import Applicant, Verification
from django_kyc.services import transitions
from django_kyc.services.audit import Change, audit
from django_kyc.status import VERIFICATION_ACTIVE, Actor, AuditAction, Source, VerificationStatus

#: django-onfido's app label.
APP_LABEL = "onfido"
#: Where the audit rows say the imported rows came from.
IMPORTED_FROM = "django-onfido"
DEFAULT_BACKEND = "onfido"
#: People per transaction: a crash keeps the batches already committed, and the next run resumes after them.
DEFAULT_BATCH_SIZE = 200

CREATED, UPDATED, UNCHANGED, SKIPPED = "created", "updated", "unchanged", "skipped"

IMPORT_REASON = "Imported from django-onfido"
#: Check statuses django-onfido records that Onfido's API never sends, and why each ends the verification:
#: nothing is left at Onfido to poll or decide (``expired`` is what its ONFIDO_SYNC_DELETION writes for a check
#: deleted there). ``cancelled`` rather than ``expired``: a pending verification cannot expire.
DJANGO_ONFIDO_ENDINGS = {
    "expired": "django-onfido marked the check expired: it no longer exists at Onfido",
    "cancelled": "django-onfido marked the check cancelled",
}
SUPERSEDED_REASON = "Superseded by a newer verification of this applicant (import from django-onfido)"

_OLDEST = datetime.min.replace(tzinfo=timezone.utc)

#: A row of one of django-onfido's models. It ships no type hints, and is read through the app registry rather
#: than imported, so django_kyc never needs it installed.
OnfidoRow = Any


@dataclass(frozen=True)
class OnfidoTables:
    """django-onfido's models, from the app registry."""

    applicant: type[OnfidoRow]
    check: type[OnfidoRow]
    report: type[OnfidoRow]
    event: type[OnfidoRow]

    @classmethod
    def load(cls) -> OnfidoTables:
        if not apps.is_installed(APP_LABEL):
            raise KycConfigurationError(
                f"django-onfido ({APP_LABEL!r}) must be in INSTALLED_APPS while its rows are imported; "
                "remove it afterwards."
            )
        return cls(*(apps.get_model(APP_LABEL, name) for name in ("Applicant", "Check", "Report", "Event")))


@dataclass
class ImportReport:
    """What one run did (or, for a dry run, would do)."""

    dry_run: bool = False
    people: int = 0
    applicants: Counter[str] = field(default_factory=Counter)
    verifications: Counter[str] = field(default_factory=Counter)
    superseded: int = 0
    events_listed: int = 0
    #: One line per skipped check, naming it by its Onfido id (never by anything personal).
    skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.applicants[CREATED] or self.verifications[CREATED] or self.verifications[UPDATED])

    def summary(self) -> str:
        a, v = self.applicants, self.verifications
        lines = [
            f"{'Dry run, nothing written. ' if self.dry_run else ''}"
            f"{self.people} user(s) with a django-onfido applicant.",
            f"Applicants: {a[CREATED]} created, {a[UNCHANGED]} unchanged.",
            f"Verifications: {v[CREATED]} created ({self.superseded} of them cancelled as superseded), "
            f"{v[UPDATED]} updated, {v[UNCHANGED]} unchanged, {v[SKIPPED]} skipped.",
            f"Onfido events listed on the import's audit rows: {self.events_listed}.",
        ]
        if not self.changed:
            lines.append("Nothing to import: every django-onfido row is already in django-kyc.")
        return "\n".join(lines)


def import_django_onfido(
    *,
    backend: str = DEFAULT_BACKEND,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import every django-onfido applicant, check and report, ``batch_size`` people per transaction."""
    tables = OnfidoTables.load()
    onfido = onfido_backend(backend)
    size = max(1, batch_size)
    people = tables.applicant.objects.order_by("user_id").values_list("user_id", flat=True).distinct()
    report = ImportReport(dry_run=dry_run, people=people.count())
    done, last = 0, None
    while True:
        page = people if last is None else people.filter(user_id__gt=last)
        user_ids = list(page[:size])
        if not user_ids:
            break
        with transaction.atomic():
            _import_batch(tables, user_ids, onfido, report)
            if dry_run:
                transaction.set_rollback(True)
        done, last = done + len(user_ids), user_ids[-1]
        if progress is not None:
            progress(done, report.people)
    return report


def onfido_backend(alias: str) -> OnfidoBackend:
    """The alias's backend, refused before anything is written unless it can follow imported checks: the
    verifications still in flight are polled and updated through it."""
    backend = get_backend(alias)
    if not isinstance(backend, OnfidoBackend):
        raise KycConfigurationError(
            f'DJANGO_KYC["BACKENDS"]["{alias}"] is {type(backend).__name__}, not the Onfido backend '
            "(django_kyc.backends.onfido.OnfidoBackend): django-onfido's checks can only be followed at Onfido."
        )
    if backend.option("MODE") == "workflow":
        raise backend.option_error(
            "MODE",
            'is "workflow", where a verification\'s reference is a Studio workflow run; the imported ones are '
            'checks, which the backend follows in "api" and "sdk" mode. Import under an alias in one of those '
            "(docs/moving-from-django-onfido.md).",
        )
    return backend


@dataclass(frozen=True)
class OnfidoCheck:
    """A django-onfido check with the Onfido applicant it was made for."""

    applicant_id: str
    row: OnfidoRow

    @property
    def newest_first(self) -> tuple[datetime, int]:
        return (self.row.created_at or _OLDEST, self.row.pk)


@dataclass
class _Person:
    """One user's Onfido applicants and their checks."""

    applicant_ids: list[str] = field(default_factory=list)
    checks: list[OnfidoCheck] = field(default_factory=list)


def _import_batch(tables: OnfidoTables, user_ids: Sequence[Any], backend: OnfidoBackend, report: ImportReport) -> None:
    """Four queries read the batch's Onfido rows; each person is then imported in a savepoint of their own."""
    reports = Prefetch("reports", queryset=tables.report.objects.order_by("created_at", "pk"))
    checks = Prefetch("checks", queryset=tables.check.objects.prefetch_related(reports))
    people: dict[Any, _Person] = defaultdict(_Person)
    for onfido_applicant in (
        tables.applicant.objects.filter(user_id__in=user_ids).order_by("pk").prefetch_related(checks)
    ):
        person = people[onfido_applicant.user_id]
        person.applicant_ids.append(onfido_applicant.onfido_id)
        person.checks += [OnfidoCheck(onfido_applicant.onfido_id, row) for row in onfido_applicant.checks.all()]
    every_check = [check for person in people.values() for check in person.checks]
    events = _events(tables, every_check)
    # A check already imported under another alias is skipped, not imported twice.
    elsewhere = dict(
        Verification.objects.filter(provider_verification_id__in=[c.row.onfido_id for c in every_check])
        .exclude(backend=backend.alias)
        .values_list("provider_verification_id", "backend")
    )
    for user_id in user_ids:
        with transaction.atomic():
            _import_person(user_id, people[user_id], backend, events, elsewhere, report)


def _import_person(
    user_id: Any,
    person: _Person,
    backend: OnfidoBackend,
    events: Mapping[str, list[dict[str, Any]]],
    elsewhere: Mapping[str, str],
    report: ImportReport,
) -> None:
    applicant, created = Applicant.objects.get_or_create(user_id=user_id)
    report.applicants[CREATED if created else UNCHANGED] += 1
    if created:
        audit(
            Change.system(reason=IMPORT_REASON),
            obj=applicant,
            applicant_id=applicant.pk,
            action=AuditAction.IMPORTED,
            to_status=applicant.status,
            data={"imported_from": IMPORTED_FROM, "onfido_applicant_ids": person.applicant_ids},
        )
    # one import at a time per person: two runs at once neither duplicate a check nor leave two active
    applicant = Applicant.objects.select_for_update().get(pk=applicant.pk)
    imported = {
        v.provider_verification_id: v
        for v in Verification.objects.filter(
            backend=backend.alias, provider_verification_id__in=[c.row.onfido_id for c in person.checks]
        )
    }
    for check in sorted(person.checks, key=lambda c: c.newest_first, reverse=True):
        check_id = check.row.onfido_id
        if check_id in elsewhere:
            report.verifications[SKIPPED] += 1
            report.skipped.append(f"check {check_id}: already imported under backend {elsewhere[check_id]!r}")
        elif check_id in imported:
            report.verifications[_bring_up_to_date(imported[check_id], imported_state(check, backend), backend)] += 1
        else:
            listed = events.get(check_id, [])
            report.superseded += _create(applicant, check, listed, backend)
            report.verifications[CREATED] += 1
            report.events_listed += len(listed)


def _create(applicant: Applicant, check: OnfidoCheck, events: list[dict[str, Any]], backend: OnfidoBackend) -> bool:
    """Create the verification for a check and give it the check's status; whether it was superseded."""
    row = check.row
    verification = Verification.objects.create(
        applicant=applicant,
        backend=backend.alias,
        provider_applicant_id=check.applicant_id[:128],
        provider_verification_id=row.onfido_id[:128],
        submitted_at=row.created_at,
    )
    if row.created_at:
        # the check's own date, not the import's: the applicant's status follows the newest verification
        Verification.objects.filter(pk=verification.pk).update(created_at=row.created_at)
    audit(
        Change.system(reason=IMPORT_REASON),
        obj=verification,
        applicant_id=applicant.pk,
        action=AuditAction.IMPORTED,
        to_status=verification.status,
        data={
            "imported_from": IMPORTED_FROM,
            "onfido_applicant_id": check.applicant_id,
            "onfido_check_id": row.onfido_id,
            "onfido_events": events,
        },
    )
    # the aggregate counts the new verification, as start_verification's refresh does (moves that cannot
    # change it, such as pending -> processing, no longer refresh it)
    transitions.refresh_applicant(applicant.pk, Change.system(reason=IMPORT_REASON))
    state = imported_state(check, backend)
    # an open check is superseded by any newer verification (a person who retried, or who has since been
    # verified), and by one still open: an applicant has one open verification at a time
    newer_or_open = Q(status__in=VERIFICATION_ACTIVE) | (Q(created_at__gt=row.created_at) if row.created_at else Q())
    superseded = (
        state.status in VERIFICATION_ACTIVE
        and applicant.verifications.filter(newer_or_open).exclude(pk=verification.pk).exists()
    )
    outcome = transitions.apply_provider_state(verification.pk, state, _provider_change(backend))
    if outcome not in (transitions.Outcome.APPLIED, transitions.Outcome.UNCHANGED):
        # every status the Onfido backend gives a check is a first move from pending; stop if one is not
        raise InvalidTransition("Verification", VerificationStatus.PENDING, state.status, f"import {outcome.value}")
    if superseded:
        transitions.transition_verification(
            verification.pk, VerificationStatus.CANCELLED, Change.system(reason=SUPERSEDED_REASON)
        )
    return superseded


def _bring_up_to_date(verification: Verification, state: ProviderState, backend: OnfidoBackend) -> str:
    """An imported check: unchanged, unless Onfido said something new about it since."""
    if verification.provider_status == state.provider_status:
        return UNCHANGED
    outcome = transitions.apply_provider_state(verification.pk, state, _provider_change(backend))
    return UPDATED if outcome in (transitions.Outcome.APPLIED, transitions.Outcome.UNCHANGED) else UNCHANGED


def _provider_change(backend: OnfidoBackend) -> Change:
    """Onfido decided; the import only delivers it."""
    return Change(actor_type=Actor.PROVIDER, source=Source.SYSTEM, label=backend.alias, reason=IMPORT_REASON)


def imported_state(check: OnfidoCheck, backend: OnfidoBackend) -> ProviderState:
    """A django-onfido check and its reports, read as the backend reads ``GET /checks/{id}`` and its reports.

    django-onfido's ``raw`` is that JSON; its ``status`` and ``result`` columns go over it, since they are what
    it recorded last (a webhook's status, a result a person overrode in its admin). The check's last status
    change is when it happened. No documents: the import makes no ``Document`` rows to report on.
    """
    row = check.row
    reports = [_body(report, name=report.report_type) for report in row.reports.all()]
    state = check_state(_body(row, applicant_id=check.applicant_id), reports, backend.option("CONSIDER"))
    state = replace(state, occurred_at=row.updated_at or row.created_at, documents=())
    ending = DJANGO_ONFIDO_ENDINGS.get(row.status)
    if ending:
        return replace(state, status=VerificationStatus.CANCELLED, reasons=[ending])
    return state


def _body(row: OnfidoRow, **columns: Any) -> dict[str, Any]:
    """A check's or report's ``raw`` (empty once django-onfido marked it expired) under its columns."""
    raw = row.raw if isinstance(row.raw, dict) else {}
    return {**raw, "id": row.onfido_id, "status": row.status, "result": row.result, **columns}


def _events(tables: OnfidoTables, checks: Iterable[OnfidoCheck]) -> dict[str, list[dict[str, Any]]]:
    """Each check's webhook events and its reports', oldest first, as audit data (no payloads: they may hold
    personal data)."""
    owner = {c.row.onfido_id: c.row.onfido_id for c in checks}
    owner |= {r.onfido_id: c.row.onfido_id for c in checks for r in c.row.reports.all()}
    listed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        tables.event.objects.filter(onfido_id__in=list(owner))
        .order_by("completed_at", "pk")
        .values_list("onfido_id", "resource_type", "action", "status", "completed_at")
    )
    for onfido_id, resource_type, action, status, completed_at in rows:
        listed[owner[onfido_id]].append(
            {
                "resource": resource_type,
                "id": onfido_id,
                "action": action,
                "status": status,
                "at": completed_at.isoformat() if completed_at else "",
            }
        )
    return listed
