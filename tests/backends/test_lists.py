"""The lists backend end to end: a person AML check screened against lists loaded through the real loader.

The provider contract (:class:`tests.backends.contract.BackendContract`) is about verifications, webhooks and
provider HTTP, none of which this backend has (it declares ``aml`` only and calls no provider); what every
shipped backend must satisfy (declarations, docs, no model writes) runs from ``test_capabilities``,
``test_docs`` and ``test_base`` over ``SHIPPED_BACKENDS``. Here: screening, the evidence, the false-positive
memory and the error when no list is loaded.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.test import override_settings

from django_kyc.backends.lists import NOTHING_LOADED, ListsBackend
from django_kyc.models import AmlCheck, Applicant
from django_kyc.models.aml import AmlHit
from django_kyc.sanctions.matching import ALGORITHM_VERSION
from django_kyc.sanctions.records import PartialDate
from django_kyc.services import aml, dismissals
from django_kyc.services.audit import Change
from django_kyc.status import AmlStatus, Source
from tests.support.lists import load, person

pytestmark = pytest.mark.django_db
SOKOLOV = person("1001", "Ivan Petrovich SOKOLOV", dobs=[PartialDate(1961, 5, 2)], nationalities=["RU"])


@pytest.fixture
def lists_backend() -> Iterator[None]:
    kyc = {
        **settings.DJANGO_KYC,
        "BACKENDS": {**settings.DJANGO_KYC["BACKENDS"], "lists": {"CLASS": "django_kyc.backends.lists.ListsBackend"}},
        "AML_BACKEND": "lists",
    }
    with override_settings(DJANGO_KYC=kyc):
        yield


@pytest.fixture
def sokolov(make_applicant: Any, user: Any) -> Applicant:
    applicant: Applicant = make_applicant(
        user=user, last_name="Sokolov", date_of_birth=datetime.date(1961, 5, 2), with_document=False
    )
    Applicant.objects.filter(pk=applicant.pk).update(first_name="Ivan", nationality="RU")
    applicant.refresh_from_db()
    return applicant


def screened(applicant: Applicant) -> AmlCheck:
    """An AML check started without naming a backend (so ``AML_BACKEND`` applies), run as the worker would."""
    check = aml.start_check(applicant, Change.system(Source.API))
    aml.run_check(check.pk)
    check.refresh_from_db()
    return check


def test_no_list_loaded_is_an_error_not_clear(lists_backend: None, sokolov: Applicant) -> None:
    check = screened(sokolov)
    assert check.backend == "lists"
    assert check.status == AmlStatus.ERROR
    assert check.last_error == NOTHING_LOADED == "no sanctions list is loaded; run kyc_load_lists"


def test_a_listed_person_is_a_potential_match_with_evidence(lists_backend: None, sokolov: Applicant) -> None:
    version = load("ofac_sdn", [SOKOLOV])
    check = screened(sokolov)
    assert check.status == AmlStatus.POTENTIAL_MATCH
    hit = check.hits.get()
    assert hit.entity_id == "ofac_sdn:1001"
    assert hit.caption == "Ivan Petrovich SOKOLOV"
    assert list(hit.topics) == ["sanction"]
    assert hit.details["list_version"] == version.pk
    assert hit.details["algorithm"] == ALGORITHM_VERSION
    assert hit.details["dob"]["verdict"] == "match"
    assert hit.details["entity_digest"] == SOKOLOV.digest()


def test_a_clean_person_is_clear(lists_backend: None, make_applicant: Any, user: Any) -> None:
    load("ofac_sdn", [SOKOLOV])
    check = screened(make_applicant(user=user, last_name="Brown", with_document=False))
    assert check.status == AmlStatus.CLEAR
    assert check.provider_data["lists"] == ["ofac_sdn"]


def test_a_dismissal_holds_until_the_entry_changes(lists_backend: None, sokolov: Applicant, user: Any) -> None:
    load("ofac_sdn", [SOKOLOV])
    hit = AmlHit.objects.get(aml_check=screened(sokolov))
    dismissals.remember(hit, user)
    assert screened(sokolov).status == AmlStatus.CLEAR  # the same entry: not raised again
    amended = person("1001", "Ivan Petrovich SOKOLOV", "Ivan Sokoloff", dobs=[PartialDate(1961, 5, 2)])
    load("ofac_sdn", [amended])
    again = screened(sokolov)
    assert again.status == AmlStatus.POTENTIAL_MATCH
    assert again.hits.get().details["entity_digest"] == amended.digest()


def test_only_the_chosen_lists_are_screened(sokolov: Applicant) -> None:
    load("un_sc", [SOKOLOV])
    check = AmlCheck(applicant=sokolov, backend="lists")
    assert ListsBackend("lists", {}).screen(check).status == AmlStatus.POTENTIAL_MATCH
    with pytest.raises(Exception, match="no sanctions list is loaded"):
        ListsBackend("lists", {"LISTS": ["ofac_sdn"]}).screen(check)


def test_unknown_list_names_are_a_configuration_error() -> None:
    with pytest.raises(Exception, match="unknown lists"):
        ListsBackend("lists", {"LISTS": ["ofac"]})


def test_system_check_warns_when_nothing_is_loaded(lists_backend: None) -> None:
    ids = [message.id for message in run_checks(databases=["default"])]
    assert "django_kyc.W095" in ids
    load("ofac_sdn", [SOKOLOV])
    assert "django_kyc.W095" not in [message.id for message in run_checks(databases=["default"])]
    assert "django_kyc.W095" not in [message.id for message in run_checks()]  # no database: not asked


def test_aml_backend_must_be_configured_and_screen_people() -> None:
    with override_settings(DJANGO_KYC={**settings.DJANGO_KYC, "AML_BACKEND": "nope"}):
        assert "django_kyc.E095" in [message.id for message in run_checks()]
