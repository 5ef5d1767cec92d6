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


async def test_rolled_back_transaction_notifies_nothing(client, receiver):
    """A Subscription created by a transaction Bundle is registered like any other; a
    transaction that fails stores nothing and so numbers no event."""
    created = await client.post("", json={"resourceType": "Bundle", "type": "transaction",
                                          "entry": [{"resource": subscription(
                                              "observation-changed", endpoint=receiver.url),
                                              "request": {"method": "POST",
                                                          "url": "Subscription"}}]})
    assert created.status_code == 200, created.text
    await receiver.wait_for(lambda b: any(kind(x) == "handshake" for x in b))
    failing = await client.post("", json={"resourceType": "Bundle", "type": "transaction",
                                          "entry": [
        {"resource": observation("p1"), "request": {"method": "POST", "url": "Observation"}},
        {"request": {"method": "PUT", "url": "Observation/o1"},
         "resource": {**observation("p1"), "id": "o1", "status": "not-a-status"}}]})
    assert failing.status_code in (400, 422), failing.text
    kept = await client.post("Observation", json=observation("p1"))
    assert kept.status_code == 201
    bundles = await receiver.wait_for(lambda b: len(events(b)) >= 1)
    got = events(bundles)
    assert [int(e["event-number"]) for e in got] == [1]
    assert got[0]["focus"]["reference"].endswith(f"Observation/{kept.json()['id']}")
