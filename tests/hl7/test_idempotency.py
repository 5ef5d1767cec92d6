"""Re-ingestion changes nothing: the same message (sender + MSH-10) gets the stored ACK back,
the same facts under a new control id add no resource versions, concurrent repeats store
once."""

from __future__ import annotations

import asyncio

from tests.conftest import database_of
from tests.hl7.conftest import ack_fields, exchange, message, send_ok

ADT = "ms-fhir-converter/ADT-A01-01.hl7"


async def _versions(services) -> int:
    return await database_of(services)["history"].count_documents({})


async def test_same_message_twice_gets_the_stored_ack_and_changes_nothing(listener, services):
    first = await send_ok(listener.port, ADT)
    versions = await _versions(services)
    second = await exchange(listener.port, message(ADT))
    assert second == first, "the stored ACK, byte for byte"
    assert await _versions(services) == versions
    assert await database_of(services)["hl7_messages"].count_documents({}) == 1
    assert await database_of(services)["Provenance"].count_documents({}) == 1


async def test_same_facts_under_a_new_control_id_add_no_versions(listener, services):
    await send_ok(listener.port, ADT)
    resources = await database_of(services)["history"].count_documents({"type": {"$nin": [
        "Provenance", "Binary"]}})
    again = message(ADT).replace(b"|MSG00001|", b"|MSG00002|")
    ack = await exchange(listener.port, again)
    assert ack_fields(ack)["MSA"][1:3] == ["AA", "MSG00002"]
    assert await database_of(services)["history"].count_documents({"type": {"$nin": [
        "Provenance", "Binary"]}}) == resources
    assert await database_of(services)["Provenance"].count_documents({}) == 2
    patient = await database_of(services)["Patient"].find_one({})
    assert patient["vid"] == 1


async def test_same_control_id_from_another_sender_is_another_message(listener, services):
    await send_ok(listener.port, ADT)
    other = message(ADT).replace(b"|ADTApp|", b"|OtherApp|")
    assert ack_fields(await exchange(listener.port, other))["MSA"][1] == "AA"
    assert await database_of(services)["hl7_messages"].count_documents({}) == 2


async def test_concurrent_repeats_store_once(listener, services):
    acks = await asyncio.gather(*(exchange(listener.port, message(ADT)) for _ in range(6)))
    assert {ack_fields(a)["MSA"][1] for a in acks} == {"AA"}
    assert len(set(acks)) == 1, "every sender gets the one stored ACK"
    assert await database_of(services)["hl7_messages"].count_documents({}) == 1
    assert (await database_of(services)["Patient"].find_one({}))["vid"] == 1


async def test_concurrent_messages_about_one_patient_all_commit(listener, services):
    base = message("ms-fhir-converter/ADT-A08-02.hl7").decode()
    updates = [base.replace("|MSG00001|", f"|UPD{n}|").replace("|M^Married|", f"|{s}|")
               for n, s in enumerate(["S^Single", "D^Divorced", "W^Widowed", "M^Married"])]
    acks = await asyncio.gather(*(exchange(listener.port, u.encode()) for u in updates))
    assert [ack_fields(a)["MSA"][1] for a in acks] == ["AA"] * 4
    assert await database_of(services)["Patient"].count_documents({}) == 1
    patient = await database_of(services)["Patient"].find_one({})
    assert patient["vid"] <= 4
    history = await database_of(services)["history"].count_documents({"type": "Patient"})
    assert history == patient["vid"]
