"""The Allpass backend's ``OPTIONS``: one declaration read by the backend, the system checks and the docs
(the table in ``docs/providers/allpass.md`` is generated from it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_kyc.backends.allpass.aml import DEFAULT_AML_SCORE_THRESHOLD
from django_kyc.backends.allpass.crypto import (
    ENCODINGS,
    GCM_IV_LENGTHS,
    HMAC_KEY_ENCODINGS,
    WEBHOOK_MODES,
    crypto_key_list,
)
from django_kyc.backends.allpass.webhooks import HMAC_INPUTS
from django_kyc.backends.options import Option, boolean, integer, number, raw, secrets, strings

#: Allpass's maximum token lifetime (``ttl`` of ``POST .../token``), in seconds.
MAX_TOKEN_TTL = 3_153_600_000
DEFAULT_TOKEN_TTL = 3600

OPTION_SPECS = (
    Option(
        "PRIVATE_APP_KEY",
        "The application's private key, sent as `x-private-app-key`.",
        required=True,
        secret=True,
    ),
    Option(
        "BASE_URL",
        "The Open API host. Allpass's API reference leaves the host empty, so there is no default.",
        required=True,
        url=True,
    ),
    Option("FLOW_NAME", "`flowName` of the create and token calls (the create call requires it).", required=True),
    Option("LANG", "`lang` of the created applicant (language of results shown to the person)."),
    Option("LOCALE", "`locale` of the token call (e.g. `en-US`).", default_doc="`LANG`"),
    Option(
        "TOKEN_TTL",
        "`ttl` of the token call, seconds, 1 … 3 153 600 000 (Allpass's maximum). The client token's expiry "
        "is the `ttl` Allpass answers with, counted from before the request.",
        coerce=integer(minimum=1, maximum=MAX_TOKEN_TTL),
        default=DEFAULT_TOKEN_TTL,
    ),
    Option(
        "SEND_SUPPLIED_INFO",
        "Send `suppliedInfo` (our applicant's data, for Allpass to compare with the documents).",
        coerce=boolean,
        default=True,
    ),
    Option(
        "WEBHOOK_MODE",
        '`"cbc-hmac"` (AES-256-CBC + HMAC key) or `"gcm"` (AES-256-GCM), whichever the Workplace\'s '
        '"encryption method" is.',
        choices=WEBHOOK_MODES,
        default="cbc-hmac",
    ),
    Option(
        "CRYPTO_KEY",
        'The Workplace "Crypto"/secret key: 64 hex characters (the vendor\'s sample hex-decodes it). One '
        "string or a list, newest first. Without it no webhook is accepted.",
        coerce=crypto_key_list,
        secret=True,
    ),
    Option(
        "HMAC_KEY",
        "The Workplace HMAC key (CBC mode). One string or a list. Without it no CBC webhook is accepted.",
        coerce=secrets,
        secret=True,
    ),
    Option(
        "HMAC_INPUT",
        'What the CBC HMAC covers: the encrypted `data` string, or `"body"` (the raw request body).',
        choices=HMAC_INPUTS,
        default="data",
    ),
    Option(
        "HMAC_KEY_ENCODING",
        'The HMAC key\'s bytes: the string as typed (`"utf8"`) or hex-decoded (`"hex"`).',
        choices=HMAC_KEY_ENCODINGS,
        default="utf8",
    ),
    Option(
        "SIGNATURE_ENCODING",
        'Encoding of `x-allpass-signature` (HMAC or GCM tag): `"hex"` or `"base64"`.',
        choices=ENCODINGS,
        default="hex",
    ),
    Option(
        "GCM_IV_LENGTH",
        'Bytes of IV at the start of a GCM `data`: `12`, `16`, or `"auto"` (tries 12, then 16).',
        coerce=raw,
        choices=GCM_IV_LENGTHS,
        default="auto",
    ),
    Option(
        "EVENT_FIELD",
        "The decrypted payload's event-name field, if Allpass names it something other than `type` / `event` "
        "/ `eventName` / `eventType` / `webhookType` (tried in that order).",
    ),
    Option("APP_KEY", "The application's public key; when set, a delivery whose `appKey` differs is refused."),
    Option(
        "BLOCKCHAINS",
        "Accepted `blockchain` values for crypto AML (upper case).",
        coerce=strings,
        default_doc="see below",
    ),
    Option(
        "AML_SCORE_THRESHOLD",
        "Crypto-AML score (0 to 100) from which an entity is a hit and the check a potential match.",
        coerce=number(minimum=0, maximum=100),
        default=DEFAULT_AML_SCORE_THRESHOLD,
    ),
)


def option_rules(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``HMAC_KEY`` must be hexadecimal when ``HMAC_KEY_ENCODING`` says so."""
    if config.get("HMAC_KEY_ENCODING") == "hex":
        try:
            for key in config.get("HMAC_KEY") or []:
                bytes.fromhex(key.decode())
        except ValueError:
            return [("HMAC_KEY", 'must be hexadecimal: HMAC_KEY_ENCODING is "hex".')]
    return []
