"""The Onfido backend's ``OPTIONS``: one declaration read by the backend, the system checks and the docs (the
table in ``docs/providers/onfido.md`` is generated from it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_kyc.backends.onfido.aml import WATCHLIST_REPORTS
from django_kyc.backends.onfido.client import REGIONS
from django_kyc.backends.onfido.state import CONSIDER_POLICIES
from django_kyc.backends.onfido.webhooks import SIGNATURE_HEADER
from django_kyc.backends.options import Option, dictionary, integer, secrets, strings

MODES = ("workflow", "sdk", "api")
#: Used when an SDK token does not state its own expiry (Onfido's specification gives none).
DEFAULT_SDK_TOKEN_TTL = 90 * 60
#: The rate at which we call Onfido (requests per minute), unless ``OPTIONS["RATE_LIMIT"]`` says otherwise.
DEFAULT_RATE_LIMIT = 400

OPTION_SPECS = (
    Option(
        "API_TOKEN",
        "Onfido's API token (sandbox or live), sent as `Authorization: Token token=<API_TOKEN>`.",
        required=True,
        secret=True,
    ),
    Option(
        "REGION",
        'The region your Onfido account lives in: `"eu"`, `"us"` or `"ca"` (the API host is '
        "`api.<region>.onfido.com`).",
        choices=REGIONS,
        default="eu",
    ),
    Option(
        "BASE_URL",
        "The API root, instead of the region's (`https://api.<region>.onfido.com/v3.6`); point it at the fake "
        "server for tests and the demo.",
        url=True,
        default_doc="the region's",
    ),
    Option(
        "WEBHOOK_TOKENS",
        "The `token` of each webhook registered with Onfido (`POST /webhooks` answers with it), newest first: "
        "Onfido signs deliveries with it. Several for rotation. Without one no delivery is accepted.",
        coerce=secrets,
        secret=True,
        default=(),
    ),
    Option(
        "WEBHOOK_HEADER",
        "The header carrying the signature. Onfido's specification does not name it; integrations use "
        "`X-SHA2-Signature`.",
        default=SIGNATURE_HEADER,
    ),
    Option(
        "MODE",
        '`"workflow"` (an Onfido Studio workflow run: its SDK token and link are the hosted flow), `"sdk"` '
        '(a classic SDK token; the check is created once the person\'s documents are there) or `"api"` (we '
        "upload the documents and create the check).",
        choices=MODES,
        default="workflow",
    ),
    Option(
        "WORKFLOW_ID", "The Studio workflow's id (`workflow_id` of `POST /workflow_runs`); required in workflow mode."
    ),
    Option(
        "LINK_TTL",
        "Workflow mode: seconds until the run's link expires (`link.expires_at`); unset, Onfido's default.",
        coerce=integer(minimum=60),
    ),
    Option("COMPLETED_REDIRECT_URL", "Workflow mode: `link.completed_redirect_url`.", url=True),
    Option("EXPIRED_REDIRECT_URL", "Workflow mode: `link.expired_redirect_url`.", url=True),
    Option("LINK_LANGUAGE", "Workflow mode: `link.language` (e.g. `en_US`)."),
    Option(
        "SDK_REFERRER",
        "`referrer` of `POST /sdk_token`: the URL pattern of the pages allowed to use the token (web SDK).",
    ),
    Option(
        "SDK_TOKEN_TTL",
        "Seconds an SDK token is taken to live when it does not state its own expiry (`exp`).",
        coerce=integer(minimum=60),
        default=DEFAULT_SDK_TOKEN_TTL,
    ),
    Option(
        "REPORT_NAMES",
        "`report_names` of the checks created in sdk and api modes.",
        coerce=strings,
        default=("document",),
    ),
    Option(
        "CONSIDER",
        'What a complete check with `result: "consider"` becomes: `"review"` (a person decides) or `"decline"`.',
        choices=CONSIDER_POLICIES,
        default="review",
    ),
    Option(
        "DOCUMENT_TYPES",
        'Overrides of the document type mapping, e.g. `{"other": "tax_id"}`; a type mapped to `None` is not sent.',
        coerce=dictionary,
        default_doc="see below",
    ),
    Option(
        "AML_REPORT",
        "The watchlist report an AML check asks for.",
        choices=WATCHLIST_REPORTS,
        default="watchlist_standard",
    ),
    Option(
        "RATE_LIMIT",
        "Requests per minute this alias sends Onfido at most (Onfido answers 429 beyond its limit).",
        coerce=integer(minimum=1),
        default=DEFAULT_RATE_LIMIT,
    ),
)


def option_rules(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Workflow mode needs the workflow's id."""
    if config.get("MODE") == "workflow" and not config.get("WORKFLOW_ID"):
        return [("WORKFLOW_ID", 'is required when MODE is "workflow".')]
    return []
