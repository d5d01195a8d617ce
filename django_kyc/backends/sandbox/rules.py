"""What the sandbox decides, and why: every outcome follows from the data, so tests and demos can choose one.

Verifications follow the applicant's last name (case-insensitive, "contains"; the table is
``SandboxBackend.OUTCOMES``, documented in ``docs/providers/sandbox.md``); AML screenings follow the last name
(a person) or the address or hash (a wallet or a transaction). Provider ids are derived from ours, so a
repeated submission finds the same sandbox applicant.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django_kyc.backends.values import AmlHitResult, AmlResult
from django_kyc.status import AmlStatus

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck, Applicant


def short_hash(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def keyword(applicant: Applicant) -> str:
    """What the rules read: the last name, lower case."""
    return (applicant.last_name or "").lower()


def screen(aml_check: AmlCheck) -> AmlResult:
    """A person by last name (``pep``, ``sanction``), a wallet or transaction by its address or hash."""
    if aml_check.subject != "applicant":
        return screen_crypto(aml_check)
    name = keyword(aml_check.applicant)
    hits = []
    if "pep" in name:
        hits.append(
            AmlHitResult(
                entity_id="sbx-pep-1",
                caption="Sandbox Politically Exposed Person",
                score=0.91,
                topics=("role.pep",),
                datasets=("sandbox_peps",),
            )
        )
    if "sanction" in name:
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
