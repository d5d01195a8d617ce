"""Declarative backend options: one declaration builds the backend, feeds ``manage.py check`` and the docs."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import pytest
from django.test import override_settings

from django_kyc.backends.base import KycBackend, Option
from django_kyc.backends.options import (
    boolean,
    dictionary,
    dotted_callable,
    integer,
    number,
    raw,
    secrets,
    strings,
)
from django_kyc.checks import check_backends
from django_kyc.exceptions import KycConfigurationError
from tests.support.kyc_settings import kyc_settings_with, suite_backends


class DeclaredBackend(KycBackend):
    provider = "declared"
    option_specs = (
        Option("TOKEN", "The token.", required=True, secret=True),
        Option("BASE_URL", "The API root.", url=True, default="https://api.example.com/"),
        Option("TOLERANCE", "Seconds.", coerce=number(minimum=0), default=300.0),
        Option("PAGE_SIZE", "Items per page.", coerce=integer(minimum=1, maximum=100), default=50),
        Option("MODE", "api or form.", choices=("api", "form"), default="api"),
        Option("STRICT", "A flag.", coerce=boolean, default=False),
        Option("KEYS", "Secrets, newest first.", coerce=secrets, secret=True),
        Option("TAGS", "Names.", coerce=strings, default=()),
        Option("FIELDS", "A dict.", coerce=dictionary),
        Option("HOOK", "A callable.", coerce=dotted_callable),
        Option("CALLBACK_URL", "Where callbacks go.", url=True, aliases=("WEBHOOK_URL",)),
    )


def build(**options: Any) -> DeclaredBackend:
    return DeclaredBackend("dec", {"TOKEN": "t", **options})


def hook(value: Any) -> Any:
    return value


NOT_CALLABLE = 42


def test_defaults_apply_when_a_key_is_absent_none_or_empty() -> None:
    backend = build(BASE_URL=None, MODE="")
    assert backend.option("BASE_URL") == "https://api.example.com/"
    assert backend.option("TOLERANCE") == 300.0
    assert backend.option("PAGE_SIZE") == 50
    assert backend.option("MODE") == "api"
    assert backend.option("STRICT") is False
    assert backend.option("KEYS") is None
    assert backend.option("TAGS") == ()
    assert backend.option("CONNECT_TIMEOUT") is None  # every backend has the timeouts
    assert backend.options == {"TOKEN": "t", "BASE_URL": None, "MODE": ""}  # what the site wrote, untouched


def test_values_are_coerced() -> None:
    backend = build(
        TOLERANCE="5",
        PAGE_SIZE="20",
        STRICT=1,
        KEYS=["new", "old"],
        TAGS="one",
        FIELDS={"cf1": "reference"},
        HOOK=f"{__name__}.hook",
        READ_TIMEOUT=2,
    )
    assert backend.option("TOLERANCE") == 5.0
    assert backend.option("PAGE_SIZE") == 20
    assert backend.option("STRICT") is True
    assert backend.option("KEYS") == [b"new", b"old"]
    assert backend.option("TAGS") == ("one",)
    assert backend.option("FIELDS") == {"cf1": "reference"}
    assert backend.option("HOOK") is hook
    assert backend.option("READ_TIMEOUT") == 2.0


def test_an_undeclared_name_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="declares no option 'TOKNE'"):
        build().option("TOKNE")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"TOKEN": ""}, '["OPTIONS"]["TOKEN"] is required by DeclaredBackend.'),
        ({"BASE_URL": "api.example.com"}, '["OPTIONS"]["BASE_URL"] must be an absolute http(s) URL.'),
        ({"MODE": "sdk"}, """["OPTIONS"]["MODE"] must be one of ('api', 'form'), not 'sdk'."""),
        ({"TOLERANCE": "soon"}, """["OPTIONS"]["TOLERANCE"] must be a number, not 'soon'."""),
        ({"TOLERANCE": -1}, '["OPTIONS"]["TOLERANCE"] must be at least 0, not -1.'),
        ({"PAGE_SIZE": 500}, '["OPTIONS"]["PAGE_SIZE"] must be between 1 and 100, not 500.'),
        ({"PAGE_SIZE": True}, '["OPTIONS"]["PAGE_SIZE"] must be an integer, not True.'),
        ({"KEYS": 7}, '["OPTIONS"]["KEYS"] must be one secret (a string) or a list of them, not int.'),
        ({"FIELDS": ["cf1"]}, '["OPTIONS"]["FIELDS"] must be a dict, not list.'),
        ({"HOOK": "tests.nowhere.hook"}, '["OPTIONS"]["HOOK"] cannot be imported'),
        ({"HOOK": f"{__name__}.NOT_CALLABLE"}, '["OPTIONS"]["HOOK"] must name a callable, not int.'),
        ({"READ_TIMEOUT": 0}, '["OPTIONS"]["READ_TIMEOUT"] must be at least 0.001, not 0.'),
    ],
)
def test_a_bad_value_is_a_configuration_error_naming_the_key(options: dict[str, Any], message: str) -> None:
    with pytest.raises(KycConfigurationError) as caught:
        DeclaredBackend("dec", {"TOKEN": "t", **options})
    assert str(caught.value).startswith('DJANGO_KYC["BACKENDS"]["dec"]')
    assert message in str(caught.value)


def test_a_missing_key_is_named_before_a_bad_one() -> None:
    """As before the declarations: construction names the missing key first (the order the checks list)."""
    with pytest.raises(KycConfigurationError, match=r'\["TOKEN"\] is required'):
        DeclaredBackend("dec", {"MODE": "sdk"})


def test_a_deprecated_name_still_works_with_a_warning_naming_both() -> None:
    with pytest.warns(DeprecationWarning, match="deprecated") as caught:
        backend = build(WEBHOOK_URL="https://site.example/kyc/webhooks/dec/")
    assert backend.option("CALLBACK_URL") == "https://site.example/kyc/webhooks/dec/"
    assert backend.options["CALLBACK_URL"] == "https://site.example/kyc/webhooks/dec/"  # for code reading options
    assert str(caught[0].message) == (
        'DJANGO_KYC["BACKENDS"]["dec"]["OPTIONS"]["WEBHOOK_URL"] is deprecated: rename it to ["CALLBACK_URL"].'
    )


def test_the_new_name_wins_over_a_deprecated_one() -> None:
    with pytest.warns(DeprecationWarning, match="ignored"):
        backend = build(WEBHOOK_URL="https://old.example/", CALLBACK_URL="https://new.example/")
    assert backend.option("CALLBACK_URL") == "https://new.example/"


def test_a_deprecated_name_is_checked_like_the_new_one() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(KycConfigurationError, match=r'\["WEBHOOK_URL"\] must be an absolute http\(s\) URL'):
            build(WEBHOOK_URL="/kyc/webhooks/dec/")


def test_the_derived_lists_follow_the_declaration() -> None:
    assert DeclaredBackend.required_options == ("TOKEN",)
    assert DeclaredBackend.secret_options == ("TOKEN", "KEYS")
    assert DeclaredBackend.url_options == ("BASE_URL", "CALLBACK_URL")
    assert DeclaredBackend.choice_options == {"MODE": (("api", "form"), "api")}
    assert DeclaredBackend.missing_options({}) == ["TOKEN"]
    assert list(DeclaredBackend.declared_options)[-2:] == ["CONNECT_TIMEOUT", "READ_TIMEOUT"]


class LegacyBackend(KycBackend):
    """Written before ``option_specs``: the old class attributes still work."""

    provider = "legacy"
    required_options: ClassVar[tuple[str, ...]] = ("API_TOKEN",)
    secret_options: ClassVar[tuple[str, ...]] = ("API_TOKEN",)
    url_options: ClassVar[tuple[str, ...]] = ("CALLBACK_URL",)
    choice_options: ClassVar[dict[str, tuple[tuple[Any, ...], Any]]] = {"MODE": (("api", "form"), "api")}


def test_the_old_class_attributes_become_declarations() -> None:
    with pytest.raises(KycConfigurationError, match=r'\["API_TOKEN"\] is required by LegacyBackend'):
        LegacyBackend("old", {})
    with pytest.raises(KycConfigurationError, match=r'\["CALLBACK_URL"\] must be an absolute'):
        LegacyBackend("old", {"API_TOKEN": "t", "CALLBACK_URL": "/x/"})
    with pytest.raises(KycConfigurationError, match=r'\["MODE"\] must be one of'):
        LegacyBackend("old", {"API_TOKEN": "t", "MODE": "sdk"})
    backend = LegacyBackend("old", {"API_TOKEN": ["kept", "as configured"], "EXTRA": 1})
    assert backend.option("API_TOKEN") == ["kept", "as configured"]  # not coerced: the class reads it itself
    assert backend.option("MODE") == "api"
    assert LegacyBackend.secret_options == ("API_TOKEN",)
    # a class that never declared all its keys gets no warning about undeclared ones
    assert [p.kind for p in LegacyBackend.read_options("old", {"API_TOKEN": "t", "EXTRA": 1})[1]] == []


def test_raw_keeps_a_value_as_configured() -> None:
    assert raw([1, "2"]) == [1, "2"]


# --- the system check reports every problem from the same declaration ------------------------------------


def messages_for(options: dict[str, Any]) -> list[Any]:
    backends = suite_backends(dec={"CLASS": f"{__name__}.DeclaredBackend", "OPTIONS": options})
    with override_settings(DEBUG=True, DJANGO_KYC=kyc_settings_with(BACKENDS=backends)):
        return check_backends()


def test_check_reports_every_problem_not_only_the_first() -> None:
    messages = messages_for({"BASE_URL": "nope", "MODE": "sdk", "TOLERANCE": "x"})
    prefix = 'DJANGO_KYC["BACKENDS"]["dec"]["OPTIONS"]'
    assert [(m.id, m.msg) for m in messages] == [
        ("django_kyc.E005", f'{prefix}["TOKEN"] is required by DeclaredBackend.'),
        ("django_kyc.E008", f'{prefix}["BASE_URL"] must be an absolute http(s) URL.'),
        ("django_kyc.E008", f"{prefix}[\"TOLERANCE\"] must be a number, not 'x'."),
        ("django_kyc.E008", f"{prefix}[\"MODE\"] must be one of ('api', 'form'), not 'sdk'."),
    ]


def test_check_warns_about_a_deprecated_name_and_a_misspelt_key() -> None:
    messages = messages_for({"TOKEN": "t", "WEBHOOK_URL": "https://x.example/", "TOLERENCE": 5})
    assert [m.id for m in messages] == ["django_kyc.W005", "django_kyc.W006"]
    assert 'rename it to ["CALLBACK_URL"]' in messages[0].msg
    assert messages[1].msg == (
        'DJANGO_KYC["BACKENDS"]["dec"]["OPTIONS"]["TOLERENCE"] is not an option of DeclaredBackend; it is '
        'ignored. Did you mean ["TOLERANCE"]?'
    )


def test_check_passes_a_good_configuration() -> None:
    assert messages_for({"TOKEN": "t", "MODE": "form", "TOLERANCE": 10}) == []


class RuledBackend(DeclaredBackend):
    @classmethod
    def option_rules(cls, config: Any) -> list[tuple[str, str]]:
        return [("TAGS", "must not be empty in form mode.")] if config["MODE"] == "form" and not config["TAGS"] else []


def test_a_rule_across_options_is_checked_once_each_key_is_valid() -> None:
    with pytest.raises(KycConfigurationError, match=r'\["TAGS"\] must not be empty in form mode'):
        RuledBackend("dec", {"TOKEN": "t", "MODE": "form"})
    RuledBackend("dec", {"TOKEN": "t", "MODE": "form", "TAGS": ["a"]})
    # a key that is wrong on its own is reported first (the rule would read its default)
    with pytest.raises(KycConfigurationError, match=r'\["MODE"\] must be one of'):
        RuledBackend("dec", {"TOKEN": "t", "MODE": "sdk"})


# --- the shipped backends ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "options", "key"),
    [
        ("django_kyc.backends.allpass.AllpassBackend", {"HMAC_KEY_ENCODING": "hex", "HMAC_KEY": "zz"}, "HMAC_KEY"),
        ("django_kyc.backends.allpass.AllpassBackend", {"AML_SCORE_THRESHOLD": "high"}, "AML_SCORE_THRESHOLD"),
        ("django_kyc.backends.argos.ArgosBackend", {"PAGE_SIZE": 0}, "PAGE_SIZE"),
        ("django_kyc.backends.sandbox.SandboxBackend", {"TOLERANCE": "soon"}, "TOLERANCE"),
        ("django_kyc.backends.sandbox.SandboxBackend", {"WEBHOOK_URL": "/kyc/webhooks/x/"}, "WEBHOOK_URL"),
        ("django_kyc.backends.provide.ProvideBackend", {"BASE_URL": "ident.provide.services"}, "BASE_URL"),
    ],
)
def test_shipped_backends_refuse_a_bad_value_at_startup(path: str, options: dict[str, Any], key: str) -> None:
    from django.utils.module_loading import import_string

    cls = import_string(path)
    required = {
        "AllpassBackend": {"PRIVATE_APP_KEY": "k", "BASE_URL": "https://allpass.invalid", "FLOW_NAME": "f"},
        "ArgosBackend": {"API_KEY": "k", "PROJECT_ID": "p"},
        "ProvideBackend": {"TOKEN": "t"},
    }.get(cls.__name__, {})
    backends = suite_backends(bad={"CLASS": path, "OPTIONS": {**required, **options}})
    with override_settings(DEBUG=True, DJANGO_KYC=kyc_settings_with(BACKENDS=backends)):
        messages = [m for m in check_backends() if '["bad"]' in m.msg]
    assert [m.id for m in messages] == ["django_kyc.E008"]
    assert f'["OPTIONS"]["{key}"]' in messages[0].msg
    with pytest.raises(KycConfigurationError, match=rf'\["{key}"\]'):
        cls("bad", {**required, **options})
