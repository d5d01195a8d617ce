"""Migration 0020 copies each name key's entry, list and kind onto it and drops the keys of retired entries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("django_kyc", "0019_sanctions_key_version")]
AFTER = [("django_kyc", "0021_listnamekey_lookup_index")]


def test_keys_indexed_before_0020_are_filled_in() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
        sanctions_list = apps.get_model("django_kyc", "SanctionsList").objects.create(source="un_sc")
        version = apps.get_model("django_kyc", "ListVersion").objects.create(sanctions_list=sanctions_list)
        Entry = apps.get_model("django_kyc", "ListEntry")
        Name = apps.get_model("django_kyc", "ListEntryName")
        Key = apps.get_model("django_kyc", "ListNameKey")
        common = {"sanctions_list": sanctions_list, "first_version": version, "changed_version": version}
        active = Entry.objects.create(source_id="A", kind="organisation", caption="Alma", digest="a", **common)
        retired = Entry.objects.create(
            source_id="B", kind="person", caption="Bram", digest="b", removed_at=timezone.now(), **common
        )
        for entry, word in ((active, "alma"), (retired, "bram")):
            name = Name.objects.create(entry=entry, name=word, name_type="primary", normalised=word)
            Key.objects.create(name=name, key=word)
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        Key = executor.loader.project_state(AFTER).apps.get_model("django_kyc", "ListNameKey")
        assert list(Key.objects.values_list("key", "entry_id", "sanctions_list_id", "kind")) == [
            ("alma", active.pk, sanctions_list.pk, "organisation")
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes("django_kyc"))
