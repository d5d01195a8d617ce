"""Veriff's decisions and events as our :class:`ProviderState`. No HTTP, no database: the backend fetches,
this reads.

Person and document data Veriff extracted (``verification.person``, ``.document``) is not copied into
``data``: reviewers open the session in Veriff's Customer Portal, and our rows do not fill up with what Veriff
already holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django_kyc.backends.parsing import iso_datetime, mapping, text
from django_kyc.backends.values import ProviderState
from django_kyc.backends.veriff import statuses

MapStatus = Callable[..., str]
#: The decision fields kept for reviewers (``provider_data["veriff"]``).
KEPT = ("id", "attemptId", "status", "code", "reason", "reasonCode", "decisionTime", "acceptanceTime")


def decision_state(answer: Mapping[str, Any], map_status: MapStatus, *, undecided: str) -> ProviderState:
    """``GET /v1/sessions/{id}/decision`` (or a decision webhook's body) as our state. Before Veriff has decided
    (``verification: null``) the state is ``undecided``: awaiting the person in the hosted flow, processing once
    we submitted the media ourselves."""
    decision = mapping(answer.get("verification"))
    if not decision:
        return ProviderState(status=undecided, provider_status=statuses.NO_DECISION)
    raw = text(decision.get("status")).strip()
    code = statuses.reason_code(decision.get("reasonCode"))
    reason = text(decision.get("reason")).strip()
    reasons = (f"{code}: {reason}" if code and reason else code or reason)[:500]
    data = {
        "veriff": {
            **{key: decision.get(key) for key in KEPT if key in decision},
            "reason_codes": statuses.catalogue_codes([code]),
        }
    }
    return ProviderState(
        status=map_status(raw),
        provider_status=raw or "(empty)",
        reasons=(reasons,) if reasons else (),
        occurred_at=iso_datetime(decision.get("decisionTime")),
        data=data,
    )


def event_state(payload: Mapping[str, Any], map_status: MapStatus) -> ProviderState:
    """An event webhook (``action``: ``started`` / ``submitted``): the whole news is in the signed body, and the
    decision endpoint knows nothing of it, so it is applied as it stands. It carries no time: the transition
    service's rank rule keeps it from moving a decision back."""
    action = text(payload.get("action")).strip()
    return ProviderState(
        status=map_status(action),
        provider_status=action or "(empty)",
        data={"veriff": {"attemptId": payload.get("attemptId"), "action": action, "code": payload.get("code")}},
    )
