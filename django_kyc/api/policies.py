"""DRF policies the API sets on itself: exception handler, throttles, pagination, authentication."""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.core.cache import BaseCache, caches
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import BasicScheme
from rest_framework import status
from rest_framework.authentication import BasicAuthentication
from rest_framework.exceptions import APIException, AuthenticationFailed
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler

from django_kyc.conf import kyc_settings
from django_kyc.exceptions import (
    DocumentStorageError,
    InvalidTransition,
    KycConfigurationError,
    ProviderError,
    UnsupportedFeature,
    VerificationConflict,
)

logger = logging.getLogger("django_kyc.api")


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state.")
    default_code = "conflict"


class ProviderUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The identity provider is not reachable; try again later.")
    default_code = "provider_unavailable"


class NotConfigured(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Identity verification is not available right now; try again later.")
    default_code = "not_configured"


class StorageUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The document could not be stored; nothing was kept. Try again later.")
    default_code = "storage_unavailable"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain errors to clear 4xx responses; everything else goes to DRF's handler."""
    mapped: APIException | None = None
    if isinstance(exc, VerificationConflict | InvalidTransition):
        mapped = Conflict(str(exc))
    elif isinstance(exc, UnsupportedFeature):
        mapped = APIException(str(exc))
        mapped.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(exc, KycConfigurationError):
        # The site's mistake, not the client's: log it with the key it names, answer without internals.
        logger.error("django-kyc is misconfigured: %s", exc, exc_info=exc)
        mapped = NotConfigured()
    elif isinstance(exc, DocumentStorageError):
        # a fault on the site's side (disk, permissions, the remote store): logged for the site, a 503 here
        logger.error("Document storage failed: %s", exc, exc_info=exc)
        mapped = StorageUnavailable()
    elif isinstance(exc, ProviderError):
        mapped = ProviderUnavailable() if exc.transient else Conflict(exc.message)
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    elif isinstance(exc, PermissionDenied):
        return Response({"detail": str(exc) or _("Permission denied.")}, status=status.HTTP_403_FORBIDDEN)
    return drf_exception_handler(mapped or exc, context)


class WriteThrottle(ScopedRateThrottle):
    """Rate-limits unsafe methods per user, with rates from ``DJANGO_KYC["API_THROTTLE_RATES"]``.

    The request history lives in the cache named by ``DJANGO_KYC["API_THROTTLE_CACHE"]``, which must be shared
    by every web process or each one counts for itself (system check W040).
    """

    @property
    def cache(self) -> BaseCache:  # type: ignore[override]
        return caches[kyc_settings.API_THROTTLE_CACHE]

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)

    def get_rate(self) -> str | None:
        return kyc_settings.throttle_rates.get(self.scope) if self.scope else None


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int | None:
        self.page_size = int(kyc_settings.API_PAGE_SIZE)
        return super().get_page_size(request)


class NulSafeBasicAuthentication(BasicAuthentication):
    """Refuses credentials containing NUL before they reach the auth backends.

    ``Authorization: Basic <base64 of "\\x00:\\x00">`` made ``ModelBackend`` query PostgreSQL with a NUL byte,
    which PostgreSQL rejects (``DataError``): a 500 for any unauthenticated client.
    """

    def authenticate_credentials(self, userid: str, password: str, request: Any = None) -> Any:
        if "\x00" in userid or "\x00" in password:
            raise AuthenticationFailed(_("Invalid username/password."))
        return super().authenticate_credentials(userid, password, request)


class NulSafeBasicScheme(BasicScheme):
    """Documents the NUL-safe classes (and those :func:`_nul_safe` derives) as drf-spectacular's ``basicAuth``."""

    target_class = "django_kyc.api.policies.NulSafeBasicAuthentication"
    match_subclasses = True


@functools.cache
def _nul_safe(cls: type) -> type:
    if not issubclass(cls, BasicAuthentication) or issubclass(cls, NulSafeBasicAuthentication):
        return cls
    return type(cls.__name__, (NulSafeBasicAuthentication, cls), {"__module__": cls.__module__})


def authentication_classes() -> list[type]:
    """``DJANGO_KYC["API_AUTHENTICATION_CLASSES"]``, or the project's DRF default when unset.

    HTTP Basic classes (DRF's default includes one) are made to refuse NUL bytes, see
    :class:`NulSafeBasicAuthentication`.
    """
    configured: Any = kyc_settings.API_AUTHENTICATION_CLASSES
    if configured is None:
        configured = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    return [_nul_safe(import_string(path) if isinstance(path, str) else path) for path in configured]
