from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_view
from drf_spectacular.utils import extend_schema as spectacular_extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from django_kyc.api import policies
from django_kyc.api.permissions import (
    CanScreen,
    IsOwnerOrStaff,
    applicant_actions,
    can_view_all,
    visible_applicants,
)
from django_kyc.api.serializers import (
    AmlCheckSerializer,
    ApplicantSerializer,
    ClientTokenSerializer,
    DocumentSerializer,
    ErrorSerializer,
    VerificationSerializer,
)
from django_kyc.models import AmlCheck, AmlHit, Applicant, Document, DocumentFile, Verification
from django_kyc.services import aml, submission
from django_kyc.services.audit import Change, audit
from django_kyc.status import AuditAction, Source

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input; field errors map names to messages."),
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed."),
    404: OpenApiResponse(ErrorSerializer, description="Not found (or not yours)."),
    429: OpenApiResponse(ErrorSerializer, description="Too many write requests."),
}
READ_ERRORS = {code: ERRORS[code] for code in (401, 403, 404)}
CONFLICT = OpenApiResponse(ErrorSerializer, description="Conflicts with the current state.")
STORAGE_UNAVAILABLE = OpenApiResponse(
    ErrorSerializer, description="The document storage failed; nothing was kept. Try again later."
)


def extend_schema(**kwargs: Any) -> Callable[[Any], Any]:
    """drf-spectacular's ``extend_schema``, always based on drf-spectacular's ``AutoSchema``.

    A method annotation otherwise subclasses the host's ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``, which is
    DRF's own ``AutoSchema`` unless the host configured drf-spectacular globally, and the schema view then
    fails with a ``TypeError``. Seeding the method's schema makes the API document itself in any project.
    """
    decorate = spectacular_extend_schema(**kwargs)

    def decorator(method: Any) -> Any:
        context = getattr(method, "kwargs", None)
        if context is None:
            context = method.kwargs = {}
        context.setdefault("schema", AutoSchema)
        return decorate(method)

    return decorator


def with_errors(responses: Any, *codes: int) -> dict[Any, Any]:
    return (
        {200: responses, **{code: ERRORS[code] for code in codes}}
        if not isinstance(responses, dict)
        else {**responses, **{code: ERRORS[code] for code in codes}}
    )


def require_action(request: Request, applicant: Applicant, name: str, refusal: str) -> None:
    """Refuse (409) what the applicant's ``actions`` say no to: the rule a frontend reads is the rule applied."""
    if not applicant_actions(request.user, applicant)[name]:
        raise policies.Conflict(refusal.format(status=applicant.get_status_display().lower()))


# The docstrings of the view classes below are what the browsable API and the OpenAPI schema show API users:
# plain sentences, no reStructuredText (tests/api/test_descriptions.py holds them to it).


class KycViewSet(viewsets.GenericViewSet[Any]):
    # Every DRF policy is explicit, so the host's REST_FRAMEWORK globals cannot loosen them.

    schema = AutoSchema()
    permission_classes = [IsAuthenticated, IsOwnerOrStaff]
    throttle_classes = [policies.WriteThrottle]
    throttle_scope = "kyc_write"
    pagination_class = policies.Pagination
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_authenticators(self) -> list[Any]:
        return [cls() for cls in policies.authentication_classes()]

    def get_exception_handler(self) -> Any:
        return policies.exception_handler


