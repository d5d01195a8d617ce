"""The Persona backend's ``OPTIONS``: one declaration read by the backend, the system checks and the docs (the
table in ``docs/providers/persona.md`` is generated from it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_kyc.backends.options import Option, boolean, dictionary, integer, number, secrets
from django_kyc.backends.persona.client import DEFAULT_BASE_URL, MAX_PAGE_SIZE
from django_kyc.backends.persona.statuses import STATUS_MAP
from django_kyc.backends.signing import DEFAULT_TOLERANCE_SECONDS
from django_kyc.status import VerificationStatus

#: The API version the backend was written and tested against (sent as ``Persona-Version``).
DEFAULT_API_VERSION = "2026-09-29"
#: Persona's rate-limit pages disagree (300 and 240 requests a minute); the lower one is the default.
DEFAULT_RATE_LIMIT = 240
#: Persona keeps idempotency keys "at least 24 hours" (current docs) or "at least 1 hour" (older docs): the
#: shorter is trusted, so a lost create is looked up by reference before a new key is used after an hour.
DEFAULT_IDEMPOTENCY_KEY_TTL = 3600
#: Persona expires a pending inquiry 24 hours after creation, start or resume unless its template says otherwise:
#: the validity reported for a session token whose own expiry cannot be read.
DEFAULT_SESSION_TOKEN_TTL = 24 * 3600
#: One-time links: "expires in 24 hours" (one-time links page) and "the default is 1 hour" (changelog of
#: 2023-07-10); the shorter is reported, so a link is never promised longer than Persona honours it.
DEFAULT_ONE_TIME_LINK_TTL = 3600
#: Template id prefixes → the create call's attribute naming the template.
TEMPLATE_ATTRIBUTES = {
    "itmpl_": "inquiry-template-id",
    "itmplv_": "inquiry-template-version-id",
    "tmpl_": "template-id",
}


def template_attribute(template: str) -> str:
    """The create call's attribute for ``template``, from its prefix."""
    for prefix, attribute in sorted(TEMPLATE_ATTRIBUTES.items(), key=lambda item: -len(item[0])):
        if template.startswith(prefix):
            return attribute
    raise ValueError(f"{template!r} is not an inquiry template id (itmpl_…), template version id (itmplv_…) or tmpl_….")


def _template(value: Any) -> str:
    template = str(value).strip()
    template_attribute(template)
    return template


def _api_key(value: Any) -> str:
    key = str(value).strip()
    if not key:
        raise ValueError("must be an API key (persona_sandbox_… / persona_production_…).")
    return key


