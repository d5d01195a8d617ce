"""The backend contract: what every provider backend implements, and the conventions it follows.

Backends translate between one provider's API and the normalised vocabulary in :mod:`django_kyc.status`.
They take and return the frozen values of :mod:`django_kyc.backends.values` (re-exported here), never change
statuses and never write model rows: the services apply what they return through the transition service, and
provider ids are committed through :mod:`django_kyc.backends.checkpoints`.

A backend states provider facts and little else:

* ``provider`` / ``display_name``: its slug (log and error messages) and its name in docs.
* ``capabilities``: members of :class:`~django_kyc.backends.capabilities.Capability`, each read by the core.
* ``option_specs``: its ``OPTIONS`` keys (:class:`~django_kyc.backends.options.Option`), read by :meth:`option`.
* ``STATUS_MAP`` / ``UNKNOWN_STATUS``: the provider's raw statuses → ours; :meth:`map_status` looks them up
  (keys may be tuples: override :meth:`status_keys` to say which keys a raw status and its qualifiers try).
* ``default_timeout`` / ``retry_policy`` / ``rate_limits``: the provider's published guidance, if any.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext_lazy as _

from django_kyc.backends.capabilities import Capability, as_capabilities
from django_kyc.backends.checkpoints import Checkpoints, CreateCall
from django_kyc.backends.http import ErrorMessage, ProviderHttpClient, default_error_message
from django_kyc.backends.options import (
    DEPRECATED,
    INVALID,
    MISSING,
    Option,
    OptionProblem,
    number,
    option_path,
    raw,
    read_options,
)
from django_kyc.backends.ratelimit import RateLimit, RateLimiter
from django_kyc.backends.values import (
    UNANSWERED_CREATES,
    AmlHitResult,
    AmlResult,
    ClientToken,
    DocumentResult,
    InboundWebhook,
    PossibleDuplicate,
    ProviderEvent,
    ProviderState,
    RetryPolicy,
    Submission,
    possible_duplicates,
    unstorable,
)
from django_kyc.exceptions import KycConfigurationError, UnsupportedFeature
from django_kyc.status import VerificationStatus

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

    from django_kyc.models import AmlCheck, Applicant, Verification

__all__ = [
    "UNANSWERED_CREATES",
    "AmlHitResult",
    "AmlResult",
    "Capability",
    "ClientToken",
    "CreateCall",
    "DocumentResult",
    "InboundWebhook",
    "KycBackend",
    "Option",
    "PossibleDuplicate",
    "ProviderEvent",
    "ProviderState",
    "RateLimit",
    "RetryPolicy",
    "Submission",
    "possible_duplicates",
    "unstorable",
]

#: The options every backend has: the HTTP timeouts of its provider calls.
TIMEOUT_OPTIONS = (
    Option(
        "CONNECT_TIMEOUT",
        "Seconds to wait for a connection to the provider.",
        coerce=number(minimum=0.001),
        default_doc='`DJANGO_KYC["HTTP_CONNECT_TIMEOUT"]`',
    ),
    Option(
        "READ_TIMEOUT",
        "Seconds to wait for the provider's answer.",
        coerce=number(minimum=0.001),
        default_doc='`DJANGO_KYC["HTTP_READ_TIMEOUT"]`',
    ),
)


class KycBackend(Checkpoints):
    """Base class every provider backend implements. Methods a provider cannot support raise
    :class:`UnsupportedFeature`; the core asks :meth:`supports` before it relies on a capability."""

    provider: ClassVar[str] = ""
    #: The provider's name as the docs and the README's provider matrix show it.
    display_name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: A word on a capability that depends on configuration, for the provider matrix (``{HOSTED_FLOW: "…"}``).
    capability_notes: ClassVar[Mapping[Capability, str]] = {}
    #: The provider's raw statuses → ours; anything else is ``UNKNOWN_STATUS`` (kept raw, sent to a person).
    STATUS_MAP: ClassVar[Mapping[Any, str]] = {}
    UNKNOWN_STATUS: ClassVar[str] = VerificationStatus.REVIEW
    #: This class's own ``OPTIONS`` keys; :attr:`declared_options` adds the inherited ones (the timeouts).
    option_specs: ClassVar[tuple[Option, ...]] = TIMEOUT_OPTIONS
    #: Every key this class reads, by name (computed from ``option_specs`` along the class hierarchy).
    declared_options: ClassVar[Mapping[str, Option]] = {spec.name: spec for spec in TIMEOUT_OPTIONS}
    #: Derived from the declaration, for code written before it (``KycaidBackend.secret_options``). A class
    #: that sets these instead of ``option_specs`` still works: they are turned into declarations.
    required_options: ClassVar[tuple[str, ...]] = ()
    secret_options: ClassVar[tuple[str, ...]] = ()
    url_options: ClassVar[tuple[str, ...]] = ()
    choice_options: ClassVar[Mapping[str, tuple[tuple[Any, ...], Any]]] = {}
    #: Headers :meth:`parse_webhook` reads, stored with each delivery so it can be re-parsed when processed
    #: or reprocessed (e.g. a GCM tag, a signed timestamp). Never credentials.
    parse_headers: ClassVar[tuple[str, ...]] = ()
    #: Headers kept with each stored delivery for reviewers though :meth:`parse_webhook` does not read them (a
    #: provider's delivery-attempt counters, say), whatever the site's ``WEBHOOK_HEADER_ALLOWLIST``. Never
    #: credentials or signatures.
    review_headers: ClassVar[tuple[str, ...]] = ()
    #: The provider's own retry guidance, when it publishes one.
    retry_policy: ClassVar[RetryPolicy] = RetryPolicy()
    #: The provider's published request budgets, enforced by :meth:`http_client`'s client across every worker
    #: that uses this alias (see :mod:`django_kyc.backends.ratelimit`).
    rate_limits: ClassVar[tuple[RateLimit, ...]] = ()
    #: The provider's recommended (connect, read) timeouts, if it publishes them (the timeout options' defaults).
    default_timeout: ClassVar[tuple[float, float] | None] = None
    #: Whether every key this class reads is declared, so an undeclared key is worth a warning (a typo).
    _exhaustive_options: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.capabilities = as_capabilities(cls.capabilities)
        own = cls.__dict__
        inherited = cls.declared_options
        declared: list[Option] = []
        if "option_specs" in own:
            declared = list(cls.option_specs)
            cls._exhaustive_options = True
        elif any(name in own for name in ("required_options", "secret_options", "url_options", "choice_options")):
            declared = _from_legacy(cls, inherited)
        # this class's own keys first, then the inherited ones (the timeouts last, as the docs list them)
        specs = {spec.name: spec for spec in declared}
        for name, spec in inherited.items():
            specs.setdefault(name, spec)
        if "default_timeout" in own and cls.default_timeout:
            for spec, value in zip(TIMEOUT_OPTIONS, cls.default_timeout, strict=True):
                specs[spec.name] = _replace(specs[spec.name], default=float(value), default_doc="")
        cls.declared_options = specs
        cls.required_options = tuple(name for name, spec in specs.items() if spec.required)
        cls.secret_options = tuple(name for name, spec in specs.items() if spec.secret)
        cls.url_options = tuple(name for name, spec in specs.items() if spec.url)
        cls.choice_options = {name: (spec.choices, spec.default) for name, spec in specs.items() if spec.choices}

    def __init__(self, alias: str, options: Mapping[str, Any]) -> None:
        self.alias = alias
        self.options = dict(options)
        #: The declared options' values: coerced, defaults applied, deprecated names resolved.
        self.config, problems = self.read_options(alias, self.options)
        errors = sorted((p for p in problems if p.kind in (MISSING, INVALID)), key=lambda p: p.kind != MISSING)
        if errors:
            raise KycConfigurationError(errors[0].text(alias))
        for problem in problems:
            if problem.kind == DEPRECATED:
                import warnings

                warnings.warn(problem.text(alias), DeprecationWarning, stacklevel=3)
                canonical = next(s.name for s in self.declared_options.values() if problem.key in s.aliases)
                self.options.setdefault(canonical, self.options[problem.key])

    @classmethod
    def read_options(cls, alias: str, options: Mapping[str, Any]) -> tuple[dict[str, Any], list[OptionProblem]]:
        """The declared options' values and every problem with ``options`` (the system checks report these)."""
        values, problems = read_options(cls.declared_options, options, cls.__name__, exhaustive=cls._exhaustive_options)
        if not any(problem.kind in (MISSING, INVALID) for problem in problems):
            problems.extend(OptionProblem(key, message, INVALID) for key, message in cls.option_rules(values))
        return values, problems

    @classmethod
    def option_rules(cls, config: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Rules across options no single declaration can state, as (key, message) pairs; run once every key
        is valid on its own. ``message`` completes ``DJANGO_KYC["BACKENDS"][alias]["OPTIONS"][key] …``."""
        return []

    @classmethod
    def missing_options(cls, options: Mapping[str, Any]) -> list[str]:
        return [problem.key for problem in cls.read_options("", options)[1] if problem.kind == MISSING]

    def option(self, name: str) -> Any:
        """A declared option's value (coerced, or its default). ``KeyError`` for a name nobody declared."""
        if name not in self.declared_options:
            raise KeyError(f"{type(self).__name__} declares no option {name!r}")
        return self.config[name]

    def option_error(self, key: str, message: str) -> KycConfigurationError:
        """A configuration error that names the exact setting, so the fix is obvious from the message."""
        return KycConfigurationError(f"{option_path(self.alias, key)} {message}")

    def supports(self, capability: Capability | str) -> bool:
        return capability in self.capabilities

    # --- statuses ------------------------------------------------------------------------------------
    def status_keys(self, raw: str, *qualifiers: Any) -> Iterable[Hashable]:
        """The ``STATUS_MAP`` keys a raw status (and what qualifies it) tries, in order. Default: the status."""
        return (raw,)

    def map_status(self, raw: str, *qualifiers: Any) -> str:
        """Our status for a raw provider status; ``UNKNOWN_STATUS`` when no key of :meth:`status_keys` is mapped."""
        for key in self.status_keys(raw, *qualifiers):
            if key in self.STATUS_MAP:
                return self.STATUS_MAP[key]
        return self.UNKNOWN_STATUS

    # --- HTTP ----------------------------------------------------------------------------------------
    def timeouts(self) -> tuple[float, float] | None:
        """(connect, read) seconds for this alias's provider calls (see :meth:`timeouts_for`)."""
        return self._timeouts(self.config)

    @classmethod
    def timeouts_for(cls, options: Mapping[str, Any]) -> tuple[float, float] | None:
        """(connect, read) seconds from ``OPTIONS["CONNECT_TIMEOUT"]`` / ``["READ_TIMEOUT"]`` or the provider's
        guidance (``default_timeout``), the missing one from ``DJANGO_KYC``; ``None`` when neither is set, so
        ``DJANGO_KYC``'s apply. The system check reads the same (``W004``)."""
        return cls._timeouts(cls.read_options("", options)[0])

    @staticmethod
    def _timeouts(config: Mapping[str, Any]) -> tuple[float, float] | None:
        connect, read = config.get("CONNECT_TIMEOUT"), config.get("READ_TIMEOUT")
        if connect is None and read is None:
            return None
        from django_kyc.conf import kyc_settings

        return (
            float(kyc_settings.HTTP_CONNECT_TIMEOUT) if connect is None else connect,
            float(kyc_settings.HTTP_READ_TIMEOUT) if read is None else read,
        )

    def http_client(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        error_message: ErrorMessage = default_error_message,
        client_class: type[ProviderHttpClient] = ProviderHttpClient,
        **kwargs: Any,
    ) -> ProviderHttpClient:
        """The shared HTTP client for this alias, with this alias's :meth:`timeouts` and the provider's
        :attr:`rate_limits`. ``client_class`` is a :class:`ProviderHttpClient` subclass when the provider wraps
        its answers (see its ``decode``)."""
        if self.rate_limits:
            kwargs.setdefault(
                "rate_limiter",
                RateLimiter(scope=self.alias, limits=self.rate_limits, provider=self.provider or self.alias),
            )
        return client_class(
            provider=self.provider or self.alias,
            base_url=base_url,
            headers=headers,
            auth=auth,
            timeout=self.timeouts(),
            error_message=error_message,
            **kwargs,
        )

    def _unsupported(self, feature: StrOrPromise) -> UnsupportedFeature:
        return UnsupportedFeature(self.provider or self.alias, feature)

    # --- verifications -------------------------------------------------------------------------------
    def check_verification_subject(self, applicant: Applicant) -> None:
        """Refuse, before a verification is stored or sent, a person this provider cannot verify as they stand
        (a name it requires, a document file outside its rules). Raise :class:`PermanentProviderError` with a
        message for the user: the API answers it with a 400."""

    def start_verification(self, verification: Verification) -> Submission:
        """Create the provider session. Must be idempotent: it is called again after a crash."""
        raise self._unsupported(_("starting verifications"))

    def fetch_verification(self, verification: Verification) -> ProviderState:
        """The provider's current state, for polling and fetch-on-notify."""
        raise self._unsupported(_("fetching verifications"))

    def issue_client_token(self, verification: Verification) -> ClientToken:
        """A fresh hosted-flow link or SDK token for an existing provider session."""
        raise self._unsupported(_("hosted-flow links or SDK tokens"))

    # --- webhooks ------------------------------------------------------------------------------------
    def authenticate_webhook(self, webhook: InboundWebhook) -> None:
        """Raise :class:`WebhookAuthenticationError` unless the raw bytes are provably the provider's."""
        raise self._unsupported(_("webhooks"))

    def parse_webhook(self, webhook: InboundWebhook) -> list[ProviderEvent]:
        """Turn an authenticated delivery into events; raise :class:`WebhookPayloadError` if malformed."""
        raise self._unsupported(_("webhooks"))

    def claim_confirmed(self, event: ProviderEvent, state: ProviderState) -> bool:
        """Whether the fetched ``state`` bears out what the delivery claimed (:attr:`ProviderEvent.claim`).
        Default: the provider now reports the raw status the delivery named."""
        return state.provider_status == event.claim

    # --- AML and data protection ---------------------------------------------------------------------
    def screen(self, aml_check: AmlCheck) -> AmlResult:
        raise self._unsupported(_("AML screening"))

    def check_aml_subject(self, aml_check: AmlCheck) -> None:
        """Refuse, before anything is stored or sent, a subject this provider cannot screen (an unknown chain,
        a malformed address). Raise :class:`PermanentProviderError` with a message for the user."""

    def fetch_aml(self, aml_check: AmlCheck) -> AmlResult:
        """The current result of a screening still ``running`` at the provider."""
        raise self._unsupported(_("fetching AML results"))

    def enrol_monitoring(self, aml_check: AmlCheck) -> AmlResult:
        """Enrol the check's subject in the provider's ongoing monitoring (capability ``aml_monitoring``), or
        confirm it still is: the provider then screens the person against every list update by itself, so a
        re-screening enrols instead of screening again. Safe to call again for someone already enrolled (it
        must not enrol them twice). The result is recorded like a screening's; ``monitored`` says whether the
        subject is enrolled now."""
        raise self._unsupported("ongoing AML monitoring")

    def aml_report(self, aml_check: AmlCheck) -> tuple[bytes, str]:
        """The provider's report document for reviewers, as (content, content type) (capability
        ``aml_report``); fetched on demand, never stored."""
        raise self._unsupported(_("AML reports"))

    def reconcile(self, since: datetime | None = None) -> Iterator[ProviderEvent]:
        """Walk the provider's list of verifications (every page) and yield their current states as events
        with ``state`` set (capability ``reconcile``); ``kyc_reconcile`` applies them."""
        raise self._unsupported(_("reconciliation"))

    def delete_applicant(self, applicant: Applicant) -> None:
        """Erase the applicant at the provider (capability ``delete``); an already-erased one is no error."""
        raise self._unsupported(_("applicant deletion"))

    def push_decision(self, verification: Verification, status: str, reason: str = "", reason_code: str = "") -> None:
        """Tell the provider about a reviewer's decision (capability ``push_decision``): the status decided,
        with the reviewer's comment (``reason``) and catalogue code (``reason_code``) as the review service
        recorded them. Never read the audit trail for them."""
        raise self._unsupported(_("pushing reviewer decisions"))


def _replace(spec: Option, **changes: Any) -> Option:
    from dataclasses import replace

    return replace(spec, **changes)


def _from_legacy(cls: type[KycBackend], specs: Mapping[str, Option]) -> list[Option]:
    """Declarations for a class that lists ``required_options`` / ``secret_options`` / ``url_options`` /
    ``choice_options`` instead of ``option_specs`` (values are passed through as configured)."""
    names = [*cls.required_options, *cls.secret_options, *cls.url_options, *cls.choice_options]
    made = []
    for name in dict.fromkeys(names):
        allowed, default = cls.choice_options.get(name, ((), None))
        made.append(
            _replace(
                specs.get(name) or Option(name, "", coerce=raw),
                required=name in cls.required_options,
                secret=name in cls.secret_options,
                url=name in cls.url_options,
                choices=tuple(allowed),
                default=default,
            )
        )
    return made
