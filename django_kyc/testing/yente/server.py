"""The fake yente's back office: what a test changes in the index between two screenings (an entity listed,
amended or delisted; a dataset's new version), as yente's reindexing would."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from django_kyc.testing.yente.api import FakeYenteApi


class FakeYente(FakeYenteApi):
    """:class:`~django_kyc.testing.yente.api.FakeYenteApi` plus the index edits tests make."""

    def entity(self, entity_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.entities[entity_id])

    def add(self, entity: dict[str, Any]) -> None:
        """List an entity (the shape ``/match`` returns, without ``score`` / ``explanations`` / ``match``)."""
        with self.lock:
            self.entities[entity["id"]] = copy.deepcopy(entity)

    def remove(self, entity_id: str) -> None:
        with self.lock:
            self.entities.pop(entity_id, None)

    def amend(self, entity_id: str, **properties: list[str]) -> str:
        """Change an entity's properties and move its ``last_change`` on by a day (an amended listing);
        returns the new ``last_change``."""
        with self.lock:
            entity = self.entities[entity_id]
            entity["properties"].update({name: list(values) for name, values in properties.items()})
            changed = datetime.fromisoformat(entity["last_change"]) + timedelta(days=1)
            entity["last_change"] = changed.isoformat(timespec="seconds")
            return str(entity["last_change"])

    def set_version(self, dataset: str, version: str) -> None:
        """A dataset reindexed at a new version (``GET /catalog`` reports it)."""
        with self.lock:
            self.versions[dataset] = version

    def applicant_count(self) -> int:
        """yente keeps no record of the people it screens."""
        return 0
