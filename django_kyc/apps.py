from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DjangoKycConfig(AppConfig):
    name = "django_kyc"
    verbose_name = _("KYC")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_kyc import checks  # noqa: F401  (registers the system checks)
        from django_kyc.backends import registry  # noqa: F401  (connects the setting_changed receiver)
        from django_kyc.sanctions import checks as sanctions_checks  # noqa: F401
        from django_kyc.schedules import install_on_migrate

        post_migrate.connect(install_on_migrate, sender=self, dispatch_uid="django_kyc.install_schedules")
