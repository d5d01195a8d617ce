"""Query-count scenarios: every API list/detail endpoint and every admin page that lists rows, seeded fast.

One list (:data:`ENDPOINTS`) and one measuring routine shared by ``tests/test_query_counts.py`` (which asserts)
and ``bench/queries.py`` (which prints a table), so the test and the benchmark can never disagree about what
was measured.

Why two sizes: an N+1 (one query per row) is invisible when a test creates three rows and ruinous in a real
queue, so each page is requested with :data:`SMALL` and with :data:`LARGE` rows behind it and the two counts
must be equal (and at most :data:`MAX_QUERIES`; the per-request session and permission queries count too).
Seeding uses ``bulk_create`` (encrypted fields and blind indexes are still computed by their fields) and
adds rows in two steps, :data:`SMALL` and then the rest, so one scenario costs one seeding of :data:`LARGE`.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

from django.contrib.auth.models import Permission, User
from django.db import connection
from django.db.models import Model
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_kyc.models import (
    AmlCheck,
    AmlHit,
    AmlQueueItem,
    Applicant,
    AuditEvent,
    Delivery,
    Document,
    DocumentFile,
    ErasureRequest,
    OutboundEvent,
    ProposalStatus,
    RejectionReason,
    ReviewDashboard,
    ReviewDecision,
    ReviewDueItem,
    ReviewQueueItem,
    ScreeningDismissal,
    Verification,
    WebhookEvent,
    WebhookRejection,
    WebhookState,
)
from django_kyc.models import Endpoint as OutboundEndpoint
from django_kyc.models.document import DocumentSide
from django_kyc.models.sanctions import ListEntry, ListSource, ListVersion, SanctionsList
from django_kyc.status import Actor, AmlHitStatus, AmlStatus, ApplicantStatus, RiskLevel, Source, VerificationStatus

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response  # what the test client returns

SMALL = 10
LARGE = 1000
SIZES = (SMALL, LARGE)
#: The ceiling per request, session, user and permission queries included.
MAX_QUERIES = 10
#: Lists are requested with the largest page the API allows (the admin's ``list_per_page`` is 100 too), so
#: the large run renders ten times the rows of the small one and any per-row query shows up tenfold.
API_PAGE_SIZE = 100

Role = Literal["owner", "staff", "superuser"]
#: Who requests each page. ``owner``: the applicant's own user (API; sees personal data, unmasked);
#: ``staff``: every django_kyc view permission but NOT ``view_applicant_pii``, so the masking code runs and
#: the permission queries count; ``superuser``: the everything-allowed path. Below ``applicants/`` (the list
#: of everyone, for staff) the API serves a superuser as it serves the owner (unmasked, credentials shown), so
#: those endpoints are measured as owner and staff.
API_ROLES: tuple[Role, ...] = ("owner", "staff")
ADMIN_ROLES: tuple[Role, ...] = ("staff", "superuser")

#: What the ``staff`` role may do: view everything in django_kyc, never personal data.
STAFF_PERMISSIONS = (
    "view_applicant",
    "view_document",
    "view_verification",
    "view_reviewqueueitem",
    "view_amlcheck",
    "view_amlhit",
    "view_amlqueueitem",
    "view_reviewdecision",
    "view_auditevent",
    "view_webhookevent",
    "view_webhookrejection",
    "view_erasurerequest",
    "view_endpoint",
    "view_outboundevent",
    "view_delivery",
    "view_reviewdueitem",
    "view_sanctionslist",
    "view_listversion",
    "view_listentry",
    "view_screeningdismissal",
)

V = VerificationStatus


# --- the world every scenario starts from ------------------------------------------------------------------


@dataclass
class World:
    """The users and the owner's objects; seeders add rows around them."""

    owner: User
    staff: User
    superuser: User
    applicant: Applicant
    verification: Verification
    check: AmlCheck
    serial: Iterator[int] = field(default_factory=itertools.count)

    def user(self, role: Role) -> User:
        return {"owner": self.owner, "staff": self.staff, "superuser": self.superuser}[role]

    def tags(self, count: int) -> list[int]:
        """``count`` numbers never handed out before: unique usernames, event ids and entity ids across steps."""
        return [next(self.serial) for _ in range(count)]