OPTION_SPECS = (
    Option(
        "API_KEY",
        "The API key (`persona_sandbox_…` or `persona_production_…`), sent as `Authorization: Bearer`.",
        coerce=_api_key,
        required=True,
        secret=True,
    ),
    Option(
        "TEMPLATE_ID",
        "The inquiry template every inquiry is created from: an inquiry template id (`itmpl_…`, the latest "
        "published version), a template version id (`itmplv_…`, pinned) or a legacy template id (`tmpl_…`).",
        coerce=_template,
        required=True,
    ),
    Option(
        "API_VERSION",
        "Sent as `Persona-Version` on every call, so a change of the organisation's default version cannot "
        'change the answers under us. `""` sends none (the organisation\'s default applies).',
        default=DEFAULT_API_VERSION,
    ),
    Option(
        "BASE_URL",
        "Persona's API root (older docs show `https://withpersona.com/api/v1`). Point it at the fake server for "
        "tests and the demo.",
        url=True,
        default=DEFAULT_BASE_URL,
    ),
    Option(
        "WEBHOOK_SECRETS",
        "The webhook's secret(s) (`wbhsec_…`), one string or a list, newest first. A delivery is accepted when "
        "any `v1` of any `t=…,v1=…` group matches any of them. Without one, no webhook is accepted.",
        coerce=secrets,
        secret=True,
        default=(),
    ),
    Option(
        "WEBHOOK_TOLERANCE",
        "Seconds a signed `t=` may be away from our clock, either way. Persona names no window.",
        coerce=number(minimum=1),
        default=float(DEFAULT_TOLERANCE_SECONDS),
    ),
    Option(
        "SESSION_TOKEN",
        "Hand out a session token (from `POST /inquiries/{id}/resume`) as the client token, for Persona's "
        "embedded flow. `False`: the one-time link only, and no token is kept.",
        coerce=boolean,
        default=True,
    ),
    Option(
        "ONE_TIME_LINK",
        "Hand out a one-time link (from `POST /inquiries/{id}/generate-one-time-link`) as the client link, for "
        "Persona's hosted flow. `False`: the session token only.",
        coerce=boolean,
        default=True,
    ),
    Option(
        "SESSION_TOKEN_TTL",
        "Seconds a session token is reported valid when its own `exp` cannot be read, counted from before the "
        "call that returned it (Persona: a pending inquiry expires 24 hours after it was resumed, by default).",
        coerce=integer(minimum=60),
        default=DEFAULT_SESSION_TOKEN_TTL,
    ),
    Option(
        "ONE_TIME_LINK_TTL",
        "Seconds a one-time link is reported valid, counted from before the call that made it. Persona's pages "
        "say 24 hours and 1 hour; set it to your template's setting.",
        coerce=integer(minimum=60),
        default=DEFAULT_ONE_TIME_LINK_TTL,
    ),
    Option(
        "EXPIRATION_AFTER_CREATE_SECONDS",
        "`expiration-after-create-interval-seconds` of the create call. Unset: the template's setting.",
        coerce=integer(minimum=60),
    ),
    Option(
        "EXPIRATION_AFTER_START_SECONDS",
        "`expiration-after-start-interval-seconds` of the create call. Unset: the template's setting.",
        coerce=integer(minimum=60),
    ),
    Option(
        "EXPIRATION_AFTER_RESUME_SECONDS",
        "`expiration-after-resume-interval-seconds` of the create call. Unset: the template's setting.",
        coerce=integer(minimum=60),
    ),
    Option(
        "IDEMPOTENCY_KEY_TTL",
        "Seconds an `Idempotency-Key` is trusted to be remembered by Persona. A create whose answer was lost is "
        "repeated with the same key within this time; after it, the inquiry is first looked up by "
        "`reference-id`. Persona documents at least 24 hours now, at least 1 hour before: the default trusts the "
        "shorter.",
        coerce=integer(minimum=60),
        default=DEFAULT_IDEMPOTENCY_KEY_TTL,
    ),
    Option(
        "STATUS_OVERRIDES",
        'Overrides of what an inquiry status becomes, e.g. `{"completed": "approved"}` for a template without '
        'post-inquiry decisioning, or `{"expired": "resubmission_requested"}` to resume expired inquiries.',
        coerce=dictionary,
        default_doc="none",
    ),
    Option(
        "RATE_LIMIT",
        "Requests per minute this alias sends Persona at most, across every worker; `0` sends without a "
        "client-side limit. Persona's pages say 300 and 240; your organisation's limit is in the Dashboard.",
        coerce=integer(minimum=0),
        default=DEFAULT_RATE_LIMIT,
    ),
    Option(
        "PAGE_SIZE",
        "`page[size]` of the list call that looks an inquiry up after a lost answer; 1 … 100.",
        coerce=integer(minimum=1, maximum=MAX_PAGE_SIZE),
        default=MAX_PAGE_SIZE,
    ),
)


def option_rules(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``STATUS_OVERRIDES`` maps inquiry statuses onto ours; one of the two client flows stays on."""
    problems: list[tuple[str, str]] = []
    allowed = {status.value for status in VerificationStatus}
    for raw, status in (config.get("STATUS_OVERRIDES") or {}).items():
        if raw not in STATUS_MAP:
            known = sorted(str(key) for key in STATUS_MAP)
            problems.append(("STATUS_OVERRIDES", f"names {raw!r}, which is not an inquiry status {known}."))
        elif status not in allowed:
            problems.append(("STATUS_OVERRIDES", f"maps {raw!r} to {status!r}, which is not one of {sorted(allowed)}."))
    if config.get("SESSION_TOKEN") is False and config.get("ONE_TIME_LINK") is False:
        problems.append(("ONE_TIME_LINK", "cannot be off with SESSION_TOKEN off: the person could not open the flow."))
    return problems
