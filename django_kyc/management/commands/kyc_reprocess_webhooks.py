from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from django_kyc.models import WebhookEvent, WebhookState
from django_kyc.services import webhooks


class Command(BaseCommand):
    help = "Queue failed (or waiting) webhook events for processing again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("event_ids", nargs="*", help="Event ids (the inbox row's UUID); default: all failed.")
        parser.add_argument("--backend", help="Only events of this backend alias.")
        parser.add_argument("--include-waiting", action="store_true", help="Also events waiting for a retry.")
        parser.add_argument("--now", action="store_true", help="Process in this process instead of queueing.")

    def handle(self, *args: Any, **options: Any) -> None:
        queryset = WebhookEvent.objects.all()
        if options["event_ids"]:
            queryset = queryset.filter(pk__in=options["event_ids"])
        else:
            states = [WebhookState.FAILED]
            if options["include_waiting"]:
                states.append(WebhookState.RETRY_WAIT)
            queryset = queryset.filter(state__in=states)
        if options["backend"]:
            queryset = queryset.filter(backend=options["backend"])
        pks = list(queryset.values_list("pk", flat=True))
        count = webhooks.reprocess(pks, enqueue=not options["now"])
        if options["now"]:
            for pk in pks:
                webhooks.process(pk)
            self.stdout.write(self.style.SUCCESS(f"{count} webhook event(s) reprocessed."))
            return
        self.stdout.write(self.style.SUCCESS(f"{count} webhook event(s) queued for reprocessing."))
