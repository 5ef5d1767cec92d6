"""Signing keys in the data dir (embedded database) or in the database (external
MongoDB): created once, rotated, retired."""

from __future__ import annotations

import json
import stat
import time

from fhir_server.auth.keys import DatabaseKeyStore, FileKeyStore, key_store_for
from fhir_server.config import Settings
from fhir_server.storage.auth_keys import SigningKeyRecords


async def test_file_store_creates_once_and_rotates(tmp_path):
    store = FileKeyStore(tmp_path / "auth")
    first = await store.load()
    assert len(first) == 1
    assert await FileKeyStore(tmp_path / "auth").load() == first
    mode = stat.S_IMODE((tmp_path / "auth" / "signing-keys.json").stat().st_mode)
    assert mode == 0o600
    new = await store.rotate(retire_after=60)
    keys = await store.load()
    assert [k.kid for k in keys] == [new.kid, first[0].kid]
    assert keys[1].retired is not None and keys[1].expires > time.time()
    assert "d" in keys[0].jwk and "d" not in keys[0].public()


async def test_file_store_drops_expired_keys(tmp_path):
    store = FileKeyStore(tmp_path)
    old = (await store.load())[0]
    await store.rotate(retire_after=-1)
    assert old.kid not in {k.kid for k in await store.load()}


def test_store_follows_the_database(tmp_path):
    settings = Settings(data_dir=tmp_path, mongodb_uri="mongodb://127.0.0.1:1/")
    records = SigningKeyRecords({"auth_keys": object()})
    assert isinstance(key_store_for(settings, records), DatabaseKeyStore)
    (tmp_path / "embedded-db.json").write_text(json.dumps({"uri": settings.mongodb_uri}))
    store = key_store_for(settings, records)
    assert isinstance(store, FileKeyStore) and store.directory == tmp_path.resolve() / "auth"


async def test_database_store_creates_once_rotates_and_retires(mongo_client, database_name):
    records = SigningKeyRecords(mongo_client[database_name])
    store = DatabaseKeyStore(records)
    try:
        await store.ensure_indexes()
        first = await store.load()
        assert len(first) == 1
        assert [k.kid for k in await DatabaseKeyStore(records).load()] == [first[0].kid]
        new = await store.rotate(retire_after=60)
        keys = await store.load()
        assert [k.kid for k in keys] == [new.kid, first[0].kid]
        assert keys[0].retired is None and keys[1].retired is not None
        assert keys[1].expires > time.time()
        newest = await store.rotate(retire_after=-1)
        # the key retired just now is gone at once; the one retired before keeps its time
        assert [k.kid for k in await store.load()] == [newest.kid, first[0].kid]
    finally:
        await mongo_client.drop_database(database_name)
