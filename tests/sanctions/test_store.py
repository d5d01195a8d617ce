"""The incremental loader: unchanged entries untouched, changed ones rewritten, removed ones retired (not
deleted) and revived when they come back; name keys rebuilt when the key scheme changed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_kyc.models.sanctions import ListEntry, ListNameKey, ListVersion
from django_kyc.sanctions import names
from django_kyc.sanctions.records import ListedEntry, ListedName, ParsedList
from django_kyc.sanctions.store import load_version

pytestmark = pytest.mark.django_db


def entry(source_id: str, name: str, remarks: str = "") -> ListedEntry:
    return ListedEntry(source_id, "person", [ListedName(name)], remarks=remarks)


def test_a_reload_writes_only_what_changed_and_retires_what_left() -> None:
    first = load_version(
        "uk_sl", ParsedList([entry("A", "Alma Quist"), entry("B", "Bram Oller"), entry("C", "Cato Rhee")])
    )
    untouched = ListEntry.objects.get(source_id="A")
    second = load_version("uk_sl", ParsedList([entry("A", "Alma Quist"), entry("B", "Bram Oller", "amended")]))
    assert (second.entries, second.added, second.changed, second.removed) == (2, 0, 1, 1)
    a, b, c = (ListEntry.objects.get(source_id=s) for s in "ABC")
    assert a.changed_version_id == first.pk
    assert a.pk == untouched.pk
    assert b.changed_version_id == second.pk
    assert b.data["remarks"] == "amended"
    assert c.removed_at is not None
    assert c.removed_version_id == second.pk
    progress: list[tuple[int, int]] = []
    third = load_version(
        "uk_sl",
        ParsedList([entry("A", "Alma Quist"), entry("B", "Bram Oller", "amended"), entry("C", "Cato Rhee")]),
        progress=lambda done, total: progress.append((done, total)),
    )
    c.refresh_from_db()
    assert (third.added, third.changed, third.removed) == (0, 1, 0)
    assert c.removed_at is None
    assert c.first_version_id == first.pk
    assert progress == [(1, 1)]
    unchanged = load_version(
        "uk_sl", ParsedList([entry("A", "Alma Quist"), entry("B", "Bram Oller", "amended"), entry("C", "Cato Rhee")])
    )
    assert (unchanged.added, unchanged.changed, unchanged.removed) == (0, 0, 0)
    assert unchanged.key_version == names.KEY_VERSION


def test_keys_are_rebuilt_when_the_key_version_changed() -> None:
    version = load_version("un_sc", ParsedList([entry("A", "Alma Quist")]))
    ListVersion.objects.filter(pk=version.pk).update(key_version=names.KEY_VERSION - 1)
    ListNameKey.objects.all().delete()  # as if indexed under another scheme
    load_version("un_sc", ParsedList([entry("A", "Alma Quist")]))
    assert set(ListNameKey.objects.values_list("key", flat=True)) == names.name_keys("Alma Quist")


def test_keys_carry_their_entry_list_and_kind_and_retired_entries_have_none() -> None:
    load_version("uk_sl", ParsedList([entry("A", "Alma Quist"), entry("B", "Bram Oller")]))
    for key in ListNameKey.objects.select_related("name__entry"):
        assert (key.entry_id, key.sanctions_list_id, key.kind) == (
            key.name.entry_id,
            key.name.entry.sanctions_list_id,
            key.name.entry.kind,
        )
    load_version("uk_sl", ParsedList([entry("A", "Alma Quist")]))
    retired = ListEntry.objects.get(source_id="B")
    assert retired.removed_at is not None
    assert retired.names.count() == 1  # kept for the hits raised on it
    assert not ListNameKey.objects.filter(entry=retired).exists()
    load_version("uk_sl", ParsedList([entry("A", "Alma Quist"), entry("B", "Bram Oller")]))
    assert set(ListNameKey.objects.filter(entry=retired).values_list("key", flat=True)) == names.name_keys("Bram Oller")


def test_a_rebuild_of_the_keys_leaves_retired_entries_out() -> None:
    version = load_version("un_sc", ParsedList([entry("A", "Alma Quist"), entry("B", "Bram Oller")]))
    load_version("un_sc", ParsedList([entry("A", "Alma Quist")]))
    ListVersion.objects.filter(sanctions_list=version.sanctions_list).update(key_version=names.KEY_VERSION - 1)
    load_version("un_sc", ParsedList([entry("A", "Alma Quist")]))
    assert set(ListNameKey.objects.values_list("entry__source_id", flat=True)) == {"A"}
    assert set(ListNameKey.objects.values_list("kind", flat=True)) == {"person"}


def test_a_load_inside_a_transaction_does_not_vacuum() -> None:
    with CaptureQueriesContext(connection) as queries:
        load_version("un_sc", ParsedList([entry("A", "Alma Quist")]))
    assert not [query for query in queries if "VACUUM" in query["sql"]]


@pytest.mark.django_db(transaction=True)
def test_a_load_vacuums_the_name_keys_on_postgresql() -> None:
    with CaptureQueriesContext(connection) as queries:
        load_version("un_sc", ParsedList([entry("A", "Alma Quist")]))
    vacuums = [query["sql"] for query in queries if "VACUUM" in query["sql"]]
    if connection.vendor == "postgresql":  # the index-only scans ranking candidates relies on
        assert vacuums == [f'VACUUM (ANALYZE) "{ListNameKey._meta.db_table}"']
    else:
        assert vacuums == []
