"""The subscription outbox (``subscription_outbox``, docs/subscriptions.md "How events
flow"): an entry per version, written in the version's transaction; read in ``(at, _id)``
order from its index, a batch never split inside one instant; deleted by the dispatcher;
versions a database of the earlier design left marked in ``history`` moved once.

On services without an app (no dispatcher running): the tests take the dispatcher lease
themselves and run its rounds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from bench.explain import Recorder, examined
from fhir_server.access import SYSTEM
from fhir_server.config import Settings
from fhir_server.services import build_services
from fhir_server.storage.documents import HISTORY
from fhir_server.storage.subscription_outbox import OUTBOX, Outbox, version_key
from fhir_server.subscriptions.dispatcher import LEASE, Dispatcher

from ..conftest import BASE

WORKER = "test-dispatcher"


@pytest.fixture
async def services(mongo_client: AsyncMongoClient, mongodb_uri: str) -> AsyncIterator[Any]:
    database = f"test_outbox_{uuid.uuid4().hex[:10]}"
    yield await build_services(Settings(database=database, mongodb_uri=mongodb_uri,
                                        base_url=BASE), mongo_client)
    await mongo_client.drop_database(database)


def _db(services: Any) -> Any:
    return services.client[services.settings.database]


async def _drain(services: Any) -> int:
    """Dispatcher rounds until the outbox is empty; how many worked."""
    assert await services.storage.subscriptions.lead(WORKER, LEASE)
    dispatcher = Dispatcher(services, WORKER)
    rounds = 0
    while await dispatcher.round():
        rounds += 1
    return rounds


async def test_committed_versions_enter_the_outbox_rolled_back_ones_do_not(services):
    resources = services.storage.resources
    db = _db(services)
    stored = await resources.create(SYSTEM, {"resourceType": "Patient"})
    changed = await resources.update(SYSTEM, {"resourceType": "Patient", "active": True},
                                     stored.id)

    async def fail(session):
        await resources.create(SYSTEM, {"resourceType": "Patient"}, rid="gone",
                               session=session)
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        await resources.in_transaction(fail)
    entries = await db[OUTBOX].find({}, sort=[("at", 1), ("_id", 1)]).to_list()
    assert entries == [
        {"_id": version_key("Patient", stored.id, 1), "at": stored.last_updated},
        {"_id": version_key("Patient", stored.id, 2), "at": changed.last_updated}]
    assert await db[HISTORY].count_documents({"outbox": {"$exists": True}}) == 0
    assert await _drain(services) == 1
    assert await db[OUTBOX].count_documents({}) == 0
    assert await db[HISTORY].count_documents({}) == 2  # the versions stay


async def test_a_full_batch_leaves_its_last_instant_for_the_next(services):
    """Entries alone (no versions behind them: the dispatcher still takes them out)."""
    outbox = services.storage.outbox
    first, second = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    await _db(services)[OUTBOX].insert_many(
        [{"_id": version_key("Patient", "b", vid), "at": second} for vid in (1, 2)]
        + [{"_id": version_key("Patient", "a", vid), "at": first} for vid in (3, 2, 1)])
    assert await outbox.pending(4) == [version_key("Patient", "a", vid) for vid in (1, 2, 3)]
    assert await outbox.pending(2) == [version_key("Patient", "a", vid)
                                       for vid in (1, 2)]  # one instant: split
    assert await _drain(services) == 1
    assert await outbox.pending(10) == []


async def test_the_pending_read_is_two_index_scans(services, mongodb_uri):
    await services.storage.resources.create(SYSTEM, {"resourceType": "Patient"})
    listener = Recorder()
    client = AsyncMongoClient(mongodb_uri, event_listeners=[listener], tz_aware=True)
    try:
        name = services.settings.database
        outbox = Outbox(client[name])
        assert len(await outbox.versions(await outbox.pending(200))) == 1
        plans = [(command["find"], await examined(client, name, command))
                 for _, command in listener.commands]
        assert [(collection, plan.plan, plan.index, plan.returned)
                for collection, plan in plans] == [(OUTBOX, "IXSCAN", "at_id", 1),
                                                    (HISTORY, "IXSCAN", "_id_", 1)]
    finally:
        await client.close()


async def test_versions_left_marked_by_the_earlier_design_are_moved_once(services):
    """Before issue 16 a pending version was a ``history`` document with an ``outbox``
    field under a sparse index of that name."""
    db = _db(services)
    resources = services.storage.resources
    stored = [await resources.create(SYSTEM, {"resourceType": "Patient"}) for _ in range(3)]
    assert await _drain(services) == 1
    marked = datetime(2026, 1, 1, tzinfo=UTC)
    keys = [version_key("Patient", s.id, 1) for s in stored]
    for n, key in enumerate(keys[:2]):
        await db[HISTORY].update_one({"_id": key},
                                     {"$set": {"outbox": marked + timedelta(seconds=n)}})
    await db[HISTORY].create_index([("outbox", 1)], sparse=True, name="outbox")
    for _ in range(2):  # a second start finds nothing left to move
        await services.storage.outbox.ensure_indexes()
        entries = await db[OUTBOX].find({}, sort=[("at", 1), ("_id", 1)]).to_list()
        assert entries == [{"_id": key, "at": marked + timedelta(seconds=n)}
                           for n, key in enumerate(keys[:2])]
        assert await db[HISTORY].count_documents({"outbox": {"$exists": True}}) == 0
        indexes = [i["name"] async for i in await db[HISTORY].list_indexes()]
        assert "outbox" not in indexes
    assert await _drain(services) == 1
    assert await db[OUTBOX].count_documents({}) == 0
