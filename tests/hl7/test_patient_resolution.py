"""HL7 v2 feeds do not create people twice (importers/hl7v2/patients.py and
fhir_server.interactions.patient_resolution): identifiers without an assigning authority get
the sending facility's system, so reused MRNs of two facilities are two people; a message
reaches the Patient registered elsewhere through its identifiers or a certain match
(demographics only), and the Patient learns the message's identifier; a probable match is
held for review (AA, nothing written) until a reviewer links or rejects it."""

from __future__ import annotations

from fhir_server.access import SYSTEM
from importers.hl7v2.dead_letters import replay_dead_letters
from tests.conftest import database_of
from tests.hl7.conftest import ack_fields, exchange

HID = "https://healthid.example.org/sid/hid"
PHC = "urn:mch-fhir-server:hl7v2:PHC-KHARADI:MR"
CHILD = {"resourceType": "Patient", "id": "anaya", "gender": "female",
         "birthDate": "2023-02-11", "name": [{"family": "Kulkarni", "given": ["Anaya"]}],
         "identifier": [{"system": HID, "value": "91-2345-6789-0123"}],
         "address": [{"line": ["12 MG Road"], "city": "Pune", "postalCode": "411001"}]}


def vxu(control: str, mrn: str, name: str = "Kulkarni^Anaya", born: str = "20230211",
        facility: str = "PHC-KHARADI", order: str = "IZ-1") -> bytes:
    return ("MSH|^~\\&|PHC-EMR|" + facility + "|IIS|MCH|20240301101500+0530||VXU^V04^VXU_V04|"
            + control + "|P|2.5.1\r"
            f"PID|1||{mrn}^^^^MR||{name}||{born}|F|||12 MG Road^^Pune^MH^411001\r"
            f"ORC|RE||{order}\r"
            "RXA|0|1|20240301|20240301|08^Hep B, adolescent or pediatric^CVX|0.5|mL^mL^UCUM\r"
            ).encode()


def adt(control: str, mrn: str, name: str, born: str, facility: str) -> bytes:
    return (f"MSH|^~\\&|HIS|{facility}|MCH|MCH|20240301101500+0530||ADT^A04^ADT_A01|{control}"
            "|P|2.5.1\r"
            f"EVN|A04|20240301101500\r"
            f"PID|1||{mrn}^^^^MR||{name}||{born}|M\r"
            "PV1|1|O\r").encode()


async def _code(listener, payload: bytes) -> str:
    return ack_fields(await exchange(listener.port, payload))["MSA"][1]


async def _patients(services) -> list[dict]:
    docs = database_of(services)["Patient"].find({}, {"resource": 1})
    return [d["resource"] async for d in docs]


async def _subjects(services, resource_type: str) -> set[str]:
    docs = database_of(services)[resource_type].find({}, {"resource": 1})
    return {(d["resource"].get("patient") or d["resource"].get("subject"))["reference"]
            async for d in docs}


async def test_a_message_without_system_reaches_the_registered_child(listener, services):
    await services.storage.resources.update(SYSTEM, CHILD, "anaya")
    assert await _code(listener, vxu("VXU-1", "4471")) == "AA"
    assert await _code(listener, vxu("VXU-2", "4471", order="IZ-2")) == "AA"
    patients = await _patients(services)
    assert [p["id"] for p in patients] == ["anaya"], "no second child"
    assert await _subjects(services, "Immunization") == {"Patient/anaya"}
    identifiers = {(i.get("system"), i["value"]) for i in patients[0]["identifier"]}
    assert identifiers == {(HID, "91-2345-6789-0123"), (PHC, "4471")}
    assert patients[0]["name"] == CHILD["name"], "a VXU does not replace demographics"


async def test_reused_mrns_of_two_facilities_are_two_people(listener, services):
    assert await _code(listener, adt("A-1", "1001", "Rao^Arjun", "19800101", "CITY-HOSP")) == "AA"
    assert await _code(listener, adt("B-1", "1001", "Menon^Vikram", "19750505",
                                     "RURAL-PHC")) == "AA"
    patients = await _patients(services)
    assert sorted(p["name"][0]["family"] for p in patients) == ["Menon", "Rao"]
    systems = {p["name"][0]["family"]: p["identifier"][0]["system"] for p in patients}
    assert systems == {"Rao": "urn:mch-fhir-server:hl7v2:CITY-HOSP:MR",
                       "Menon": "urn:mch-fhir-server:hl7v2:RURAL-PHC:MR"}
    assert await _code(listener, vxu("B-2", "1001", "Menon^Vikram", "19750505",
                                     "RURAL-PHC")) == "AA"
    menon = next(p["id"] for p in patients if p["name"][0]["family"] == "Menon")
    assert await _subjects(services, "Immunization") == {f"Patient/{menon}"}
    assert len(await _patients(services)) == 2


async def test_a_probable_match_is_held_until_a_reviewer_links_it(listener, services,
                                                                    ingestor):
    await services.storage.resources.update(SYSTEM, CHILD, "anaya")
    unsure = vxu("VXU-9", "7788", name="Kulkarni^A", facility="LAB-CITY")
    ack = await exchange(listener.port, unsure)
    assert ack_fields(ack)["MSA"][1] == "AA"
    assert [p["id"] for p in await _patients(services)] == ["anaya"]
    assert await database_of(services)["Immunization"].count_documents({}) == 0
    queue = services.storage.patient_review
    [item] = await queue.items()
    assert item["status"] == "open" and item["reason"] == "a probable match"
    assert [(c["reference"], c["grade"]) for c in item["candidates"]] == [
        ("Patient/anaya", "probable")]
    assert [h["kind"] for h in item["held"]] == ["hl7"]
    assert await _code(listener, unsure) == "AA", "a repeat is held again, not twice"
    assert len((await queue.items())[0]["held"]) == 1
    held = await services.storage.hl7_feed.dead_letters("held")
    assert [letter["controlId"] for letter in held] == ["VXU-9"]

    decided = await queue.decide(item["_id"], "linked", "anaya", "reviewer")
    replayed = await replay_dead_letters(ingestor, [h["key"] for h in decided["held"]],
                                         status="held")
    assert [outcome.code for _, outcome in replayed] == ["AA"]
    assert await _subjects(services, "Immunization") == {"Patient/anaya"}
    assert await services.storage.hl7_feed.dead_letters("held") == []
    assert await _code(listener, vxu("VXU-10", "7788", name="Kulkarni^A", facility="LAB-CITY",
                                     order="IZ-3")) == "AA"
    assert await database_of(services)["Immunization"].count_documents({}) == 2
    assert [p["id"] for p in await _patients(services)] == ["anaya"]


async def test_a_rejected_review_creates_the_person(listener, services, ingestor):
    await services.storage.resources.update(SYSTEM, CHILD, "anaya")
    await exchange(listener.port, vxu("VXU-7", "5555", name="Kulkarni^A", facility="LAB-2"))
    [item] = await services.storage.patient_review.items()
    decided = await services.storage.patient_review.decide(item["_id"], "rejected", None, "me")
    await replay_dead_letters(ingestor, [h["key"] for h in decided["held"]], status="held")
    patients = await _patients(services)
    assert len(patients) == 2
    newcomer = next(p for p in patients if p["id"] != "anaya")
    assert await _subjects(services, "Immunization") == {f"Patient/{newcomer['id']}"}
