"""Who may export what, with ``--auth smart`` and real signed tokens: backend services with
system scopes, patient-context tokens limited to their own compartment, the status and file
URLs only for the client that started the export, consent-denied resources absent from the
files, and the AuditEvent listing what left the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pymongo import AsyncMongoClient

from fhir_server.access import SYSTEM
from fhir_server.access.scopes import parse_scopes
from fhir_server.storage import SystemWriter
from tests.conftest import database_of, smart_app_on

from .conftest import ASYNC, download, export_all
from .test_async_pattern import observation, patient

ROOT = "http://testserver"
BASE = f"{ROOT}/fhir"
PSY = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSY"}


@pytest.fixture
async def smart_app(mongodb_uri: str, mongo_client: AsyncMongoClient):
    async with smart_app_on(mongo_client, mongodb_uri, "test_export") as application:
        repository = SystemWriter(application.state.services.storage.resources)
        for pid in ("p1", "p2"):
            await repository.update(patient(pid), pid)
        for oid, pid in (("o1", "p1"), ("o2", "p2")):
            await repository.update(observation(oid, pid), oid)
        labelled = {**observation("o-psy", "p1", "44249-1"), "meta": {"security": [PSY]}}
        await repository.update(labelled, "o-psy")
        group = {"resourceType": "Group", "id": "g1", "type": "person", "actual": True,
                 "member": [{"entity": {"reference": "Patient/p2"}}]}
        await repository.update(group, "g1")
        application.state.export.timings.min_poll = timedelta(0)
        yield application


@pytest.fixture
async def http(smart_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=smart_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as client:
        yield client


async def token(app, scope: str, *, kind: str = "backend", client_id: str = "hospital",
                patient_id: str | None = None) -> dict[str, str]:
    value, _ = await app.state.auth.tokens.access_token(
        client_id=client_id, scopes=parse_scopes(scope), kind=kind, subject=client_id,
        lifetime=600, fhir_user=None, patient=patient_id)
    return {"Authorization": f"Bearer {value}"}


def ids(files: dict, resource_type: str) -> list[str]:
    return sorted(r["id"] for r in files.get(resource_type, []))


async def test_no_token_is_401(http):
    response = await http.get("$export", headers=ASYNC)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("scope", ["system/*.rs", "system/*.read"])
async def test_backend_with_system_scope_exports_everything(smart_app, http, scope):
    headers = await token(smart_app, scope)
    manifest, files = await export_all(http, "$export", headers)
    assert manifest["requiresAccessToken"] is True
    assert ids(files, "Patient") == ["p1", "p2"]
    assert ids(files, "Observation") == ["o-psy", "o1", "o2"]
    anonymous = await http.get(manifest["output"][0]["url"])
    assert anonymous.status_code == 401
    _, group = await export_all(http, "Group/g1/$export", headers)
    assert ids(group, "Patient") == ["p2"] and ids(group, "Observation") == ["o2"]


@pytest.mark.parametrize("scope", ["system/Patient.rs", "patient/*.rs", "user/*.rs"])
async def test_wrong_scope_is_403_for_system_and_group_level(smart_app, http, scope):
    kind = "backend" if scope.startswith("system") else "user"
    headers = await token(smart_app, scope, kind=kind, patient_id="p1"
                          if scope.startswith("patient") else None)
    for url in ("$export", "Group/g1/$export"):
        response = await http.get(url, headers={**ASYNC, **headers})
        assert response.status_code == 403, (scope, url, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"


async def test_patient_token_exports_only_its_own_compartment(smart_app, http):
    headers = await token(smart_app, "patient/*.rs", kind="user", client_id="app",
                          patient_id="p1")
    manifest, files = await export_all(http, "Patient/$export", headers)
    assert ids(files, "Patient") == ["p1"]
    assert ids(files, "Observation") == ["o-psy", "o1"]
    other = await http.get("Patient/$export", params={"patient": "p2"},
                           headers={**ASYNC, **headers})
    assert other.status_code == 403
    mine = await export_all(http, "Patient/$export", headers, params={"patient": "p1"})
    assert ids(mine[1], "Patient") == ["p1"]
    everything = await http.get("Patient/p1/$everything", headers=headers)
    assert everything.status_code == 200
    assert (await http.get("Patient/p2/$everything", headers=headers)).status_code in (
        403, 404)
    summary = await http.get("Patient/p1/$summary", headers=headers)
    assert summary.status_code == 200 and summary.json()["type"] == "document"
    assert (await http.get("Patient/p2/$summary", headers=headers)).status_code == 404


async def test_status_and_files_belong_to_the_client_that_asked(smart_app, http):
    owner = await token(smart_app, "system/*.rs", client_id="hospital")
    stranger = await token(smart_app, "system/*.rs", client_id="lab")
    manifest, _ = await export_all(http, "$export", owner)
    job_id = manifest["output"][0]["url"].split("/")[-2]
    status = f"{BASE}/$export-poll-status?_job={job_id}"
    assert (await http.get(status, headers=stranger)).status_code == 404
    assert (await http.get(manifest["output"][0]["url"], headers=stranger)).status_code == 404
    assert (await http.delete(status, headers=stranger)).status_code == 404
    lines = await download(http, manifest["output"][0]["url"], owner)
    assert len(lines) == manifest["output"][0]["count"]


async def test_consent_denied_resources_are_absent(smart_app, http):
    consent = {"resourceType": "Consent", "id": "c1", "status": "active",
               "scope": {"coding": [{
                   "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                   "code": "patient-privacy"}]},
               "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
               "patient": {"reference": "Patient/p1"}, "dateTime": "2023-01-01",
               "policyRule": {"coding": [{
                   "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                   "code": "OPTIN"}]},
               "provision": {"provision": [{"type": "deny", "securityLabel": [PSY]}]}}
    await smart_app.state.services.storage.resources.update(SYSTEM, consent, "c1")
    headers = await token(smart_app, "system/*.rs")
    _, files = await export_all(http, "$export", headers, params={"_type": "Observation"})
    assert ids(files, "Observation") == ["o1", "o2"]


async def test_each_export_is_audited_with_what_left(smart_app, http):
    headers = await token(smart_app, "system/*.rs", client_id="registry")
    manifest, _ = await export_all(http, "$export", headers, params={"_type": "Patient"})
    job_id = manifest["output"][0]["url"].split("/")[-2]
    db = database_of(smart_app)
    events = [d["resource"] async for d in db["AuditEvent"].find(
        {"resource.entity.description": {"$regex": f"^bulk export {job_id}"}})]
    assert len(events) == 1
    described = [e["description"] for e in events[0]["entity"] if "description" in e]
    assert described == [f"bulk export {job_id}: 2 Patient resources in Patient.ndjson"]
    clients = [a["who"].get("identifier", {}).get("value") for a in events[0]["agent"]]
    assert "registry" in clients
