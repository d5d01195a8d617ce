"""Backend options, declared once: construction, the system checks and the docs all read the declaration.

A backend lists its ``OPTIONS`` keys as :class:`Option` values in ``option_specs``::

    option_specs = (
        Option("TOKEN", "The bearer token.", required=True, secret=True),
        Option("BASE_URL", "The API root.", url=True, default="https://api.example.com/"),
        Option("TOLERANCE", "Seconds a signature may be old.", coerce=number(minimum=0), default=300.0),
        Option("MODE", '"api" or "form".', choices=("api", "form"), default="api"),
    )

:meth:`KycBackend.__init__ <django_kyc.backends.base.KycBackend>` reads every declared key (a deprecated alias
with a :class:`DeprecationWarning` naming both keys), coerces it, applies the default and raises
:class:`~django_kyc.exceptions.KycConfigurationError` naming the first bad key; ``manage.py check`` reports
every problem from the same reading (:func:`read_options`); and :mod:`django_kyc.backends.docs` renders it as the
options table each provider's docs page carries (``tests/backends/test_docs.py`` keeps the pages in step).

A coercer takes the configured value and returns what the backend reads with
:meth:`~django_kyc.backends.base.KycBackend.option`, or raises ``ValueError`` / ``TypeError`` whose message
completes the sentence ``DJANGO_KYC["BACKENDS"][alias]["OPTIONS"][key] …`` (``"must be an integer."``).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django_kyc.backends.signing import as_secret_list

Coercer = Callable[[Any], Any]

MISSING = "missing"
INVALID = "invalid"
DEPRECATED = "deprecated"
UNKNOWN = "unknown"


# --- coercers ---------------------------------------------------------------------------------------------


def text(value: Any) -> str:
    """Any value, as a string (the default)."""
    return str(value)


def raw(value: Any) -> Any:
    """The value as configured, for options whose shape the backend checks itself."""
    return value


def boolean(value: Any) -> bool:
    """Truthiness, as Python reads it: ``True``, ``1`` and any non-empty string are on."""
    return bool(value)


def _bounded(kind: Callable[[Any], Any], noun: str, minimum: float | None, maximum: float | None) -> Coercer:
    def coerce(value: Any) -> Any:
        if isinstance(value, bool):
            raise TypeError(f"must be {noun}, not {value!r}.")
        try:
            result = kind(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"must be {noun}, not {value!r}.") from exc
        if (minimum is not None and result < minimum) or (maximum is not None and result > maximum):
            low = "" if minimum is None else f"{minimum:g}"
            high = "" if maximum is None else f"{maximum:g}"
            bounds = f"between {low} and {high}" if low and high else f"at least {low}" if low else f"at most {high}"
            raise ValueError(f"must be {bounds}, not {value!r}.")
        return result

    return coerce


def integer(minimum: int | None = None, maximum: int | None = None) -> Coercer:
    """An ``int`` (or a string of one) within the bounds given."""
    return _bounded(int, "an integer", minimum, maximum)


def number(minimum: float | None = None, maximum: float | None = None) -> Coercer:
    """A ``float`` (or an int, or a string of a number) within the bounds given."""
    return _bounded(float, "a number", minimum, maximum)


def secrets(value: Any) -> list[bytes]:
    """One secret or a list of them, newest first, as bytes (:func:`~django_kyc.backends.signing.as_secret_list`)."""
    if not isinstance(value, str | bytes | list | tuple):
        raise TypeError(f"must be one secret (a string) or a list of them, not {type(value).__name__}.")
    return as_secret_list(value)


def strings(value: Any) -> tuple[str, ...]:
    """One string or a list of them."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple | set | frozenset):
        raise TypeError(f"must be a string or a list of strings, not {type(value).__name__}.")
    return tuple(str(item) for item in value)


def dictionary(value: Any) -> dict[Any, Any]:
    """A dict."""
    if not isinstance(value, Mapping):
        raise TypeError(f"must be a dict, not {type(value).__name__}.")
    return dict(value)


def dotted_callable(value: Any) -> Callable[..., Any]:
    """The dotted path of a callable (``"myproject.kyc.user_id_for"``), imported."""
    from django.utils.module_loading import import_string

    try:
        found = import_string(str(value))
    except ImportError as exc:
        raise ValueError(f"cannot be imported: {exc}") from exc
    if not callable(found):
        raise TypeError(f"must name a callable, not {type(found).__name__}.")
    return found


