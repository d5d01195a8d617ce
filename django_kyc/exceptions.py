"""The exception tree.

Provider failures are split into *transient* (worth retrying: timeouts, connection errors, 429, 5xx) and
*permanent* (the provider said no; retrying cannot help) so the task layer can decide without inspecting
HTTP details. Messages never carry request bodies or personal data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.utils.translation import gettext

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise


class KycError(Exception):
    """Base class of every runtime error raised by django_kyc."""


class KycConfigurationError(ImproperlyConfigured):
    """A ``DJANGO_KYC`` setting is missing or wrong; the message names the exact key."""


class UnsupportedFeature(KycError):
    """The selected backend cannot do what was asked (for example AML screening).

    The message is in the language active where it is raised: the API answers a client with it.
    """

    def __init__(self, provider: str, feature: StrOrPromise) -> None:
        super().__init__(
            gettext("The %(backend)s backend does not support %(feature)s.")
            % {"backend": repr(provider), "feature": feature}
        )
        self.provider = provider
        self.feature = feature


class ProviderError(KycError):
    """A provider call failed. ``status_code`` is the HTTP status when there was a response."""

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
        code: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.retry_after = retry_after
        self.code = code

    def __str__(self) -> str:
        prefix = f"{self.provider}: " if self.provider else ""
        status = f" (HTTP {self.status_code})" if self.status_code else ""
        return f"{prefix}{self.message}{status}"


class TransientProviderError(ProviderError):
    """Timeouts, connection failures, rate limits and 5xx: retried with backoff."""

    transient = True


class PermanentProviderError(ProviderError):
    """The provider rejected the request (4xx other than 429): never retried, ends in ``error``."""


class WebhookError(KycError):
    """Base for problems with an inbound webhook delivery.

    ``code`` is the rejection reason the refusal is counted under (one of
    :class:`~django_kyc.models.RejectionReason`): a class attribute rather than something parsed out of the
    message, so the counters stay a small closed set whatever a backend writes in its messages.
    """

    status_code = 400
    code = "other"


class WebhookAuthenticationError(WebhookError, SuspiciousOperation):
    """The delivery is not provably from the provider: bad, missing, stale or replayed signature."""

    status_code = 403
    code = "bad_signature"


class WebhookSignatureMissing(WebhookAuthenticationError):
    """No signature header at all; answered 401 so misconfigured senders are easy to tell apart."""

    status_code = 401
    code = "missing_signature"


class WebhookSignatureStale(WebhookAuthenticationError):
    """A signed timestamp outside the tolerance window: a replay, or a sender whose clock is far off.

    Its own class so replays are counted apart from forgeries; still a 403 like any failed authentication.
    """

    code = "stale"


class WebhookPayloadError(WebhookError):
    """The delivery was authentic but its body cannot be understood (answered 400)."""

    code = "malformed"


class InvalidTransition(KycError):
    """A status move that the transition table does not allow."""

    def __init__(self, obj_label: StrOrPromise, from_status: str, to_status: str, detail: StrOrPromise = "") -> None:
        # str() first: statuses are often enum members, whose repr ("VerificationStatus.ERROR") means nothing
        # to the reviewer who reads this message in admin (or the API client it is answered to)
        values = {"object": obj_label, "from": repr(str(from_status)), "to": repr(str(to_status)), "detail": detail}
        if detail:
            message = gettext("%(object)s cannot move from %(from)s to %(to)s: %(detail)s") % values
        else:
            message = gettext("%(object)s cannot move from %(from)s to %(to)s") % values
        super().__init__(message)
        self.from_status = from_status
        self.to_status = to_status


class VerificationConflict(KycError):
    """The applicant already has a verification in progress."""


class DocumentIntegrityError(KycError):
    """An encrypted document file failed authentication: altered, cut short or corrupted at rest.

    Raised instead of returning any byte that was not written together; the message names no personal data.
    """


class DocumentStorageError(KycError):
    """The document storage failed to save a file (disk full, directory not writable, remote store down).

    A fault on the site's side, not the client's: the API answers 503 and keeps nothing half-stored.
    """


class ListFormatError(KycError):
    """A sanctions list file is not what its authority publishes (malformed, truncated, the wrong file). Nothing
    of it is loaded and the version in use stays; the message says what was wrong and where."""


class ListDownloadError(KycError):
    """A sanctions list file could not be fetched (unreachable, an HTTP error, too large). Nothing is loaded and
    the version in use stays."""
