"""Booking Slots (fhir_server.scheduling.booking): concurrent bookings of one Slot, exactly
one wins; a cancelled Appointment gives its Slot back; a Slot that is not free or not
known is refused and nothing is written."""

from __future__ import annotations

import asyncio
from typing import Any

CONCURRENT = 20


def slot(status: str = "free") -> dict[str, Any]:
    return {"resourceType": "Slot", "status": status,
            "schedule": {"reference": "Schedule/s1"},
            "start": "2026-12-08T09:00:00Z", "end": "2026-12-08T09:15:00Z"}


def appointment(slot_id: str, patient: str, status: str = "booked") -> dict[str, Any]:
    return {"resourceType": "Appointment", "status": status,
            "slot": [{"reference": f"Slot/{slot_id}"}],
            "start": "2026-12-08T09:00:00Z", "end": "2026-12-08T09:15:00Z",
            "participant": [{"actor": {"reference": f"Patient/{patient}"},
                             "status": "accepted"}]}


async def _slot_status(client, slot_id: str) -> str:
    return (await client.get(f"Slot/{slot_id}")).json()["status"]


async def _appointments(client) -> int:
    bundle = (await client.get("Appointment", params={"_summary": "count"})).json()
    return bundle["total"]


async def test_concurrent_bookings_of_one_slot_exactly_one_succeeds(client):
    slot_id = (await client.post("Slot", json=slot())).json()["id"]
    answers = await asyncio.gather(*(client.post("Appointment", json=appointment(
        slot_id, f"p{i}")) for i in range(CONCURRENT)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] + [409] * (CONCURRENT - 1), [a.text for a in answers]
    refused = next(a for a in answers if a.status_code == 409).json()
    assert refused["resourceType"] == "OperationOutcome"
    assert await _slot_status(client, slot_id) == "busy"
    assert await _appointments(client) == 1


async def test_cancelling_gives_the_slot_back(client):
    slot_id = (await client.post("Slot", json=slot())).json()["id"]
    booked = (await client.post("Appointment", json=appointment(slot_id, "p1"))).json()
    assert (await client.post("Appointment", json=appointment(slot_id, "p2"))
            ).status_code == 409
    cancelled = await client.put(f"Appointment/{booked['id']}",
                                 json={**booked, "status": "cancelled"})
    assert cancelled.status_code == 200, cancelled.text
    assert await _slot_status(client, slot_id) == "free"
    again = await client.post("Appointment", json=appointment(slot_id, "p2"))
    assert again.status_code == 201, again.text
    assert await _slot_status(client, slot_id) == "busy"
    deleted = await client.delete(f"Appointment/{again.json()['id']}")
    assert deleted.status_code in (200, 204)
    assert await _slot_status(client, slot_id) == "free"


async def test_unknown_or_busy_slot_is_refused_and_nothing_is_written(client):
    busy = (await client.post("Slot", json=slot("busy-unavailable"))).json()["id"]
    assert (await client.post("Appointment", json=appointment(busy, "p1"))
            ).status_code == 409
    unknown = await client.post("Appointment", json=appointment("nope", "p1"))
    assert unknown.status_code == 422, unknown.text
    assert await _appointments(client) == 0
    assert await _slot_status(client, busy) == "busy-unavailable"


async def test_free_slots_by_date_and_practitioner(client):
    schedule = {"resourceType": "Schedule", "id": "s1",
                "actor": [{"reference": "Practitioner/midwife1"}]}
    assert (await client.put("Schedule/s1", json=schedule)).status_code in (200, 201)
    ids = {}
    for name, day, status in (("free-8th", "08", "free"), ("busy-8th", "08", "busy"),
                              ("free-9th", "09", "free")):
        body = {**slot(status), "start": f"2026-12-{day}T09:00:00Z",
                "end": f"2026-12-{day}T09:15:00Z"}
        ids[(await client.post("Slot", json=body)).json()["id"]] = name
    found = (await client.get("Slot", params=[
        ("status", "free"), ("start", "ge2026-12-08"), ("start", "lt2026-12-09"),
        ("schedule.actor", "Practitioner/midwife1")])).json()
    assert [ids[e["resource"]["id"]] for e in found.get("entry", [])] == ["free-8th"]


async def test_transaction_booking_one_slot_twice_fails_as_a_whole(client):
    slot_id = (await client.post("Slot", json=slot())).json()["id"]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": appointment(slot_id, f"p{i}"),
         "request": {"method": "POST", "url": "Appointment"}} for i in range(2)]}
    answer = await client.post("", json=bundle)
    assert answer.status_code == 409, answer.text
    assert await _appointments(client) == 0
    assert await _slot_status(client, slot_id) == "free"
