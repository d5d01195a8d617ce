"""The case page: one verification under review with everything a reviewer needs to decide on it.

The review queue's change view *is* the case page, so every link into the queue lands there. It shows the
applicant beside what the provider read, the documents (with a viewer), the provider's result, the
applicant's AML hits (resolvable there), earlier verifications, the audit timeline and the decision controls,
with the four-eyes state said plainly. Every decision goes through :mod:`django_kyc.services.review`, which
checks permissions, reason codes and four-eyes; this module only collects input and reports.

After a decision that takes the item out of the queue the reviewer lands on the queue with one message;
"Next case" assigns the oldest unassigned item they may decide (``review.take_next_case``) and opens it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from django_kyc import pii
from django_kyc.admin import case_data
from django_kyc.admin.base import HIDDEN
from django_kyc.admin.columns import breakable
from django_kyc.admin.forms import DECISION_LABELS, DecisionForm, decisions_for_status
from django_kyc.exceptions import KycError
from django_kyc.models import AmlHit, ReviewDecision, Verification
from django_kyc.reasons import reason_choices, reason_codes
from django_kyc.services import review
from django_kyc.status import AmlHitStatus

HIT_RESOLUTIONS: dict[str, Any] = {
    AmlHitStatus.FALSE_POSITIVE: _("Dismiss (false positive)"),
    AmlHitStatus.TRUE_POSITIVE: _("Confirm match (true positive)"),
}
DONE_MESSAGES: dict[str, Any] = {
    "approve": _("Approved: %(case)s."),
    "decline": _("Declined: %(case)s."),
    "request_resubmission": _("Resubmission requested: %(case)s."),
    "retry": _("Submission retried: %(case)s."),
}


def decisions_for(verification: Verification) -> dict[str, Any]:
    """What may be decided on this verification (:func:`~django_kyc.admin.forms.decisions_for_status`)."""
    return decisions_for_status(verification.status)


class CaseDecisionForm(DecisionForm):
    """A decision, a reason code that fits it, and a comment. The reason list holds every code; the page's
    script shows only those that fit the chosen decision, and :meth:`clean` refuses any other."""

    decision = forms.ChoiceField(label=_("Decision"), choices=(), widget=forms.RadioSelect)
    field_order = ["decision", "reason_code", "comment"]

    def __init__(self, *args: Any, decisions: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = list(decisions.items())  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        decision, code = data.get("decision"), data.get("reason_code")
        if decision and code and code not in dict(reason_choices(decision)):
            self.add_error("reason_code", _t("This reason does not fit the decision."))
        return data


class HitForm(DecisionForm):
    resolution = forms.ChoiceField(label=_("Resolution"), choices=list(HIT_RESOLUTIONS.items()))
    field_order = ["resolution", "reason_code", "comment"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        resolution, code = data.get("resolution"), data.get("reason_code")
        if resolution and code and code not in dict(reason_choices(resolution)):
            self.add_error("reason_code", _t("This reason does not fit the resolution."))
        return data


class ProposalForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


def reason_options(decisions: Any) -> list[tuple[str, str, str]]:
    """Every reason as ``(code, label, the decisions it fits)``: the page's script shows only the reasons that
    fit the decision chosen."""
    fits = {decision: set(dict(reason_choices(decision))) for decision in decisions}
    # the catalogue's own order (the usual reasons first, "Other" last), so the arrow keys meet them first
    return [
        (code, str(label), " ".join(decision for decision in decisions if code in fits[decision]))
        for code, label in sorted(reason_codes().items(), key=lambda item: item[0] == "OTHER")
    ]


def case_label(verification: Verification, request: HttpRequest) -> str:
    """How messages name a case: the reference, and the name for those who may see it."""
    applicant = verification.applicant
    if pii.can_view_pii(request.user) and applicant.full_name:
        return f"{applicant.full_name} ({applicant.reference})"
    return applicant.reference


def _errors(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


class CasePageMixin:
    """For the review queue's admin: its change view is the case page, with the decision endpoints beside it."""

    admin_site: Any
    opts: Any
    case_template = "django_kyc/admin/case.html"

    # --- urls --------------------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}"

        def view(form_view: Any) -> Any:
            """The case page's forms: staff who may not see the queue are refused (403) whatever the method,
            before a wrong method is (405), so the answer tells them nothing about the case."""

            def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                if not self.has_view_or_change_permission(request):  # type: ignore[attr-defined]
                    raise PermissionDenied
                return require_POST(form_view)(request, *args, **kwargs)

            return self.admin_site.admin_view(guarded)

        custom = [
            path("next/", view(self.next_case_view), name=f"{name}_next"),
            path("<uuid:object_id>/decide/", view(self.case_decide_view), name=f"{name}_case_decide"),
            path("<uuid:object_id>/hit/<uuid:hit_id>/", view(self.case_hit_view), name=f"{name}_case_hit"),
            path(
                "<uuid:object_id>/proposal/<uuid:proposal_id>/<str:action>/",
                view(self.case_proposal_view),
                name=f"{name}_case_proposal",
            ),
        ]
        return custom + super().get_urls()  # type: ignore[misc]

    def _url(self, suffix: str, *args: Any) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{suffix}", args=args)

    def queue_url(self) -> str:
        return self._url("changelist")

    def next_url(self) -> str:
        return self._url("next")

    def case_url(self, object_id: Any) -> str:
        return self._url("change", object_id)

    # --- the page ----------------------------------------------------------------------------------------

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return self.case_view(request, object_id)

    def _case(self, request: HttpRequest, object_id: Any) -> Verification | None:
        if not self.has_view_or_change_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        return (
            self.get_queryset(request)  # type: ignore[attr-defined]
            .select_related("applicant", "assigned_to")
            .filter(pk=object_id)
            .first()
        )

    def _gone(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """Not (or no longer) in the queue: to the verification's own page if it exists, saying why."""
        verification = get_object_or_404(Verification, pk=object_id)
        messages.info(
            request,
            _t("This verification is no longer in the review queue (%(status)s).")
            % {"status": verification.get_status_display()},
        )
        return HttpResponseRedirect(reverse("admin:django_kyc_verification_change", args=[verification.pk]))

    def case_view(
        self,
        request: HttpRequest,
        object_id: Any,
        *,
        form: CaseDecisionForm | None = None,
        status: int = 200,
    ) -> HttpResponse:
        verification = self._case(request, object_id)
        if verification is None:
            return self._gone(request, object_id)
        return TemplateResponse(
            request, self.case_template, self.case_context(request, verification, form=form), status=status
        )

    def case_context(
        self, request: HttpRequest, verification: Verification, *, form: CaseDecisionForm | None = None
    ) -> dict[str, Any]:
        user = request.user
        applicant = verification.applicant
        show_pii = pii.can_view_pii(user)
        with_files = show_pii and user.has_perm("django_kyc.view_document")
        may_review = user.has_perm(review.REVIEW_PERMISSION)
        docs = case_data.documents(applicant, with_files=with_files)
        hits = case_data.aml_hits(applicant)
        events = case_data.timeline(applicant)
        kinds, actors = case_data.timeline_filters(events)
        proposal = case_data.open_proposal(verification)
        decisions = decisions_for(verification)
        own = applicant.user_id is not None and applicant.user_id == user.pk
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _t("Case %(reference)s") % {"reference": applicant.reference},
            "verification": verification,
            "applicant": applicant,
            "applicant_name": (applicant.full_name if show_pii else (HIDDEN if applicant.full_name else "")),
            "show_pii": show_pii,
            "with_files": with_files,
            "may_review": may_review and not own,
            "own_case": own,
            "may_confirm": user.has_perm(review.APPROVE_HIGH_RISK_PERMISSION),
            "person": case_data.person_comparison(applicant, verification, show_pii=show_pii),
            "document_fields": case_data.document_comparison(docs, verification, show_pii=show_pii),
            "documents": case_data.document_views(docs, show_pii=show_pii, with_files=with_files),
            "reasons": case_data.reason_labels(verification.reasons),
            "hits": hits,
            "open_hits": case_data.open_hit_count(hits),
            "hit_resolutions": HIT_RESOLUTIONS.items(),
            "earlier": case_data.earlier_verifications(verification),
            # a reason code may break after its underscores, never inside a word ("VERIFIED_MANUAL|LY")
            "events": [
                (event, case_data.event_actor(event), breakable(event.reason_code) if event.reason_code else "")
                for event in events
            ],
            "event_kinds": kinds,
            "event_actors": actors,
            "timeline_limit": case_data.TIMELINE_LIMIT,
            "proposal": proposal,
            "four_eyes_rule": ""
            if proposal
            else review.four_eyes_rule(applicant, since=verification.created_at, decider=user),
            "form": form or CaseDecisionForm(decisions=decisions),
            "decisions": decisions.items(),
            "reason_options": reason_options(decisions),
            "hit_reason_options": reason_options(HIT_RESOLUTIONS),
            "queue_url": self.queue_url(),
            "decide_url": self._url("case_decide", verification.pk),
            "next_url": self._url("next"),
        }

    # --- decisions ---------------------------------------------------------------------------------------

    def case_decide_view(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """Decide through the review service; back to the queue with one message when the item left it."""
        verification = self._case(request, object_id)
        if verification is None:
            return self._gone(request, object_id)
        form = CaseDecisionForm(request.POST, decisions=decisions_for(verification))
        if not form.is_valid():
            return self.case_view(request, object_id, form=form, status=400)
        decision, data = (
            form.cleaned_data["decision"],
            {
                "reason_code": form.cleaned_data["reason_code"],
                "comment": form.cleaned_data["comment"],
            },
        )
        try:
            if decision == "retry":
                result: Any = review.retry(verification.pk, user=request.user, **data)
            else:
                result = review.decide(verification.pk, decision, user=request.user, **data)
        except (KycError, ValidationError, PermissionDenied) as exc:
            form.add_error(None, _errors(exc))
            return self.case_view(request, object_id, form=form, status=400)
        label = case_label(verification, request)
        if isinstance(result, ReviewDecision):
            messages.warning(
                request,
                _t("%(decision)s proposed for %(case)s: a second reviewer must confirm it (four-eyes rule %(rule)s).")
                % {"decision": DECISION_LABELS[decision], "case": label, "rule": result.rule},
            )
        else:
            messages.success(request, DONE_MESSAGES[decision] % {"case": label})
        return HttpResponseRedirect(self.queue_url())

    def case_hit_view(self, request: HttpRequest, object_id: Any, hit_id: Any) -> HttpResponse:
        """Resolve one of the applicant's AML hits through the review service; back to the case page."""
        verification = self._case(request, object_id)
        if verification is None:
            return self._gone(request, object_id)
        hit = get_object_or_404(AmlHit, pk=hit_id, aml_check__applicant_id=verification.applicant_id)
        form = HitForm(request.POST)
        back = HttpResponseRedirect(f"{self.case_url(verification.pk)}#kyc-aml")
        if not form.is_valid():
            messages.error(request, _t("The hit was not resolved: %(errors)s") % {"errors": _form_errors(form)})
            return back
        resolution = form.cleaned_data["resolution"]
        try:
            result = review.decide_hit(
                hit.pk,
                resolution,
                user=request.user,
                reason_code=form.cleaned_data["reason_code"],
                comment=form.cleaned_data["comment"],
            )
        except (KycError, ValidationError, PermissionDenied) as exc:
            messages.error(request, _t("The hit was not resolved: %(errors)s") % {"errors": _errors(exc)})
            return back
        if isinstance(result, ReviewDecision):
            messages.warning(
                request,
                _t("Resolution of hit “%(hit)s” proposed: a second reviewer must confirm it.") % {"hit": hit.caption},
            )
        else:
            messages.success(
                request,
                _t("Hit “%(hit)s”: %(resolution)s.") % {"hit": hit.caption, "resolution": HIT_RESOLUTIONS[resolution]},
            )
        return back

    def case_proposal_view(self, request: HttpRequest, object_id: Any, proposal_id: Any, action: str) -> HttpResponse:
        """Confirm or withdraw a four-eyes proposal on this case (the verification or one of its hits)."""
        if action not in ("confirm", "withdraw"):
            raise PermissionDenied
        verification = self._case(request, object_id)
        if verification is None:
            return self._gone(request, object_id)
        proposal = get_object_or_404(ReviewDecision, pk=proposal_id, applicant_id=verification.applicant_id)
        form = ProposalForm(request.POST)
        comment = form.cleaned_data["comment"] if form.is_valid() else ""
        service = review.confirm if action == "confirm" else review.withdraw
        try:
            service(proposal.pk, request.user, comment=comment)
        except (KycError, ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
            return HttpResponseRedirect(self.case_url(verification.pk))
        label = case_label(verification, request)
        if action == "withdraw":
            messages.success(request, _t("Proposal withdrawn: %(case)s.") % {"case": label})
        else:
            messages.success(
                request,
                _t("Confirmed: %(decision)s on %(case)s, proposed by %(proposer)s.")
                % {
                    "decision": proposal.decision_name,
                    "case": label,
                    "proposer": proposal.proposed_by.get_username() if proposal.proposed_by else "?",
                },
            )
        if self.get_queryset(request).filter(pk=verification.pk).exists():  # type: ignore[attr-defined]
            return HttpResponseRedirect(self.case_url(verification.pk))
        return HttpResponseRedirect(self.queue_url())

    def next_case_view(self, request: HttpRequest) -> HttpResponse:
        """Take the oldest unassigned item this reviewer may decide, assign it to them and open it."""
        case = review.take_next_case(request.user)
        if case is None:
            messages.info(request, _t("No unassigned case that you may decide is waiting."))
            return HttpResponseRedirect(self.queue_url())
        return HttpResponseRedirect(self.case_url(case.pk))


def _form_errors(form: forms.Form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)