def _new_user(username: str, *, staff: bool = False, superuser: bool = False) -> User:
    user = User(username=username, email=f"{username}@example.test", is_staff=staff, is_superuser=superuser)
    user.set_unusable_password()  # the client logs in with force_login; no hashing needed
    user.save()
    return user


def build_world() -> World:
    """Three users and an applicant owned by ``owner`` with one verification and one screening."""
    owner = _new_user("qc-owner")
    staff = _new_user("qc-staff", staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_kyc", codename__in=STAFF_PERMISSIONS)
    )
    superuser = _new_user("qc-superuser", staff=True, superuser=True)
    applicant = Applicant.objects.create(
        user=owner, first_name="Jane", last_name="Owner", nationality="GB", date_of_birth=date(1990, 1, 2)
    )
    verification = Verification.objects.create(applicant=applicant, backend="sandbox", status=V.REVIEW)
    check = AmlCheck.objects.create(applicant=applicant, backend="sandbox", status=AmlStatus.POTENTIAL_MATCH)
    return World(owner, staff, superuser, applicant, verification, check)


# --- bulk seeders: each adds ``count`` rows of one kind (plus what they point at) ----------------------------


def add_applicants(world: World, count: int) -> list[Applicant]:
    """Applicants of other users, personal data included (the date of birth is encrypted per row)."""
    tags = world.tags(count)
    users = User.objects.bulk_create(User(username=f"qc-user-{n}", password="!") for n in tags)
    return Applicant.objects.bulk_create(
        Applicant(
            user=user,
            first_name="Row",
            last_name=f"Person {n}",
            date_of_birth=date(1980, 1, 1),
            email=f"row{n}@example.test",
            nationality="GB",
            country="GB",
            risk_level=RiskLevel.HIGH if n % 3 == 0 else RiskLevel.LOW,
        )
        for n, user in zip(tags, users, strict=True)
    )


def add_due_reviews(world: World, count: int) -> list[Applicant]:
    """Verified applicants whose review falls due from a month ago to two months ahead, every reason, half
    of them already asked (the "due for review" queue, and the dashboard's upcoming-reviews chart)."""
    rows = add_applicants(world, count)
    now = timezone.now()
    reasons = ("periodic", "document_expiry", "risk_change", "screening_hit")
    for n, row in enumerate(rows):
        row.status = ApplicantStatus.VERIFIED if n % 5 else ApplicantStatus.REVERIFICATION_REQUIRED
        row.next_review_at = now + timedelta(days=n % 90 - 30)
        row.review_reason = reasons[n % 4]
        row.review_notified_at = now if n % 2 else None
    Applicant.objects.bulk_update(rows, ["status", "next_review_at", "review_reason", "review_notified_at"])
    return rows


def add_documents(world: World, count: int) -> list[Document]:
    """Documents of the owner's applicant, two file rows each (names only: nothing reads the bytes)."""
    documents = Document.objects.bulk_create(
        Document(applicant=world.applicant, type="id_card", number=f"N{n:07d}", issuing_country="GB")
        for n in world.tags(count)
    )
    DocumentFile.objects.bulk_create(
        DocumentFile(
            document=document,
            side=side,
            file=f"qc/{document.pk}-{side}.png",
            sha256="0" * 64,
            content_type="image/png",
            size=1,
        )
        for document in documents
        for side in (DocumentSide.FRONT, DocumentSide.BACK)
    )
    return documents


