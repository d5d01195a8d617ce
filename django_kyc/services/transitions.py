"""The only code that changes a status.

Every change locks the row, checks the move against the tables in :mod:`django_kyc.status`, writes an audit row
(:mod:`django_kyc.services.audit`), refreshes the applicant aggregate and sends signals after commit. Provider
events go through :func:`apply_provider_state`, which also enforces ordering: events older than the last
applied one are ignored and a terminal decision is never regressed.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from django_kyc import signals
from django_kyc.backends.base import DocumentResult, ProviderState
from django_kyc.exceptions import InvalidTransition
from django_kyc.models import AmlCheck, AmlHit, Applicant, Document, Verification
from django_kyc.services import events, review_policy
from django_kyc.services.audit import Change, audit, audit_each
from django_kyc.status import (
    AML_HIT_TRANSITIONS,
    AML_TRANSITIONS,
    APPLICANT_REVERIFICATION_FROM,
    APPLICANT_STATUS_FOR_VERIFICATION,
    DOCUMENT_TRANSITIONS,
    VERIFICATION_ACTIVE,
    VERIFICATION_DECISIONS,
    VERIFICATION_RANK,
    VERIFICATION_TERMINAL,
    Actor,
    AmlStatus,
    ApplicantStatus,
    AuditAction,
    VerificationStatus,
    verification_move,
)

logger = logging.getLogger("django_kyc.transitions")


class Outcome(enum.Enum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    STALE = "stale"
    TERMINAL = "terminal"
    FORBIDDEN = "forbidden"


def lock_verification(verification_id: Any) -> Verification:
    return Verification.objects.select_for_update().get(pk=verification_id)


# --- verifications -----------------------------------------------------------------------------------


@events.endpoints_read_once()
def _move_verification(
    verification: Verification,
    to_status: str,
    change: Change,
    *,
    reasons: Sequence[str] | None = None,
    updates: Mapping[str, Any] | None = None,
    defer_review: bool = False,
) -> Applicant | None:
    """Apply an already-validated move to a locked verification.

    A move into or out of a decision reschedules the applicant's next review, unless ``defer_review``: the
    caller does it once it has applied what came with the move (a provider's documents and their expiry).
    Returns the applicant when the move refreshed it: locked, and as saved, so the caller need not read it
    again."""
    from_status = verification.status
    fields = {"status", "updated_at"}
    verification.status = to_status
    if reasons is not None:
        verification.reasons = list(reasons)
        fields.add("reasons")
    for name, value in (updates or {}).items():
        setattr(verification, name, value)
        fields.add(name)
    if to_status in VERIFICATION_DECISIONS or (from_status in VERIFICATION_DECISIONS and to_status != from_status):
        verification.decided_at = timezone.now() if to_status in VERIFICATION_DECISIONS else None
        verification.decision_source = change.decision_source if to_status in VERIFICATION_DECISIONS else ""
        fields |= {"decided_at", "decision_source"}
    verification.save(update_fields=sorted(fields))
    audit(
        change,
        obj=verification,
        applicant_id=verification.applicant_id,
        from_status=from_status,
        to_status=to_status,
        data={"provider_status": verification.provider_status} if verification.provider_status else None,
    )
    signals.send_after_commit(
        signals.verification_status_changed,
        Verification,
        verification=verification,
        from_status=from_status,
        to_status=to_status,
        actor_type=change.actor_type,
        source=change.source,
    )
    ids = {"verification_id": str(verification.pk), "applicant_id": str(verification.applicant_id)}
    events.emit(
        "verification.status_changed",
        verification,
        {
            **ids,
            "backend": verification.backend,
            "from_status": from_status,
            "to_status": to_status,
            "actor_type": change.actor_type,
        },
    )
    if to_status in VERIFICATION_TERMINAL:
        signals.send_after_commit(
            signals.verification_completed, Verification, verification=verification, status=to_status
        )
        events.emit(
            "verification.completed",
            verification,
            {
                **ids,
                "backend": verification.backend,
                "status": to_status,
                "reasons": [str(code)[:64] for code in verification.reasons or []],
                "decided_at": verification.decided_at.isoformat() if verification.decided_at else None,
            },
        )
    applicant = (
        refresh_applicant(verification.applicant_id, change) if _may_change_applicant(from_status, to_status) else None
    )
    if _moves_decision(from_status, to_status) and not defer_review:
        review_policy.reschedule(verification.applicant_id, change, locked=applicant)
    return applicant


def _moves_decision(from_status: str, to_status: str) -> bool:
    """Whether a move makes or unmakes a decision, which is what an applicant's review date is counted from."""
    return from_status != to_status and bool({from_status, to_status} & VERIFICATION_DECISIONS)


def _may_change_applicant(from_status: str, to_status: str) -> bool:
    """Whether :func:`derive_applicant_status` could answer differently after this move.

    It reads each verification's status only through ``APPLICANT_STATUS_FOR_VERIFICATION``, whether it is a
    decision, and whether it is cancelled or expired; a move that keeps all three (pending → processing, the
    move of every submission) cannot change the aggregate, and skipping the refresh saves its locking read
    of the applicant and two queries.
    """
    if {from_status, to_status} & {VerificationStatus.CANCELLED, VerificationStatus.EXPIRED}:
        return True
    return APPLICANT_STATUS_FOR_VERIFICATION.get(from_status) != APPLICANT_STATUS_FOR_VERIFICATION.get(to_status) or (
        (from_status in VERIFICATION_DECISIONS) != (to_status in VERIFICATION_DECISIONS)
    )


def transition_verification(
    verification_id: Any,
    to_status: str,
    change: Change,
    *,
    reasons: Sequence[str] | None = None,
    updates: Mapping[str, Any] | None = None,
) -> Verification:
    """Move a verification, or raise :class:`InvalidTransition`.

    Leaving a terminal decision (revoke, overturn, reopen) is a named override: only a person may do it,
    and only with a reason.
    """
    with transaction.atomic():
        verification = lock_verification(verification_id)
        move = verification_move(verification.status, to_status)
        if move is None:
            raise InvalidTransition(_("Verification"), verification.status, to_status)
        if move != "normal" and (change.actor_type != Actor.USER or not (change.reason or change.reason_code)):
            raise InvalidTransition(
                _("Verification"),
                verification.status,
                to_status,
                _("the %(override)s override needs a person and a reason") % {"override": move},
            )
        _move_verification(verification, to_status, change, reasons=reasons, updates=updates)
        return verification


def apply_provider_state(
    verification_id: Any,
    state: ProviderState,
    change: Change,
    *,
    updates: Mapping[str, Any] | None = None,
    locked: Verification | None = None,
) -> Outcome:
    """Apply what a provider reported, unless it is older than what has already been applied.

    ``locked``: the verification, already locked by the caller in its current transaction (submission records
    its result under the lock it took to read the row). It is not read and locked again, and no savepoint is
    taken: an error here rolls back the caller's transaction, which is what that caller lets happen anyway.
    """
    if locked is not None and not transaction.get_connection().in_atomic_block:
        raise TypeError("apply_provider_state(locked=...) needs the caller's transaction that holds the lock")
    with transaction.atomic(savepoint=locked is None):
        verification = locked if locked is not None else lock_verification(verification_id)
        last = verification.last_event_at
        occurred = state.occurred_at
        if occurred and last and occurred < last:
            return Outcome.STALE
        current, target = verification.status, state.status
        provider_fields: dict[str, Any] = dict(updates or {})
        provider_fields["provider_status"] = state.provider_status[:128]
        if state.data:
            provider_fields["provider_data"] = {**verification.provider_data, **dict(state.data)}
        if occurred and (last is None or occurred > last):
            provider_fields["last_event_at"] = occurred

        if target == current:
            for name, value in provider_fields.items():
                setattr(verification, name, value)
            if state.reasons:
                verification.reasons = list(state.reasons)
            verification.save(update_fields=[*provider_fields, "reasons", "updated_at"])
            _apply_documents(verification, state.documents, change)
            applicant = _apply_applicant_data(verification, state.applicant_data)
            if state.documents and current == VerificationStatus.APPROVED:
                # the expiry dates may be new
                review_policy.reschedule(verification.applicant_id, change, locked=applicant)
            return Outcome.UNCHANGED
        if current in VERIFICATION_TERMINAL:
            return Outcome.TERMINAL
        untimed = occurred is None or last is None or occurred == last
        repeated = bool(state.provider_status) and provider_fields["provider_status"] == verification.provider_status
        if untimed and repeated and current != VerificationStatus.PENDING:
            # The state we last applied, seen again (every poll and every fetch-on-notify re-reads it). It is
            # no news: the status differs only because a person moved it since, and that decision stands.
            # (A pending verification is being submitted afresh; its submission's result is always news.)
            return Outcome.STALE
        if untimed and VERIFICATION_RANK[target] < VERIFICATION_RANK[current]:
            return Outcome.STALE
        if verification_move(current, target) != "normal":
            logger.warning("ignored provider move %s -> %s for verification %s", current, target, verification.pk)
            return Outcome.FORBIDDEN
        applicant = _move_verification(
            verification, target, change, reasons=list(state.reasons), updates=provider_fields, defer_review=True
        )
        _apply_documents(verification, state.documents, change)
        applicant = _apply_applicant_data(verification, state.applicant_data, applicant)
        if _moves_decision(current, target):
            # after the documents: the provider's reading of them dates the review as much as the decision
            review_policy.reschedule(verification.applicant_id, change, locked=applicant)
        return Outcome.APPLIED


# --- documents ---------------------------------------------------------------------------------------


def transition_document(document: Document, to_status: str, change: Change, reasons: Sequence[str] = ()) -> bool:
    """Move a document (the caller holds the verification or applicant lock). Returns whether it moved."""
    from_status = document.status
    if to_status == from_status:
        if reasons and list(reasons) != document.reasons:
            document.reasons = list(reasons)
            document.save(update_fields=["reasons", "updated_at"])
        return False
    if to_status not in DOCUMENT_TRANSITIONS.get(from_status, frozenset()):
        raise InvalidTransition(_("Document"), from_status, to_status)
    document.status = to_status
    document.reasons = list(reasons)
    document.save(update_fields=["status", "reasons", "updated_at"])
    audit(change, obj=document, applicant_id=document.applicant_id, from_status=from_status, to_status=to_status)
    events.emit(
        "document.status_changed",
        document,
        {
            "document_id": str(document.pk),
            "applicant_id": str(document.applicant_id),
            "from_status": from_status,
            "to_status": to_status,
        },
    )
    signals.send_after_commit(
        signals.document_status_changed,
        Document,
        document=document,
        from_status=from_status,
        to_status=to_status,
    )
    return True


def _our_document_id(value: str) -> uuid.UUID | None:
    """Our document id, if ``value`` is one. Providers fill this in; a bad value must not fail the event."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _apply_documents(verification: Verification, results: Sequence[DocumentResult], change: Change) -> None:
    read: dict[str, dict[str, str]] = {}
    for result in results:
        lookup = Q()
        document_id = _our_document_id(result.document_id) if result.document_id else None
        if document_id:
            lookup |= Q(pk=document_id)
        if result.provider_document_id:
            lookup |= Q(provider_document_id=result.provider_document_id)
        if not lookup:
            continue
        document = Document.objects.filter(lookup, applicant_id=verification.applicant_id).first()
        if document is None and result.fields:
            document = _document_from_provider(verification, result, change)
        if document is None:
            logger.warning("provider reported on unknown document for verification %s", verification.pk)
            continue
        if result.fields:
            read[str(document.pk)] = _document_reading(document, result.fields)
        if result.provider_document_id and document.provider_document_id != result.provider_document_id:
            document.provider_document_id = result.provider_document_id[:128]
            document.save(update_fields=["provider_document_id", "updated_at"])
        if result.status not in DOCUMENT_TRANSITIONS.get(document.status, frozenset()) | {document.status}:
            logger.warning("ignored document move %s -> %s", document.status, result.status)
            continue
        transition_document(document, result.status, change, result.reasons)
    if read:
        earlier = verification.provider_data.get(DOCUMENT_READINGS) or {}
        verification.provider_data = {**verification.provider_data, DOCUMENT_READINGS: {**earlier, **read}}
        verification.save(update_fields=["provider_data", "updated_at"])


def _document_reading(document: Document, fields: Mapping[str, Any]) -> dict[str, Any]:
    """What the provider read from a document of ours, against the document's own fields: the fields that agree
    (by name) and the provider's values where they differ (a document number the provider read differently is
    what a reviewer must see)."""
    confirmed, mismatches = [], {}
    for name in PROVIDER_DOCUMENT_FIELDS:
        value = fields.get(name)
        if value in (None, "") or name == "type":
            continue
        ours = getattr(document, name)
        if ours in (None, ""):
            continue
        if str(ours).strip().lower() == str(value).strip().lower():
            confirmed.append(name)
        else:
            mismatches[name] = str(value)
    return {"confirmed": confirmed, "mismatches": mismatches}


#: Document fields a provider may supply when it reads the document itself.
PROVIDER_DOCUMENT_FIELDS = ("type", "number", "issuing_country", "issue_date", "expiry_date")


def _document_from_provider(verification: Verification, result: DocumentResult, change: Change) -> Document:
    fields = {name: value for name, value in result.fields.items() if name in PROVIDER_DOCUMENT_FIELDS and value}
    fields.setdefault("type", "other")
    document = Document.objects.create(
        applicant_id=verification.applicant_id, provider_document_id=result.provider_document_id[:128], **fields
    )
    audit(
        change,
        obj=document,
        applicant_id=verification.applicant_id,
        action=AuditAction.CREATED,
        to_status=document.status,
    )
    return document


#: Applicant fields a provider may fill in from what it verified (only where the applicant left them blank).
PROVIDER_APPLICANT_FIELDS = ("first_name", "middle_name", "last_name", "date_of_birth", "nationality", "country")
#: ``provider_data`` keys of what the provider read, for the case page: the names of the person's fields it
#: found as given (differences are kept under ``applicant_mismatches``), and, per document of ours it read,
#: ``{"confirmed": [field, ...], "mismatches": {field: what the provider read}}``.
CONFIRMED_FIELDS = "confirmed_fields"
DOCUMENT_READINGS = "document_readings"


def _apply_applicant_data(
    verification: Verification, data: Mapping[str, Any], locked: Applicant | None = None
) -> Applicant | None:
    """Fill blanks; keep differences for reviewers rather than silently overwriting what the person typed.

    ``locked``: the applicant as this transaction locked and last saved it, if it did. Returns the locked
    applicant as it now stands (``locked`` itself when there was nothing to apply), for the review policy
    to read without locking it again."""
    if not data:
        return locked
    applicant = (
        locked if locked is not None else Applicant.objects.select_for_update().get(pk=verification.applicant_id)
    )
    if applicant.pii_redacted_at is not None:
        return applicant  # purged under the retention policy: a late provider event must not bring the data back
    filled, mismatches = [], {}
    for name in PROVIDER_APPLICANT_FIELDS:
        value = data.get(name)
        if value in (None, ""):
            continue
        current = getattr(applicant, name)
        if current in (None, ""):
            setattr(applicant, name, value)
            filled.append(name)
        elif str(current).strip().lower() != str(value).strip().lower():
            mismatches[name] = {"applicant": str(current), "provider": str(value)}
    if filled:
        applicant.save(update_fields=[*filled, "updated_at"])
    # Which fields the provider read and found as the person gave them (names only: the values are the
    # applicant's own, and person data is not copied into provider_data): the case page marks them as matching.
    recorded: dict[str, Any] = {
        CONFIRMED_FIELDS: [
            name for name in PROVIDER_APPLICANT_FIELDS if data.get(name) not in (None, "") and name not in mismatches
        ]
    }
    if mismatches:
        recorded["applicant_mismatches"] = mismatches
    verification.provider_data = {**verification.provider_data, **recorded}
    verification.save(update_fields=["provider_data", "updated_at"])
    return applicant


# --- applicant aggregate -----------------------------------------------------------------------------


def derive_applicant_status(applicant: Applicant) -> str:
    """The aggregate from the newest verification that still says something (not cancelled or expired).

    A re-verification that is merely under way does not take "verified" away: sites gate features on it,
    and only an outcome of the new verification (review, decline, resubmission) changes it. A lapsed review
    does (``reverification_required_at``, see :func:`require_reverification`): from then on only an approval
    decided after the lapse makes the applicant verified again.
    """
    rows = list(
        Verification.objects.filter(applicant=applicant)
        .exclude(status__in=[VerificationStatus.CANCELLED, VerificationStatus.EXPIRED])
        .order_by("-created_at")
        .values_list("status", "decided_at")
    )
    if not rows:
        return ApplicantStatus.REVIEW if _has_open_aml_match(applicant) else ApplicantStatus.UNVERIFIED
    lapsed = applicant.reverification_required_at

    def stands(decided_at: Any) -> bool:
        return lapsed is None or (decided_at is not None and decided_at >= lapsed)

    derived = APPLICANT_STATUS_FOR_VERIFICATION[rows[0][0]]
    if derived == ApplicantStatus.VERIFIED and not stands(rows[0][1]):
        derived = ApplicantStatus.REVERIFICATION_REQUIRED
    if derived == ApplicantStatus.IN_PROGRESS:
        earlier = next(((s, at) for s, at in rows[1:] if s in VERIFICATION_DECISIONS), None)
        if earlier is not None and earlier[0] == VerificationStatus.APPROVED and stands(earlier[1]):
            derived = ApplicantStatus.VERIFIED
    if derived != ApplicantStatus.REJECTED and _has_open_aml_match(applicant):
        # a possible sanctions/PEP match holds the applicant for a person, whatever the documents said
        return ApplicantStatus.REVIEW
    return derived


def _has_open_aml_match(applicant: Applicant) -> bool:
    return AmlCheck.objects.filter(applicant=applicant, status=AmlStatus.POTENTIAL_MATCH).exists()


def refresh_applicant(applicant_id: Any, change: Change) -> Applicant:
    """Recompute the aggregate; a suspended applicant stays suspended until a person lifts it.

    No savepoint of its own: called inside a status change, a failure here must undo that change too, so
    there is nothing to roll back to halfway (and two round trips fewer on every decision).
    """
    with transaction.atomic(savepoint=False):
        # the AML state is read after the lock, in its own statement: read with it, a change committed while
        # we waited for the lock would be missed (READ COMMITTED takes the snapshot when a statement starts)
        applicant = Applicant.objects.select_for_update().get(pk=applicant_id)
        if applicant.status == ApplicantStatus.SUSPENDED:
            return applicant
        new_status = derive_applicant_status(applicant)
        if new_status == applicant.status:
            return applicant
        old_status = applicant.status
        applicant.status = new_status
        if new_status == ApplicantStatus.VERIFIED:
            applicant.verified_at = timezone.now()
        applicant.save(update_fields=["status", "verified_at", "updated_at"])
        audit(change, obj=applicant, applicant_id=applicant.pk, from_status=old_status, to_status=new_status)
        signals.send_after_commit(
            signals.applicant_status_changed,
            Applicant,
            applicant=applicant,
            from_status=old_status,
            to_status=new_status,
        )
        _emit_applicant_status(applicant, old_status)
        return applicant


def _emit_applicant_status(applicant: Applicant, old_status: str) -> None:
    """The outbound events of an aggregate change (``applicant.verified`` too when it became verified)."""
    if applicant.status == old_status:
        return
    events.emit(
        "applicant.status_changed",
        applicant,
        {"applicant_id": str(applicant.pk), "from_status": old_status, "to_status": applicant.status},
    )
    if applicant.status == ApplicantStatus.VERIFIED and applicant.verified_at is not None:
        events.emit(
            "applicant.verified",
            applicant,
            {"applicant_id": str(applicant.pk), "verified_at": applicant.verified_at.isoformat()},
        )


def set_applicant_status(applicant_id: Any, to_status: str, change: Change) -> Applicant:
    """Suspend or lift a suspension: a person's decision, with a reason."""
    if change.actor_type != Actor.USER or not (change.reason or change.reason_code):
        raise InvalidTransition(_("Applicant"), "", to_status, _("suspension changes need a person and a reason"))
    with transaction.atomic():
        applicant = Applicant.objects.select_for_update().get(pk=applicant_id)
        old_status = applicant.status
        if to_status == ApplicantStatus.SUSPENDED:
            applicant.status = ApplicantStatus.SUSPENDED
        elif old_status == ApplicantStatus.SUSPENDED:
            applicant.status = derive_applicant_status(applicant)
        else:
            raise InvalidTransition(_("Applicant"), old_status, to_status, _("the aggregate is derived"))
        applicant.save(update_fields=["status", "updated_at"])
        audit(
            change,
            obj=applicant,
            applicant_id=applicant.pk,
            from_status=old_status,
            to_status=applicant.status,
        )
        _emit_applicant_status(applicant, old_status)
        return applicant


