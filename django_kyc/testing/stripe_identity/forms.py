"""Stripe's request conventions as the fake checks them: bracket-notation form bodies, the create call's
parameters, and Stripe's error bodies."""

from __future__ import annotations

import re
import secrets
import string
from typing import Any
from urllib.parse import parse_qsl

from django_kyc.testing.server import FakeResponse

_PART = re.compile(r"\[([^\[\]]*)\]")
#: What Stripe accepts for ``options[document][allowed_types]``.
DOCUMENT_TYPES = ("driving_license", "id_card", "passport")
SESSION_TYPES = ("document", "id_number")
#: The create call's parameters (``POST /v1/identity/verification_sessions``).
CREATE_PARAMS = frozenset(
    {
        "type",
        "verification_flow",
        "options",
        "client_reference_id",
        "metadata",
        "return_url",
        "provided_details",
        "related_customer",
        "related_customer_account",
        "related_person",
        "expand",
    }
)
DOCUMENT_OPTIONS = frozenset({"allowed_types", "require_id_number", "require_live_capture", "require_matching_selfie"})


class FormError(ValueError):
    def __init__(self, message: str, param: str = "", code: str = "parameter_invalid") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


def stripe_error(
    status: int, message: str, *, kind: str = "invalid_request_error", param: str = "", code: str = ""
) -> FakeResponse:
    """Stripe's error body: ``{"error": {"type", "message", "param"?, "code"?, "request_log_url"}}``."""
    error: dict[str, Any] = {"type": kind, "message": message}
    if param:
        error["param"] = param
    if code:
        error["code"] = code
    error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/req_{random_id(14)}"
    return FakeResponse(status, {"error": error})


def random_id(length: int = 24) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def parse_form(body: bytes) -> dict[str, Any]:
    """``a[b][c]=1&a[l][0]=x&a[l][1]=y`` (or ``a[l][]=x&a[l][]=y``) → ``{"a": {"b": {"c": "1"}, "l": ["x", "y"]}}``."""
    root: dict[str, Any] = {}
    for position, (key, value) in enumerate(parse_qsl(body.decode("utf-8"), keep_blank_values=True)):
        head, _, rest = key.partition("[")
        parts = [head, *_PART.findall("[" + rest)] if rest else [head]
        parts = [part if part else f"#{position}" for part in parts]  # "[]": append, in the order sent
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise FormError(f"Invalid array or hash: {key}", head)
        node[parts[-1]] = value
    lists: dict[str, Any] = _lists(root)
    return lists


def _lists(node: Any) -> Any:
    """Hashes whose keys are all indexes become lists (in index order)."""
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() or key.startswith("#") for key in converted):
        return [converted[key] for key in sorted(converted, key=lambda k: int(k.lstrip("#")))]
    return converted


def boolean(value: Any, param: str) -> bool:
    if value in ("true", "false"):
        return value == "true"
    raise FormError(f"Invalid boolean: {value}", param)


def session_fields(params: dict[str, Any]) -> dict[str, Any]:
    """The create call's parameters checked as Stripe checks them; the session's fields from them."""
    unknown = sorted(set(params) - CREATE_PARAMS)
    if unknown:
        raise FormError(f"Received unknown parameter: {unknown[0]}", unknown[0], "parameter_unknown")
    kind, flow = params.get("type"), params.get("verification_flow")
    if not kind and not flow:
        raise FormError("Missing required param: type.", "type", "parameter_missing")
    if kind and flow:
        raise FormError("You cannot pass both type and verification_flow.", "verification_flow")
    if kind and kind not in SESSION_TYPES:
        raise FormError(f"Invalid type: must be one of {', '.join(SESSION_TYPES)}", "type")
    options = params.get("options") or {}
    if options and (not isinstance(options, dict) or set(options) - {"document", "email", "phone", "id_number"}):
        raise FormError("Received unknown parameter: options", "options", "parameter_unknown")
    document = options.get("document") or {} if isinstance(options, dict) else {}
    if flow and options:
        raise FormError("You cannot pass options with a verification_flow.", "options")
    if not isinstance(document, dict) or set(document) - DOCUMENT_OPTIONS:
        name = next(iter(set(document) - DOCUMENT_OPTIONS)) if isinstance(document, dict) else ""
        raise FormError(f"Received unknown parameter: options[document][{name}]", "options", "parameter_unknown")
    checked: dict[str, Any] = {}
    for name in DOCUMENT_OPTIONS - {"allowed_types"}:
        if name in document:
            checked[name] = boolean(document[name], f"options[document][{name}]")
    if "allowed_types" in document:
        types = document["allowed_types"]
        if not isinstance(types, list) or not types or any(t not in DOCUMENT_TYPES for t in types):
            raise FormError("Invalid allowed_types", "options[document][allowed_types]")
        checked["allowed_types"] = types
    reference = params.get("client_reference_id")
    if reference is not None and (not isinstance(reference, str) or len(reference) > 5000):
        raise FormError("client_reference_id must be a string of at most 5000 characters", "client_reference_id")
    metadata = params.get("metadata") or {}
    if metadata == "":
        metadata = {}
    if not isinstance(metadata, dict) or len(metadata) > 50:
        raise FormError("Invalid metadata: a hash of at most 50 keys", "metadata")
    for key, value in metadata.items():
        if len(key) > 40 or not isinstance(value, str) or len(value) > 500:
            raise FormError("Metadata keys are at most 40 characters and values at most 500", f"metadata[{key}]")
    details = params.get("provided_details")
    if details is not None and (not isinstance(details, dict) or set(details) - {"email", "phone"}):
        raise FormError("Received unknown parameter: provided_details", "provided_details", "parameter_unknown")
    return {
        "type": kind or "verification_flow",
        "verification_flow": flow,
        "options": {"document": checked} if checked else {},
        "client_reference_id": reference,
        "metadata": dict(metadata),
        "return_url": params.get("return_url"),
        "provided_details": details,
        "related_customer": params.get("related_customer"),
        "related_person": params.get("related_person"),
    }