def add_verifications(world: World, count: int, statuses: tuple[str, ...] = (V.REVIEW, V.ERROR)) -> list[Verification]:
    """Verifications of the owner's applicant, cycling through ``statuses``; every other one assigned."""
    now = timezone.now()
    return Verification.objects.bulk_create(
        Verification(
            applicant=world.applicant,
            backend="sandbox" if n % 2 else "hosted",
            status=statuses[n % len(statuses)],
            provider_status="manual_review",
            provider_data={"name": "Jane Owner"},
            reasons=["DOCUMENT_BLURRY"],
            assigned_to=world.staff if n % 2 else None,
            decided_at=now if statuses[n % len(statuses)] in (V.APPROVED, V.DECLINED) else None,
        )
        for n in world.tags(count)
    )


def add_decided_verifications(world: World, count: int) -> list[Verification]:
    """Approved and declined verifications, decided now: what the dashboard charts."""
    return add_verifications(world, count, statuses=(V.APPROVED, V.DECLINED, V.REVIEW))


def add_aml_checks(world: World, count: int) -> list[AmlCheck]:
    """Screenings of the owner's applicant with two hits each."""
    checks = AmlCheck.objects.bulk_create(
        AmlCheck(
            applicant=world.applicant,
            backend="sandbox",
            status=AmlStatus.POTENTIAL_MATCH,
            score=0.5,
            provider_data={"query": "Jane Owner"},
        )
        for _ in range(count)
    )
    AmlHit.objects.bulk_create(
        AmlHit(aml_check=check, entity_id=f"e{n}", caption="A. Listed Person", score=0.5 + n / 10, topics=["pep"])
        for check in checks
        for n in range(2)
    )
    return checks


def add_aml_hits(world: World, count: int) -> list[AmlHit]:
    """Hits on the world's screening: half open (every other one assigned), half resolved by a reviewer."""
    now = timezone.now()
    hits = []
    for n in world.tags(count):
        resolved = n % 2 == 0
        hits.append(
            AmlHit(
                aml_check=world.check,
                entity_id=f"entity-{n}",
                caption=f"Listed Person {n}",
                score=(n % 100) / 100,
                topics=["sanction"],
                status=AmlHitStatus.FALSE_POSITIVE if resolved else AmlHitStatus.OPEN,
                resolved_by=world.superuser if resolved else None,
                resolved_at=now if resolved else None,
                assigned_to=None if resolved or n % 4 == 1 else world.staff,
            )
        )
    return AmlHit.objects.bulk_create(hits)


def add_dismissals(world: World, count: int) -> list[ScreeningDismissal]:
    """Reviewers' dismissed matches about the world's applicant, each by the superuser."""
    return ScreeningDismissal.objects.bulk_create(
        ScreeningDismissal(
            applicant=world.applicant,
            backend="sandbox",
            entity_id=f"entity-{n}",
            applicant_digest="0" * 64,
            dismissed_by=world.superuser,
        )
        for n in world.tags(count)
    )


def add_open_aml_hits(world: World, count: int) -> list[AmlHit]:
    """Open hits, one screening each (the AML queue shows each hit's screening, applicant and risk)."""
    checks = AmlCheck.objects.bulk_create(
        AmlCheck(applicant=world.applicant, backend="sandbox", status=AmlStatus.POTENTIAL_MATCH) for _ in range(count)
    )
    return AmlHit.objects.bulk_create(
        AmlHit(
            aml_check=check,
            entity_id="e1",
            caption="A. Listed Person",
            score=0.7,
            assigned_to=world.staff if n % 2 else None,
        )
        for n, check in enumerate(checks)
    )


def add_review_decisions(world: World, count: int) -> list[ReviewDecision]:
    """Four-eyes proposals, half on verifications (open) and half on AML hits (confirmed by a second user)."""
    on_verifications = count // 2
    verifications = add_verifications(world, on_verifications)
    hits = add_open_aml_hits(world, count - on_verifications)
    now = timezone.now()
    rows = [
        ReviewDecision(
            applicant=world.applicant,
            verification=verification,
            decision="approve",
            reason_code="OTHER",
            rule="risk_level:high",
            proposed_by=world.staff,
        )
        for verification in verifications
    ]
    rows += [
        ReviewDecision(
            applicant=world.applicant,
            aml_hit=hit,
            decision="false_positive",
            reason_code="OTHER",
            rule="risk_level:high",
            status=ProposalStatus.CONFIRMED,
            proposed_by=world.staff,
            confirmed_by=world.superuser,
            closed_by=world.superuser,
            closed_at=now,
        )
        for hit in hits
    ]
    return ReviewDecision.objects.bulk_create(rows)


