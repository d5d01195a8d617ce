from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bench.bareapp.models import BareEvent


@csrf_exempt
@require_POST
def bare_webhook(request: HttpRequest) -> JsonResponse:
    """No authentication, no parsing, no de-duplication, no queue: one INSERT and a JSON answer."""
    BareEvent.objects.create(body=request.body.decode("utf-8", errors="replace"))
    return JsonResponse({"stored": 1})
