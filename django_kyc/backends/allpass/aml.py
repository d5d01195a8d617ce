"""Crypto AML: what a wallet or transaction screening sends, and how Allpass's answer becomes an
:class:`~django_kyc.backends.values.AmlResult`.

Pure helpers, no HTTP and no writes: the backend sends the search, commits its id with ``remember_aml`` and
returns the result for the AML service to store. Request fields, the score scale and the defaults chosen where
Allpass is silent are in ``docs/providers/allpass.md`` ("Crypto AML").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext

from django_kyc.backends.allpass.client import PROVIDER
from django_kyc.backends.parsing import mapping, number, text
from django_kyc.backends.values import AmlHitResult, AmlResult
from django_kyc.exceptions import PermanentProviderError, UnsupportedFeature
from django_kyc.status import AmlStatus

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck

#: Our subject → the ``type`` Allpass answers a search with (used if the answer omits it).
AML_TYPES: Mapping[str, str] = {"wallet": "WALLET", "transaction": "TRANSACTION"}
#: ``txHash`` as Allpass's request schema has it.
TX_HASH_PATTERN = re.compile(r"^(0x)?[a-fA-F0-9]{64}$")
#: Wallet addresses: every chain's format differs; we only refuse what is obviously not an address.
ADDRESS_PATTERN = re.compile(r"^[A-Za-z0-9:_\-.]{10,128}$")
#: Allpass's ``BlockchainEnum`` lists no values (only ``BTC`` appears in an example). These are the chains
#: crypto-AML services commonly cover; ``OPTIONS["BLOCKCHAINS"]`` replaces the list.
DEFAULT_BLOCKCHAINS = ("BTC", "ETH", "LTC", "BCH", "DOGE", "TRX", "BSC", "POLYGON", "SOL", "TON", "XRP", "ADA")
DEFAULT_AML_SCORE_THRESHOLD = 50.0
#: ``provider_data`` key of the search a check started (its id and type), so a retry reads that search.
SEARCH_KEY = "allpass_search"
#: What of the details is kept for reviewers (``provider_data["allpass_aml"]``).
KEPT_DETAILS = (
    "type",
    "blockchain",
    "address",
    "reviewStatus",
    "score",
    "amount",
    "sof",
    "uof",
    "addressInfo",
    "entities",
    "isMonitoring",
    "lastUpdateDate",
    "outdated",
    "timelines",
    "comments",
)
DATASET = "allpass_crypto_aml"


def _refuse(message: str) -> PermanentProviderError:
    return PermanentProviderError(message, provider=PROVIDER)


def search_body(aml_check: AmlCheck, blockchains: Sequence[str]) -> dict[str, str]:
    """The search request, validated the way Allpass's schema describes it, before anything is sent."""
    subject = str(aml_check.subject)
    if subject not in AML_TYPES:
        raise UnsupportedFeature(
            PROVIDER, gettext("person AML screening over the API (it is part of the Allpass flow)")
        )
    blockchain = str(aml_check.blockchain or "").strip().upper()
    if blockchain not in blockchains:
        raise _refuse(f"blockchain {aml_check.blockchain!r} is not one Allpass accepts ({', '.join(blockchains)})")
    address, tx_hash = str(aml_check.address or "").strip(), str(aml_check.tx_hash or "").strip()
    if address and tx_hash:
        raise _refuse("address and txHash are mutually exclusive: screen a wallet or a transaction")
    if subject == "transaction":
        if not tx_hash:
            raise _refuse("a transaction check needs a txHash")
        if not TX_HASH_PATTERN.fullmatch(tx_hash):
            raise _refuse("txHash must be 64 hexadecimal characters, optionally prefixed with 0x")
        return {"blockchain": blockchain, "txHash": tx_hash}
    if not address:
        raise _refuse("a wallet check needs an address")
    if not ADDRESS_PATTERN.fullmatch(address):
        raise _refuse("address is not a blockchain address")
    return {"blockchain": blockchain, "address": address}


