"""Official sanctions lists held in the site's own database, for the ``lists`` AML backend.

Each published list (:class:`ListSource`) has one :class:`SanctionsList` row pointing at the version in use.
Loading a new file writes a :class:`ListVersion` and updates the entries in place, inside one transaction, so
a screening sees either the old version or the complete new one. Entries a new version no longer holds are
retired (``removed_at``), never deleted: a hit raised on them stays explainable. Names are child rows with
their own match keys (:class:`ListNameKey`), which is the candidate index a screening reads instead of
scanning every entry.

:class:`ScreeningDismissal` is the reviewers' false-positive memory, shared by every AML backend: a "not a
match" for (applicant, listed entity) holds until the entry or the applicant's screened data changes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ListSource(models.TextChoices):
    """The official lists django-kyc can load; each has its own importer in ``django_kyc.sanctions.importers``."""

    OFAC_SDN = "ofac_sdn", _("US OFAC Specially Designated Nationals (SDN) list")
    OFAC_CONS = "ofac_cons", _("US OFAC consolidated (non-SDN) list")
    UN_SC = "un_sc", _("UN Security Council consolidated list")
    EU_FSF = "eu_fsf", _("EU consolidated financial sanctions list")
    UK_SL = "uk_sl", _("UK Sanctions List (FCDO)")


class EntryKind(models.TextChoices):
    PERSON = "person", _("natural person")
    ORGANISATION = "organisation", _("organisation")
    VESSEL = "vessel", _("vessel")
    AIRCRAFT = "aircraft", _("aircraft")


class NameType(models.TextChoices):
    PRIMARY = "primary", _("primary name")
    VARIATION = "variation", _("spelling variation")
    ALIAS = "alias", _("alias (a.k.a.)")
    FORMER = "former", _("former name (f.k.a.)")
    ORIGINAL_SCRIPT = "original_script", _("name in original script")


class VersionStatus(models.TextChoices):
    LOADING = "loading", _("loading")
    COMPLETE = "complete", _("complete")
    FAILED = "failed", _("failed")


class SanctionsList(models.Model):
    """One official list and the version screenings read."""

    source = models.CharField(_("list"), max_length=16, choices=ListSource.choices, unique=True)
    current_version = models.ForeignKey(
        "django_kyc.ListVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("version in use"),
    )

    class Meta:
        verbose_name = _("sanctions list")
        verbose_name_plural = _("sanctions lists")
        ordering = ["source"]

    def __str__(self) -> str:
        return self.get_source_display()


class ListVersion(models.Model):
    """One attempt to load a published file: what was fetched, from where, and what it changed."""

    sanctions_list = models.ForeignKey(SanctionsList, on_delete=models.CASCADE, related_name="versions")
    status = models.CharField(_("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.LOADING)
    source_url = models.TextField(_("source URL"), blank=True)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    published_at = models.DateTimeField(
        _("published at"), null=True, blank=True, help_text=_("The generation date the file states, if any.")
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    loaded_at = models.DateTimeField(_("loaded at"), null=True, blank=True)
    entries = models.PositiveIntegerField(_("entries"), default=0)
    added = models.PositiveIntegerField(_("added"), default=0)
    changed = models.PositiveIntegerField(_("changed"), default=0)
    removed = models.PositiveIntegerField(_("removed"), default=0)
    error = models.TextField(_("error"), blank=True)
    key_version = models.PositiveSmallIntegerField(
        _("match key version"),
        default=0,
        help_text=_("The name-key scheme the entries were indexed with; a loader under another one rebuilds them."),
    )

    class Meta:
        verbose_name = _("list version")
        verbose_name_plural = _("list versions")
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self) -> str:
        return f"{self.sanctions_list.source} {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class ListEntry(models.Model):
    """A listed person, organisation, vessel or aircraft, as the list's latest loaded version describes it.

    ``data`` holds the structured facts matching reads (``dobs``, ``nationalities``, ``countries``, …, see
    :class:`django_kyc.sanctions.records.ListedEntry`) and ``raw`` the authority's original record for audit.
    ``digest`` is a hash of the record's content, so a reload only rewrites what changed.
    """

    sanctions_list = models.ForeignKey(SanctionsList, on_delete=models.CASCADE, related_name="entries")
    source_id = models.CharField(_("id on the list"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    caption = models.CharField(_("name"), max_length=500)
    programmes = models.JSONField(_("programmes"), default=list, blank=True)
    listed_on = models.DateField(_("listed on"), null=True, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    raw = models.JSONField(_("original record"), default=dict, blank=True)
    digest = models.CharField(_("content digest"), max_length=64)
    first_version = models.ForeignKey(ListVersion, on_delete=models.PROTECT, related_name="+")
    changed_version = models.ForeignKey(
        ListVersion, on_delete=models.PROTECT, related_name="+", help_text=_("The version that last changed it.")
    )
    removed_at = models.DateTimeField(_("removed from the list at"), null=True, blank=True)
    removed_version = models.ForeignKey(ListVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("list entry")
        verbose_name_plural = _("list entries")
        ordering = ["sanctions_list", "source_id"]
        constraints = [
            models.UniqueConstraint(fields=["sanctions_list", "source_id"], name="kyc_listentry_unique_source_id")
        ]

    def __str__(self) -> str:
        return f"{self.caption} ({self.sanctions_list.source}:{self.source_id})"

    @property
    def entity_id(self) -> str:
        """The id a hit on this entry carries (``AmlHit.entity_id``, ``ScreeningDismissal.entity_id``)."""
        return f"{self.sanctions_list.source}:{self.source_id}"


class ListEntryName(models.Model):
    """One name of an entry: its primary name, a spelling variation, an alias, or the original script."""

    entry = models.ForeignKey(ListEntry, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(_("name"), max_length=500)
    name_type = models.CharField(_("name type"), max_length=16, choices=NameType.choices)
    weak = models.BooleanField(
        _("weak alias"),
        default=False,
        help_text=_("A low-quality alias: it corroborates a match but does not make one on its own."),
    )
    script = models.CharField(_("script"), max_length=32, blank=True)
    normalised = models.CharField(_("normalised form"), max_length=500)

    class Meta:
        verbose_name = _("list entry name")
        verbose_name_plural = _("list entry names")

    def __str__(self) -> str:
        return self.name


class ListNameKey(models.Model):
    """A match key of a name (a folded token or its phonetic code): the candidate index.

    A screening looks up the keys of the applicant's name here and scores only the names that share one,
    which is an indexed equality lookup on every database (no trigram extension needed). The entry, its list
    and its kind are copied onto each key, and only active entries have keys (the loader drops the keys of an
    entry it retires), so ranking the candidates reads this table alone: one index holds every column it
    needs, with no join to the names or entries (docs/benchmarks.md, "Screening quality").
    """

    name = models.ForeignKey(ListEntryName, on_delete=models.CASCADE, related_name="keys")
    # no index of their own: the lookup index covers reads, and entries and lists are deleted only in bulk, rarely
    entry = models.ForeignKey(ListEntry, on_delete=models.CASCADE, related_name="+", db_index=False)
    sanctions_list = models.ForeignKey(SanctionsList, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    key = models.CharField(_("key"), max_length=64)

    class Meta:
        verbose_name = _("name key")
        verbose_name_plural = _("name keys")
        indexes = [models.Index(fields=["key", "kind", "sanctions_list", "entry"], name="kyc_listnamekey_lookup_idx")]

    def __str__(self) -> str:
        return self.key


class ScreeningDismissal(models.Model):
    """A reviewer's "not a match" between an applicant and a listed entity, remembered so a later screening
    does not raise it again. It applies while both sides are as they were: ``entity_digest`` is the listed
    record's content when it was dismissed (empty where the backend gives none) and ``applicant_digest`` a
    keyed hash of the applicant's screened fields (no personal data stored)."""

    applicant = models.ForeignKey("django_kyc.Applicant", on_delete=models.CASCADE, related_name="dismissals")
    backend = models.CharField(_("backend alias"), max_length=64)
    entity_id = models.CharField(_("entity id"), max_length=255)
    entity_digest = models.CharField(_("entity digest"), max_length=64, blank=True)
    applicant_digest = models.CharField(_("applicant digest"), max_length=64)
    hit = models.ForeignKey("django_kyc.AmlHit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("dismissed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dismissed match")
        verbose_name_plural = _("dismissed matches")
        constraints = [
            models.UniqueConstraint(fields=["applicant", "backend", "entity_id"], name="kyc_dismissal_unique_entity")
        ]

    def __str__(self) -> str:
        return f"{self.backend}:{self.entity_id}"
