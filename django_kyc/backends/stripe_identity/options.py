"""The Stripe Identity backend's ``OPTIONS``: one declaration read by the backend, the system checks and the docs
(the table in ``docs/providers/stripe_identity.md`` is generated from it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_kyc.backends.options import Option, boolean, dictionary, integer, number, secrets, strings
from django_kyc.backends.ratelimit import RateLimit
from django_kyc.backends.signing import DEFAULT_TOLERANCE_SECONDS
from django_kyc.backends.stripe_identity.client import DEFAULT_BASE_URL, MAX_PAGE_SIZE
from django_kyc.status import VerificationStatus

#: The API version the backend was written and tested against (sent as ``Stripe-Version``).
DEFAULT_API_VERSION = "2026-10-28.endive"
#: Stripe: a session's ``client_secret`` "expires after 24 hours and can only be used once".
DEFAULT_CLIENT_SECRET_TTL = 24 * 3600
#: Stripe keeps idempotency keys at least 24 hours before it may prune them.
DEFAULT_IDEMPOTENCY_KEY_TTL = 24 * 3600
#: Stripe's published budgets, read so that both versions of its rate-limit page hold: test mode (sandboxes) 25
#: requests per second in all; live mode 100 reads and 100 writes per second, but 25 per second on any one
#: endpoint, which per-method budgets of 25 keep every endpoint under.
TEST_MODE_LIMITS = (RateLimit(25, 1.0),)
LIVE_MODE_LIMITS = (RateLimit(25, 1.0, ("GET",)), RateLimit(25, 1.0, ("POST", "DELETE")))
AUTH_SCHEMES = ("bearer", "basic")
SESSION_TYPES = ("document", "id_number")
DOCUMENT_TYPES = ("driving_license", "id_card", "passport")
WEBHOOK_STATES = ("fetch", "payload")


def _secret_key(value: Any) -> str:
    key = str(value).strip()
    if not key.startswith(("sk_", "rk_")):
        raise ValueError('must be a secret ("sk_…") or restricted ("rk_…") key; a publishable key cannot call the API.')
    return key


def _rate_limits(value: Any) -> tuple[RateLimit, ...]:
    """``[[calls, seconds], [calls, seconds, ["GET"]], …]`` (or :class:`RateLimit` values); ``[]``: no limit."""
    if not isinstance(value, list | tuple):
        raise TypeError("must be a list of [calls, seconds] or [calls, seconds, [methods]] (or [] for none).")
    limits = []
    for item in value:
        if isinstance(item, RateLimit):
            limits.append(item)
            continue
        if not isinstance(item, list | tuple) or len(item) not in (2, 3):
            raise ValueError(f"has {item!r}; each entry is [calls, seconds] or [calls, seconds, [methods]].")
        methods = tuple(strings(item[2])) if len(item) == 3 else ()
        limits.append(RateLimit(int(item[0]), float(item[1]), methods))
    return tuple(limits)


def _document_types(value: Any) -> tuple[str, ...]:
    chosen = strings(value)
    unknown = sorted(set(chosen) - set(DOCUMENT_TYPES))
    if unknown:
        raise ValueError(f"lists {unknown}; Stripe accepts {list(DOCUMENT_TYPES)}.")
    return chosen


OPTION_SPECS = (
    Option(
        "SECRET_KEY",
        "The secret (`sk_test_…` / `sk_live_…`) or restricted (`rk_…`) API key. A restricted key needs write "
        "access to Identity VerificationSessions.",
        coerce=_secret_key,
        required=True,
        secret=True,
    ),
    Option(
        "AUTH_SCHEME",
        '`"bearer"` (`Authorization: Bearer <key>`) or `"basic"` (the key as the HTTP Basic user name, empty '
        "password): Stripe accepts both.",
        choices=AUTH_SCHEMES,
        default="bearer",
    ),
    Option(
        "API_VERSION",
        "Sent as `Stripe-Version` on every call, so an upgrade of the account's default version cannot change the "
        'answers under us. `""` sends none (the account\'s default applies).',
        default=DEFAULT_API_VERSION,
    ),
    Option(
        "BASE_URL",
        "Stripe's API host. Point it at the fake server for tests and the demo.",
        url=True,
        default=DEFAULT_BASE_URL,
    ),
    Option(
        "WEBHOOK_SECRETS",
        "The webhook endpoint's signing secret(s) (`whsec_…`), one string or a list, newest first. A delivery "
        "is accepted when any `v1` signature matches any of them (Stripe signs with both secrets while you roll "
        "one). Without one, no webhook is accepted.",
        coerce=secrets,
        secret=True,
        default=(),
    ),
    Option(
        "WEBHOOK_TOLERANCE",
        "Seconds a signed `t=` may be away from our clock (Stripe's libraries default to 300).",
        coerce=number(minimum=1),
        default=float(DEFAULT_TOLERANCE_SECONDS),
    ),
    Option(
        "WEBHOOK_STATE",
        '`"fetch"`: every event makes us retrieve the session and apply what Stripe says now (events arrive out '
        'of order and are retried for days, so the snapshot in an event can be stale). `"payload"`: apply the '
        "session in the event, timed with the event's `created` (one call less per event).",
        choices=WEBHOOK_STATES,
        default="fetch",
    ),
    Option(
        "VERIFICATION_FLOW",
        "The id of a verification flow made in the Dashboard; sent as `verification_flow` instead of `type` "
        "and the `options` below (the flow holds them).",
    ),
    Option("TYPE", '`type` of the session: `"document"` or `"id_number"`.', choices=SESSION_TYPES, default="document"),
    Option(
        "ALLOWED_DOCUMENT_TYPES",
        "`options[document][allowed_types]`: a list among `driving_license`, `id_card`, `passport`. Unset: "
        "Stripe's default (all three).",
        coerce=_document_types,
    ),
    Option(
        "REQUIRE_ID_NUMBER",
        "`options[document][require_id_number]`. Unset: not sent (Stripe's default).",
        coerce=boolean,
    ),
    Option(
        "REQUIRE_LIVE_CAPTURE",
        "`options[document][require_live_capture]`. Unset: not sent (Stripe's default).",
        coerce=boolean,
    ),
    Option(
        "REQUIRE_MATCHING_SELFIE",
        "`options[document][require_matching_selfie]`. Unset: not sent (Stripe's default).",
        coerce=boolean,
    ),
    Option("RETURN_URL", "`return_url`: where Stripe's hosted page sends the person when they are done.", url=True),
    Option(
        "SEND_PROVIDED_DETAILS",
        "Send the applicant's email and phone as `provided_details` (Stripe pre-fills and can verify them). Off "
        "by default: nothing personal leaves unless asked for.",
        coerce=boolean,
        default=False,
    ),
    Option(
        "CLIENT_SECRET",
        "Hand out the session's `client_secret` as the client token, for Stripe.js's verification modal. "
        "django-kyc keeps the current client token on the verification until it expires (as for every hosted "
        "flow), while Stripe asks that the secret not be stored: set `False` when the frontend uses the hosted "
        "`url` only, and no secret is kept.",
        coerce=boolean,
        default=True,
    ),
    Option(
        "CLIENT_SECRET_TTL",
        "Seconds a `client_secret` / hosted `url` is reported valid (`client_token_expires_at`), counted from "
        "before the call that returned it. Stripe documents 24 hours for the client secret.",
        coerce=integer(minimum=60),
        default=DEFAULT_CLIENT_SECRET_TTL,
    ),
    Option(
        "IDEMPOTENCY_KEY_TTL",
        "Seconds an `Idempotency-Key` is trusted to be remembered by Stripe (at least 24 hours, by Stripe's "
        "docs). A create whose answer was lost is repeated with the same key within this time; after it, the "
        "session is first looked up by `client_reference_id`.",
        coerce=integer(minimum=60),
        default=DEFAULT_IDEMPOTENCY_KEY_TTL,
    ),
    Option(
        "READ_REPORTS",
        "When a fetched session has a verification report (after a decision or a failed check), read it too: "
        "each check's result for reviewers, and the document Stripe read (type, issuing country, dates; not its "
        "number, names or birth date) as a document of the applicant. One more call per such fetch.",
        coerce=boolean,
        default=True,
    ),
    Option(
        "ERROR_CODE_STATUSES",
        'Overrides of what `requires_input` with a `last_error.code` becomes, e.g. `{"abandoned": '
        '"resubmission_requested", "consent_declined": "resubmission_requested"}`.',
        coerce=dictionary,
        default_doc="see below",
    ),
    Option(
        "RATE_LIMITS",
        "Client-side request budgets, counted across every worker of the alias: a list of `[calls, seconds]` or "
        '`[calls, seconds, ["GET"]]`; `[]` sends without a client-side limit. Unset: from the key\'s mode, '
        "test keys 25 requests per second in all, live keys (`sk_live_`, `rk_live_`) 25 reads and 25 writes per "
        "second (Stripe's per-endpoint limit).",
        coerce=_rate_limits,
        default_doc="from the key's mode",
    ),
    Option(
        "PAGE_SIZE",
        "`limit` of list calls (the lookup after a lost answer, reconciliation); Stripe allows 1 … 100.",
        coerce=integer(minimum=1, maximum=MAX_PAGE_SIZE),
        default=MAX_PAGE_SIZE,
    ),
)


def option_rules(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``ERROR_CODE_STATUSES`` maps onto our statuses; ``VERIFICATION_FLOW`` replaces the per-session options."""
    problems: list[tuple[str, str]] = []
    allowed = {status.value for status in VerificationStatus}
    for code, status in (config.get("ERROR_CODE_STATUSES") or {}).items():
        if status not in allowed:
            problems.append(
                ("ERROR_CODE_STATUSES", f"maps {code!r} to {status!r}, which is not one of {sorted(allowed)}.")
            )
    document_options = (
        "ALLOWED_DOCUMENT_TYPES",
        "REQUIRE_ID_NUMBER",
        "REQUIRE_LIVE_CAPTURE",
        "REQUIRE_MATCHING_SELFIE",
    )
    if config.get("VERIFICATION_FLOW"):
        problems.extend(
            (name, "cannot be used with VERIFICATION_FLOW: the flow defines the checks.")
            for name in document_options
            if config.get(name) is not None
        )
    return problems
