"""Rest-hook subscriptions in-process: handshake, events in order with their focus,
payload contents, filters, topic criteria, retries with backoff and heartbeats."""

from __future__ import annotations

import pytest

from .helpers import events, kind, numbers, observation, status_of, subscription
from .receiver import Receiver


@pytest.fixture
async def receiver():
    hook = await Receiver().start()
    yield hook
    await hook.stop()


async def test_handshake_then_events_in_order(client, receiver):
    created = await client.post("Subscription", json=subscription(
        "observation-changed", endpoint=receiver.url, content="full-resource"))
    assert created.status_code == 201, created.text
    sid = created.json()["id"]
    bundles = await receiver.wait_for(lambda b: len(b) >= 1)
    assert kind(bundles[0]) == "handshake"
    ids = []
    for _ in range(5):
        response = await client.post("Observation", json=observation("p1"))
        assert response.status_code == 201
        ids.append(response.json()["id"])
    bundles = await receiver.wait_for(lambda b: len(events(b)) >= 5)
    assert numbers(bundles) == [1, 2, 3, 4, 5]
    focus = [e["focus"]["reference"].rsplit("/", 1)[-1] for e in events(bundles)]
    assert focus == ids
    last = [b for b in bundles if kind(b) == "event-notification"][-1]
    assert last["entry"][1]["resource"]["id"] == ids[-1]
    assert status_of(last)["subscription"]["reference"].endswith(f"Subscription/{sid}")
    stored = (await client.get(f"Subscription/{sid}")).json()
    assert stored["status"] in ("active", "requested")