# --- the declaration --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One key of a backend's ``OPTIONS``.

    ``default`` is what :meth:`KycBackend.option` returns when the key is absent, ``None`` or ``""`` (it is not
    coerced: give it in the coerced form). ``required`` keys must be set to something truthy. ``url`` values
    must be absolute http(s) URLs and ``choices`` lists the allowed (coerced) values. ``aliases`` are former
    names, still read, with a deprecation warning. ``default_doc`` replaces the default in the docs when it is
    computed at run time (``"SECRET_KEY, then SECRET_KEY_FALLBACKS"``).
    """

    name: str
    doc: str
    coerce: Coercer = text
    default: Any = None
    required: bool = False
    secret: bool = False
    url: bool = False
    choices: tuple[Any, ...] = ()
    aliases: tuple[str, ...] = ()
    default_doc: str = ""

    def read(self, options: Mapping[str, Any], owner: str) -> tuple[Any, list[OptionProblem]]:
        """(the value to use, what is wrong with the configuration of this key)."""
        problems: list[OptionProblem] = []
        key = self.name
        if _unset(options.get(self.name)):
            for alias in self.aliases:
                if not _unset(options.get(alias)):
                    key = alias
                    problems.append(OptionProblem(alias, f'is deprecated: rename it to ["{self.name}"].', DEPRECATED))
                    break
        else:
            problems.extend(
                OptionProblem(alias, f'is deprecated and ignored: ["{self.name}"] is set.', DEPRECATED)
                for alias in self.aliases
                if alias in options
            )
        configured = options.get(key)
        if self.required and not configured:
            return self.default, [*problems, OptionProblem(self.name, f"is required by {owner}.", MISSING)]
        if _unset(configured):
            return self.default, problems
        try:
            value = self.coerce(configured)
        except (TypeError, ValueError) as exc:
            return self.default, [*problems, OptionProblem(key, _sentence(exc), INVALID)]
        if self.choices and value not in self.choices:
            message = f"must be one of {self.choices}, not {configured!r}."
            return self.default, [*problems, OptionProblem(key, message, INVALID)]
        if self.url and not str(value).startswith(("https://", "http://")):
            return self.default, [*problems, OptionProblem(key, "must be an absolute http(s) URL.", INVALID)]
        return value, problems

    @property
    def default_text(self) -> str:
        """The default as the docs show it."""
        if self.required:
            return "required"
        if self.default_doc:
            return self.default_doc
        if self.default is None:
            return "unset"
        value = self.default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, tuple | frozenset | set):
            value = sorted(value) if isinstance(value, frozenset | set) else list(value)
        return f"`{value!r}`" if isinstance(value, bool) else f"`{json.dumps(value)}`"


@dataclass(frozen=True)
class OptionProblem:
    """What is wrong with one key; ``message`` completes ``DJANGO_KYC["BACKENDS"][alias]["OPTIONS"][key] …``."""

    key: str
    message: str
    kind: str

    def text(self, alias: str) -> str:
        return f"{option_path(alias, self.key)} {self.message}"


def option_path(alias: str, key: str) -> str:
    return f'DJANGO_KYC["BACKENDS"]["{alias}"]["OPTIONS"]["{key}"]'


def _unset(value: Any) -> bool:
    return value is None or value == ""


def _sentence(exc: BaseException) -> str:
    message = str(exc).strip() or f"is invalid ({type(exc).__name__})"
    return message if message.endswith(".") else f"{message}."


def read_options(
    specs: Mapping[str, Option], options: Mapping[str, Any], owner: str, *, exhaustive: bool = True
) -> tuple[dict[str, Any], list[OptionProblem]]:
    """Every declared option's value, and every problem with the configuration, in declaration order.

    With ``exhaustive`` (the class declares all its keys) a key nobody declared is a problem too, with the
    declared key it most resembles, so a typo (``"CALLBACK_ULR"``) is not silently ignored.
    """
    values: dict[str, Any] = {}
    problems: list[OptionProblem] = []
    for spec in specs.values():
        values[spec.name], found = spec.read(options, owner)
        problems.extend(found)
    if exhaustive:
        known = {name for spec in specs.values() for name in (spec.name, *spec.aliases)}
        for key in options:
            if key not in known:
                close = difflib.get_close_matches(str(key), sorted(known), n=1)
                hint = f' Did you mean ["{close[0]}"]?' if close else ""
                problems.append(OptionProblem(str(key), f"is not an option of {owner}; it is ignored.{hint}", UNKNOWN))
    return values, problems
