"""Subscription events expire (docs/subscriptions.md, "Retention"): a TTL index on the
events follows FHIR_SUBSCRIPTION_EVENT_RETENTION_DAYS, and events that expired before
they were delivered are skipped (the client sees the gap in event numbers) instead of
stopping delivery."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from fhir_server.storage.subscription_events import EVENTS, EXPIRY, event_key
from fhir_server.storage.subscription_state import STATES
from fhir_server.subscriptions.retention import EVENT_RETENTION, event_retention

from .helpers import events, kind, numbers, observation, subscription
from .receiver import Receiver


def test_the_retention_setting(monkeypatch):
    monkeypatch.delenv(EVENT_RETENTION, raising=False)
    assert event_retention() == timedelta(days=30)
    monkeypatch.setenv(EVENT_RETENTION, "7")
    assert event_retention() == timedelta(days=7)
    monkeypatch.setenv(EVENT_RETENTION, "0")
    assert event_retention() is None
    for bad in ("-1", "a week", "1.5"):
        monkeypatch.setenv(EVENT_RETENTION, bad)
        with pytest.raises(ValueError, match=EVENT_RETENTION):
            event_retention()


async def _expiry(db) -> int | None:
    indexes = {i["name"]: i async for i in await db[EVENTS].list_indexes()}
    found = indexes.get(EXPIRY)
    return None if found is None else found["expireAfterSeconds"]


async def test_undelivered_events_that_expired_are_skipped(app, client, db):
    storage = app.state.services.storage
    assert await _expiry(db) == 30 * 86400  # the default, set when the app started
    await storage.subscription_events.keep_for(timedelta(days=2))
    assert await _expiry(db) == 2 * 86400
    await storage.subscription_events.keep_for(None)
    assert await _expiry(db) is None
    await storage.subscription_events.keep_for(timedelta(days=30))

    receiver = await Receiver().start()
    try:
        created = await client.post("Subscription", json=subscription(
            "observation-changed", endpoint=receiver.url))
        assert created.status_code == 201, created.text
        sid = created.json()["id"]
        await receiver.wait_for(lambda b: any(kind(x) == "handshake" for x in b))

        async def write(count: int) -> None:
            for _ in range(count):
                answer = await client.post("Observation", json=observation("p1"))
                assert answer.status_code == 201, answer.text

        async def held(requests: int) -> None:
            """Wait until the endpoint holds this many notifications in all."""
            async with receiver.changed:
                await asyncio.wait_for(receiver.changed.wait_for(
                    lambda: receiver.waiting >= requests), 30)

        async def numbered(count: int, counter: str = "events") -> None:
            async def check() -> None:
                while (await db[STATES].find_one({"_id": sid}))[counter] < count:
                    await asyncio.sleep(0.02)
            await asyncio.wait_for(check(), 30)

        # event 1 is in flight (the endpoint holds it) when 2 and 3 are numbered; 2
        # expires before it could be sent, as the TTL index would remove it
        receiver.gate.clear()
        await write(1)
        await held(1)
        await write(2)
        await numbered(3)
        await db[EVENTS].delete_one({"_id": event_key(sid, 2)})
        receiver.gate.set()
        got = await receiver.wait_for(lambda b: len(events(b)) >= 2)
        assert numbers(got) == [1, 3]

        # every event after the one in flight expired: delivery goes on after them
        receiver.gate.clear()
        await write(1)
        await held(2)
        await write(2)
        await numbered(6)
        await db[EVENTS].delete_many({"_id": {"$gt": event_key(sid, 4)}})
        receiver.gate.set()
        await write(1)
        got = await receiver.wait_for(lambda b: 7 in numbers(b))
        assert numbers(got) == [1, 3, 4, 7]
        await numbered(7, "delivered")
    finally:
        receiver.gate.set()
        await receiver.stop()
