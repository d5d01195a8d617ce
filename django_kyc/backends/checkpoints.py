"""Committing what a provider hands out the moment it exists, so a retry after a crash reuses it.

A submission may take several calls (create an applicant, upload files, create a verification), and a worker
can die between any two of them. :class:`Checkpoints`, a part of every :class:`~django_kyc.backends.base.
KycBackend`, gives a backend three ways to record progress while it works: :meth:`~Checkpoints.remember`
(provider ids on the verification), :meth:`~Checkpoints.remember_document` and
:meth:`~Checkpoints.remember_aml`, plus :meth:`~Checkpoints.creating` around a call that creates something.

Backends never write model rows themselves: these methods decide *what* to store and hand the write to
:mod:`django_kyc.services.checkpoints`, one ``UPDATE`` of provider references and never a status.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django_kyc.backends.values import UNANSWERED_CREATES
from django_kyc.exceptions import ProviderError

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck, Document, Verification


class CreateCall:
    """One checkpointed create call (:meth:`Checkpoints.creating`)."""

    def __init__(self, backend: Checkpoints, verification: Verification, entry_id: str) -> None:
        self.backend = backend
        self.verification = verification
        self.entry_id = entry_id
        self.settled = False

    def remember(self, **fields: Any) -> None:
        """Commit what the call created (as :meth:`Checkpoints.remember`) and settle the call, in one UPDATE."""
        self.backend._commit(self.verification, fields, lambda entry: entry.get("id") == self.entry_id)
        self.settled = True


class Checkpoints:
    """The checkpoint half of the backend contract (mixed into :class:`~django_kyc.backends.base.KycBackend`)."""

    def remember(self, verification: Verification, *, settles: str = "", **fields: Any) -> None:
        """Commit provider ids the moment the provider hands them out.

        If the worker dies half-way through a submission, the retry finds what was already created on the
        verification and reuses it instead of creating a second provider applicant. ``provider_data`` values
        are merged, not replaced. ``settles`` names a kind of create call (see :meth:`creating`) whose
        unanswered calls are accounted for by what is remembered here: a lookup found the object they created.
        """
        self._commit(verification, fields, lambda entry: bool(settles) and entry.get("kind") == settles)

    def _commit(self, verification: Verification, fields: dict[str, Any], settled: Callable[[Any], bool]) -> None:
        from django_kyc.services import checkpoints

        unknown = set(fields) - checkpoints.VERIFICATION_FIELDS
        if unknown:
            raise ValueError(f"remember() cannot store {sorted(unknown)}")
        data = {**verification.provider_data, **fields.get("provider_data", {})}
        unanswered = self.unanswered(verification)
        kept = [entry for entry in unanswered if not settled(entry)]
        if kept != unanswered:
            if kept:
                data[UNANSWERED_CREATES] = kept
            else:
                data.pop(UNANSWERED_CREATES, None)
        if "provider_data" in fields or kept != unanswered:
            fields["provider_data"] = data
        checkpoints.save_verification(verification, fields)

    @staticmethod
    def unanswered(verification: Verification, kind: str = "") -> list[dict[str, Any]]:
        """Create calls (of ``kind``, or all) made for this verification whose answer never arrived."""
        entries = verification.provider_data.get(UNANSWERED_CREATES)
        if not isinstance(entries, list):
            return []
        return [dict(e) for e in entries if isinstance(e, Mapping) and (not kind or e.get("kind") == kind)]

    @contextmanager
    def creating(self, verification: Verification, kind: str, call: str) -> Iterator[CreateCall]:
        """Checkpoint a call that creates ``kind`` at the provider (``call`` says which, for reviewers).

        The call is committed to ``provider_data`` as unanswered before it is made, and settled by
        :meth:`CreateCall.remember` (in the same UPDATE that stores what it created), by a refusal (a 4xx:
        nothing was created) or when the block ends without an error. A timeout, a reset, a 5xx or a killed
        worker leaves it unanswered: the provider may have done the work without our learning its id. The
        next attempt sees it in :meth:`unanswered` and looks the object up where the provider offers a way
        (then ``remember(..., settles=kind)``); what is left unanswered when the submission ends is reported by
        the submission service as a possible duplicate in the audit trail.
        """
        from django.utils import timezone

        entry = {"id": uuid.uuid4().hex, "kind": kind, "call": call, "at": timezone.now().isoformat()}
        self._commit(
            verification,
            {"provider_data": {UNANSWERED_CREATES: [*self.unanswered(verification), entry]}},
            lambda _entry: False,
        )
        handle = CreateCall(self, verification, entry["id"])
        try:
            yield handle
        except ProviderError as exc:
            refused = exc.status_code is not None and 400 <= exc.status_code < 500
            if refused and not handle.settled:
                handle.remember()
            raise
        if not handle.settled:
            handle.remember()

    def remember_document(self, document: Document, provider_document_id: str) -> None:
        """Commit the provider's id for one of our documents as soon as it exists (see :meth:`remember`)."""
        from django_kyc.services import checkpoints

        checkpoints.save_document(document, provider_document_id)

    def remember_aml(
        self, aml_check: AmlCheck, *, provider_check_id: str = "", provider_data: Mapping[str, Any] | None = None
    ) -> None:
        """Commit a screening's provider id (and ``provider_data``, merged) as soon as the provider hands it out,
        so a retried screening reads that search instead of starting (and paying for) another."""
        from django_kyc.services import checkpoints

        fields: dict[str, Any] = {}
        if provider_check_id:
            fields["provider_check_id"] = provider_check_id
        if provider_data:
            fields["provider_data"] = {**(aml_check.provider_data or {}), **provider_data}
        checkpoints.save_aml_check(aml_check, fields)
