"""django-q2 entry points. Thin on purpose: each takes ids as strings and calls one service.

All of them are safe to run twice, so a broker re-delivery or a sweeper re-enqueue never duplicates work.
"""

from __future__ import annotations

from django_kyc.services import aml, drain, health, outbound, polling, submission, sweeper, webhooks


def submit_verification(verification_id: str) -> None:
    submission.submit_verification(verification_id)


def process_webhook_event(event_id: str) -> None:
    webhooks.process(event_id)


def drain_webhook_events(linger: str = "0") -> str:
    """Apply received webhook events until the inbox is empty (see ``services.drain``); woken, not per event."""
    return drain.drain(linger=float(linger)).summary()


def poll_verification(verification_id: str) -> None:
    polling.poll_verification(verification_id)


def push_decision(verification_id: str) -> None:
    submission.push_decision(verification_id)


def run_aml_check(check_id: str) -> None:
    aml.run_check(check_id)


def deliver_event(delivery_id: str) -> str:
    """One attempt at delivering an outbound event to one endpoint; the sweeper enqueues the retries."""
    return outbound.deliver(delivery_id)


def sweep() -> str:
    """The sweeper schedule's task. Each completed run is a heartbeat: the proof that a cluster is working."""
    summary = sweeper.sweep().summary()
    health.beat()
    return summary


def purge_expired() -> str:
    """The daily retention purge (same as ``kyc_purge``): redact applicants whose retention lapsed, and delete
    the settled outbound events older than ``OUTBOUND_EVENT_RETENTION_DAYS``."""
    from django_kyc.services import retention

    summary = retention.purge_due().summary()
    return f"{summary} outbound_events={outbound.purge_settled_events()}"


def rescreen_due() -> str:
    """The daily re-screening schedule's task (same as ``kyc_rescreen``): start the screenings that are due."""
    from django_kyc.services import rescreening

    return rescreening.rescreen_due().summary()


def rescreen_applicant(applicant_id: str, fields: str = "") -> None:
    """Enqueued on commit when an approved applicant's name, date of birth or nationality changed."""
    from django_kyc.services import rescreening

    rescreening.rescreen_after_change(applicant_id, fields)


def refresh_sanctions_lists() -> str:
    """The daily lists refresh (same as ``kyc_load_lists``): load every configured list that changed, then make
    the approved applicants a changed entry could match due for re-screening. One list failing leaves its
    version in use and the others still load."""
    from django_kyc.sanctions.load import refresh_all

    return refresh_all().summary()


def run_reviews() -> str:
    """The daily review run (same as ``kyc_review``): review notices, and lapsed reviews leaving ``verified``."""
    from django_kyc.services import due_diligence

    return due_diligence.run_reviews().summary()


def deliver_sandbox_decision(alias: str, verification_id: str, outcome: str = "") -> None:
    from django_kyc.backends.sandbox import deliver_decision

    deliver_decision(alias, verification_id, outcome)
