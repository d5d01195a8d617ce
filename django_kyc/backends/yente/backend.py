"""The yente backend: person screening against a yente service's ``/match`` (options: :mod:`.options`;
facts, self-hosting and the data licence: ``docs/providers/yente.md``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from django.utils.translation import gettext

from django_kyc.backends.base import AmlHitResult, AmlResult, Capability, KycBackend
from django_kyc.backends.yente import options
from django_kyc.backends.yente.client import AUTH_HEADER, YenteClient, yente_error_message
from django_kyc.backends.yente.exclusions import ExclusionPlan, dismissals_for, plan_for
from django_kyc.backends.yente.facts import FactsCache, ServiceFacts
from django_kyc.backends.yente.query import PROVIDER, match_params, person_query
from django_kyc.backends.yente.results import amended, hits_from, matches_of, results_of
from django_kyc.exceptions import UnsupportedFeature
from django_kyc.status import AmlStatus

NO_EXCLUSIONS = ExclusionPlan()

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck


class YenteBackend(KycBackend):
    """Person AML screening with yente, OpenSanctions' open-source matching API, self-hosted or hosted."""

    provider = PROVIDER
    display_name = "yente (OpenSanctions)"
    #: Screening only: yente verifies no one, sends no webhooks, keeps no record of whom it screened (so there
    #: is nothing to erase or monitor there) and issues no reports.
    capabilities = frozenset({Capability.AML})
    option_specs = options.OPTION_SPECS

    @classmethod
    def option_rules(cls, config: Mapping[str, Any]) -> list[tuple[str, str]]:
        return options.option_rules(config)

    @cached_property
    def client(self) -> YenteClient:
        key = str(self.option("API_KEY") or "")
        client = self.http_client(
            str(self.option("BASE_URL")),
            headers={AUTH_HEADER: f"ApiKey {key}"} if key else None,
            error_message=yente_error_message,
            client_class=YenteClient,
        )
        return cast(YenteClient, client)

    @cached_property
    def facts_cache(self) -> FactsCache:
        return FactsCache()

    def facts(self) -> ServiceFacts:
        """Dataset versions and the ``best`` algorithm (:mod:`.facts`: cached, read leniently)."""
        return self.facts_cache.get(self.client.catalog, self.client.algorithms)

    # --- screening -----------------------------------------------------------------------------------
    def check_aml_subject(self, aml_check: AmlCheck) -> None:
        from django_kyc.models.aml import AmlSubject

        if aml_check.subject != AmlSubject.APPLICANT:
            raise UnsupportedFeature(
                self.provider, gettext("AML screening of a %(subject)s") % {"subject": aml_check.subject}
            )
        person_query(aml_check.applicant)

    def screen(self, aml_check: AmlCheck) -> AmlResult:
        """One ``/match`` call for the applicant, the reviewers' dismissals excluded at yente (and a second
        call, the probe, when an excluded entity may have been amended since: :mod:`.exclusions`)."""
        self.check_aml_subject(aml_check)
        query = person_query(aml_check.applicant)
        plan = plan_for(dismissals_for(aml_check.applicant, self.alias))
        return self.screen_query(str(aml_check.pk), query, plan)

    def screen_query(self, key: str, query: Mapping[str, Any], plan: ExclusionPlan = NO_EXCLUSIONS) -> AmlResult:
        limit = min(options.MAX_MATCHES, int(self.option("LIMIT")) + plan.left_over)
        params = match_params(self.config, limit=limit, exclude_entity_ids=plan.excluded)
        answer = self.client.match(str(self.option("DATASET")), {key: query}, params)
        found_again: list[Mapping[str, Any]] = []
        if plan.watched:
            probe_limit = min(options.MAX_MATCHES, int(self.option("LIMIT")) + len(plan.watched))
            probe_params = match_params(self.config, limit=probe_limit, changed_since=plan.changed_since)
            probe = self.client.match(str(self.option("DATASET")), {key: query}, probe_params)
            found_again = amended(results_of(matches_of(probe, key)), plan.watched)
        return self.result_from(matches_of(answer, key), found_again, plan, limit=limit)

    def result_from(
        self,
        matches: Mapping[str, Any],
        found_again: Sequence[Mapping[str, Any]] = (),
        plan: ExclusionPlan = NO_EXCLUSIONS,
        *,
        limit: int,
    ) -> AmlResult:
        """The screening's result from one query's ``EntityMatches`` (and the probe's finds)."""
        facts = self.facts()
        threshold = float(self.option("THRESHOLD"))
        algorithm = facts.algorithm(str(self.option("ALGORITHM")))
        results = results_of(matches)
        hits: list[AmlHitResult] = hits_from(results, threshold=threshold, algorithm=algorithm, versions=facts.versions)
        seen = {hit.entity_id for hit in hits}
        again = hits_from(
            found_again, threshold=threshold, algorithm=algorithm, versions=facts.versions, origin="changed_since"
        )
        hits += [hit for hit in again if hit.entity_id not in seen]
        scores = [hit.score for hit in hits if hit.score is not None]
        datasets = sorted({name for hit in hits for name in hit.datasets})
        data: dict[str, Any] = {
            "dataset": str(self.option("DATASET")),
            "algorithm": algorithm,
            "threshold": threshold,
            "limit": limit,
            "total": dict(matches.get("total") or {}),
            "results": len(results),
            "below_threshold": len(results) - sum(1 for hit in hits if hit.details.get("found_by") is None),
            "dataset_versions": {name: facts.versions[name] for name in datasets if name in facts.versions},
            "excluded_entity_ids": list(plan.excluded),
            "dismissed_not_excluded": plan.left_over,
        }
        if found_again:
            data["amended_since_dismissal"] = [hit.entity_id for hit in hits if hit.details.get("found_by")]
        if facts.error:
            data["dataset_versions_error"] = facts.error
        return AmlResult(
            status=AmlStatus.POTENTIAL_MATCH if hits else AmlStatus.CLEAR,
            provider_status="match" if hits else "no_match",
            hits=tuple(hits),
            data=data,
            score=max(scores) if scores else None,
        )
