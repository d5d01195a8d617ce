"""yente against its fake server: the AML contract, then what only yente has (the FtM query, the evidence
on hits, yente's errors, the reviewers' dismissals told to yente and the probe for amended entities)."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import pytest

from django_kyc.backends import get_backend
from django_kyc.backends.yente import YenteBackend, describe_error
from django_kyc.exceptions import KycConfigurationError
from django_kyc.models import AmlCheck, AmlHit, Applicant
from django_kyc.status import AmlStatus
from django_kyc.testing import FakeProviderServer
from django_kyc.testing.yente import SOURCES, FakeYente
from tests.backends.aml_contract import AmlContract
from tests.backends.contract import ALIAS

API_KEY = "os-test-key"
SOKOLOV = {
    "first_name": "Ivan",
    "middle_name": "Petrovich",
    "last_name": "Sokolov",
    "date_of_birth": datetime.date(1967, 3, 12),
    "nationality": "RU",
    "country": "DE",
}


def yente() -> YenteBackend:
    instance = get_backend(ALIAS)
    assert isinstance(instance, YenteBackend)
    return instance


class YenteHooks(AmlContract):
    backend_class = "django_kyc.backends.yente.YenteBackend"
    server_class = FakeYente
    MATCHING = SOKOLOV
    CLEAR = {"first_name": "Jane", "last_name": "Smith", "nationality": "GB"}
    PERMANENT_STATUS = 400

    def server_kwargs(self) -> dict[str, Any]:
        return {"api_key": API_KEY}

    def backend_options(self, server: FakeProviderServer) -> dict[str, Any]:
        return {"BASE_URL": server.base_url, "API_KEY": API_KEY}

    def wrong_credentials(self, options: dict[str, Any]) -> dict[str, Any] | None:
        return {**options, "API_KEY": "revoked"}


class TestYenteContract(YenteHooks):
    """The shared AML contract, against the fake asking for an API key as the hosted API does."""


class TestYente(YenteHooks):
    # --- what is sent --------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_the_request_is_an_ftm_person_with_the_configured_parameters(
        self, server: FakeYente, options: dict[str, Any]
    ) -> None:
        configured = {
            **options,
            "DATASET": "sanctions",
            "THRESHOLD": 0.8,
            "LIMIT": 7,
            "ALGORITHM": "logic-v2",
            "TOPICS": ["sanction", "role.pep"],
            "EXCLUDE_SCHEMA": ["Vessel"],
            "INCLUDE_DATASET": ["us_ofac_sdn"],
        }
        with self.configured(configured):
            check = self.run(self.start(self.person(SOKOLOV)))
        assert check.status == AmlStatus.POTENTIAL_MATCH, check.last_error
        (sent,) = server.match_requests
        assert sent["dataset"] == "sanctions"
        assert sent["headers"]["Authorization"] == f"ApiKey {API_KEY}"
        assert sent["params"] == {
            "limit": ["7"],
            "threshold": ["0.8"],
            "algorithm": ["logic-v2"],
            "topics": ["sanction", "role.pep"],
            "exclude_schema": ["Vessel"],
            "include_dataset": ["us_ofac_sdn"],
        }
        assert sent["body"] == {
            "queries": {
                str(check.pk): {
                    "schema": "Person",
                    "properties": {
                        "name": ["Ivan Petrovich Sokolov"],
                        "firstName": ["Ivan"],
                        "middleName": ["Petrovich"],
                        "lastName": ["Sokolov"],
                        "birthDate": ["1967-03-12"],
                        "nationality": ["ru"],
                        "country": ["de"],
                    },
                }
            }
        }

    @pytest.mark.django_db
    def test_without_an_api_key_no_authorization_header_is_sent(
        self, server: FakeYente, options: dict[str, Any]
    ) -> None:
        server.api_key = ""
        with self.configured({**options, "API_KEY": ""}):
            check = self.run(self.start(self.person({"last_name": "Haddad", "first_name": "Omar"})))
        assert check.status == AmlStatus.POTENTIAL_MATCH, check.last_error
        assert "Authorization" not in server.match_requests[0]["headers"]
        assert server.match_requests[0]["params"]["limit"] == ["10"]
        assert server.match_requests[0]["params"]["algorithm"] == ["best"]

    @pytest.mark.django_db
    def test_a_person_without_a_name_is_refused_before_anything_is_sent(self, server: FakeYente, backend: None) -> None:
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError, match="by name"):
            self.start(self.person({"nationality": "RU"}))
        assert server.match_requests == []

    # --- hits and evidence ---------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_matching_results_become_hits_with_their_evidence(self, server: FakeYente, backend: None) -> None:
        check = self.run(self.start(self.person(SOKOLOV)))
        assert check.status == AmlStatus.POTENTIAL_MATCH
        hit = check.hits.get()  # the namesake PEP born 1985 scores under the threshold: no hit
        listed = server.entity("NK-fake-sokolov")
        assert (hit.entity_id, hit.caption, hit.score) == ("NK-fake-sokolov", "Ivan Petrovich Sokolov", 1.0)
        assert (hit.topics, hit.datasets) == (["sanction"], ["us_ofac_sdn", "eu_fsf"])
        details = hit.details
        assert details["entity_digest"] == details["last_change"] == listed["last_change"]
        assert details["referents"] == listed["referents"]
        assert details["algorithm"] == "logic-v2"  # "best", as GET /algorithms resolves it
        assert details["dataset_versions"] == {name: SOURCES[name] for name in ("us_ofac_sdn", "eu_fsf")}
        assert details["explanations"]["name_match"]["score"] == 1.0
        assert details["explanations"]["dob_match"]["candidate"] == "1967-03-12"
        assert all("query" not in feature for feature in details["explanations"].values())
        assert details["properties"]["birthDate"] == ["1967-03-12"]
        data = check.provider_data
        # the namesake scores 0.65: under the cutoff (= threshold), so yente does not return it at all
        assert (data["results"], data["below_threshold"], data["threshold"]) == (1, 0, 0.7)
        assert data["dataset_versions"] == details["dataset_versions"]
        assert check.score == 1.0

    @pytest.mark.django_db
    def test_a_lower_threshold_makes_the_namesake_a_hit_too(self, server: FakeYente, options: dict[str, Any]) -> None:
        with self.configured({**options, "THRESHOLD": 0.3}):
            check = self.run(self.start(self.person(SOKOLOV)))
        assert sorted(check.hits.values_list("entity_id", flat=True)) == ["NK-fake-sokolov", "Q-fake-sokolov-pep"]
        assert AmlHit.objects.get(entity_id="Q-fake-sokolov-pep").topics == ["role.pep"]

    @pytest.mark.django_db
    def test_dataset_versions_unavailable_do_not_fail_the_screening(self, server: FakeYente, backend: None) -> None:
        server.fail_next(1, status=500, path="/catalog")
        check = self.run(self.start(self.person(SOKOLOV)))
        assert check.status == AmlStatus.POTENTIAL_MATCH
        assert "dataset versions unavailable" in check.provider_data["dataset_versions_error"]
        assert check.hits.get().details["dataset_versions"] == {}

    # --- errors --------------------------------------------------------------------------------------
    @pytest.mark.django_db
    @pytest.mark.parametrize(
        ("option", "value", "message"),
        [
            ("ALGORITHM", "nope", "Invalid algorithm: nope"),
            ("DATASET", "no_such_list", "No such dataset."),
        ],
    )
    def test_yentes_refusals_end_in_error_with_its_detail(
        self, server: FakeYente, options: dict[str, Any], option: str, value: str, message: str
    ) -> None:
        with self.configured({**options, option: value}):
            check = self.run(self.start(self.person(SOKOLOV)))
        assert check.status == AmlStatus.ERROR
        assert check.attempts == 1
        assert message in check.last_error

    def test_fastapis_validation_errors_are_read_without_their_input(self) -> None:
        body = {
            "detail": [
                {
                    "type": "too_long",
                    "loc": ["query", "exclude_entity_ids"],
                    "msg": "Tuple should have at most 50 items after validation, not 51",
                    "input": ["Ivan Sokolov"],
                },
                {"type": "missing", "loc": ["body", "queries", "k", "schema"], "msg": "Field required"},
            ]
        }
        assert describe_error(body) == (
            "exclude_entity_ids: Tuple should have at most 50 items after validation, not 51; "
            "queries.k.schema: Field required"
        )
        assert describe_error({"detail": "No such dataset."}) == "No such dataset."
        assert describe_error({"status": "error"}) == ""

    def test_the_hosted_api_needs_a_key(self) -> None:
        with pytest.raises(KycConfigurationError, match=r'\["API_KEY"\] is required by OpenSanctions\' hosted API'):
            YenteBackend("y", {"BASE_URL": "https://api.opensanctions.org"})
        YenteBackend("y", {"BASE_URL": "https://api.opensanctions.org", "API_KEY": "k"})
        YenteBackend("y", {"BASE_URL": "http://yente:8000"})

    # --- privacy -------------------------------------------------------------------------------------
    @pytest.mark.django_db
    def test_no_personal_data_reaches_the_logs(
        self, server: FakeYente, backend: None, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        server.fail_next(1, status=400, message="Cannot parse example entity: Ivan Petrovich Sokolov")
        failed = self.run(self.start(self.person(SOKOLOV)))
        assert failed.status == AmlStatus.ERROR
        check = self.run(self.start(self.person(SOKOLOV)))
        assert check.status == AmlStatus.POTENTIAL_MATCH
        assert "/match/default" in caplog.text
        logged = "\n".join(record.getMessage() for record in caplog.records)
        for personal in ("Ivan", "Petrovich", "1967-03-12", "1967"):
            assert personal not in logged


def many_applicants(count: int) -> list[Applicant]:
    return [Applicant.objects.create(first_name="Person", last_name=f"Number{index}") for index in range(count)]


def unstarted_check(applicant: Applicant) -> AmlCheck:
    return AmlCheck.objects.create(applicant=applicant, backend=ALIAS)
