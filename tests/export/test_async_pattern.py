"""Bulk Data 2.0 async pattern against the real database: kick-off, status, manifest,
download, cancel, expiry, a job held or abandoned by another server process, and the
CapabilityStatement."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from fhir_server import clock
from fhir_server.rest.app import create_app
from fhir_server.storage.export_jobs import ExportTimings, JobStore

from .conftest import ASYNC, download, export_all, kick_off, wait_for

BASE = "http://testserver/fhir"


def patient(pid: str) -> dict:
    return {"resourceType": "Patient", "id": pid, "name": [{"family": f"F-{pid}"}],
            "gender": "female"}


def observation(oid: str, pid: str, code: str = "8867-4") -> dict:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": f"Patient/{pid}"}}


@pytest.fixture
async def data(client):
    for pid in ("p1", "p2", "p3"):
        assert (await client.put(f"Patient/{pid}", json=patient(pid))).status_code == 201
    for oid, pid in (("o1", "p1"), ("o2", "p1"), ("o3", "p2")):
        assert (await client.put(f"Observation/{oid}",
                                 json=observation(oid, pid))).status_code == 201
    organization = {"resourceType": "Organization", "id": "org", "name": "Clinic"}
    assert (await client.put("Organization/org", json=organization)).status_code == 201


def _held_job(pid_types: list[str], lease: timedelta, **extra) -> dict:
    """A job as another server process holds it (its lease still running or not)."""
    return {"owner": {"client_id": "anonymous"}, "request": f"{BASE}/$export",
            "level": "system", "types": pid_types, "status": "running", "worker": "other",
            "lease_until": clock.now() + lease, **extra}


async def test_kick_off_poll_manifest_and_download(client, data, fast_polling):
    response = await client.get("$export", headers=ASYNC)
    assert response.status_code == 202
    status = response.headers["content-location"]
    assert status.startswith(f"{BASE}/$export-poll-status?_job=")
    done = await wait_for(client, status)
    assert done.status_code == 200
    assert done.headers["content-type"].startswith("application/json")
    assert "GMT" in done.headers["expires"]
    manifest = done.json()
    assert manifest["request"] == f"{BASE}/$export"
    assert manifest["requiresAccessToken"] is False  # --auth off: no token exists
    assert manifest["transactionTime"].endswith("Z") and manifest["error"] == []
    counts = {o["type"]: o["count"] for o in manifest["output"]}
    assert counts == {"Patient": 3, "Observation": 3, "Organization": 1}
    assert len(manifest["output"]) == 3  # one file per type
    for output in manifest["output"]:
        assert output["url"].startswith(f"{BASE}/$export-file/")
        lines = await download(client, output["url"])
        assert len(lines) == output["count"]
        assert {r["resourceType"] for r in lines} == {output["type"]}
    observations = await download(client, next(
        o["url"] for o in manifest["output"] if o["type"] == "Observation"))
    assert sorted(r["id"] for r in observations) == ["o1", "o2", "o3"]
    assert observations[0]["code"]["coding"][0]["code"] == "8867-4"


async def test_kick_off_needs_respond_async_and_fhir_json(client, data):
    missing = await client.get("$export", headers={"Accept": "application/fhir+json"})
    assert missing.status_code == 400
    assert "respond-async" in missing.json()["issue"][0]["diagnostics"]
    xml = await client.get("$export", headers={**ASYNC, "Accept": "application/fhir+xml"})
    assert xml.status_code == 406
    instance = await client.get("Patient/p1/$export", headers=ASYNC)
    assert instance.status_code == 404
    assert instance.json()["resourceType"] == "OperationOutcome"


async def test_output_format_and_unknown_parameters(client, data, fast_polling):
    for value in ("application/fhir+ndjson", "application/ndjson", "ndjson"):
        manifest, _ = await export_all(client, "$export", params={
            "_type": "Patient", "_outputFormat": value})
        assert [o["type"] for o in manifest["output"]] == ["Patient"]
    csv = await client.get("$export", params={"_outputFormat": "text/csv"}, headers=ASYNC)
    assert csv.status_code == 400 and csv.json()["resourceType"] == "OperationOutcome"
    unknown = await client.get("$export?_foo=1", headers=ASYNC)
    assert unknown.status_code == 400
    lenient = {"Prefer": "respond-async, handling=lenient"}
    manifest, _ = await export_all(client, "$export?_type=Patient&_outputFormat=text/csv",
                                   headers=lenient)
    assert [o["type"] for o in manifest["output"]] == ["Patient"]
    assert [e["type"] for e in manifest["error"]] == ["OperationOutcome"]
    outcomes = await download(client, manifest["error"][0]["url"])
    assert "text/csv" in outcomes[0]["issue"][0]["diagnostics"]
    assert outcomes[0]["issue"][0]["severity"] == "information"


async def test_running_job_status_and_polling_too_fast(app, client, data):
    export = app.state.export
    job = await export.jobs.create(_held_job(["Patient"], timedelta(minutes=5)))
    status = f"{BASE}/$export-poll-status?_job={job['_id']}"
    export.timings.min_poll = timedelta(seconds=30)
    first = await client.get(status)
    assert first.status_code == 202
    assert first.headers["x-progress"].startswith("running")
    assert int(first.headers["retry-after"]) > 0
    second = await client.get(status)
    assert second.status_code == 429
    assert second.headers["retry-after"] and second.json()["resourceType"] == "OperationOutcome"
    export.timings.max_jobs = 2  # FHIR_EXPORT_MAX_JOBS: several exports per owner
    assert (await client.get("$export", headers=ASYNC)).status_code == 202
    busy = await client.get("$export", headers=ASYNC)
    assert busy.status_code == 429 and int(busy.headers["retry-after"]) > 0


async def test_any_server_process_answers_the_status_url(app, client, data, settings,
                                                          mongo_client, fast_polling):
    status = await kick_off(client, "$export?_type=Patient")
    other = create_app(settings, mongo_client)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as second:
            other.state.export.timings.min_poll = timedelta(0)
            done = await wait_for(second, status)
            assert done.status_code == 200
            lines = await download(second, done.json()["output"][0]["url"])
    assert sorted(r["id"] for r in lines) == ["p1", "p2", "p3"]


async def test_abandoned_job_is_resumed_from_the_unfinished_type(app, client, data, db,
                                                                 fast_polling):
    export = app.state.export
    job = await export.jobs.create(_held_job(
        ["Patient", "Observation"], timedelta(minutes=5), attempts=1,
        done_types=["Patient"],
        outputs=[{"type": "Patient", "name": "Patient.ndjson", "count": 3}]))
    patients = await export.outputs.open(job["_id"], "Patient.ndjson", "Patient")
    for pid in ("p1", "p2", "p3"):
        await patients.write(patient(pid))
    await patients.close()
    partial = await export.outputs.open(job["_id"], "Observation.ndjson", "Observation")
    await partial.write(observation("o1", "p1"))
    await partial.flush()  # chunks written, file never closed: the server died here
    status = f"{BASE}/$export-poll-status?_job={job['_id']}"
    assert (await client.get(status)).status_code == 202
    await db["export_jobs"].update_one({"_id": job["_id"]},
                                       {"$set": {"lease_until": clock.now()}})
    export.worker.wake.set()
    done = await wait_for(client, status)
    assert done.status_code == 200
    files = {o["type"]: o for o in done.json()["output"]}
    assert files["Observation"]["count"] == 3 and files["Patient"]["count"] == 3
    observations = await download(client, files["Observation"]["url"])
    assert sorted(r["id"] for r in observations) == ["o1", "o2", "o3"]
    stored = await db["export_jobs"].find_one({"_id": job["_id"]})
    assert stored["attempts"] == 2


async def test_job_interrupted_too_often_fails_cleanly(app, client, data, fast_polling):
    export = app.state.export
    job = await export.jobs.create(_held_job(["Patient"], timedelta(0), attempts=3))
    export.worker.wake.set()
    done = await wait_for(client, f"{BASE}/$export-poll-status?_job={job['_id']}")
    assert done.status_code == 500
    assert "interrupted" in done.json()["issue"][0]["diagnostics"]


async def test_cancel_running_and_completed_jobs(app, client, data, db, fast_polling):
    export = app.state.export
    held = await export.jobs.create(_held_job(["Patient"], timedelta(minutes=5)))
    status = f"{BASE}/$export-poll-status?_job={held['_id']}"
    assert (await client.delete(status)).status_code == 202
    gone = await client.get(status)
    assert gone.status_code == 404 and gone.json()["resourceType"] == "OperationOutcome"
    assert (await client.delete(status)).status_code == 404
    manifest, _ = await export_all(client, "$export")
    job_id = manifest["output"][0]["url"].split("/")[-2]
    assert await db["export.files"].count_documents({"metadata.job": job_id}) == 3
    status = f"{BASE}/$export-poll-status?_job={job_id}"
    assert (await client.delete(status)).status_code == 202
    assert await db["export.files"].count_documents({"metadata.job": job_id}) == 0
    assert await db["export.chunks"].count_documents({"files_id": {"$regex": job_id}}) == 0
    assert (await client.get(manifest["output"][0]["url"])).status_code == 404


async def test_files_are_deleted_after_expiry(app, client, data, db, fast_polling):
    export = app.state.export
    export.timings.expiry = timedelta(milliseconds=1)
    manifest, _ = await export_all(client, "$export?_type=Patient")
    job_id = manifest["output"][0]["url"].split("/")[-2]
    assert await db["export.files"].count_documents({"metadata.job": job_id}) == 1
    await export.worker.clean(force=True)
    assert await db["export.files"].count_documents({"metadata.job": job_id}) == 0
    status = await client.get(f"{BASE}/$export-poll-status?_job={job_id}")
    assert status.status_code == 404 and "expired" in status.json()["issue"][0]["diagnostics"]
    assert (await client.get(manifest["output"][0]["url"])).status_code == 404
    index = await db["export_jobs"].index_information()
    assert index["export_purge"]["expireAfterSeconds"] == 0


async def test_status_of_unknown_job_and_wrong_methods(client):
    unknown = await client.get(f"{BASE}/$export-poll-status?_job=nope")
    assert unknown.status_code == 404
    assert (await client.get(f"{BASE}/$export-poll-status")).status_code == 400
    assert (await client.post(f"{BASE}/$export-poll-status?_job=x")).status_code == 405
    assert (await client.get(f"{BASE}/$export-file/x/Patient.ndjson")).status_code == 404


async def test_capability_statement_declares_bulk_export(client):
    statement = (await client.get("metadata")).json()
    assert "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data" in \
        statement["instantiates"]
    system = {o["name"]: o["definition"] for o in statement["rest"][0]["operation"]}
    assert system["export"] == "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
    by_type = {r["type"]: {o["name"]: o["definition"] for o in r.get("operation", [])}
               for r in statement["rest"][0]["resource"]}
    assert by_type["Patient"]["export"].endswith("/OperationDefinition/patient-export")
    assert by_type["Group"]["export"].endswith("/OperationDefinition/group-export")
    assert "export" not in by_type["Observation"]


async def test_concurrent_kick_offs_of_one_owner_stay_within_the_limit(db):
    """Count and insert are one transaction serialised on the owner: of eight kick-offs
    at the same instant with room for three, exactly three are queued (no worker runs
    here, so none finishes meanwhile)."""
    jobs = JobStore(db, ExportTimings(max_jobs=3))
    owner = {"client_id": "app", "subject": "Practitioner/1"}

    async def kick_off_one() -> dict | None:
        return await jobs.create_within_limit(
            {"owner": owner, "level": "system", "types": ["Patient"]}, limit=3)

    results = await asyncio.gather(*(kick_off_one() for _ in range(8)))
    assert sum(job is not None for job in results) == 3
    assert await jobs.active_count(owner) == 3
    other = await jobs.create_within_limit(
        {"owner": {**owner, "subject": "Practitioner/2"}, "level": "system",
         "types": ["Patient"]}, limit=3)
    assert other is not None  # the limit is per owner
