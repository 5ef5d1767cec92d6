"""ORU^R01, VXU^V04, RDE^O11, OMP^O09, ORM^O01 and OML^O21 over a real MLLP socket, checked
field by field in what was stored."""

from __future__ import annotations

from decimal import Decimal

from tests.hl7.conftest import ack_fields, exchange, send_ok, stored

UCUM = "http://unitsofmeasure.org"
LRI = "ms-fhir-converter/LRI_2.0-NG_CBC_Typ_Message.hl7"


def _by_code(observations: list[dict]) -> dict[str, dict]:
    return {o["code"]["coding"][0]["code"]: o for o in observations}


async def test_lab_result_report_with_observations(listener, services):
    await send_ok(listener.port, LRI)
    found = await stored(services)
    report = found["DiagnosticReport"][0]
    patient = f"Patient/{found['Patient'][0]['id']}"
    assert report["code"]["coding"][0]["code"] == "57021-8"
    assert report["status"] == "final"
    assert {(i["type"]["coding"][0]["code"], i["value"]) for i in report["identifier"]} == {
        ("PLAC", "ORD666555"), ("FILL", "R-991133")}
    assert report["effectiveDateTime"] == "2011-01-03T14:34:28-08:00"
    assert report["issued"] == "2011-01-04T17:00:28-08:00"
    assert report["subject"]["reference"] == patient
    observations = _by_code(found["Observation"])
    assert len(report["result"]) == len(found["Observation"]) == 28
    assert {r["reference"] for r in report["result"]} == {
        f"Observation/{o['id']}" for o in found["Observation"]}
    hemoglobin = observations["718-7"]
    assert hemoglobin["valueQuantity"] == {"value": Decimal("12.5"), "unit": "grams per milliliter",
                                           "system": UCUM, "code": "g/mL"}
    assert hemoglobin["referenceRange"][0]["low"]["value"] == 13
    assert hemoglobin["referenceRange"][0]["high"]["value"] == 18
    codes = {c["code"] for c in hemoglobin["interpretation"][0]["coding"]}
    assert codes == {"L"}
    assert hemoglobin["status"] == "final"
    assert hemoglobin["effectiveDateTime"] == "2011-01-03T14:34:28-08:00"
    assert hemoglobin["subject"]["reference"] == patient
    assert hemoglobin["performer"][0]["display"] == "Century Hospital"
    assert {c["code"] for c in observations["26464-8"]["interpretation"][0]["coding"]} == {
        "HH"}
    order = found["ServiceRequest"][0]
    assert order["requisition"]["value"] == "GORD874233"
    assert report["basedOn"] == [{"reference": f"ServiceRequest/{order['id']}"}]
    specimen = found["Specimen"][0]
    assert specimen["type"]["coding"][0]["code"] == "119297000"
    assert report["specimen"] == [{"reference": f"Specimen/{specimen['id']}"}]


async def test_newborn_screening_results(listener, services):
    await send_ok(listener.port, "cdc-trusted-intermediary/messages/"
                  "003_AL_ORU_R01_NBS_Normal_And_Abnormal_Results_0_initial_message.hl7")
    found = await stored(services)
    assert len(found["DiagnosticReport"]) >= 2
    values = [o for o in found["Observation"] if "valueCodeableConcept" in o]
    assert values and all(o["valueCodeableConcept"]["coding"][0]["code"] for o in values)
    comment = _by_code(found["Observation"])["69969-4"]
    assert comment["valueString"] == "Example notes from AL PHL"
    flagged = _by_code(found["Observation"])["57130-7"]
    assert flagged["valueCodeableConcept"]["coding"][0]["code"] == "LA18944-1"


async def test_lines_without_observation_code_take_the_report_code(listener, services):
    await send_ok(listener.port, "linuxforhealth/ORU-multiline-short.hl7")
    found = await stored(services)
    texts = [o for o in found["Observation"] if "valueString" in o]
    assert texts[0]["code"]["coding"][0]["code"] == "1487"
    assert texts[0]["valueString"] == "[PII] Emergency Department"


async def test_vaccination_record(listener, services):
    await send_ok(listener.port, "ms-fhir-converter/IZ_1_1.1_Admin_Child_Max_Message.hl7")
    found = await stored(services)
    shot = found["Immunization"][0]
    assert shot["status"] == "completed"
    assert shot["vaccineCode"]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/cvx", "code": "140",
        "display": "Influenza, seasonal, injectable, preservative free"}
    assert shot["occurrenceDateTime"] == "2012-08-14"
    assert shot["primarySource"] is True
    assert (shot["lotNumber"], shot["expirationDate"]) == ("Z0860BB", "2012-11-04")
    assert shot["doseQuantity"] == {"value": Decimal("0.5"),
                                    "unit": "MilliLiter [SI Volume Units]",
                                    "system": UCUM, "code": "mL"}
    assert shot["route"]["coding"][0]["code"] == "C28161"
    assert shot["site"]["coding"][0]["code"] == "LD"
    assert shot["manufacturer"]["display"] == "CSL Behring"
    functions = {p["function"]["coding"][0]["code"]: p["actor"]["display"]
                 for p in shot["performer"]}
    assert functions == {"AP": "Mike A Lemon", "OP": "NICHOLAS RADON"}
    assert shot["programEligibility"][0]["coding"][0]["code"] == "V05"
    assert shot["education"] == [{"documentType": "Influenza, unspecified formulation",
                                  "publicationDate": "2012-07-02",
                                  "presentationDate": "2012-08-14"}]
    assert shot["patient"]["reference"] == f"Patient/{found['Patient'][0]['id']}"
    assert found["Patient"][0]["birthDate"] == "2007-07-06"


