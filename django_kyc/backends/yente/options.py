"""The yente backend's ``OPTIONS``: one declaration read by the backend, the system checks and the docs (the
table in ``docs/providers/yente.md`` is generated from it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django_kyc.backends.options import Option, integer, number, strings

#: yente's own defaults and limits (``docs/providers/yente.md``, "The /match API").
MAX_MATCHES = 500
DEFAULT_THRESHOLD = 0.70
DEFAULT_LIMIT = 10
#: OpenSanctions' hosted yente, which refuses calls without an API key.
HOSTED_API_HOST = "api.opensanctions.org"

OPTION_SPECS = (
    Option(
        "BASE_URL",
        "The yente service's root, e.g. `http://yente:8000` for a self-hosted one or "
        "`https://api.opensanctions.org` for OpenSanctions' hosted API.",
        required=True,
        url=True,
    ),
    Option(
        "API_KEY",
        "Sent as `Authorization: ApiKey <key>`; the hosted API requires it, a self-hosted yente needs none.",
        secret=True,
    ),
    Option(
        "DATASET",
        "The dataset or collection `/match/{dataset}` screens against (`default`, `sanctions`, …).",
        default="default",
    ),
    Option(
        "THRESHOLD",
        "Score (0 to 1) from which yente flags a result `match: true`; those become hits. Sent as `threshold`.",
        coerce=number(minimum=0, maximum=1),
        default=DEFAULT_THRESHOLD,
    ),
    Option(
        "LIMIT",
        "Results per screening (`limit`, at most 500). Raised by the number of dismissed entities that could "
        'not be excluded at yente (see "False positives"), so they cannot push a real candidate out.',
        coerce=integer(minimum=1, maximum=MAX_MATCHES),
        default=DEFAULT_LIMIT,
    ),
    Option(
        "ALGORITHM",
        "yente's scoring algorithm (`best`, `logic-v2`, `logic-v1`, `name-based`, `name-qualified`, `ofac`, "
        "`regression-v1`; `GET /algorithms` lists a server's). An unknown one makes every screening fail with "
        "yente's message.",
        default="best",
    ),
    Option(
        "TOPICS",
        "Only entities with any of these topics (`sanction`, `role.pep`, `crime`, …). Unset: every topic.",
        coerce=strings,
    ),
    Option("EXCLUDE_SCHEMA", 'Entity types left out of the results (e.g. `["Vessel"]`).', coerce=strings),
    Option("INCLUDE_DATASET", "Only entities from these datasets (within `DATASET`).", coerce=strings),
    Option("EXCLUDE_DATASET", "Entities only in these datasets are left out.", coerce=strings),
)


def option_rules(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """OpenSanctions' hosted API answers every call without a key with an error: say so at ``manage.py check``."""
    host = urlsplit(str(config.get("BASE_URL") or "")).hostname or ""
    if host == HOSTED_API_HOST and not config.get("API_KEY"):
        return [("API_KEY", f"is required by OpenSanctions' hosted API ({HOSTED_API_HOST}).")]
    return []