def require_reverification(applicant_ids: Sequence[Any], change: Change) -> list[tuple[Applicant, str]]:
    """Take ``verified`` away from applicants whose review lapsed: one locked batch, one UPDATE per new status,
    one INSERT of audit rows, whatever the batch's size (the daily run calls it per page).

    Only applicants in :data:`~django_kyc.status.APPLICANT_REVERIFICATION_FROM` move; the others are left
    alone (a person suspended them, or they are already in review). Each one's aggregate follows
    :func:`derive_applicant_status` with the lapse recorded: ``reverification_required``, or ``in_progress``
    when a re-verification is already under way. Returns ``(applicant, from_status)`` for each one moved;
    ``applicant_status_changed`` is sent after commit (the caller announces ``reverification_required``).
    """
    with transaction.atomic():
        applicants = list(
            Applicant.objects.select_for_update()
            .defer("date_of_birth")  # encrypted, and not needed: a batch need not decrypt it
            .filter(pk__in=list(applicant_ids), status__in=list(APPLICANT_REVERIFICATION_FROM))
            .order_by("pk")
        )
        if not applicants:
            return []
        busy = set(
            Verification.objects.filter(
                applicant_id__in=[a.pk for a in applicants], status__in=list(VERIFICATION_ACTIVE)
            ).values_list("applicant_id", flat=True)
        )
        now = timezone.now()
        moved: list[tuple[Applicant, str]] = []
        for applicant in applicants:
            moved.append((applicant, applicant.status))
            applicant.status = (
                ApplicantStatus.IN_PROGRESS if applicant.pk in busy else ApplicantStatus.REVERIFICATION_REQUIRED
            )
            applicant.reverification_required_at = now
        for status in {applicant.status for applicant in applicants}:
            Applicant.objects.filter(pk__in=[a.pk for a in applicants if a.status == status]).update(
                status=status, reverification_required_at=now, updated_at=now
            )
        audit_each(
            change,
            [
                (
                    applicant,
                    from_status,
                    applicant.status,
                    {"reason": applicant.review_reason, "due": _iso(applicant.next_review_at)},
                )
                for applicant, from_status in moved
            ],
        )
        events.emit_many(
            "applicant.status_changed",
            [
                (
                    applicant,
                    {"applicant_id": str(applicant.pk), "from_status": from_status, "to_status": applicant.status},
                )
                for applicant, from_status in moved
            ],
        )
        for applicant, from_status in moved:
            signals.send_after_commit(
                signals.applicant_status_changed,
                Applicant,
                applicant=applicant,
                from_status=from_status,
                to_status=applicant.status,
            )
        return moved


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- AML checks --------------------------------------------------------------------------------------


