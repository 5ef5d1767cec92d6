"""``fhir-server load`` resolves Patients as the feeds do (fhir_server.bundles.load_patients):
a loaded person already registered under another id reaches that record (identifier or
certain match), a probable match holds the file for review, NDJSON follows the aliases."""

from __future__ import annotations

import json

import pytest

from fhir_server.access import SYSTEM
from fhir_server.bundles.load_patients import LoadPatients
from fhir_server.bundles.loading import Loader

MRN = "http://hospital.smarthealthit.org"
REGISTERED = {"resourceType": "Patient", "id": "seeta", "gender": "female",
              "birthDate": "1991-06-14", "name": [{"family": "Patil", "given": ["Seeta"]}],
              "identifier": [{"system": MRN, "value": "MRN-778"}],
              "address": [{"line": ["4 Station Road"], "city": "Nashik", "postalCode": "422001"}]}


def _incoming(pid: str, **changes) -> dict:
    return {**REGISTERED, "id": pid, "identifier": [
        {"system": "https://github.com/synthetichealth/synthea", "value": pid}], **changes}


def _observation(oid: str, subject: str) -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
            "subject": {"reference": subject}, "valueQuantity": {
                "value": 158, "unit": "cm", "system": "http://unitsofmeasure.org", "code": "cm"}}


def _bundle(patient: dict, *observations: dict) -> dict:
    full = f"urn:uuid:{patient['id']}"
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": full, "resource": patient, "request": {"method": "POST", "url": "Patient"}},
        *({"resource": o, "request": {"method": "POST", "url": "Observation"}}
          for o in observations)]}


@pytest.fixture
async def loader(app):
    services = app.state.services
    await services.storage.resources.update(SYSTEM, REGISTERED, "seeta")
    return Loader(services, patients=LoadPatients(services))


async def _ids(db, resource_type: str) -> list[str]:
    return sorted([d["_id"] async for d in db[resource_type].find({}, {"_id": 1})])


async def _subjects(db) -> set[str]:
    return {d["resource"]["subject"]["reference"] async for d in db["Observation"].find()}


async def test_a_bundle_for_a_registered_person_reaches_her_record(loader, db, tmp_path):
    incoming = _incoming("7f1d0c3e-0000-4000-8000-000000000001",
                         identifier=[{"system": MRN, "value": "MRN-778"},
                                     {"system": "urn:oid:2.16.840.1.113883.4.1", "value": "X9"}])
    path = tmp_path / "seeta.json"
    path.write_text(json.dumps(_bundle(incoming, _observation(
        "h1", "urn:uuid:7f1d0c3e-0000-4000-8000-000000000001"))))
    report = await loader.load_file(path)
    assert report.problems == [] and report.held == 0
    assert await _ids(db, "Patient") == ["seeta"]
    assert await _subjects(db) == {"Patient/seeta"}
    seeta = (await db["Patient"].find_one({"_id": "seeta"}))["resource"]
    assert {"system": "urn:oid:2.16.840.1.113883.4.1", "value": "X9"} in seeta["identifier"]
    loader.force = True
    assert (await loader.load_file(path)).problems == []
    assert await _ids(db, "Patient") == ["seeta"] and await _ids(db, "Observation") == ["h1"]


async def test_a_demographic_match_is_certain_and_remembered(loader, db, tmp_path):
    path = tmp_path / "match.json"
    path.write_text(json.dumps(_bundle(_incoming("p-2"), _observation("h2", "urn:uuid:p-2"))))
    assert (await loader.load_file(path)).problems == []
    assert await _ids(db, "Patient") == ["seeta"]
    assert await _subjects(db) == {"Patient/seeta"}
    aliases = loader.services.storage.patient_review
    assert await aliases.alias("p-2") == "seeta"


async def test_a_probable_match_holds_the_file_until_a_review(loader, db, tmp_path):
    unsure = _incoming("p-3", name=[{"family": "Patil", "given": ["S"]}])
    path = tmp_path / "unsure.json"
    path.write_text(json.dumps(_bundle(unsure, _observation("h3", "urn:uuid:p-3"))))
    report = await loader.load_file(path)
    assert report.held == 1 and "held for review" in report.problems[0]
    assert await _ids(db, "Patient") == ["seeta"] and await _ids(db, "Observation") == []
    queue = loader.services.storage.patient_review
    [item] = await queue.items()
    assert item["_id"] == "Patient/p-3" and item["held"] == [
        {"kind": "load", "origin": str(path)}]
    await queue.decide("Patient/p-3", "linked", "seeta", "reviewer")
    again = await loader.load_file(path)
    assert again.problems == [] and again.resources == 2
    assert await _subjects(db) == {"Patient/seeta"}
    assert await _ids(db, "Patient") == ["seeta"]


async def test_ndjson_follows_the_patients_resolved_before(loader, db, tmp_path):
    patients = tmp_path / "Patient.ndjson"
    patients.write_text("\n".join(json.dumps(p) for p in (
        _incoming("p-4"),
        {"resourceType": "Patient", "id": "p-5", "gender": "male", "birthDate": "1960-01-30",
         "name": [{"family": "Deshmukh", "given": ["Vinod"]}]},
        _incoming("p-6", name=[{"family": "Patil", "given": ["S"]}]))))
    observations = tmp_path / "Observation.ndjson"
    observations.write_text("\n".join(json.dumps(o) for o in (
        _observation("h4", "Patient/p-4"), _observation("h5", "Patient/p-5"),
        _observation("h6", "Patient/p-6"))))
    report = await loader.load_file(patients)
    assert report.held == 1 and report.resources == 2
    assert await _ids(db, "Patient") == ["p-5", "seeta"]
    report = await loader.load_file(observations)
    assert report.held == 1, "the line about the held patient waits"
    assert await _subjects(db) == {"Patient/seeta", "Patient/p-5"}
    await loader.services.storage.patient_review.decide("Patient/p-6", "rejected", None, "me")
    for path in (patients, observations):
        assert (await loader.load_file(path)).held == 0
    assert await _ids(db, "Patient") == ["p-5", "p-6", "seeta"]
    assert await _subjects(db) == {"Patient/seeta", "Patient/p-5", "Patient/p-6"}


async def test_the_load_command_resolves_patient_files_first(app, settings, db, tmp_path):
    import asyncio

    from click.testing import CliRunner

    from fhir_server.cli import main

    await app.state.services.storage.resources.update(SYSTEM, REGISTERED, "seeta")
    (tmp_path / "Observation.ndjson").write_text(json.dumps(_observation("h7", "Patient/p-7")))
    (tmp_path / "Patient.ndjson").write_text(json.dumps(_incoming("p-7")))
    env = {"MONGODB_URI": settings.mongodb_uri, "FHIR_DATABASE": settings.database,
           "FHIR_DATA_DIR": str(tmp_path / "data")}
    result = await asyncio.to_thread(CliRunner().invoke, main,
                                     ["load", "--quiet", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    assert await _ids(db, "Patient") == ["seeta"]
    assert await _subjects(db) == {"Patient/seeta"}
