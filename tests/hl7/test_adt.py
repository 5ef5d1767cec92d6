"""ADT feeds over a real MLLP socket: Patient, Encounter, Condition, AllergyIntolerance,
Coverage, Provenance and the raw message, field by field; A08 updates, A40 merges."""

from __future__ import annotations

import base64

from fhir_server.access import SYSTEM
from tests.conftest import database_of
from tests.hl7.conftest import ack_fields, exchange, message, send_ok, stored

PATIENT_MRN = "PATID1234"


def _one(found: dict[str, list[dict]], resource_type: str) -> dict:
    assert len(found[resource_type]) == 1, found.get(resource_type)
    return found[resource_type][0]


async def test_admit_maps_pid_pd1_nk1_to_patient(listener, services):
    ack = await send_ok(listener.port, "ms-fhir-converter/ADT-A01-01.hl7")
    assert ack_fields(ack)["MSA"][2] == "MSG00001"
    patient = _one(await stored(services), "Patient")
    identifiers = {(i.get("system"), i["value"]) for i in patient["identifier"]}
    assert ("urn:oid:2.16.1", PATIENT_MRN) in identifiers
    assert ("http://hl7.org/fhir/sid/us-ssn", "123456789") in identifiers
    assert ("http://hl7.org/fhir/sid/us-ssn", "PSSN123121234") in identifiers
    assert patient["active"] is True
    usual = patient["name"][0]
    assert (usual["family"], usual["given"], usual["prefix"], usual["use"]) == (
        "EVERYMAN", ["ADAM", "A"], ["Dr."], "usual")
    assert patient["birthDate"] == "1988-08-18"
    birth_time = patient["_birthDate"]["extension"][0]
    assert birth_time["valueDateTime"] == "1988-08-18T11:26:00+02:15"
    assert patient["gender"] == "male"
    assert patient["address"][0]["city"] == "Ann Arbor"
    assert patient["address"][0]["postalCode"] == "99999"
    assert {"system": "phone", "value": "7777", "use": "mobile"} in patient["telecom"]
    marital = {(c["system"], c["code"]) for c in patient["maritalStatus"]["coding"]}
    assert ("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "M") in marital
    assert patient["deceasedDateTime"] == "2008-08-25T11:16:30+01:15"
    assert patient["multipleBirthBoolean"] is False, "PID-24 N: PID-25 is no birth order"
    contact = patient["contact"][0]
    assert contact["name"]["family"] == "Evan"
    assert contact["address"]["city"] == "GREENSBORO"
    assert {c["display"] for c in patient["generalPractitioner"]} == {
        "Dr rold H Hippo", "LINDAS TEST ORGANIZATION"}


async def test_admit_maps_pv1_dg1_al1_in1(listener, services):
    await send_ok(listener.port, "ms-fhir-converter/ADT-A01-01.hl7")
    found = await stored(services)
    patient_ref = f"Patient/{found['Patient'][0]['id']}"
    encounter = _one(found, "Encounter")
    assert encounter["status"] == "in-progress"
    assert encounter["class"]["code"] == "PRENC"
    assert encounter["subject"]["reference"] == patient_ref
    assert [i["value"] for i in encounter["identifier"]] == ["40007716", "50"]
    assert encounter["period"] == {"start": "2015-02-08T11:34:19+01:10"}
    roles = {p["type"][0]["coding"][0]["code"]: p["individual"]["display"]
             for p in encounter["participant"]}
    assert roles["ATND"] == "Dr. Mohammed Mahi Alaz" and roles["ADM"] == "WALT DISNEY"
    assert encounter["hospitalization"]["reAdmission"]["coding"][0]["code"] == "R"
    assert encounter["location"][0]["status"] == "active"
    condition = _one(found, "Condition")
    assert condition["code"]["coding"][0] == {"system": "http://snomed.info/sct",
                                             "code": "422504002",
                                             "display": "Ischemic stroke(disorder)"}
    assert condition["subject"]["reference"] == patient_ref
    assert encounter["diagnosis"][0]["condition"]["reference"] == f"Condition/{condition['id']}"
    allergy = _one(found, "AllergyIntolerance")
    assert (allergy["category"], allergy["criticality"]) == (["environment"], "low")
    assert allergy["code"]["coding"][0]["code"] == "P"
    assert allergy["onsetDateTime"] == "2021-08-24"
    coverage = _one(found, "Coverage")
    assert coverage["beneficiary"]["reference"] == patient_ref
    assert coverage["period"] == {"start": "1989-10-01", "end": "2050-10-01"}
    assert coverage["relationship"]["coding"][0]["code"] == "spouse"
    assert coverage["payor"][0]["display"] == "Blue Cross Blue Shield of Texas"


async def test_every_message_has_provenance_and_its_raw_text(listener, services):
    await send_ok(listener.port, "ms-fhir-converter/ADT-A01-02.hl7")
    record = await database_of(services)["hl7_messages"].find_one({"controlId": "MSG00001"})
    found = await stored(services)
    provenance = (await services.storage.resources.read(SYSTEM,
        "Provenance", record["provenance"].split("/")[1])).resource
    assert sorted(t["reference"] for t in provenance["target"]) == sorted(record["resources"])
    assert {t.split("/")[0] for t in record["resources"]} == set(found)
    entity = provenance["entity"][0]
    assert entity["role"] == "source" and entity["what"]["identifier"]["value"] == "MSG00001"
    assert provenance["activity"]["coding"][0]["code"] == "A01"
    assert provenance["agent"][0]["who"]["display"] == "ADTApp at GHHSFacility"
    binary = (await services.storage.resources.read(SYSTEM,
        "Binary", entity["what"]["reference"].split("/")[1])).resource
    assert binary["contentType"] == "x-application/hl7-v2+er7"
    raw = base64.b64decode(binary["data"])
    assert raw == message("ms-fhir-converter/ADT-A01-02.hl7"), "kept exactly as received"


async def test_newborn_admit(listener, services):
    await send_ok(listener.port, "cdc-trusted-intermediary/messages/005_MN_ADT_A01.hl7")
    found = await stored(services)
    baby = _one(found, "Patient")
    assert baby["birthDate"] == "2023-05-04"
    assert baby["multipleBirthBoolean"] is False and baby["deceasedBoolean"] is False
    mother = next(c for c in baby["contact"] if c["name"]["given"] == ["SADIE", "S"])
    assert any(coding["code"] == "MTH" for r in mother["relationship"] for coding in r["coding"])
    gestation = _one(found, "Observation")
    assert gestation["code"]["coding"][0]["code"] == "49051-6"
    assert gestation["valueQuantity"] == {"value": 32, "unit": "wk",
                                          "system": "http://unitsofmeasure.org", "code": "wk"}
    assert gestation["subject"]["reference"] == f"Patient/{baby['id']}"


async def test_discharge_sets_the_encounter_status(listener, services):
    await send_ok(listener.port, "ms-fhir-converter/ADT-A03-02.hl7")
    encounter = _one(await stored(services), "Encounter")
    assert encounter["status"] == "finished"
    assert encounter["location"][0]["status"] == "completed"


async def test_cancel_admit_cancels_the_encounter(listener, services):
    await send_ok(listener.port, "ms-fhir-converter/ADT-A11-02.hl7")
    assert _one(await stored(services), "Encounter")["status"] == "cancelled"


async def test_register_and_update_person_make_no_encounter(listener, services):
    for name in ("ADT-A28-02", "ADT-A31-02"):
        await send_ok(listener.port, f"ms-fhir-converter/{name}.hl7")
    assert await database_of(services)["Encounter"].count_documents({}) == 0
    assert await database_of(services)["Patient"].count_documents({}) == 1


async def test_a08_updates_the_same_patient(listener, services):
    original = message("ms-fhir-converter/ADT-A04-02.hl7").decode()
    await send_ok(listener.port, "ms-fhir-converter/ADT-A04-02.hl7")
    first = _one(await stored(services), "Patient")
    update = original.replace("ADT^A04^ADT_A04|MSG00001", "ADT^A08^ADT_A08|MSG00002").replace(
        "|M^Married|", "|D^Divorced|").replace("EVERYMAN&&&&Aniston^ADAM", "EVERYMAN^ADAMO")
    ack = await exchange(listener.port, update.encode())
    assert ack_fields(ack)["MSA"][1:3] == ["AA", "MSG00002"]
    assert await database_of(services)["Patient"].count_documents({}) == 1
    current = (await services.storage.resources.read(SYSTEM, "Patient", first["id"])).resource
    assert current["meta"]["versionId"] == "2"
    assert current["maritalStatus"]["coding"][0]["code"] == "D"
    assert current["name"][0]["given"][0] == "ADAMO"
    assert (await services.storage.resources.vread(SYSTEM, "Patient", first["id"], 1)).resource[
        "maritalStatus"]["coding"][0]["code"] == "M"


async def test_a40_merge_links_both_patients_and_retires_the_old_one(listener, services):
    old_admit = message("ms-fhir-converter/ADT-A28-02.hl7").decode().replace(
        "PATID1234^5^M11^test1&2.16.1&HCD^MR", "56789^^^BCBS^MR")
    assert ack_fields(await exchange(listener.port, old_admit.encode()))["MSA"][1] == "AA"
    old = (await database_of(services)["Patient"].find_one({}))["_id"]
    await send_ok(listener.port, "ms-fhir-converter/ADT-A40-01.hl7")
    survivor = next(p for p in (await stored(services, "8919-40"))["Patient"]
                    if p["id"] != old)
    retired = (await services.storage.resources.read(SYSTEM, "Patient", old)).resource
    assert survivor["link"] == [{"other": {"reference": f"Patient/{old}"}, "type": "replaces"}]
    assert survivor["active"] is True
    assert retired["active"] is False
    assert retired["link"] == [{"other": {"reference": f"Patient/{survivor['id']}"},
                                "type": "replaced-by"}]
    assert retired["name"][0]["family"] == "EVERYMAN", "the old record keeps its content"
    assert retired["meta"]["versionId"] == "2"


async def test_a40_for_an_unknown_prior_patient_creates_a_retired_stub(listener, services):
    await send_ok(listener.port, "ms-fhir-converter/ADT-A40-02.hl7")
    patients = [p["resource"] async for p in database_of(services)["Patient"].find({})]
    retired = [p for p in patients if p["active"] is False]
    assert {p["identifier"][0]["value"] for p in retired} == {"569", "56789"}
    assert all(p["link"][0]["type"] == "replaced-by" for p in retired)
    survivors = [p for p in patients if p["active"] is True]
    assert {p["identifier"][0]["value"] for p in survivors} == {"12345", "145"}


async def test_a08_after_a_merge_keeps_the_links(listener, services):
    await send_ok(listener.port, "ms-fhir-converter/ADT-A40-01.hl7")
    update = message("ms-fhir-converter/ADT-A40-01.hl7").decode().replace(
        "ADT^A40^ADT_A40|8919-40", "ADT^A08^ADT_A08|8919-41").replace("MRG|56789^^^BCBS^MR", "")
    assert ack_fields(await exchange(listener.port, update.encode()))["MSA"][1] == "AA"
    survivor = await database_of(services)["Patient"].find_one({"resource.active": True})
    assert survivor["resource"]["link"][0]["type"] == "replaces"
