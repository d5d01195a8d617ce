"""Provide KYC applications: a gateway that dispatches to Vouched or IdentityMind.

One application per verification: ``POST /kyc_applications`` with normalised ``params`` built from our
applicant and documents (photos as base64), then Provide submits it to the chosen provider asynchronously
and reports status changes by webhook. Webhooks are signed (``X-Request-Signature: t=<unix>,s=<hex
HMAC-SHA256("<t>." + body)>``) but carry only an id and a status, so the application detail is always
fetched before anything is applied. Reviewer decisions can be pushed back with ``PUT`` (``PUSH_DECISIONS``).

The transport is :class:`ProvideClient`; options are ``ProvideBackend.option_specs``. Every fact about Provide
this module relies on, with the vendor's public sources, is in ``docs/providers/provide.md``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django_kyc.backends.base import (
    Capability,
    InboundWebhook,
    KycBackend,
    Option,
    ProviderEvent,
    ProviderState,
    Submission,
)
from django_kyc.backends.http import ProviderHttpClient, error_message_from
from django_kyc.backends.options import boolean, dotted_callable, number, secrets
from django_kyc.backends.parsing import iso_datetime
from django_kyc.backends.signing import parse_signature_header, sign_timestamped, verify_timestamped
from django_kyc.exceptions import PermanentProviderError, WebhookPayloadError
from django_kyc.status import VerificationStatus

if TYPE_CHECKING:
    from django_kyc.models import Applicant, Document, Verification

V = VerificationStatus
SIGNATURE_HEADER = "X-Request-Signature"


#: Provide's two error shapes, both from its server code: ``provide.RenderError`` writes ``{"message": ...}``
#: (401, 403, 404, a refused create), a failed update ``{"errors": [{"message": ...}]}``.
provide_error_message = error_message_from("errors[*].message", "errors", "message")


class ProvideClient(ProviderHttpClient):
    """The ``kyc_applications`` endpoints of Provide's ``ident`` API (bearer auth, plain JSON answers)."""

    def get_application(self, application_id: str) -> dict[str, Any]:
        """``GET /kyc_applications/{id}``: the detail, with the provider's own view (``provider_representation``)."""
        application: dict[str, Any] = self.json("GET", f"kyc_applications/{application_id}")
        return application

    def create_application(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /kyc_applications``; Provide then hands the application to the provider asynchronously."""
        application: dict[str, Any] = self.json("POST", "kyc_applications", json=dict(body))
        return application

    def update_application(self, application_id: str, body: Mapping[str, Any]) -> None:
        """``PUT /kyc_applications/{id}``: new ``params`` (resubmitted to the provider) or a ``status``."""
        self.put(f"kyc_applications/{application_id}", json=dict(body))

    def list_applications(self, status: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """``GET /kyc_applications?status=``: one page (newest first) and the total from ``X-Total-Results-Count``."""
        response = self.get("kyc_applications", params={"status": status} if status else None)
        total = int(response.headers.get("X-Total-Results-Count") or 0)
        return list(self.decode(response, list)), total

    def iter_applications(self, since: datetime, page_size: int) -> Iterator[dict[str, Any]]:
        """``GET /kyc_applications?page=&rpp=`` (newest first) back to ``since``, ``page_size`` a page."""
        page = 1
        while True:
            items = self.json("GET", "kyc_applications", expect=list, params={"page": page, "rpp": page_size})
            for item in items:
                created = iso_datetime(item.get("created_at")) if isinstance(item, dict) else None
                if created is not None and created < since:
                    return
                if isinstance(item, dict) and item.get("id"):
                    yield item
            if len(items) < page_size:
                return
            page += 1


class ProvideBackend(KycBackend):
    """Provide KYC applications (options: ``option_specs``, documented in ``docs/providers/provide.md``)."""

    provider = "provide"
    display_name = "Provide"
    #: the signed timestamp dates the event when a stored delivery is parsed again
    parse_headers = (SIGNATURE_HEADER,)
    capabilities = frozenset(
        {Capability.DOCUMENT_UPLOAD, Capability.POLLING, Capability.WEBHOOKS, Capability.PUSH_DECISION}
    )
    capability_notes = {Capability.PUSH_DECISION: "`PUSH_DECISIONS`"}
    DEFAULT_BASE_URL = "https://ident.provide.services/api/v1/"
    option_specs = (
        Option("TOKEN", "The bearer JWT (a user or an application token).", required=True, secret=True),
        Option("BASE_URL", "Provide's `ident` API root.", url=True, default=DEFAULT_BASE_URL),
        Option("PROVIDER", "Where Provide sends the application: `vouched` or `identitymind`.", default="vouched"),
        Option("TYPE", "The application type: `kyc` or `kyb`.", default="kyc"),
        Option(
            "USER_ID",
            "The Provide user every application is for, when an application token acts for a user; empty: "
            "none is sent and the token's own user is the subject.",
            default="",
        ),
        Option(
            "USER_ID_FOR",
            "Dotted path of a callable taking the `Applicant` and returning that person's own Provide user id "
            "(overrides `USER_ID` when it returns one). Imported when the backend is built.",
            coerce=dotted_callable,
        ),
        Option(
            "WEBHOOK_URL",
            "Absolute URL of this alias's webhook view, sent as `webhook_url` with each application.",
            url=True,
        ),
        Option(
            "WEBHOOK_SECRET",
            "The webhook signing secret: one, or a list, newest first (older ones keep verifying).",
            coerce=secrets,
            secret=True,
        ),
        Option(
            "TOLERANCE",
            "Seconds a signed timestamp may be away from the clock.",
            coerce=number(minimum=0),
            default=300.0,
        ),
        Option("PUSH_DECISIONS", "Send reviewers' decisions to Provide.", coerce=boolean, default=False),
    )

    #: Provide's application statuses (docs/providers/provide.md, "Statuses"). ``pending`` means Provide is still
    #: handing the application to the provider, which for us is already "with the provider": processing.
    STATUS_MAP: ClassVar[Mapping[str, str]] = {
        "pending": V.PROCESSING,
        "submitted": V.PROCESSING,
        "review": V.REVIEW,
        "remediate": V.RESUBMISSION_REQUESTED,
        "accepted": V.APPROVED,
        "rejected": V.DECLINED,
        "failed": V.ERROR,
    }
    #: Unknown statuses are kept raw and put in front of a person, never guessed (the base's ``UNKNOWN_STATUS``).
    #: Our decisions as Provide statuses, for ``PUSH_DECISIONS``.
    DECISION_MAP: ClassVar[Mapping[str, str]] = {
        V.APPROVED: "accepted",
        V.DECLINED: "rejected",
        V.RESUBMISSION_REQUESTED: "remediate",
    }

    #: ``GET /kyc_applications`` page size when looking for an application whose create answer was lost
    #: (Provide's ``rpp``; its server parses it as an 8-bit integer, so at most 127).
    LOOKUP_PAGE_SIZE = 100
    #: How much earlier than the verification an application may be dated and still be taken for its own
    #: (the two clocks differ).
    LOOKUP_CLOCK_SKEW = timedelta(minutes=5)

    def user_id_for(self, applicant: Applicant) -> str:
        """The Provide user an application is for: ``USER_ID_FOR(applicant)``, else the static ``USER_ID``
        (empty: none is sent and the token's own user is the subject)."""
        mapping: Callable[[Applicant], Any] | None = self.option("USER_ID_FOR")
        if mapping is not None:
            value = mapping(applicant)
            if value:
                return str(value)
        return str(self.option("USER_ID"))

    @cached_property
    def client(self) -> ProvideClient:
        """One client (one connection pool) per backend instance; the registry caches instances per alias."""
        client = self.http_client(
            self.option("BASE_URL"),
            headers={"Authorization": f"bearer {self.option('TOKEN')}"},
            error_message=provide_error_message,
            client_class=ProvideClient,
        )
        assert isinstance(client, ProvideClient)
        return client

    def state_from(self, application: Mapping[str, Any]) -> ProviderState:
        raw = str(application.get("status") or "")
        description = application.get("description")
        return ProviderState(
            status=self.map_status(raw),
            provider_status=raw,
            reasons=[str(description)] if description else [],
            data={
                "provide": {
                    key: application.get(key)
                    for key in ("id", "identifier", "provider", "type", "status", "description")
                },
                # the provider's own view, kept raw for reviewers
                "provider_representation": application.get("provider_representation"),
            },
        )

    # --- submission ----------------------------------------------------------------------------------
    def params_for(self, verification: Verification) -> dict[str, Any]:
        """Provide's normalised params (the Vouched mapping is done by Provide itself)."""
        return self.params_and_documents(verification)[0]

    def params_and_documents(self, verification: Verification) -> tuple[dict[str, Any], tuple[str, ...]]:
        """:meth:`params_for`, and the ids of the documents they were built from (the ``Submission``'s
        ``documents``: those become ``submitted``, and none at all spares the submission a second read)."""
        applicant = verification.applicant
        params: dict[str, Any] = {
            "type": "id-verification",
            "first_name": applicant.first_name,
            "last_name": applicant.last_name,
            "date_of_birth": applicant.date_of_birth.isoformat() if applicant.date_of_birth else "",
            "id_photo": "",
            "id_photo_back": "",
            "selfie": "",
        }
        if self.option("WEBHOOK_URL"):
            params["webhook_url"] = self.option("WEBHOOK_URL")
        documents = []
        for document in applicant.documents.exclude(status="purged").prefetch_related("files"):
            documents.append(str(document.pk))
            for key, content in self._photos(document):
                params.setdefault(key, "")
                if not params[key]:
                    params[key] = content
        return params, tuple(documents)

    @staticmethod
    def _photos(document: Document) -> list[tuple[str, str]]:
        from django_kyc.models.document import DocumentSide, DocumentType  # models load only once Django is set up

        photos = []
        for row in document.files.all():
            if not row.content_type.startswith("image/"):
                continue
            with row.file.open("rb") as handle:
                encoded = base64.b64encode(handle.read()).decode("ascii")
            if document.type == DocumentType.SELFIE:
                photos.append(("selfie", encoded))
            elif row.side == DocumentSide.BACK:
                photos.append(("id_photo_back", encoded))
            else:
                photos.append(("id_photo", encoded))
        return photos

    def start_verification(self, verification: Verification) -> Submission:
        existing = verification.provider_verification_id
        # which documents this attempt sent; None where an earlier attempt sent them (all uploaded ones count)
        sent: tuple[str, ...] | None = None
        if existing:
            # a retry after a crash: the application exists; resubmit only if Provide's hand-off failed
            application = self.client.get_application(existing)
            if application.get("status") == "failed":
                params, sent = self.params_and_documents(verification)
                self.client.update_application(existing, {"params": params})
                application = self.client.get_application(existing)
        else:
            user_id = self.user_id_for(verification.applicant)
            found = self.find_lost_application(verification, user_id)
            if found is not None:
                application = found
                self.remember(verification, provider_verification_id=str(application["id"]), settles="application")
            else:
                application, sent = self.create_application(verification, user_id)
        return Submission(
            state=self.state_from(application),
            provider_applicant_id=str(application.get("identifier") or ""),
            provider_verification_id=str(application["id"]),
            documents=sent,
        )

    def create_application(self, verification: Verification, user_id: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        """``POST /kyc_applications``, checkpointed: its id is committed with the answer, and a call whose
        answer is lost is looked for on the retry (:meth:`find_lost_application`). Returns the application
        and the ids of the documents sent with it."""
        params, documents = self.params_and_documents(verification)
        body: dict[str, Any] = {"provider": self.option("PROVIDER"), "type": self.option("TYPE"), "params": params}
        if user_id:
            body["user_id"] = user_id
        with self.creating(verification, "application", "POST /kyc_applications") as call:
            application = self.client.create_application(body)
            if not application.get("id"):
                raise PermanentProviderError("Provide returned no application id", provider=self.provider)
            call.remember(provider_verification_id=str(application["id"]))
        return application, documents

    def find_lost_application(self, verification: Verification, user_id: str) -> dict[str, Any] | None:
        """The application an earlier ``POST`` created although its answer was lost, if it can be told apart.

        Provide keeps no reference of ours on an application and lists them only by ``status``, newest first.
        With ``USER_ID_FOR`` each applicant is their own Provide user and has one active verification, so an
        application of that user, of our provider and type, dated from this verification on and held by no
        verification of ours, is the lost one, provided there is exactly one. Without ``USER_ID_FOR`` every
        application shares one user and nothing tells them apart: no lookup (the call is reported instead)."""
        from django_kyc.models import Verification as VerificationModel

        if not self.unanswered(verification, "application") or self.option("USER_ID_FOR") is None or not user_id:
            return None
        since = verification.created_at - self.LOOKUP_CLOCK_SKEW
        candidates = [
            item
            for item in self.client.iter_applications(since, self.LOOKUP_PAGE_SIZE)
            if str(item.get("user_id") or "") == user_id
            and item.get("provider") == self.option("PROVIDER")
            and item.get("type") == self.option("TYPE")
            and not VerificationModel.objects.filter(provider_verification_id=str(item.get("id"))).exists()
        ]
        if len(candidates) != 1:
            return None
        found = self.client.get_application(str(candidates[0]["id"]))
        return found if found.get("id") else None

    def fetch_verification(self, verification: Verification) -> ProviderState:
        return self.state_from(self.client.get_application(verification.provider_verification_id))

    def push_decision(self, verification: Verification, status: str, reason: str = "", reason_code: str = "") -> None:
        target = self.DECISION_MAP.get(status)
        if target is None:
            return
        self.client.update_application(verification.provider_verification_id, {"status": target})

    # --- webhooks ------------------------------------------------------------------------------------
    def sign(self, body: bytes, timestamp: int, secret: bytes | None = None) -> str:
        """``t=<unix>,s=<hex HMAC-SHA256(secret, "<t>." + body)>``, as Provide's ident service signs."""
        return sign_timestamped(secret or (self.option("WEBHOOK_SECRET") or [])[0], body, timestamp, "s")

    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        header = webhook.signature_header(SIGNATURE_HEADER)
        secrets = self.option("WEBHOOK_SECRET") or []
        verify_timestamped(header, webhook.body, secrets, tolerance=self.option("TOLERANCE"), signature_key="s")

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        payload = webhook.json_object("Provide webhook")
        try:
            application_id = str(payload["kyc_application_id"])
            status = str(payload["status"])
        except KeyError as exc:
            raise WebhookPayloadError(f"malformed Provide webhook: {type(exc).__name__}") from exc
        timestamp = (parse_signature_header(webhook.header(SIGNATURE_HEADER)).get("t") or [""])[0]
        occurred_at = datetime.fromtimestamp(int(timestamp), tz=dt_timezone.utc) if timestamp.isdigit() else None
        return [
            ProviderEvent(
                # Provide re-signs redeliveries, so the timestamp is not part of the identity
                event_id=f"{application_id}:{status}",
                event_type=f"kyc_application.{status}",
                provider_ref=application_id,
                occurred_at=occurred_at,
                state=None,  # only an id and a status: fetch the application before applying anything
            )
        ]