def add_audit_events(world: World, count: int) -> list[AuditEvent]:
    """Timeline rows of the owner's applicant, each by a user."""
    return AuditEvent.objects.bulk_create(
        AuditEvent(
            applicant=world.applicant,
            object_type="verification",
            object_id=str(world.verification.pk),
            action="status_change",
            from_status=V.PROCESSING,
            to_status=V.REVIEW,
            actor_type=Actor.USER,
            actor=world.staff,
            actor_label="qc-staff",
            source=Source.ADMIN,
            reason_code="OTHER",
        )
        for _ in range(count)
    )


def add_webhook_events(world: World, count: int) -> list[WebhookEvent]:
    """Inbox rows pointing at the world's verification (the list shows it); bodies are encrypted per row."""
    return WebhookEvent.objects.bulk_create(
        WebhookEvent(
            backend="sandbox",
            event_id=f"evt-{n}",
            event_type="verification.updated",
            verification=world.verification,
            body=b'{"status": "review"}',
            state=WebhookState.FAILED if n % 2 else WebhookState.PROCESSED,
        )
        for n in world.tags(count)
    )


def add_event_endpoints(world: World, count: int) -> list[OutboundEndpoint]:
    """Endpoints of the site's services (secrets encrypted per row; no page shows them)."""
    tags = world.tags(count)
    return OutboundEndpoint.objects.bulk_create(
        OutboundEndpoint(name=f"qc-endpoint-{n}", url=f"https://svc{n}.example/in", event_types=["*"], secret="whsec_x")
        for n in tags
    )


def add_outbound_events(world: World, count: int) -> list[OutboundEvent]:
    now = timezone.now()
    return OutboundEvent.objects.bulk_create(
        OutboundEvent(
            event_type="applicant.verified",
            subject_type="applicant",
            subject_id=str(world.applicant.pk),
            data={"applicant_id": str(world.applicant.pk)},
            occurred_at=now,
        )
        for _ in range(count)
    )


def add_deliveries(world: World, count: int) -> list[Delivery]:
    """Deliveries, each of its own event to its own endpoint (the list shows both)."""
    events = add_outbound_events(world, count)
    endpoints = add_event_endpoints(world, count)
    return Delivery.objects.bulk_create(
        Delivery(event=event, endpoint=endpoint, state="failed", attempts=8, last_status_code=503)
        for event, endpoint in zip(events, endpoints, strict=True)
    )


def _lists() -> list[SanctionsList]:
    return [SanctionsList.objects.get_or_create(source=source)[0] for source in ListSource.values]


def add_list_versions(world: World, count: int) -> list[ListVersion]:
    """Load attempts spread over the lists, the newest of each list in use."""
    lists = _lists()
    versions = ListVersion.objects.bulk_create(
        ListVersion(sanctions_list=lists[n % len(lists)], status="complete", entries=n) for n in world.tags(count)
    )
    for sanctions_list in lists:
        newest = ListVersion.objects.filter(sanctions_list=sanctions_list).order_by("-pk").first()
        SanctionsList.objects.filter(pk=sanctions_list.pk).update(current_version=newest)
    return versions


def add_list_entries(world: World, count: int) -> list[ListEntry]:
    version = add_list_versions(world, 1)[0]
    return ListEntry.objects.bulk_create(
        ListEntry(
            sanctions_list=version.sanctions_list,
            source_id=f"id-{n}",
            kind="person",
            caption=f"Listed Person {n}",
            digest="0" * 64,
            first_version=version,
            changed_version=version,
        )
        for n in world.tags(count)
    )


