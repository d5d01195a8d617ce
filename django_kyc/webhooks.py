"""The webhook endpoint: ``webhooks/<alias>/``.

A plain Django view (not DRF) so nothing parses the body before the signature is checked on the raw bytes.
It answers fast: authentication, one insert per event and an on-commit enqueue; processing is a task.
Every refusal is counted through :func:`~django_kyc.services.webhooks.record_rejection` (the backend's own
refusals inside ``receive``, the view's here); the accepted path does no more queries for it.
"""

from __future__ import annotations

from typing import Protocol, cast

from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from django_kyc.backends.base import InboundWebhook
from django_kyc.backends.capabilities import Capability
from django_kyc.backends.registry import get_backend, is_configured
from django_kyc.conf import kyc_settings
from django_kyc.exceptions import UnsupportedFeature, WebhookError
from django_kyc.models import RejectionReason
from django_kyc.services import webhooks

UNREADABLE = "The body could not be read: broken chunked framing, or the connection closed."


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=status)


def _refuse(alias: str, code: RejectionReason, status: int, message: str) -> JsonResponse:
    """A refusal the view makes before any backend is asked: counted like a backend's, then answered."""
    webhooks.record_rejection(alias, code, message)
    return _error(status, message)


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def _body_source(request: HttpRequest, declared: str) -> _Readable | None:
    """Where the body can be read from, or ``None`` when it cannot be read safely.

    With a Content-Length, the request itself (Django limits it to the declared length). A chunked delivery
    has none, and Django's ``WSGIRequest`` then reads nothing: it wraps ``wsgi.input`` in a stream of length
    0. A server that de-chunks says so with ``wsgi.input_terminated`` (gunicorn always; mod_wsgi, uWSGI and
    Werkzeug for chunked requests): its ``wsgi.input`` ends where the body ends, so it may be read to the end,
    and the caller reads at most one byte past the limit. Without that flag a chunked body still carries its
    framing on the raw socket (wsgiref, runserver) and reading it would block until the sender gives up, so
    it is refused. Under ASGI Django has already received the whole body, however it was framed.
    """
    meta = request.META
    if declared or "wsgi.input" not in meta:
        return request
    if meta.get("wsgi.input_terminated"):
        return cast(_Readable, meta["wsgi.input"])
    if meta.get("HTTP_TRANSFER_ENCODING"):
        return None
    return request  # no Content-Length and no chunking: HTTP/1.1 says there is no body


def _read_at_most(source: _Readable, size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end of the body: a stream may return short reads."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


@csrf_exempt
@login_not_required
@transaction.non_atomic_requests
def webhook_view(request: HttpRequest, alias: str) -> HttpResponse:
    """POST only: any other method gets a 405 (with ``Allow: POST``), counted as a refusal.

    A function, not a class-based view: this is the hot path, and ``View.as_view`` with ``method_decorator``
    builds an instance and re-applies its decorators on every request. The method is not put in the
    refusal's reason: it is whatever token the sender chose.
    """
    if request.method != "POST":
        webhooks.record_rejection(alias, RejectionReason.WRONG_METHOD, "Method not allowed.")
        return HttpResponseNotAllowed(["POST"])
    # a backend without webhooks (polling only) has no endpoint, rather than one anyone could probe
    if not is_configured(alias) or not get_backend(alias).supports(Capability.WEBHOOKS):
        return _refuse(alias, RejectionReason.UNKNOWN_ENDPOINT, 404, "Unknown webhook endpoint.")
    limit = int(kyc_settings.WEBHOOK_MAX_BYTES)
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared and not declared.isdigit():
        return _refuse(alias, RejectionReason.BAD_LENGTH, 400, "Invalid Content-Length.")
    if declared and int(declared) > limit:
        return _refuse(alias, RejectionReason.TOO_LARGE, 413, f"Body larger than {limit} bytes.")
    source = _body_source(request, declared)
    if source is None:
        return _refuse(
            alias,
            RejectionReason.BAD_LENGTH,
            411,
            "Chunked bodies cannot be read behind this server; send a Content-Length.",
        )
    try:
        body = _read_at_most(source, limit + 1)
    except Exception:
        # The server's error for a body it cannot deliver: chunk framing that does not parse, or a sender
        # gone mid-body. Its class depends on the server (gunicorn's ParseException, Django's
        # UnreadablePostError...); either way it is the sender's fault, not ours.
        return _refuse(alias, RejectionReason.BAD_LENGTH, 400, UNREADABLE)
    if len(body) > limit:
        return _refuse(alias, RejectionReason.TOO_LARGE, 413, f"Body larger than {limit} bytes.")
    if not body:
        return _refuse(alias, RejectionReason.EMPTY_BODY, 400, "Empty body.")
    webhook = InboundWebhook(body=body, headers=dict(request.headers), remote_addr=request.META.get("REMOTE_ADDR", ""))
    try:
        receipt = webhooks.receive(alias, webhook)
    except WebhookError as exc:
        return _error(exc.status_code, str(exc))  # already counted by receive()
    except UnsupportedFeature:
        # declares webhooks but cannot take them in its configuration: still no endpoint, never a 500
        return _refuse(alias, RejectionReason.UNKNOWN_ENDPOINT, 404, "Unknown webhook endpoint.")
    return JsonResponse({"stored": receipt.stored, "duplicates": receipt.duplicates})
