"""Signing keys in the data dir (embedded database): created once, rotated, retired."""

from __future__ import annotations

import json
import stat
import time

from fhir_server.auth.keys import FileKeyStore, MongoKeyStore, key_store_for
from fhir_server.config import Settings


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
    database = {"auth_keys": object()}
    assert isinstance(key_store_for(settings, database), MongoKeyStore)
    (tmp_path / "embedded-db.json").write_text(json.dumps({"uri": settings.mongodb_uri}))
    store = key_store_for(settings, database)
    assert isinstance(store, FileKeyStore) and store.directory == tmp_path.resolve() / "auth"