def transition_aml_check(
    check_id: Any, to_status: str, change: Change, updates: Mapping[str, Any] | None = None
) -> AmlCheck:
    with transaction.atomic():
        check = AmlCheck.objects.select_for_update().get(pk=check_id)
        from_status = check.status
        if to_status not in AML_TRANSITIONS.get(from_status, frozenset()):
            raise InvalidTransition(_("AML check"), from_status, to_status)
        check.status = to_status
        fields = {"status", "updated_at"}
        for name, value in (updates or {}).items():
            setattr(check, name, value)
            fields.add(name)
        check.save(update_fields=sorted(fields))
        audit(change, obj=check, applicant_id=check.applicant_id, from_status=from_status, to_status=to_status)
        events.emit(
            "aml.check_status_changed",
            check,
            {
                "aml_check_id": str(check.pk),
                "applicant_id": str(check.applicant_id),
                "backend": check.backend,
                "from_status": from_status,
                "to_status": to_status,
            },
        )
        signals.send_after_commit(
            signals.aml_check_status_changed,
            AmlCheck,
            aml_check=check,
            from_status=from_status,
            to_status=to_status,
        )
        refresh_applicant(check.applicant_id, change)
        return check


def transition_aml_hit(hit_id: Any, to_status: str, change: Change, updates: Mapping[str, Any] | None = None) -> AmlHit:
    """Resolve a hit (open → true/false positive); the audit row names the hit, the reviewer and the reason."""
    with transaction.atomic():
        hit = AmlHit.objects.select_for_update(of=("self",)).select_related("aml_check").get(pk=hit_id)
        from_status = hit.status
        if to_status not in AML_HIT_TRANSITIONS.get(from_status, frozenset()):
            raise InvalidTransition(_("AML hit"), from_status, to_status)
        hit.status = to_status
        for name, value in (updates or {}).items():
            setattr(hit, name, value)
        hit.save()
        audit(
            change,
            obj=hit.aml_check,
            applicant_id=hit.aml_check.applicant_id,
            action=AuditAction.HIT_RESOLVED,
            from_status=from_status,
            to_status=to_status,
            data={"hit": str(hit.pk), "entity_id": hit.entity_id, "resolution": to_status},
        )
        events.emit(
            "aml.hit_resolved",
            hit,
            {
                "hit_id": str(hit.pk),
                "aml_check_id": str(hit.aml_check_id),
                "applicant_id": str(hit.aml_check.applicant_id),
                "from_status": from_status,
                "to_status": to_status,
            },
        )
        return hit
