"""The event catalogue over HTTP, next to the OpenAPI schema: what a receiving service can expect.

``api/events/`` lists every type with its version, description and schema URL; ``api/events/<type>.v<n>.json``
is that type's JSON Schema document (the same as the file shipped in ``django_kyc/outbound/schemas/``). Nothing
here is secret or personal, so, like the OpenAPI schema, it needs no login.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from django_kyc.outbound.catalogue import CATALOGUE, EVENT_TYPES


@require_GET
def event_catalogue(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "specification": "https://www.standardwebhooks.com/",
            "events": [
                {
                    "type": event.name,
                    "version": event.version,
                    "description": event.description,
                    "schema": request.build_absolute_uri(
                        reverse("django_kyc:api-event-schema", args=[event.name, event.version])
                    ),
                }
                for event in CATALOGUE
            ],
        }
    )


@require_GET
def event_schema(request: HttpRequest, name: str, version: int) -> JsonResponse:
    event = EVENT_TYPES.get(name)
    if event is None or event.version != version:
        raise Http404(name)
    return JsonResponse(event.json_schema(), content_type="application/schema+json")
