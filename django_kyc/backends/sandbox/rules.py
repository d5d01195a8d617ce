"""What the sandbox decides, and why: every outcome follows from the data, so tests and demos can choose one.

Verifications follow the applicant's last name (case-insensitive, "contains"; the table is
``SandboxBackend.OUTCOMES``, documented in ``docs/providers/sandbox.md``); AML screenings follow the last name
(a person) or the address or hash (a wallet or a transaction). Provider ids are derived from ours, so a
repeated submission finds the same sandbox applicant.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from django_kyc.backends.values import AmlHitResult, AmlResult
from django_kyc.status import AmlStatus

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

    from django_kyc.models import AmlCheck, Applicant


@dataclass(frozen=True)
class NameRule:
    """One last-name keyword and what it makes the sandbox do. The code that acts on a keyword reads it from
    here, and the demo's onboarding page lists ``NAME_RULES``, so the page cannot promise what the code does
    not do."""

    keyword: str
    #: What happens, in one line for the person trying the sandbox out (in their language).
    outcome: StrOrPromise

    def matches(self, applicant: Applicant) -> bool:
        return self.keyword in keyword(applicant)


DECLINE = NameRule("decline", _("declined: the document is rejected as tampered"))
REVIEW = NameRule("review", _("review: waits for a reviewer in the admin review queue"))
RESUBMIT = NameRule("resubmit", _("resubmission requested: the document is unreadable"))
ERROR = NameRule("error", _("error: the provider rejects the submission (HTTP 400), no retry"))
FLAKY = NameRule("flaky", _("two simulated outages (HTTP 503), retried with backoff by the sweeper, then approved"))
SILENT = NameRule("silent", _("approved, but no webhook is sent: only polling (after 15 minutes by default) finds it"))
PEP = NameRule(
    "pep",
    _(
        "an AML screening finds a politically exposed person (a potential match); the verification follows the "
        "other rules"
    ),
)
SANCTION = NameRule(
    "sanction",
    _("an AML screening finds a sanctioned person (a potential match); the verification follows the other rules"),
)
#: Every last-name rule. For the decision, decline, review and resubmit are tried in this order (error, flaky
#: and silent act on the submission and the delivery; pep and sanction on AML screenings); anything else is
#: approved.
NAME_RULES: tuple[NameRule, ...] = (DECLINE, REVIEW, RESUBMIT, ERROR, FLAKY, SILENT, PEP, SANCTION)
#: The last row of the table: what no keyword does.
OTHERWISE = _("approved")


def short_hash(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def keyword(applicant: Applicant) -> str:
    """What the rules read: the last name, lower case."""
    return (applicant.last_name or "").lower()


def screen(aml_check: AmlCheck) -> AmlResult:
    """A person by last name (``PEP``, ``SANCTION``), a wallet or transaction by its address or hash."""
    if aml_check.subject != "applicant":
        return screen_crypto(aml_check)
    hits = []
    if PEP.matches(aml_check.applicant):
        hits.append(
            AmlHitResult(
                entity_id="sbx-pep-1",
                caption="Sandbox Politically Exposed Person",
                score=0.91,
                topics=("role.pep",),
                datasets=("sandbox_peps",),
            )
        )
    if SANCTION.matches(aml_check.applicant):
        hits.append(
            AmlHitResult(
                entity_id="sbx-sanction-1",
                caption="Sandbox Sanctioned Person",
                score=0.97,
                topics=("sanction",),
                datasets=("sandbox_sanctions",),
            )
        )
    return AmlResult(
        status=AmlStatus.POTENTIAL_MATCH if hits else AmlStatus.CLEAR,
        provider_status="match" if hits else "no_match",
        provider_check_id=f"sbx_aml_{short_hash(str(aml_check.pk))}",
        hits=hits,
    )


def screen_crypto(aml_check: AmlCheck) -> AmlResult:
    """Wallets and transactions: ``bad`` in the address or hash is a sanctioned counterparty, ``mix`` a
    mixer (medium risk); anything else is clear."""
    subject = (aml_check.address or aml_check.tx_hash).lower()
    hits = []
    if "bad" in subject:
        hits.append(
            AmlHitResult(
                entity_id="sbx-wallet-sanctioned",
                caption="Sandbox sanctioned exchange",
                score=0.95,
                topics=("sanction",),
                datasets=("sandbox_wallets",),
            )
        )
    if "mix" in subject:
        hits.append(
            AmlHitResult(
                entity_id="sbx-wallet-mixer",
                caption="Sandbox coin mixer",
                score=0.6,
                topics=("mixer",),
                datasets=("sandbox_wallets",),
            )
        )
    score = max((hit.score or 0.0 for hit in hits), default=0.05)
    return AmlResult(
        status=AmlStatus.POTENTIAL_MATCH if hits else AmlStatus.CLEAR,
        provider_status="risky" if hits else "clean",
        provider_check_id=f"sbx_caml_{short_hash(str(aml_check.pk))}",
        hits=hits,
        score=score,
        risk_level="high" if score >= 0.9 else "medium" if hits else "low",
        data={"sandbox": {"blockchain": aml_check.blockchain, "sources_of_funds": [], "uses_of_funds": []}},
    )
