"""Rest-hook subscriptions in-process: handshake, events in order with their focus,
payload contents, filters, topic criteria, retries, heartbeats, $events and $status,
refused endpoints, committed writes only."""

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


async def test_filters_and_topic_criteria(client, receiver):
    """lab-result-final fires when an Observation becomes final (not on later updates),
    only for the filtered patient; content empty carries no focus."""
    created = await client.post("Subscription", json=subscription(
        "lab-result-final", endpoint=receiver.url, content="empty",
        filters=["Observation?patient=Patient/p1"]))
    assert created.status_code == 201, created.text
    await receiver.wait_for(lambda b: any(kind(x) == "handshake" for x in b))
    lab = {"category": "laboratory", "code": "718-7"}
    await client.post("Observation", json=observation("p2", **lab))  # filtered out
    draft = (await client.post("Observation", json=observation(
        "p1", status="preliminary", **lab))).json()
    final = await client.put(f"Observation/{draft['id']}", json={**draft, "status": "final"})
    assert final.status_code == 200
    corrected = await client.put(f"Observation/{draft['id']}", json={
        **final.json(), "status": "amended"})
    assert corrected.status_code == 200
    await client.post("Observation", json=observation("p1"))  # vital signs: not a lab
    await client.post("Observation", json=observation("p1", **lab))  # created final
    bundles = await receiver.wait_for(lambda b: len(events(b)) >= 2)
    got = events(bundles)
    assert [int(e["event-number"]) for e in got] == [1, 2]
    assert all("focus" not in e for e in got)
    past = await client.get(f"Subscription/{created.json()['id']}/$events",
                            params={"content": "id-only"})
    assert past.status_code == 200
    # the subscription's own content (empty) is the most $events shows
    assert kind(past.json()) == "query-event"
    queried = status_of(past.json())["notification-event"]
    assert [int(e["event-number"]) for e in queried] == [1, 2]
    assert all("focus" not in e for e in queried)


async def test_events_and_status_operations(client, receiver):
    created = await client.post("Subscription", json=subscription(
        "observation-changed", endpoint=receiver.url))
    sid = created.json()["id"]
    ids = [(await client.post("Observation", json=observation("p1"))).json()["id"]
           for _ in range(3)]
    await receiver.wait_for(lambda b: len(events(b)) >= 3)
    answer = await client.get(f"Subscription/{sid}/$events",
                              params={"eventsSinceNumber": "2", "eventsUntilNumber": "3"})
    assert answer.status_code == 200, answer.text
    assert kind(answer.json()) == "query-event"
    got = status_of(answer.json())["notification-event"]
    assert [int(e["event-number"]) for e in got] == [2, 3]
    assert [e["focus"]["reference"].rsplit("/", 1)[-1] for e in got] == ids[1:]
    status = await client.get(f"Subscription/{sid}/$status")
    assert status.status_code == 200, status.text
    parameters = status_of({"entry": [status.json()["entry"][0]]})
    assert int(parameters["events-since-subscription-start"]) == 3
    assert parameters["status"] == "active"


async def test_failed_notifications_are_retried_then_delivered(client, receiver):
    receiver.fail_next = 2  # the handshake fails twice (backoff 1 s, then 2 s)
    created = await client.post("Subscription", json=subscription(
        "observation-changed", endpoint=receiver.url))
    sid = created.json()["id"]
    await client.post("Observation", json=observation("p1"))
    bundles = await receiver.wait_for(lambda b: len(events(b)) >= 1, seconds=60)
    assert kind(bundles[0]) == "handshake"
    assert numbers(bundles) == [1]
    assert receiver.fail_next == 0
    stored = (await client.get(f"Subscription/{sid}")).json()
    assert stored["status"] in ("requested", "active")


async def test_heartbeat_when_nothing_happens(client, receiver):
    await client.post("Subscription", json=subscription(
        "observation-changed", endpoint=receiver.url, heartbeat=1))
    bundles = await receiver.wait_for(lambda b: any(kind(x) == "heartbeat" for x in b))
    assert kind(bundles[0]) == "handshake"


async def test_endpoint_inside_the_network_is_refused(client):
    for endpoint in ("http://example.org/hook", "https://10.1.2.3/hook",
                     "https://169.254.169.254/latest"):
        refused = await client.post("Subscription", json=subscription(
            "observation-changed", endpoint=endpoint))
        assert refused.status_code in (400, 422), (endpoint, refused.text)
        assert refused.json()["resourceType"] == "OperationOutcome"
    unknown = await client.post("Subscription", json={
        **subscription("observation-changed", endpoint="https://example.org/hook"),
        "criteria": "https://example.org/no-such-topic"})
    assert unknown.status_code in (400, 422)
    assert (await client.get("Subscription", params={"_summary": "count"})
            ).json()["total"] == 0
