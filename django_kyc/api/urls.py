"""API routes; mounted under ``api/`` by :mod:`django_kyc.urls`."""

from __future__ import annotations

from django.urls import path

from django_kyc.api import views

applicants = views.ApplicantViewSet
documents = views.ApplicantDocumentViewSet
verifications = views.ApplicantVerificationViewSet

urlpatterns = [
    path("applicants/", applicants.as_view({"get": "list", "post": "create"}), name="applicant-list"),
    path("applicants/me/", applicants.as_view({"get": "me"}), name="applicant-me"),
    path(
        "applicants/<uuid:pk>/",
        applicants.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"}),
        name="applicant-detail",
    ),
    path(
        "applicants/<uuid:applicant_pk>/documents/",
        documents.as_view({"get": "list", "post": "create"}),
        name="applicant-documents",
    ),
    path(
        "applicants/<uuid:applicant_pk>/verifications/",
        verifications.as_view({"get": "list", "post": "create"}),
        name="applicant-verifications",
    ),
    path(
        "applicants/<uuid:applicant_pk>/aml-checks/",
        views.ApplicantAmlCheckViewSet.as_view({"get": "list", "post": "create"}),
        name="applicant-aml-checks",
    ),
    path(
        "verifications/<uuid:pk>/",
        views.VerificationViewSet.as_view({"get": "retrieve"}),
        name="verification-detail",
    ),
    path(
        "verifications/<uuid:pk>/client-token/",
        views.VerificationViewSet.as_view({"post": "client_token"}),
        name="verification-client-token",
    ),
    path("aml-checks/<uuid:pk>/", views.AmlCheckViewSet.as_view({"get": "retrieve"}), name="aml-check-detail"),
]
