"""The demo's frontend: a login page and an onboarding page that uses only django_kyc's public API."""