def add_sanctions_lists(world: World, count: int) -> list[SanctionsList]:
    """There are only five lists; what grows behind their page is each list's versions and entries."""
    add_list_versions(world, count)
    add_list_entries(world, count)
    return _lists()


def add_webhook_rejections(world: World, count: int) -> list[WebhookRejection]:
    """Daily refusal counters, one per (endpoint, reason, day): a new day for each row."""
    reasons = RejectionReason.values
    today = timezone.localdate()
    return WebhookRejection.objects.bulk_create(
        WebhookRejection(
            backend="sandbox" if n % 3 else WebhookRejection.UNKNOWN,
            reason=reasons[n % len(reasons)],
            day=today - timedelta(days=n),
            count=n + 1,
        )
        for n in world.tags(count)
    )


def add_erasure_requests(world: World, count: int) -> list[ErasureRequest]:
    """Register rows for the owner's applicant, recorded by staff."""
    return ErasureRequest.objects.bulk_create(
        ErasureRequest(applicant=world.applicant, requested_by=world.staff, note="qc") for _ in range(count)
    )


def add_applicant_page_rows(world: World, count: int) -> None:
    """``count`` rows across everything the applicant page lists inline (documents, verifications,
    screenings, erasure requests, timeline), a fifth each: the page renders every inline row, unpaginated."""
    seeders: tuple[Callable[[World, int], object], ...] = (
        add_documents,
        add_verifications,
        add_aml_checks,
        add_erasure_requests,
        add_audit_events,
    )
    for position, seed in enumerate(seeders):
        seed(world, count // len(seeders) + (1 if position < count % len(seeders) else 0))


# --- what each page shows: evidence that the seeded rows reached the page ---------------------------------


def api_results(response: Response) -> int:
    return len(response.json()["results"])


def changelist_rows(response: Response) -> int:
    return len(response.context["cl"].result_list)


def inline_rows(response: Response) -> int:
    return sum(len(formset.formset.forms) for formset in response.context["inline_admin_formsets"])


def aml_check_hits(response: Response) -> int:
    return len(response.json()["hits"])


# --- the endpoints --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One page: where it is, who may see it, what to seed so it has more to show, and how to count that."""

    name: str
    url: Callable[[World], str]
    seed: Callable[[World, int], object]
    roles: tuple[Role, ...]
    shown: Callable[[Response], int] | None = None
    #: the model whose admin changelist this is, so a test can check that every changelist is measured
    changelist_of: type[Model] | None = None

    @property
    def slug(self) -> str:
        """``api-applicants-id-documents``: a pytest id that ``-k`` can select."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


def _api(path: str, *, paged: bool = False) -> Callable[[World], str]:
    def url(world: World) -> str:
        ids = {"applicant": world.applicant.pk, "verification": world.verification.pk, "check": world.check.pk}
        return "/kyc/api/" + path.format(**ids) + (f"?page_size={API_PAGE_SIZE}" if paged else "")

    return url


def _admin(model: type[Any], view: str = "changelist") -> Callable[[World], str]:
    def url(world: World) -> str:
        name = f"admin:django_kyc_{model._meta.model_name}_{view}"
        if view == "changelist":
            return reverse(name)
        target = {Applicant: world.applicant, AmlCheck: world.check}[model]
        return reverse(name, args=[target.pk])

    return url


def _changelist(name: str, model: type[Model], seed: Callable[[World, int], object]) -> Endpoint:
    return Endpoint(name, _admin(model), seed, ADMIN_ROLES, changelist_rows, changelist_of=model)


def _dashboard(world: World) -> str:
    return reverse("admin:django_kyc_dashboard")


ENDPOINTS: list[Endpoint] = [
    # the API (the owner sees only their own applicant, so its list grows only for staff)
    Endpoint("API applicants/", _api("applicants/", paged=True), add_applicants, ("staff", "superuser"), api_results),
    Endpoint("API applicants/ (own only)", _api("applicants/", paged=True), add_applicants, ("owner",)),
    Endpoint("API applicants/me/", _api("applicants/me/"), add_applicants, ("owner",)),
    Endpoint("API applicants/{id}/", _api("applicants/{applicant}/"), add_applicants, API_ROLES),
    Endpoint(
        "API applicants/{id}/documents/",
        _api("applicants/{applicant}/documents/", paged=True),
        add_documents,
        API_ROLES,
        api_results,
    ),
    Endpoint(
        "API applicants/{id}/verifications/",
        _api("applicants/{applicant}/verifications/", paged=True),
        add_verifications,
        API_ROLES,
        api_results,
    ),
    Endpoint(
        "API applicants/{id}/aml-checks/",
        _api("applicants/{applicant}/aml-checks/", paged=True),
        add_aml_checks,
        API_ROLES,
        api_results,
    ),
    Endpoint("API verifications/{id}/", _api("verifications/{verification}/"), add_verifications, API_ROLES),
    Endpoint("API aml-checks/{id}/", _api("aml-checks/{check}/"), add_aml_hits, API_ROLES, aml_check_hits),
    # admin changelists: every django_kyc model admin (tests/test_query_counts.py checks none is missing)
    _changelist("admin applicants", Applicant, add_applicants),
    _changelist("admin documents", Document, add_documents),
    _changelist("admin verifications", Verification, add_verifications),
    _changelist("admin review queue", ReviewQueueItem, add_verifications),
    _changelist("admin AML checks", AmlCheck, add_aml_checks),
    _changelist("admin AML hits", AmlHit, add_aml_hits),
    _changelist("admin AML queue", AmlQueueItem, add_open_aml_hits),
    _changelist("admin due for review", ReviewDueItem, add_due_reviews),
    _changelist("admin four-eyes proposals", ReviewDecision, add_review_decisions),
    _changelist("admin audit events", AuditEvent, add_audit_events),
    _changelist("admin webhook inbox", WebhookEvent, add_webhook_events),
    _changelist("admin webhook rejection counts", WebhookRejection, add_webhook_rejections),
    _changelist("admin erasure requests", ErasureRequest, add_erasure_requests),
    _changelist("admin event endpoints", OutboundEndpoint, add_event_endpoints),
    _changelist("admin outbound events", OutboundEvent, add_outbound_events),
    _changelist("admin event deliveries", Delivery, add_deliveries),
    _changelist("admin sanctions list versions", ListVersion, add_list_versions),
    _changelist("admin sanctions list entries", ListEntry, add_list_entries),
    # five lists at most, so the rows shown cannot grow: the versions and entries behind each list do
    Endpoint(
        "admin sanctions lists", _admin(SanctionsList), add_sanctions_lists, ADMIN_ROLES, changelist_of=SanctionsList
    ),
    _changelist("admin dismissed matches", ScreeningDismissal, add_dismissals),
    # admin pages that list rows inline, and the review dashboard
    Endpoint("admin applicant page", _admin(Applicant, "change"), add_applicant_page_rows, ADMIN_ROLES, inline_rows),
    Endpoint("admin AML check page", _admin(AmlCheck, "change"), add_aml_hits, ADMIN_ROLES, inline_rows),
    Endpoint("admin review dashboard", _dashboard, add_decided_verifications, ADMIN_ROLES),
    # the dashboard's entry on the admin's front page: its "list" is the dashboard
    Endpoint(
        "admin review dashboard entry",
        _admin(ReviewDashboard),
        add_decided_verifications,
        ADMIN_ROLES,
        changelist_of=ReviewDashboard,
    ),
]

# --- measuring ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One request: the rows seeded behind it, its status, how many rows it showed and the SQL it ran."""

    url: str
    rows: int
    status: int
    shown: int | None
    queries: list[str]

    @property
    def count(self) -> int:
        return len(self.queries)


@dataclass(frozen=True)
class Result:
    """The runs of one page for one role, smallest size first, and what is wrong with them."""

    endpoint: Endpoint
    role: Role
    runs: tuple[Run, ...]

    @property
    def id(self) -> str:
        """``API applicants/{id}/documents/ [staff]``: a line of the benchmark's table."""
        return f"{self.endpoint.name} [{self.role}]"

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(run.count for run in self.runs)

    @property
    def same(self) -> bool:
        return len(set(self.counts)) == 1

    @property
    def within_limit(self) -> bool:
        return max(self.counts) <= MAX_QUERIES

    def problems(self) -> list[str]:
        """Everything wrong with this result; empty when the page meets the target."""
        counts = ", ".join(f"{run.count} queries at {run.rows:,} rows" for run in self.runs)
        problems = [f"HTTP {run.status} at {run.rows:,} rows" for run in self.runs if run.status != 200]
        if not self.same:
            problems.append(f"the query count grows with the rows ({counts})")
        if not self.within_limit:
            problems.append(f"more than {MAX_QUERIES} queries ({counts})")
        shown = [run.shown for run in self.runs]
        if self.endpoint.shown is not None and not _increasing(shown):
            # a count that stays flat because the seeded rows never reached the page would prove nothing
            problems.append(f"the page did not show more rows as rows were added (rows shown: {shown})")
        return problems

    def explain(self) -> str:
        """The failure message: what is wrong, the statements repeated most, then every statement of each run."""
        lines = [f"{self.id}: GET {self.runs[0].url}", *(f"  - {problem}" for problem in self.problems())]
        largest = self.runs[-1]
        repeated = [(n, shape) for shape, n in Counter(map(_shape, largest.queries)).most_common(5) if n > 1]
        if repeated:
            lines.append(f"  statements repeated at {largest.rows:,} rows (an N+1 shows up here):")
            lines += [f"    x{n}: {_clip(shape)}" for n, shape in repeated]
        for run in self.runs:
            lines.append(f"  SQL at {run.rows:,} rows ({run.count} queries):")
            lines += [f"    {number:>3}. {_clip(sql)}" for number, sql in enumerate(run.queries, 1)]
        return "\n".join(lines)


def _increasing(values: list[int | None]) -> bool:
    return all(a is not None and b is not None and a < b for a, b in itertools.pairwise(values))


_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")


def _shape(sql: str) -> str:
    """The statement with its literals blanked out, so the per-row variants of one query count as one."""
    return _LITERALS.sub("?", sql)


def _clip(sql: str, width: int = 400) -> str:
    return sql if len(sql) <= width else f"{sql[:width]} ... ({len(sql):,} characters)"


def request(client: Client, url: str, rows: int, shown: Callable[[Response], int] | None) -> Run:
    """GET ``url`` and record every query it ran."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    count = shown(response) if shown is not None and response.status_code == 200 else None
    return Run(url, rows, response.status_code, count, [query["sql"] for query in captured.captured_queries])


def measure(endpoint: Endpoint, sizes: tuple[int, ...] = SIZES) -> list[Result]:
    """Build a world, then for each size add rows up to it and request the page as each of its roles.

    One unmeasured request per role comes first, so per-process caches (content types, URL resolvers) are
    warm and only what every request costs is counted. Runs inside the caller's transaction, which the
    caller rolls back.
    """
    world = build_world()
    clients = {role: Client() for role in endpoint.roles}
    for role, client in clients.items():
        client.force_login(world.user(role))
    url = endpoint.url(world)
    runs: dict[Role, list[Run]] = {role: [] for role in endpoint.roles}
    seeded = 0
    for size in sizes:
        endpoint.seed(world, size - seeded)
        seeded = size
        for role, client in clients.items():
            if not runs[role]:
                client.get(url)
            runs[role].append(request(client, url, size, endpoint.shown))
    return [Result(endpoint, role, tuple(runs[role])) for role in endpoint.roles]
