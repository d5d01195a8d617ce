"""Signature helpers, checked against known vectors: KYCAID's published one, and others computed by hand from
each provider's documented scheme (``docs/providers/<provider>.md`` records the ones of shipped backends)."""

from __future__ import annotations

import base64
import time

import pytest

from django_kyc.backends import signing
from django_kyc.exceptions import WebhookAuthenticationError, WebhookSignatureMissing, WebhookSignatureStale

# KYCAID's vendor-published vector: hex HMAC-SHA512(key = API token, msg = base64(raw body)).
KYCAID_TOKEN = b"28c6f7cc0345a04eee0b535039b1c5a62547"
KYCAID_BODY = (
    b'{"request_id":"61a7dbcc012d9042e909cf006e7b412d6ba5","type":"VERIFICATION_STATUS_CHANGED",'
    b'"applicant_id":"4141cc1b18dba048470b2961cb4592f480fe","verification_id":"2cf795e713be1040e50b202164ee17bfdfbe",'
    b'"form_id":"58bed87600dd9944f02ba0c9cd8b32d6bd4c","verification_status":"pending"}'
)
KYCAID_SIGNATURE = (
    "f7681b097b77928fc031d614709976796057c306cf77fdd449bb414937bd8767"
    "8d908d7efaa65e9b1dd65b9eeea2121ea75bd9007f44fe8fcd7c9ac6cdeeef0e"
)
# Vouched: base64 HMAC-SHA1(key, raw body).
VOUCHED_KEY = b"private-key-test"
VOUCHED_BODY = b'{"id":"Pzfsv4FmP","status":"completed"}'
VOUCHED_SIGNATURE = "Jl9Slf3gdtQ5nWZ2NEHTuINym4c="
# Provide: t=<unix>,s=<hex HMAC-SHA256(secret, "<t>." + body)>.
PROVIDE_SECRET = b"whsec_test"
PROVIDE_BODY = b'{"kyc_application_id":"205d1f45-4b45-4d85-a692-8db40d94ab89","status":"accepted"}'
PROVIDE_HEADER = "t=1700000000,s=69fa93b7ecd85f26e3f28d0e9f56dc920e7dc428c1c057ba0749365b8597b3bd"


def test_hmac_hex_reproduces_the_kycaid_vector() -> None:
    assert signing.hmac_hex(KYCAID_TOKEN, base64.b64encode(KYCAID_BODY), "sha512") == KYCAID_SIGNATURE


def test_hmac_base64_reproduces_the_vouched_vector() -> None:
    assert signing.hmac_base64(VOUCHED_KEY, VOUCHED_BODY, "sha1") == VOUCHED_SIGNATURE


def test_provide_style_header_verifies() -> None:
    parts = signing.parse_signature_header(PROVIDE_HEADER)
    assert parts == {"t": ["1700000000"], "s": [PROVIDE_HEADER.split("s=")[1]]}
    message = parts["t"][0].encode() + b"." + PROVIDE_BODY
    signing.verify_hmac(secrets=[PROVIDE_SECRET], message=message, signature=parts["s"][0])


def test_verify_hmac_accepts_the_vendor_vector_and_uppercase_hex() -> None:
    message = base64.b64encode(KYCAID_BODY)
    signing.verify_hmac(secrets=[KYCAID_TOKEN], message=message, signature=KYCAID_SIGNATURE, algorithm="sha512")
    signing.verify_hmac(
        secrets=[KYCAID_TOKEN], message=message, signature=f" {KYCAID_SIGNATURE.upper()} ", algorithm="sha512"
    )


def test_verify_hmac_base64() -> None:
    signing.verify_hmac(
        secrets=[VOUCHED_KEY], message=VOUCHED_BODY, signature=VOUCHED_SIGNATURE, algorithm="sha1", encoding="base64"
    )
    with pytest.raises(WebhookAuthenticationError):
        # base64 is case-sensitive: lower-casing it must not pass
        signing.verify_hmac(
            secrets=[VOUCHED_KEY],
            message=VOUCHED_BODY,
            signature=VOUCHED_SIGNATURE.lower(),
            algorithm="sha1",
            encoding="base64",
        )


def test_verify_hmac_accepts_any_secret_in_the_rotation_list() -> None:
    message = base64.b64encode(KYCAID_BODY)
    signing.verify_hmac(
        secrets=[b"new-token", KYCAID_TOKEN], message=message, signature=KYCAID_SIGNATURE, algorithm="sha512"
    )


@pytest.mark.parametrize(
    "signature",
    [KYCAID_SIGNATURE[:-1] + "f", KYCAID_SIGNATURE[:64], "zz", "ünïcode"],
)
def test_verify_hmac_rejects_a_wrong_signature(signature: str) -> None:
    with pytest.raises(WebhookAuthenticationError, match="signature mismatch"):
        signing.verify_hmac(
            secrets=[KYCAID_TOKEN], message=base64.b64encode(KYCAID_BODY), signature=signature, algorithm="sha512"
        )


def test_verify_hmac_rejects_a_changed_body() -> None:
    with pytest.raises(WebhookAuthenticationError):
        signing.verify_hmac(
            secrets=[KYCAID_TOKEN],
            message=base64.b64encode(KYCAID_BODY.replace(b"pending", b"approved")),
            signature=KYCAID_SIGNATURE,
            algorithm="sha512",
        )


