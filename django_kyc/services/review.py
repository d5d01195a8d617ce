"""Reviewer decisions: approve, decline, request resubmission, retry, cancel; AML hit resolutions; assignment;
four-eyes.

Each thing decided has one public door (:func:`decide` for verifications, :func:`decide_hit` for AML hits),
which checks the reviewer, applies four-eyes and then calls its private twin (``_apply_…``), which
:func:`confirm` calls too. Permission and reason checks live here, not in the admin, so every door (admin, API,
shell) enforces them.
With ``DJANGO_KYC["FOUR_EYES"]`` on, a decision on a high-risk applicant is recorded as a
:class:`~django_kyc.models.ReviewDecision` proposal instead of being applied; :func:`confirm` applies it when a
different reviewer holding ``approve_high_risk`` agrees, and :func:`withdraw` drops it.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from django_kyc.conf import kyc_settings
from django_kyc.models import AmlHit, Applicant, ProposalStatus, ReviewDecision, Verification
from django_kyc.services import dismissals, rescreening, risk, submission, transitions
from django_kyc.services.audit import Change, audit
from django_kyc.services.reviewers import APPROVE_HIGH_RISK_PERMISSION, REVIEW_PERMISSION, check_reviewer
from django_kyc.status import AmlHitStatus, AmlStatus, ApplicantStatus, AuditAction, Source, VerificationStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

DECISIONS: dict[str, str] = {
    "approve": VerificationStatus.APPROVED,
    "decline": VerificationStatus.DECLINED,
    "request_resubmission": VerificationStatus.RESUBMISSION_REQUESTED,
    "cancel": VerificationStatus.CANCELLED,
}
HIT_RESOLUTIONS = frozenset({AmlHitStatus.TRUE_POSITIVE, AmlHitStatus.FALSE_POSITIVE})


def decide(
    verification_id: Any,
    decision: str,
    *,
    user: AbstractBaseUser | AnonymousUser,
    reason_code: str,
    comment: str = "",
    source: str = Source.ADMIN,
) -> Verification | ReviewDecision:
    """Record a reviewer's decision through the transition service (audited, signalled).

    When the four-eyes policy applies to the applicant, nothing changes yet: a proposal is recorded (and
    audited) and returned instead, for a second reviewer to :func:`confirm`.
    """
    if decision not in DECISIONS:
        raise ValidationError({"decision": _("Unknown decision %(decision)s.") % {"decision": repr(decision)}})
    check_reviewer(user, reason_code)
    if Verification.objects.filter(pk=verification_id, applicant__user_id=user.pk or 0).exists():
        raise PermissionDenied(_("Reviewers cannot decide on their own verification."))
    with transaction.atomic():
        # The rule is read under the locks its inputs are written under (the verification's, then the
        # applicant's: the order every status change takes them in), so a risk change cannot slip in between
        # the rule and the decision.
        verification = transitions.lock_verification(verification_id)
        applicant = Applicant.objects.select_for_update().get(pk=verification.applicant_id)
        rule = four_eyes_rule(applicant, since=verification.created_at, decider=user)
        if rule:
            return _propose(verification, None, decision, user, reason_code, comment, rule, source)
        change = Change.by_user(user, source, reason=comment, reason_code=reason_code)
        return _apply_verification_decision(verification_id, decision, change)


def _apply_verification_decision(verification_id: Any, decision: str, change: Change) -> Verification:
    with transaction.atomic():
        verification = transitions.transition_verification(verification_id, DECISIONS[decision], change)
        submission.push_decision_later(verification)
    return verification


def decide_hit(
    hit_id: Any,
    resolution: str,
    *,
    user: AbstractBaseUser | AnonymousUser,
    reason_code: str,
    comment: str = "",
    source: str = Source.ADMIN,
) -> AmlHit | ReviewDecision:
    """Resolve an AML hit, or propose the resolution when the four-eyes policy applies to the applicant.

    Resolving a PEP or sanctions hit is itself a decision on a high-risk applicant, so with the default topics
    every such resolution needs a second reviewer.
    """
    if resolution not in HIT_RESOLUTIONS:
        raise ValidationError(
            {"resolution": _("Unknown resolution %(resolution)s.") % {"resolution": repr(resolution)}}
        )
    check_reviewer(user, reason_code)
    with transaction.atomic():
        # the hit (and its check), then the applicant: the order resolving a hit takes them in (see decide)
        hit = AmlHit.objects.select_for_update().select_related("aml_check").get(pk=hit_id)
        applicant = Applicant.objects.select_for_update().get(pk=hit.aml_check.applicant_id)
        if applicant.user_id is not None and applicant.user_id == user.pk:
            raise PermissionDenied(_("Reviewers cannot resolve hits on their own applicant."))
        if hit.status != AmlHitStatus.OPEN:
            raise ValidationError({"resolution": _("This hit is already resolved.")})
        rule = four_eyes_rule(applicant, since=hit.aml_check.created_at, decider=user)
        if rule:
            return _propose(None, hit, resolution, user, reason_code, comment, rule, source)
        change = Change.by_user(user, source, reason=comment, reason_code=reason_code)
        return _apply_hit_resolution(hit_id, resolution, change)


def _apply_hit_resolution(hit_id: Any, resolution: str, change: Change) -> AmlHit:
    """Resolve a hit already vetted by :func:`decide_hit` (or confirmed by a second reviewer). The last open
    hit settles its check: ``confirmed_match`` if any hit was a true positive (and the applicant is suspended),
    else ``false_positive``."""
    with transaction.atomic():
        hit = transitions.transition_aml_hit(
            hit_id,
            resolution,
            change,
            updates={
                "resolved_by": change.user if change.user is not None and change.user.is_authenticated else None,
                "resolved_at": timezone.now(),
                "resolution_code": change.reason_code,
                "resolution_reason": change.reason,
            },
        )
        check = hit.aml_check
        if resolution == AmlHitStatus.FALSE_POSITIVE:
            dismissals.remember(hit, change.user)
        if not check.hits.filter(status=AmlHitStatus.OPEN).exists():
            confirmed = check.hits.filter(status=AmlHitStatus.TRUE_POSITIVE).exists()
            target = AmlStatus.CONFIRMED_MATCH if confirmed else AmlStatus.FALSE_POSITIVE
            transitions.transition_aml_check(check.pk, target, change)
            if confirmed:
                transitions.set_applicant_status(check.applicant_id, ApplicantStatus.SUSPENDED, change)
                if check.check_type in rescreening.RESCREENING_TYPES:
                    rescreening.open_screening_review(check, change)
    return hit


# --- four-eyes -------------------------------------------------------------------------------------------


def four_eyes_rule(
    applicant: Applicant,
    *,
    since: datetime | None = None,
    decider: AbstractBaseUser | AnonymousUser | None = None,
) -> str:
    """Why a decision on this applicant needs a second reviewer (the rule's name), or ``""`` when it does not.

    Checked in order: the risk level, AML hits (open or confirmed, not dismissed) whose topics are listed,
    then the site's own rule. The first that applies is recorded on the proposal, so auditors see why.

    The risk level is not only today's: a level listed in ``FOUR_EYES_RISK_LEVELS`` still counts when the
    ``decider`` lowered it themselves (at any time: ``risk_lowered_by_decider``), or when the applicant had it
    at any moment ``since`` the item under decision was opened (``risk_level_since_opened``). Otherwise the
    reviewer about to decide could switch the policy off by lowering the level first.
    """
    if not kyc_settings.FOUR_EYES:
        return ""
    risky = set(kyc_settings.FOUR_EYES_RISK_LEVELS)
    if applicant.risk_level in risky:
        return f"risk_level:{applicant.risk_level}"
    if since is not None:
        earlier = risk.history(applicant.pk, since=since, decider=decider)
        for name, levels in (
            ("risk_lowered_by_decider", earlier.left_by_decider),
            ("risk_level_since_opened", earlier.held_since),
        ):
            if levels & risky:
                return f"{name}:{risk.highest(levels & risky)}"
    wanted = {str(topic).lower() for topic in kyc_settings.FOUR_EYES_AML_TOPICS}
    if wanted:
        hit_topics = AmlHit.objects.filter(
            aml_check__applicant=applicant, status__in=[AmlHitStatus.OPEN, AmlHitStatus.TRUE_POSITIVE]
        ).values_list("topics", flat=True)
        for topics in hit_topics:
            for topic in topics or []:
                # OpenSanctions-style topics are dotted ("role.pep"); any part may match
                parts = set(str(topic).lower().split(".")) | {str(topic).lower()}
                matched = sorted(parts & wanted)
                if matched:
                    return f"aml_topic:{matched[0]}"
    path = kyc_settings.FOUR_EYES_RULE
    if path:
        try:
            rule = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"DJANGO_KYC['FOUR_EYES_RULE'] {path!r} cannot be imported: {exc}") from exc
        verdict = rule(applicant)
        if verdict:
            return f"custom:{verdict}" if isinstance(verdict, str) else f"custom:{path}"
    return ""


def _target_audit(verification: Verification | None, hit: AmlHit | None) -> dict[str, Any]:
    """Proposals on a hit are audited on its check (the audit log knows checks, not hits), naming the hit."""
    if verification is not None:
        return {"obj": verification, "applicant_id": verification.applicant_id}
    assert hit is not None
    return {"obj": hit.aml_check, "applicant_id": hit.aml_check.applicant_id}


def _propose(
    verification: Verification | None,
    hit: AmlHit | None,
    decision: str,
    user: AbstractBaseUser | AnonymousUser,
    reason_code: str,
    comment: str,
    rule: str,
    source: str,
) -> ReviewDecision:
    target = _target_audit(verification, hit)
    with transaction.atomic():
        # lock the target so two reviewers proposing at once cannot both succeed (the partial unique
        # constraint is the backstop)
        if verification is not None:
            Verification.objects.select_for_update().get(pk=verification.pk)
            open_filter: dict[str, Any] = {"verification": verification}
        else:
            assert hit is not None
            AmlHit.objects.select_for_update().get(pk=hit.pk)
            open_filter = {"aml_hit": hit}
        if ReviewDecision.objects.filter(status=ProposalStatus.PROPOSED, **open_filter).exists():
            raise ValidationError(_("A proposal on this item is already waiting for a second reviewer."))
        proposal = ReviewDecision.objects.create(
            applicant_id=target["applicant_id"],
            verification=verification,
            aml_hit=hit,
            decision=decision,
            reason_code=reason_code,
            comment=comment,
            rule=rule[:255],
            proposed_by=user if user.is_authenticated else None,  # type: ignore[misc]  # AUTH_USER_MODEL
        )
        audit(
            Change.by_user(user, source, reason=comment, reason_code=reason_code),
            action=AuditAction.DECISION_PROPOSED,
            data={"proposal": str(proposal.pk), "decision": decision, "rule": rule, **_hit_data(hit)},
            **target,
        )
    return proposal


def _hit_data(hit: AmlHit | None) -> dict[str, str]:
    return {"hit": str(hit.pk), "entity_id": hit.entity_id} if hit is not None else {}


def confirm(
    proposal_id: Any,
    user: AbstractBaseUser | AnonymousUser,
    *,
    comment: str = "",
    source: str = Source.ADMIN,
) -> ReviewDecision:
    """A second reviewer agrees: apply the proposed decision through the transition (or AML) service.

    The confirmer needs ``review_applicant`` and ``approve_high_risk`` and must not be the proposer. The
    status change is audited under the confirmer with both names in the actor label, and a
    ``proposal_confirmed`` row records proposer, confirmer and rule.
    """
    if not (user.has_perm(REVIEW_PERMISSION) and user.has_perm(APPROVE_HIGH_RISK_PERMISSION)):  # type: ignore[union-attr]
        raise PermissionDenied(_("Confirming a four-eyes decision needs the approve-high-risk permission."))
    with transaction.atomic():
        proposal = (
            ReviewDecision.objects.select_for_update(of=("self",))
            .select_related("proposed_by", "applicant")
            .get(pk=proposal_id)
        )
        if proposal.status != ProposalStatus.PROPOSED:
            raise ValidationError(
                _("This proposal is %(status)s, not awaiting confirmation.")
                % {"status": proposal.get_status_display().lower()}
            )
        if proposal.proposed_by_id is not None and proposal.proposed_by_id == user.pk:
            raise PermissionDenied(_("The proposer cannot confirm their own proposal."))
        if proposal.applicant.user_id is not None and proposal.applicant.user_id == user.pk:
            raise PermissionDenied(_("Reviewers cannot decide on their own verification."))
        proposer = proposal.proposed_by.get_username() if proposal.proposed_by else "?"
        confirmer = user.get_username()
        change = dataclasses.replace(
            Change.by_user(user, source, reason=proposal.comment, reason_code=proposal.reason_code),
            label=f"{confirmer} (four-eyes, proposed by {proposer})",
        )
        hit: AmlHit | None = None
        if proposal.verification_id is not None:
            verification = _apply_verification_decision(proposal.verification_id, proposal.decision, change)
        else:
            hit = _apply_hit_resolution(proposal.aml_hit_id, proposal.decision, change)
            verification = None
        proposal.status = ProposalStatus.CONFIRMED
        proposal.confirmed_by = user  # type: ignore[assignment]
        proposal.confirm_comment = comment
        proposal.closed_at = timezone.now()
        proposal.save(update_fields=["status", "confirmed_by", "confirm_comment", "closed_at"])
        if hit is not None:
            hit = AmlHit.objects.select_related("aml_check").get(pk=hit.pk)
        audit(
            change,
            action=AuditAction.PROPOSAL_CONFIRMED,
            data={
                "proposal": str(proposal.pk),
                "decision": proposal.decision,
                "rule": proposal.rule,
                "proposed_by": proposer,
                "confirmed_by": confirmer,
                "confirm_comment": comment,
                **_hit_data(hit),
            },
            **_target_audit(verification, hit),
        )
    return proposal


def withdraw(
    proposal_id: Any,
    user: AbstractBaseUser | AnonymousUser,
    *,
    comment: str = "",
    source: str = Source.ADMIN,
) -> ReviewDecision:
    """Drop a proposal: its proposer changes their mind, or a high-risk approver rejects it. Audited."""
    with transaction.atomic():
        proposal = (
            ReviewDecision.objects.select_for_update(of=("self",))
            .select_related("verification", "aml_hit__aml_check")
            .get(pk=proposal_id)
        )
        is_proposer = proposal.proposed_by_id is not None and proposal.proposed_by_id == user.pk
        if not (is_proposer or user.has_perm(APPROVE_HIGH_RISK_PERMISSION)):  # type: ignore[union-attr]
            raise PermissionDenied(_("Only the proposer or a high-risk approver may withdraw a proposal."))
        if proposal.status != ProposalStatus.PROPOSED:
            raise ValidationError(_("Only a proposal awaiting confirmation can be withdrawn."))
        proposal.status = ProposalStatus.WITHDRAWN
        proposal.closed_by = user  # type: ignore[assignment]
        proposal.closed_at = timezone.now()
        proposal.save(update_fields=["status", "closed_by", "closed_at"])
        audit(
            Change.by_user(user, source, reason=comment),
            action=AuditAction.PROPOSAL_WITHDRAWN,
            data={"proposal": str(proposal.pk), "decision": proposal.decision, **_hit_data(proposal.aml_hit)},
            **_target_audit(proposal.verification, proposal.aml_hit),
        )
    return proposal


# --- assignment ------------------------------------------------------------------------------------------


def assign(
    target: Verification | AmlHit,
    user: AbstractBaseUser | AnonymousUser | None,
    *,
    by: AbstractBaseUser | AnonymousUser | None = None,
    source: str = Source.ADMIN,
) -> Verification | AmlHit:
    """Give a queue item to a reviewer (``user=None`` unassigns). Only reviewers can be assignees, and only
    reviewers can hand work out; both are checked here so the API and shell obey the same rule."""
    actor = by if by is not None else user
    if actor is None or not actor.has_perm(REVIEW_PERMISSION):  # type: ignore[union-attr]
        raise PermissionDenied(_("You do not have permission to assign KYC reviews."))
    if user is not None and not user.has_perm(REVIEW_PERMISSION):  # type: ignore[union-attr]
        raise ValidationError(_("Only reviewers can be assigned KYC reviews."))
    model = type(target)._meta.concrete_model
    assert model is not None
    now = timezone.now() if user is not None else None
    with transaction.atomic():
        model._default_manager.filter(pk=target.pk).update(assigned_to=user, assigned_at=now)
        target.assigned_to = user  # type: ignore[assignment]
        target.assigned_at = now
        hit = target if isinstance(target, AmlHit) else None
        if hit is not None:
            hit = AmlHit.objects.select_related("aml_check").get(pk=hit.pk)
        verification = target if isinstance(target, Verification) else None
        audit(
            Change.by_user(actor, source),
            action=AuditAction.ASSIGNED if user is not None else AuditAction.UNASSIGNED,
            data={"assigned_to": user.get_username() if user is not None else "", **_hit_data(hit)},
            **_target_audit(verification, hit),
        )
    return target


#: What "next case" hands out: the review queue's statuses.
QUEUE_STATUSES = (VerificationStatus.REVIEW, VerificationStatus.ERROR)


def decidable_cases(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Verification]:
    """Queue items ``user`` could decide now: not their own verification, and not one whose open four-eyes
    proposal they made (or, without ``approve_high_risk``, any open proposal: they could not confirm it)."""
    open_proposals = ReviewDecision.objects.filter(verification=OuterRef("pk"), status=ProposalStatus.PROPOSED)
    cases = (
        Verification.objects.filter(status__in=QUEUE_STATUSES)
        .exclude(applicant__user_id=user.pk or 0)
        .exclude(Exists(open_proposals.filter(proposed_by_id=user.pk or 0)))
    )
    if not user.has_perm(APPROVE_HIGH_RISK_PERMISSION):  # type: ignore[union-attr]
        cases = cases.exclude(Exists(open_proposals))
    return cases


def take_next_case(user: AbstractBaseUser | AnonymousUser, *, source: str = Source.ADMIN) -> Verification | None:
    """Assign the oldest unassigned queue item ``user`` may decide to them (audited), or ``None``.

    The oldest by the queue's own order (waiting longest first). The candidate row is locked with
    ``SKIP LOCKED`` until the assignment commits, so two reviewers pressing "next case" at the same moment get
    two different cases (on PostgreSQL; SQLite serialises writers anyway).
    """
    if not user.has_perm(REVIEW_PERMISSION):  # type: ignore[union-attr]
        raise PermissionDenied("You do not have permission to decide on KYC verifications.")
    with transaction.atomic():
        candidate = (
            decidable_cases(user)
            .filter(assigned_to__isnull=True)
            .order_by("updated_at", "created_at")
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if candidate is None:
            return None
        assign(candidate, user, source=source)
    return candidate


def retry(
    verification_id: Any, *, user: AbstractBaseUser | AnonymousUser, reason_code: str, comment: str = ""
) -> Verification:
    check_reviewer(user, reason_code)
    change = Change.by_user(user, Source.ADMIN, reason=comment, reason_code=reason_code)
    return submission.retry_verification(verification_id, change)
