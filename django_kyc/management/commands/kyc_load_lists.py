"""``kyc_load_lists [source ...] [--file SOURCE:NAME=PATH ...] [--force]``: download, validate and load the
official sanctions lists, then make the applicants a changed entry could match due for re-screening.

The progress bar is a dozen lines written here rather than a dependency: it only redraws one stderr line,
and it stays silent when stderr is not a terminal (cron, CI logs) apart from the final figures."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_kyc.exceptions import ListFormatError
from django_kyc.sanctions.download import configured_lists
from django_kyc.sanctions.importers import importers
from django_kyc.sanctions.load import refresh_all
from django_kyc.sanctions.store import Progress

WIDTH = 30


class ProgressBar:
    """``source [#####.....]  45% 1234/2700`` redrawn in place on a terminal."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label = label
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.tty or (done < total and now - self.last < 0.1):
            return
        self.last = now
        share = done / total if total else 1.0
        bar = "#" * int(share * WIDTH)
        self.stream.write(f"\r{self.label} [{bar:.<{WIDTH}}] {share:4.0%} {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def parse_files(values: list[str]) -> dict[str, dict[str, str]]:
    """``SOURCE:NAME=PATH`` options grouped by source."""
    files: dict[str, dict[str, str]] = {}
    for value in values:
        head, sep, path = value.partition("=")
        source, colon, name = head.partition(":")
        if not (sep and colon and source and name and path):
            raise CommandError(f"--file {value!r}: expected SOURCE:NAME=PATH, e.g. un_sc:consolidated.xml=/tmp/un.xml")
        files.setdefault(source, {})[name] = path
    return files


class Command(BaseCommand):
    help = (
        "Download, validate and load the official sanctions lists (all configured in SANCTIONS_LISTS, or the "
        "ones named), then make the approved applicants a changed entry could match due for re-screening."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("sources", nargs="*", help=f"Lists to load: {', '.join(sorted(importers()))}.")
        parser.add_argument(
            "--file",
            action="append",
            default=[],
            metavar="SOURCE:NAME=PATH",
            help="Load a file from this path or URL instead of the configured URL (repeatable).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even when the checksum is unchanged, and even when the file retires more entries than "
            "SANCTIONS_MAX_SHRINK allows.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        files = parse_files(options["file"])
        known = importers()
        try:
            configured = configured_lists()
        except ListFormatError as exc:
            raise CommandError(f"SANCTIONS_LISTS: {exc}") from exc
        sources = list(options["sources"]) or list(configured) or sorted(files)
        unknown = sorted({*sources, *files} - set(known))
        if unknown:
            raise CommandError(f"unknown list(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}.")
        sources += [source for source in files if source not in sources]
        stream = getattr(self.stderr, "_out", sys.stderr)

        def progress_for(source: str) -> Progress:
            return ProgressBar(source, stream)

        run = refresh_all(sources, urls=files, force=options["force"], progress_for=progress_for)
        for result in run.results:
            self.stdout.write(self.style.SUCCESS(result.summary()))
        self.stdout.write(f"{run.due} applicant(s) due for re-screening.")
        if run.failures:
            for source, error in run.failures.items():
                self.stderr.write(f"{source}: not loaded, the version in use stays: {error}")
            raise CommandError(f"{len(run.failures)} list(s) failed: {', '.join(run.failures)}.")