async def test_historical_and_refused_vaccinations(listener, services):
    await send_ok(listener.port, "ms-fhir-converter/VXU.hl7")
    shots = (await stored(services))["Immunization"]
    assert len(shots) == 3
    historical = [s for s in shots if s.get("primarySource") is False]
    assert len(historical) == 2 and all("doseQuantity" not in s for s in historical)
    assert historical[0]["reportOrigin"]["coding"][0]["code"] == "01"
    refusal = ("MSH|^~\\&|EHR|CLINIC|IIS|STATE|20240101||VXU^V04^VXU_V04|REF-1|P|2.5.1\r"
               "PID|1||BABY1^^^CLINIC^MR||Doe^Baby||20231001|F\r"
               "ORC|RE||REF-ORDER-1^CLINIC\r"
               "RXA|0|1|20240101|20240101|08^Hep B, adolescent or pediatric^CVX|999||||||||||||"
               "00^Parental decision^NIP002||RE\r")
    ack = await exchange(listener.port, refusal.encode())
    assert ack_fields(ack)["MSA"][1] == "AA", ack
    refused = (await stored(services, "REF-1"))["Immunization"][0]
    assert refused["status"] == "not-done"
    assert refused["statusReason"]["coding"][0]["code"] == "00"
    assert refused["vaccineCode"]["coding"][0]["code"] == "08"


async def test_pharmacy_encoded_order(listener, services):
    await send_ok(listener.port, "ms-fhir-converter/RDE-O11-01.hl7")
    found = await stored(services)
    request = found["MedicationRequest"][0]
    assert (request["status"], request["intent"]) == ("active", "order")
    assert request["medicationCodeableConcept"]["coding"][0] == {
        "system": "http://hl7.org/fhir/sid/ndc", "code": "0143963401",
        "display": "200 ML BAG : NICARDIPINE IN NACL (ISO-OS) 40 MG/200 ML IV PGBK"}
    assert request["identifier"][0]["value"] == "1163422591"
    assert request["authoredOn"] == "2019-11-04T06:27:26+02:15"
    dosage = request["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] == 5
    assert dosage["route"]["coding"][0]["code"] == "IV"
    assert dosage["timing"]["repeat"]["boundsPeriod"] == {
        "start": "2019-11-04T10:30:00+02:15", "end": "2019-11-04T11:30:00+02:15"}
    assert dosage["timing"]["code"]["coding"][0]["code"] == "P"
    assert request["dispenseRequest"]["quantity"]["value"] == 3
    assert request["dispenseRequest"]["numberOfRepeatsAllowed"] == 12
    assert request["subject"]["reference"] == f"Patient/{found['Patient'][0]['id']}"


async def test_pharmacy_order_omp(listener, services):
    omp = ("MSH|^~\\&|CPOE|HOSP|PHARM|HOSP|20240301101500+0100||OMP^O09^OMP_O09|OMP-1|P|2.5.1\r"
           "PID|1||MOM77^^^HOSP^MR||Okafor^Ada||19900512|F\r"
           "ORC|NW|ORD-9^CPOE||||||||||12345^Smith^Jane^^^Dr^^^NPI&2.16.840.1.113883.4.6&ISO\r"
           "TQ1|1||BID|||||20240301|20240310\r"
           "RXO|00071015523^Ferrous sulfate 325 MG Oral Tablet^NDC|325||mg^milligram^UCUM"
           "|||||||30|{tbl}^tablet^UCUM|2\r"
           "RXR|PO^Oral^HL70162\r")
    ack = await exchange(listener.port, omp.encode())
    assert ack_fields(ack)["MSA"][1] == "AA", ack
    request = (await stored(services, "OMP-1"))["MedicationRequest"][0]
    assert request["medicationCodeableConcept"]["coding"][0]["code"] == "00071015523"
    dosage = request["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"] == {"value": 325, "unit": "milligram",
                                                         "system": UCUM, "code": "mg"}
    assert dosage["timing"]["code"]["coding"][0]["code"] == "BID"
    assert dosage["route"]["coding"][0]["code"] == "PO"
    assert request["dispenseRequest"]["quantity"]["value"] == 30
    assert request["dispenseRequest"]["numberOfRepeatsAllowed"] == 2
    assert request["requester"]["display"] == "Dr Jane Smith"


async def test_newborn_screening_order_with_specimen(listener, services):
    await send_ok(listener.port, "cdc-trusted-intermediary/messages/002_MN_OML_O21_NBS.hl7")
    found = await stored(services)
    panel = next(s for s in found["ServiceRequest"]
                 if s["code"]["coding"][0]["code"] == "54089-8")
    assert panel["status"] == "active" and panel["intent"] == "order"
    assert panel["identifier"][0]["value"] == "421832901"
    specimen = found["Specimen"][0]
    assert panel["specimen"] == [{"reference": f"Specimen/{specimen['id']}"}]
    assert specimen["collection"]["collectedDateTime"] == "2023-05-06T06:00:00-05:00"
    card = next(s for s in found["ServiceRequest"]
                if s["code"]["coding"][0]["code"] == "57717-1")
    answers = _by_code([o for o in found["Observation"]
                        if {"reference": f"Observation/{o['id']}"} in card["supportingInfo"]])
    assert answers["57714-8"]["valueQuantity"]["value"] == 32
    assert answers["8339-4"]["valueQuantity"]["value"] == Decimal("1769.859285")
