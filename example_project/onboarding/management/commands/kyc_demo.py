"""``manage.py kyc_demo``: demo accounts and sample data, safe to run again (it only adds what is missing)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.urls import reverse

from example_project.onboarding.demo_data import ensure_account, ensure_samples


class Command(BaseCommand):
    help = (
        "Create the demo accounts (admin/admin, demo/demo) and sample applicants in every verification "
        "status, through django_kyc's services. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where runserver listens, for the printed links (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = [
            ensure_account("admin", "admin", superuser=True),
            ensure_account("demo", "demo", superuser=False),
        ]
        self.stdout.write(self.style.MIGRATE_HEADING("Accounts"))
        for account in accounts:
            role = "superuser, reviews in the admin" if account.superuser else "applicant on the onboarding page"
            state = "created" if account.created else "already existed, password unchanged"
            self.stdout.write(f"  {account.username} / {account.password}  ({role}; {state})")

        reviewer = get_user_model()._default_manager.get(username="admin")
        # django-q2 logs every enqueue, and django_kyc each retry it schedules, at INFO; here the table below
        # says the same, so keep the output to it.
        logging.getLogger("django-q").setLevel(logging.WARNING)
        logging.getLogger("django_kyc").setLevel(logging.WARNING)
        self.stdout.write(self.style.MIGRATE_HEADING("Sample applicants (last name picks the sandbox outcome)"))
        for result in ensure_samples(reviewer):
            sample = result.sample
            marker = "+" if result.created else "="
            line = f"  {marker} {sample.first_name + ' ' + sample.last_name:<17} {result.status:<23} {sample.note}"
            if result.created and result.status != sample.expected:
                self.stdout.write(self.style.WARNING(f"{line} (expected {sample.expected})"))
            else:
                self.stdout.write(line)
        self.stdout.write("  (+ created now, = already there; statuses keep moving once qcluster runs)")

        base = options["base_url"].rstrip("/")
        links = [
            ("Onboarding page", reverse("onboarding:index")),
            ("Admin", reverse("admin:index")),
            ("Review queue", reverse("admin:django_kyc_reviewqueueitem_changelist")),
            ("API docs", reverse("django_kyc:api-docs")),
            ("Webhook inbox", reverse("admin:django_kyc_webhookevent_changelist")),
        ]
        self.stdout.write(self.style.MIGRATE_HEADING("Open"))
        for label, path in links:
            self.stdout.write(f"  {label + ':':<17} {base}{path}")