def held_search(aml_check: AmlCheck) -> Mapping[str, Any]:
    """The search this check started (``{id, type}``), or ``{}``."""
    return mapping((aml_check.provider_data or {}).get(SEARCH_KEY))


def search_from(found: Mapping[str, Any], aml_check: AmlCheck) -> dict[str, str]:
    """``{id, type}`` of a search Allpass just started; refused without an id (nothing to read back)."""
    aml_id = text(found.get("id"))
    if not aml_id:
        raise _refuse("Allpass answered the AML search without an id")
    return {"id": aml_id, "type": text(found.get("type")) or AML_TYPES[str(aml_check.subject)]}


def search_to_read(aml_check: AmlCheck) -> tuple[str, str]:
    """(search id, type) of the check's search, for reading its details."""
    search = held_search(aml_check)
    aml_id = aml_check.provider_check_id or text(search.get("id"))
    if not aml_id:
        raise _refuse("the AML check has no Allpass search yet")
    return aml_id, text(search.get("type")) or AML_TYPES.get(str(aml_check.subject), "WALLET")


def aml_result(aml_id: str, kind: str, details: Mapping[str, Any], threshold: float) -> AmlResult:
    """Score ≥ ``threshold`` (0-100 scale) or any entity at or above it → ``potential_match``; no score yet →
    ``running``.

    Each risky entity is a hit; a risky score without a named entity is one hit for the address or transaction
    itself, so a reviewer always has something to resolve. Sources and uses of funds, address information and
    entities are kept for reviewers.
    """
    score = number(details.get("score"))
    review_status = text(details.get("reviewStatus")) or "UNKNOWN"
    kept = {key: details.get(key) for key in KEPT_DETAILS if key in details}
    data = {SEARCH_KEY: {"id": aml_id, "type": kind}, "allpass_aml": kept}
    monitored = details.get("isMonitoring") is True
    if score is None:
        return AmlResult(
            status=AmlStatus.RUNNING,
            provider_status=review_status,
            provider_check_id=aml_id,
            data=data,
            monitored=monitored,
        )
    hits = _entity_hits(details.get("entities"), threshold)
    if score >= threshold and not hits:
        info = mapping(details.get("addressInfo"))
        subject = text(details.get("address")) or aml_id
        hits.append(
            AmlHitResult(
                entity_id=f"{kind.lower()}:{subject}",
                caption=text(info.get("owner")) or f"risky {kind.lower()} {subject}",
                score=score,
                topics=("crypto_risk",),
                datasets=(DATASET,),
                details={"addressInfo": dict(info)} if info else {},
            )
        )
    return AmlResult(
        status=AmlStatus.POTENTIAL_MATCH if hits else AmlStatus.CLEAR,
        provider_status=review_status,
        provider_check_id=aml_id,
        hits=hits,
        data=data,
        score=score,
        risk_level=risk_level(score, threshold),
        monitored=monitored,
    )


def _entity_hits(entities: Any, threshold: float) -> list[AmlHitResult]:
    hits = []
    for index, entity in enumerate(entities if isinstance(entities, list) else []):
        if not isinstance(entity, Mapping):
            continue
        entity_score = number(entity.get("score"))
        if entity_score is None or entity_score < threshold:
            continue
        topic = text(entity.get("scoreType")) or text(entity.get("scoreTypeId"))
        hits.append(
            AmlHitResult(
                entity_id=text(entity.get("id")) or f"entity-{index}",
                caption=text(entity.get("name")) or topic or "risky entity",
                score=entity_score,
                topics=(topic,) if topic else (),
                datasets=(DATASET,),
                details=dict(entity),
            )
        )
    return hits


def risk_level(score: float, threshold: float) -> str:
    """Allpass reports a score only; a level for filters: high at the threshold, medium from half of it."""
    if score >= threshold:
        return "high"
    return "medium" if score >= threshold / 2 else "low"