@extend_schema_view(
    list=extend_schema(
        description=(
            "The applicants the signed-in user may see: their own (a list of zero or one), or every applicant "
            "for staff with the view_applicant permission. With mine=true, only the user's own applicant, "
            "whoever asks: how a frontend finds out whether the user has one yet without an error response."
        ),
        parameters=[
            OpenApiParameter(
                "mine",
                OpenApiTypes.BOOL,
                description="Only the signed-in user's own applicant (zero or one result).",
            )
        ],
        responses=with_errors(ApplicantSerializer(many=True), 401, 403, 404),
    ),
    retrieve=extend_schema(responses=with_errors(ApplicantSerializer, 401, 403, 404)),
    create=extend_schema(
        description="Create the signed-in user's applicant; a user has at most one (409 for a second).",
        responses={201: ApplicantSerializer, 409: CONFLICT, **ERRORS},
    ),
    partial_update=extend_schema(responses=with_errors(ApplicantSerializer, 400, 401, 403, 404, 429)),
    update=extend_schema(responses=with_errors(ApplicantSerializer, 400, 401, 403, 404, 429)),
    me=extend_schema(
        description=(
            "The signed-in user's own applicant, or 404 when they have none yet. To ask without an error "
            "response, list with mine=true."
        ),
        responses=with_errors(ApplicantSerializer, 401, 403, 404),
    ),
)
class ApplicantViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    KycViewSet,
):
    """The person being verified: the signed-in user's own applicant. Staff with the view_applicant permission
    see every applicant. The actions field says what the user may do next (change the details, upload a
    document, start a verification)."""

    serializer_class = ApplicantSerializer

    def get_queryset(self) -> QuerySet[Applicant]:
        queryset = visible_applicants(self.request.user)
        if self.action == "list" and self.request.query_params.get("mine", "").lower() in ("1", "true"):
            queryset = queryset.filter(user_id=self.request.user.pk or 0)
        return queryset.order_by("-created_at")

    def perform_create(self, serializer: BaseSerializer[Applicant]) -> None:
        user = self.request.user
        conflict = _("You already have an applicant; update it instead.")
        if Applicant.objects.filter(user_id=user.pk or 0).exists():
            raise policies.Conflict(conflict)
        try:
            with transaction.atomic():
                applicant = serializer.save(user=user)
        except IntegrityError as exc:  # a concurrent request created it after the check above
            raise policies.Conflict(conflict) from exc
        audit(
            Change.by_user(user, Source.API),
            obj=applicant,
            applicant_id=applicant.pk,
            action=AuditAction.CREATED,
            to_status=applicant.status,
        )

    @action(detail=False, methods=["get"])
    def me(self, request: Request) -> Response:
        applicant = get_object_or_404(Applicant, user_id=request.user.pk or 0)
        return Response(self.get_serializer(applicant).data)


class ApplicantChildViewSet(KycViewSet):
    # views under applicants/{applicant_pk}/: the parent must be visible, or it is a 404

    def get_applicant(self) -> Applicant:
        applicant = get_object_or_404(visible_applicants(self.request.user), pk=self.kwargs["applicant_pk"])
        self.check_object_permissions(self.request, applicant)
        return applicant


