"""The ``lists`` backend: AML screening of persons against the lists in the database, answered at once.

A screening with no list loaded must not come back ``clear``: that would tell a compliance officer someone is
not sanctioned when nothing was looked at. It raises a configuration error instead, so the check ends in
``error`` with the fix in its message (and system check ``W095`` warns before anyone screens).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from django_kyc.backends.base import AmlHitResult, AmlResult, Capability, KycBackend, Option
from django_kyc.backends.options import boolean, integer, number, strings
from django_kyc.exceptions import KycConfigurationError, PermanentProviderError
from django_kyc.status import AmlStatus

if TYPE_CHECKING:
    from django_kyc.models import AmlCheck
    from django_kyc.sanctions.matching import Match

# The models and the matcher are imported where used: the docs generator and the provider matrix import the
# shipped backend classes without Django configured.

#: The error a screening with nothing to screen against ends in.
NOTHING_LOADED = "no sanctions list is loaded; run kyc_load_lists"
#: The default threshold, chosen from the benchmark (docs/benchmarks.md, "Screening quality").
DEFAULT_THRESHOLD = 0.85
#: Every list on the supported lists is a sanctions list.
TOPICS = ("sanction",)


def loaded_lists(sources: Sequence[str] = ()) -> list[str]:
    """The lists (of ``sources``, or all) that have a version in use."""
    from django_kyc.models import SanctionsList

    query = SanctionsList.objects.filter(current_version__isnull=False)
    if sources:
        query = query.filter(source__in=sources)
    return list(query.order_by("source").values_list("source", flat=True))


def _sources(value: object) -> tuple[str, ...]:
    from django_kyc.models.sanctions import ListSource

    chosen = strings(value)
    known = set(ListSource.values)
    unknown = [source for source in chosen if source not in known]
    if unknown:
        raise ValueError(f"names unknown lists {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return chosen


class ListsBackend(KycBackend):
    """Person screening against the official sanctions lists stored by ``kyc_load_lists``."""

    provider = "lists"
    display_name = "Sanctions lists (local)"
    capabilities = frozenset({Capability.AML})
    option_specs: ClassVar[tuple[Option, ...]] = (
        Option(
            "THRESHOLD",
            "Score (0 to 1) from which a listed entry is a potential match. Lower finds more spellings and raises "
            "more namesakes: see the threshold curve in docs/screening.md.",
            coerce=number(minimum=0.5, maximum=1.0),
            default=DEFAULT_THRESHOLD,
        ),
        Option(
            "LISTS",
            "The lists screened (`ofac_sdn`, `ofac_cons`, `un_sc`, `eu_fsf`, `uk_sl`). Empty: every loaded list.",
            coerce=_sources,
            default=(),
        ),
        Option("MAX_HITS", "Most hits one screening raises, best first.", coerce=integer(minimum=1), default=10),
        Option(
            "INCLUDE_ORGANISATIONS",
            "Also screen a person's name against listed organisations (off: persons against persons only).",
            coerce=boolean,
            default=False,
        ),
    )

    def check_aml_subject(self, aml_check: AmlCheck) -> None:
        from django_kyc.models.aml import AmlSubject

        if aml_check.subject != AmlSubject.APPLICANT:
            raise PermanentProviderError("the lists backend screens persons only")

    def screen(self, aml_check: AmlCheck) -> AmlResult:
        from django_kyc.sanctions.matching import ALGORITHM_VERSION, Subject, screen

        sources = tuple(self.option("LISTS"))
        loaded = loaded_lists(sources)
        if not loaded:
            raise KycConfigurationError(NOTHING_LOADED)
        applicant = aml_check.applicant
        subject = Subject.person(
            first_name=applicant.first_name,
            middle_name=applicant.middle_name,
            last_name=applicant.last_name,
            born=applicant.date_of_birth,
            nationality=applicant.nationality,
            include_organisations=self.option("INCLUDE_ORGANISATIONS"),
        )
        if not subject.names:
            raise PermanentProviderError("the applicant has no name to screen")
        threshold = float(self.option("THRESHOLD"))
        matches = screen(subject, threshold, sources=sources, max_hits=self.option("MAX_HITS"))
        hits = [self._hit(match, threshold) for match in matches]
        return AmlResult(
            status=AmlStatus.POTENTIAL_MATCH if hits else AmlStatus.CLEAR,
            provider_status="matched" if hits else "clear",
            hits=hits,
            data={"lists": loaded, "algorithm": ALGORITHM_VERSION, "threshold": threshold},
            score=max((hit.score or 0.0 for hit in hits), default=0.0),
        )

    @staticmethod
    def _hit(match: Match, threshold: float) -> AmlHitResult:
        return AmlHitResult(
            entity_id=match.entry.entity_id,
            caption=match.entry.caption,
            score=round(match.score, 4),
            topics=TOPICS,
            datasets=(match.entry.sanctions_list.source,),
            details=match.details(threshold),
        )
