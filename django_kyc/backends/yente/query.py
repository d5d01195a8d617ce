"""What is sent to ``/match``: the applicant as a FollowTheMoney ``Person`` example, and the query parameters
(``docs/providers/yente.md``, "What is sent")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from django_kyc.exceptions import PermanentProviderError

if TYPE_CHECKING:
    from django_kyc.models import Applicant

PROVIDER = "yente"


def person_query(applicant: Applicant) -> dict[str, Any]:
    """The FtM ``Person`` yente matches: the full name (first, middle, last) as ``name`` and the parts as
    ``firstName`` / ``middleName`` / ``lastName``, ``birthDate`` (ISO), ``nationality`` and ``country``
    (ISO 3166-1 alpha-2, lower case as FtM writes countries). Empty values are not sent. A person without a
    name cannot be screened: :class:`PermanentProviderError`, before anything is sent."""
    name = applicant.full_name.strip()
    if not name:
        raise PermanentProviderError("yente screens a person by name: the applicant has none", provider=PROVIDER)
    dob = applicant.date_of_birth
    properties = {
        "name": [name],
        "firstName": [applicant.first_name],
        "middleName": [applicant.middle_name],
        "lastName": [applicant.last_name],
        "birthDate": [dob.isoformat()] if isinstance(dob, date) else [],
        "nationality": [applicant.nationality.lower()],
        "country": [applicant.country.lower()],
    }
    return {"schema": "Person", "properties": {key: values for key, values in properties.items() if any(values)}}


def match_params(
    config: Mapping[str, Any],
    *,
    limit: int,
    exclude_entity_ids: Sequence[str] = (),
    changed_since: str = "",
) -> list[tuple[str, str]]:
    """The query string of a ``/match`` call, as pairs (a list parameter repeats its name)."""
    params: list[tuple[str, str]] = [
        ("limit", str(limit)),
        ("threshold", str(config["THRESHOLD"])),
        ("algorithm", str(config["ALGORITHM"])),
    ]
    for option, name in (
        ("TOPICS", "topics"),
        ("EXCLUDE_SCHEMA", "exclude_schema"),
        ("INCLUDE_DATASET", "include_dataset"),
        ("EXCLUDE_DATASET", "exclude_dataset"),
    ):
        params.extend((name, str(value)) for value in config.get(option) or ())
    params.extend(("exclude_entity_ids", entity_id) for entity_id in exclude_entity_ids)
    if changed_since:
        params.append(("changed_since", changed_since))
    return params
