"""Refresh several lists in one run and re-screen what changed: the job behind ``kyc_load_lists`` and the
daily schedule. A list that fails is reported and keeps its version in use; the others still load."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django_kyc.exceptions import ListDownloadError, ListFormatError
from django_kyc.sanctions.download import LoadResult, configured_lists, refresh
from django_kyc.sanctions.rescreen import rescreen_changed
from django_kyc.sanctions.store import Progress

logger = logging.getLogger("django_kyc.sanctions")


@dataclass
class RefreshRun:
    results: list[LoadResult] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    due: int = 0

    def summary(self) -> str:
        lines = [result.summary() for result in self.results]
        lines += [f"{source}: FAILED: {error}" for source, error in self.failures.items()]
        lines.append(f"{self.due} applicant(s) due for re-screening")
        return "\n".join(lines)


def refresh_all(
    sources: Iterable[str] | None = None,
    *,
    urls: Mapping[str, Mapping[str, str]] | None = None,
    force: bool = False,
    progress_for: Callable[[str], Progress | None] | None = None,
) -> RefreshRun:
    """Refresh ``sources`` (default: every configured list); ``urls`` replaces files' URLs per source."""
    run = RefreshRun()
    for source in list(sources or configured_lists()):
        try:
            result = refresh(
                source,
                urls=(urls or {}).get(source),
                force=force,
                progress=progress_for(source) if progress_for else None,
            )
        except (ListDownloadError, ListFormatError) as exc:
            logger.error("sanctions list %s not loaded: %s", source, exc)
            run.failures[source] = str(exc)
            continue
        run.results.append(result)
        run.due += rescreen_changed(result.version)
    return run
