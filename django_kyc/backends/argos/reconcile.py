"""Reconciliation: ARGOS's whole book of submissions, read page by page and grouped by our verification ids
(``docs/providers/argos.md``, "What it does")."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django_kyc.backends.argos.statuses import pick_submission
from django_kyc.backends.parsing import uuid_text
from django_kyc.backends.values import ProviderEvent

if TYPE_CHECKING:
    from django_kyc.backends.argos.backend import ArgosBackend


class SpilledGroups:
    """JSON objects grouped by key through an anonymous temporary file, for :func:`reconcile`.

    ``GET /submission`` lists a project's whole book newest first, across users, and a user's state needs
    all of their submissions, so nothing can be yielded before the last page. Held as parsed JSON the book
    costs about 3 KB of memory per submission (reconciling 100,000 peaked at 382 MB, ``bench/bulk.py``);
    here each object goes to the file as it arrives and memory keeps only each key's file offsets, about
    0.2 KB per user (89 MB for the same 100,000). The submissions carry names, birth dates and document
    numbers, which must not rest on disk in clear, so every line is encrypted under a Fernet key that exists
    only in this object. Groups come back in the order their keys were first added, the objects of a group in
    the order they were added.
    """

    def __init__(self) -> None:
        from cryptography.fernet import Fernet

        self._fernet = Fernet(Fernet.generate_key())
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close() / the context manager
        self._offsets: dict[str, list[int]] = {}
        self._end = 0

    def add(self, key: str, item: Mapping[str, Any]) -> None:
        line = self._fernet.encrypt(json.dumps(item, separators=(",", ":")).encode("utf-8")) + b"\n"
        self._file.seek(self._end)
        self._file.write(line)
        self._offsets.setdefault(key, []).append(self._end)
        self._end += len(line)

    def _read(self, offset: int) -> dict[str, Any]:
        self._file.seek(offset)
        item: dict[str, Any] = json.loads(self._fernet.decrypt(self._file.readline().rstrip(b"\n")))
        return item

    def __iter__(self) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        for key, offsets in self._offsets.items():
            yield key, [self._read(offset) for offset in offsets]

    def __len__(self) -> int:
        return len(self._offsets)

    def close(self) -> None:
        self._file.close()
        self._offsets = {}

    def __enter__(self) -> SpilledGroups:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reconcile(backend: ArgosBackend, since: datetime | None = None) -> Iterator[ProviderEvent]:
    """Walk every page of ``GET /submission`` (from ``since``'s date on) and yield one event per verification of
    ours, its state computed by the FAQ rule. With ``since``, a user seen in the window has all their
    submissions read again, so an approval made before the window still wins. Submissions without one of our
    ``userid``\\ s (made outside our links) are skipped."""
    query = {"start_date": since.date().isoformat()} if since else {}
    with SpilledGroups() as groups:  # the whole book in memory would be ~3 KB per submission
        for item in backend.iter_submissions(**query):
            our_ref = uuid_text(item.get("userid"))
            if our_ref:
                groups.add(our_ref, item)
        for our_ref, items in groups:
            submissions = list(backend.iter_submissions(userid=our_ref)) if since else items
            chosen = pick_submission(submissions or items)
            state = backend.state_from(chosen, submissions or items)
            submission_id = str(chosen.get("submission_id") or "")
            yield ProviderEvent(
                event_id=f"reconcile:{submission_id}:{state.provider_status}:{state.occurred_at or ''}",
                event_type="submission.reconciled",
                provider_ref=submission_id,
                our_ref=our_ref,
                occurred_at=state.occurred_at,
                state=state,
            )
