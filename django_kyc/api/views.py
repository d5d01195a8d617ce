from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_view
from drf_spectacular.utils import extend_schema as spectacular_extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from django_kyc.api import policies
from django_kyc.api.permissions import CanScreen, IsOwnerOrStaff, can_view_all, visible_applicants
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


class KycViewSet(viewsets.GenericViewSet[Any]):
    """Every DRF policy explicit, so the host's REST_FRAMEWORK globals cannot loosen them."""

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
    list=extend_schema(responses=with_errors(ApplicantSerializer(many=True), 401, 403, 404)),
    retrieve=extend_schema(responses=with_errors(ApplicantSerializer, 401, 403, 404)),
    create=extend_schema(responses={201: ApplicantSerializer, 409: CONFLICT, **ERRORS}),
    partial_update=extend_schema(responses=with_errors(ApplicantSerializer, 400, 401, 403, 404, 429)),
    update=extend_schema(responses=with_errors(ApplicantSerializer, 400, 401, 403, 404, 429)),
    me=extend_schema(responses=with_errors(ApplicantSerializer, 401, 403, 404)),
)
class ApplicantViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    KycViewSet,
):
    """The signed-in user's applicant (staff with ``view_applicant`` see all)."""

    serializer_class = ApplicantSerializer

    def get_queryset(self) -> QuerySet[Applicant]:
        return visible_applicants(self.request.user).order_by("-created_at")

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
    """Views under ``applicants/{applicant_pk}/``: the parent must be visible, or it is a 404."""

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
    """Identity documents. Uploads are checked by size, by content (magic bytes), and by declared image size or
    PDF page count, never by file name. Files are stored encrypted."""

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


@extend_schema_view(
    list=extend_schema(responses=with_errors(VerificationSerializer(many=True), 401, 403, 404)),
    create=extend_schema(responses={201: VerificationSerializer, 409: CONFLICT, **ERRORS}),
)
class ApplicantVerificationViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ApplicantChildViewSet):
    """Verifications of one applicant; creating one queues its submission to the provider."""

    serializer_class = VerificationSerializer

    def get_queryset(self) -> QuerySet[Verification]:
        return (
            Verification.objects.filter(applicant=self.get_applicant())
            .select_related("applicant")  # the serializer checks who may see the client token
            .order_by("-created_at")
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        applicant = self.get_applicant()
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
    serializer_class = AmlCheckSerializer

    def get_queryset(self) -> QuerySet[AmlCheck]:
        queryset = AmlCheck.objects.select_related("applicant").prefetch_related("hits")
        if can_view_all(self.request.user):
            return queryset
        return queryset.filter(applicant__user_id=self.request.user.pk or 0)