def test_missing_signature_and_missing_secret_are_told_apart() -> None:
    with pytest.raises(WebhookSignatureMissing):
        signing.verify_hmac(secrets=[KYCAID_TOKEN], message=b"x", signature="")
    with pytest.raises(WebhookAuthenticationError, match="no webhook secret configured") as caught:
        signing.verify_hmac(secrets=[], message=b"x", signature="abc")
    assert not isinstance(caught.value, WebhookSignatureMissing)


def test_status_codes_of_webhook_errors() -> None:
    assert WebhookSignatureMissing("x").status_code == 401
    assert WebhookAuthenticationError("x").status_code == 403


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ("one", [b"one"]),
        (b"raw", [b"raw"]),
        (["new", b"old", ""], [b"new", b"old"]),
        (("a",), [b"a"]),
    ],
)
def test_as_secret_list(value: object, expected: list[bytes]) -> None:
    assert signing.as_secret_list(value) == expected  # type: ignore[arg-type]


def test_constant_time_equals_mixes_str_and_bytes() -> None:
    assert signing.constant_time_equals("abc", b"abc")
    assert not signing.constant_time_equals(b"abc", "abd")
    assert not signing.constant_time_equals("abc", "abcd")


def test_check_timestamp_window() -> None:
    now = int(time.time())
    assert signing.check_timestamp(str(now)) == now
    assert signing.check_timestamp(now - 290, tolerance=300) == now - 290
    assert signing.check_timestamp(f"{now}.75") == now
    # its own class (counted as "stale"), still an authentication failure (403)
    with pytest.raises(WebhookSignatureStale, match="tolerance"):
        signing.check_timestamp(now - 301, tolerance=300)
    with pytest.raises(WebhookSignatureStale, match="tolerance"):
        signing.check_timestamp(now + 301, tolerance=300)
    with pytest.raises(WebhookSignatureStale, match="tolerance"):
        signing.check_timestamp(now - 11, tolerance=10)


@pytest.mark.parametrize("value", ["", "soon", None, "nan", "inf", "-inf", "1e400"])
def test_check_timestamp_rejects_non_numbers(value: object) -> None:
    with pytest.raises(WebhookAuthenticationError) as caught:
        signing.check_timestamp(value)  # type: ignore[arg-type]
    assert not isinstance(caught.value, WebhookSignatureStale)  # unreadable, not old: a bad signature


def test_parse_signature_header() -> None:
    assert signing.parse_signature_header(" t=1 , v1=aa,v1=bb, junk ,v0=c=d") == {
        "t": ["1"],
        "v1": ["aa", "bb"],
        "v0": ["c=d"],
    }
    assert signing.parse_signature_header("") == {}
    assert signing.parse_signature_header("t=1;s=2", separator=";") == {"t": ["1"], "s": ["2"]}


def test_timestamped_signature_round_trip_rotation_and_multiple_signatures() -> None:
    from django_kyc.backends.signing import sign_timestamped, verify_timestamped

    now = int(time.time())
    header = sign_timestamped(b"old", b"{}", now, "s")
    assert verify_timestamped(header, b"{}", [b"new", b"old"], signature_key="s") == now
    with pytest.raises(WebhookAuthenticationError):
        verify_timestamped(header, b"{} ", [b"new", b"old"], signature_key="s")
    first = sign_timestamped(b"x", b"{}", now).split("v1=")[1]
    second = sign_timestamped(b"k", b"{}", now).split("v1=")[1]
    both = f"t={now},v1={first},v1={second}"
    assert verify_timestamped(both, b"{}", [b"k"]) == now


def test_timestamped_groups_any_group_may_verify() -> None:
    """Persona's rotation: one whole ``t=…,v1=…`` group per secret, separated by a space."""
    from django_kyc.backends.signing import sign_timestamped, verify_timestamped

    now = int(time.time())
    header = f"{sign_timestamped(b'new', b'{}', now)} {sign_timestamped(b'old', b'{}', now)}"
    assert verify_timestamped(header, b"{}", [b"old"], group_separator=" ") == now
    assert verify_timestamped(header, b"{}", [b"new"], group_separator=" ") == now
    with pytest.raises(WebhookAuthenticationError):
        verify_timestamped(header, b"{}", [b"new"])  # read as one group, the first v1 runs into the second t=
    with pytest.raises(WebhookAuthenticationError) as mismatch:
        verify_timestamped(header, b"{}", [b"other"], group_separator=" ")
    assert not isinstance(mismatch.value, WebhookSignatureStale)
    stale = f"{sign_timestamped(b'old', b'{}', now - 1000)} {sign_timestamped(b'new', b'{}', now - 999)}"
    with pytest.raises(WebhookSignatureStale):
        verify_timestamped(stale, b"{}", [b"old"], group_separator=" ")
    fresh_and_stale = f"{sign_timestamped(b'old', b'{}', now - 1000)} {sign_timestamped(b'new', b'{}', now)}"
    assert verify_timestamped(fresh_and_stale, b"{}", [b"new"], group_separator=" ") == now
    with pytest.raises(WebhookSignatureMissing):
        verify_timestamped("  ", b"{}", [b"old"], group_separator=" ")
