"""What the fake KYCAID knows of KYCAID: its outcomes, document types, field names, ids and signature.

Written from KYCAID's reference (``docs/providers/kycaid.md`` links each page), not from the backend, so the
backend's tests check it against an independent reading; only the decline reason ids are shared.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any

from django_kyc.backends.kycaid.statuses import DECLINE_REASONS

#: outcome -> (verification status, verified, decline reasons of the failed check)
OUTCOMES: dict[str, tuple[str, bool | None, tuple[str, ...]]] = {
    "unused": ("unused", None, ()),  # form link issued, not filled in yet
    "pending": ("pending", None, ()),  # submitted, KYCAID is checking
    "approved": ("completed", True, ()),
    "declined": ("completed", False, ("FAKE_DOCUMENT",)),
    "declined_quality": ("completed", False, ("BAD_QUALITY",)),
    "undecided": ("completed", None, ()),  # completed without a verdict
    "on_hold": ("on_hold", None, ()),  # a status the reference does not list (the backend must not guess)
}

DOCUMENT_TYPES = frozenset(
    {
        "ADDRESS_DOCUMENT",
        "AUTHORISED_PERSON",
        "BANK_STATEMENT",
        "COMPANY_LEGAL_ADDRESS",
        "COMPANY_OWNERSHIP",
        "CREDIT_CARD",
        "DOMESTIC_PASSPORT",
        "DRIVERS_LICENSE",
        "FINANCIAL_DOCUMENT",
        "FOREIGN_CITIZEN_PASSPORT",
        "PASSPORT",
        "GOVERNMENT_ID",
        "RESIDENCE_PERMIT",
        "SELFIE_IMAGE",
    }
)
FILE_SLOTS = ("front_side_id", "back_side_id", "other_side_1_id", "other_side_2_id", "other_side_3_id")
DOCUMENT_FIELDS = (
    "type",
    "document_number",
    "additional_number",
    "issue_date",
    "expiry_date",
    "issuing_authority",
    "income_sources",
    "annual_income",
    "transaction_amount",
    "transaction_currency",
    "transaction_datetime",
    "transaction_purpose",
    "origin_funds",
    "card_number",
    "account_number",
    *FILE_SLOTS,
)
APPLICANT_FIELDS = (
    "type",
    "first_name",
    "middle_name",
    "last_name",
    "dob",
    "gender",
    "pep",
    "residence_country",
    "nationality",
    "phone",
    "email",
    "telegram_username",
    "wallet_address",
    "external_applicant_id",
    "company_name",
    *(f"custom_field_{n}" for n in range(1, 6)),
)
#: decline reason code -> its id (``decline_reasons_ids``)
REASON_IDS = {code: number for number, code in DECLINE_REASONS.items()}


def new_id() -> str:
    """KYCAID ids are 36 hexadecimal characters."""
    return secrets.token_hex(18)


def sign(body: bytes, token: str) -> str:
    """``x-data-integrity`` as KYCAID computes it: hex HMAC-SHA512(key=token, msg=base64(raw body))."""
    return hmac.new(token.encode(), base64.b64encode(body), hashlib.sha512).hexdigest()


def now() -> str:
    """A timestamp as KYCAID writes ``created_at``."""
    return datetime.now(dt_timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def check_results(verified: bool | None, reasons: Sequence[str]) -> dict[str, Any]:
    """A verification's ``verifications``: the profile check, and the document check failing for ``reasons``."""
    document_ok = verified if not reasons else False
    return {
        "profile": {"verified": True if verified is not None else None, "comment": "", "decline_reasons": []},
        "document": {
            "verified": document_ok,
            "comment": "Please upload a sharper photo" if "BAD_QUALITY" in reasons else "",
            "decline_reasons": list(reasons),
        },
    }