@extend_schema_view(
    list=extend_schema(responses=with_errors(DocumentSerializer(many=True), 401, 403, 404)),
    create=extend_schema(
        request={"multipart/form-data": DocumentSerializer},
        responses={201: DocumentSerializer, 503: STORAGE_UNAVAILABLE, **ERRORS},
    ),
)
class ApplicantDocumentViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ApplicantChildViewSet):
    """The applicant's identity documents. Uploads are checked by size, by content (magic bytes), and by the
    declared image size or PDF page count, never by file name, and stored encrypted. Uploading is refused (409)
    when the applicant's actions say upload_document is not allowed: while a verification runs, after approval."""

    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser, FormParser]
    throttle_scope = "kyc_upload"

    def get_queryset(self) -> QuerySet[Document]:
        return (
            Document.objects.filter(applicant=self.get_applicant())
            .select_related("applicant")  # the serializer checks who may see the document number
            .prefetch_related(Prefetch("files", queryset=DocumentFile.objects.order_by("side")))
            .order_by("-created_at")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.action == "create":
            context["applicant"] = self.get_applicant()
        return context

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require_action(
            request,
            self.get_applicant(),
            "upload_document",
            "Documents cannot be uploaded while the applicant is {status}.",
        )
        return super().create(request, *args, **kwargs)


@extend_schema_view(
    list=extend_schema(responses=with_errors(VerificationSerializer(many=True), 401, 403, 404)),
    create=extend_schema(responses={201: VerificationSerializer, 409: CONFLICT, **ERRORS}),
)
class ApplicantVerificationViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ApplicantChildViewSet):
    """The applicant's verifications, newest first. Creating one queues its submission to the provider; it is
    refused (409) when the applicant's actions say start_verification is not allowed: while another one runs,
    after approval."""

    serializer_class = VerificationSerializer

    def get_queryset(self) -> QuerySet[Verification]:
        return (
            Verification.objects.filter(applicant=self.get_applicant())
            .select_related("applicant")  # the serializer checks who may see the client token
            .order_by("-created_at")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        applicant = self.get_applicant()
        require_action(
            request,
            applicant,
            "start_verification",
            "A verification cannot be started while the applicant is {status}.",
        )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verification = submission.start_verification(
            applicant,
            Change.by_user(request.user, Source.API),
            backend=serializer.validated_data.get("backend"),
        )
        return Response(self.get_serializer(verification).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    retrieve=extend_schema(responses=with_errors(VerificationSerializer, 401, 403, 404)),
)
class VerificationViewSet(mixins.RetrieveModelMixin, KycViewSet):
    """One verification: its status, the provider's reasons and, for a hosted flow, the link the applicant
    finishes it on. Poll it to follow a verification's progress."""

    serializer_class = VerificationSerializer

    def get_queryset(self) -> QuerySet[Verification]:
        queryset = Verification.objects.select_related("applicant")
        if can_view_all(self.request.user):
            return queryset
        return queryset.filter(applicant__user_id=self.request.user.pk or 0)

    @extend_schema(request=None, responses={200: ClientTokenSerializer, 409: CONFLICT, **ERRORS})
    @action(detail=True, methods=["post"], url_path="client-token")
    def client_token(self, request: Request, pk: str | None = None) -> Response:
        """The hosted-flow link / SDK token, reissued when it has expired."""
        verification = self.get_object()
        if verification.is_terminal:
            raise policies.Conflict(_("This verification is finished; start a new one."))
        verification = submission.refresh_client_token(verification)
        return Response(ClientTokenSerializer(verification).data)


@extend_schema_view(
    list=extend_schema(responses=with_errors(AmlCheckSerializer(many=True), 401, 403, 404)),
    create=extend_schema(responses={201: AmlCheckSerializer, **ERRORS}),
)
class ApplicantAmlCheckViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ApplicantChildViewSet):
    """AML screenings of the applicant (the person, a crypto wallet or a transaction), with their hits."""

    serializer_class = AmlCheckSerializer
    permission_classes = [IsAuthenticated, CanScreen, IsOwnerOrStaff]

    def get_queryset(self) -> QuerySet[AmlCheck]:
        return (
            AmlCheck.objects.filter(applicant=self.get_applicant())
            .select_related("applicant")  # the serializer checks who may see the screened wallet
            .prefetch_related(Prefetch("hits", queryset=AmlHit.objects.order_by("-score")))
            .order_by("-created_at")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        applicant = self.get_applicant()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        check = aml.start_check(
            applicant,
            Change.by_user(request.user, Source.API),
            backend=serializer.validated_data.get("backend"),
            check_type=serializer.validated_data.get("check_type", "manual"),
            subject=serializer.validated_data.get("subject", "applicant"),
            blockchain=serializer.validated_data.get("blockchain", ""),
            address=serializer.validated_data.get("address", ""),
            tx_hash=serializer.validated_data.get("tx_hash", ""),
        )
        return Response(self.get_serializer(check).data, status=status.HTTP_201_CREATED)


@extend_schema_view(retrieve=extend_schema(responses=with_errors(AmlCheckSerializer, 401, 403, 404)))
class AmlCheckViewSet(mixins.RetrieveModelMixin, KycViewSet):
    """One AML screening, with its hits."""

    serializer_class = AmlCheckSerializer

    def get_queryset(self) -> QuerySet[AmlCheck]:
        queryset = AmlCheck.objects.select_related("applicant").prefetch_related("hits")
        if can_view_all(self.request.user):
            return queryset
        return queryset.filter(applicant__user_id=self.request.user.pk or 0)
