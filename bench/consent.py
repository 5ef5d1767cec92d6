"""Read and search latency with access enforcement on vs off, over the Synthea data.

    .venv/bin/python -m bench.consent [--copies 10] [--iterations 30]

Loads the 13 Synthea bundles ``--copies`` times (``bench.search.load``: new ids per copy,
resource + search index written straight into MongoDB) and gives every patient a privacy
Consent (a third each: deny mental-health-labelled and one SNOMED code; deny one
Organization's members; deny data before 2015). Three in-process apps share that
database:

* ``off``: ``--auth off`` (the unrestricted policy: no token, no Consent, no audit);
* ``on, no audit``: ``--auth smart`` with a practitioner's ``user/*.rs`` token, scopes and
  Consents applied, AuditEvents not written;
* ``on``: the server as shipped (also one AuditEvent per patient touched).

Each query of the mix is run ``--iterations`` times on each app, interleaved, through
httpx's ASGI transport. Prints p50/p95 per query and configuration and the on/off
ratios, plus the cost of one audit-trail append on its own. Uses the embedded database
in a temporary directory, or ``MONGODB_URI`` when set.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from statistics import geometric_mean, median, quantiles
from typing import Any

import httpx
from starlette.middleware import Middleware

from bench.embedded import temporary_database
from bench.search import engine_on, load
from fhir_server.access.middleware import AccessControl
from fhir_server.access.scopes import parse_scopes
from fhir_server.config import Settings
from fhir_server.database import connect
from fhir_server.rest.app import create_app
from fhir_server.storage import AuditTrail, SystemWriter

BASE = "http://bench/fhir"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


class _NoAudit(AccessControl):
    async def _audit(self, *args: Any) -> None:
        return None


def _consent(number: int, patient: str, organization: str) -> dict[str, Any]:
    kind = number % 3
    provision: dict[str, Any]
    if kind == 0:
        provision = {"provision": [
            {"type": "deny", "securityLabel": [{"system": ACT_CODE, "code": "PSY"}]},
            {"type": "deny", "code": [{"coding": [{"system": "http://snomed.info/sct",
                                                   "code": "72892002"}]}]}]}
    elif kind == 1:
        provision = {"actor": [{"role": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
            "code": "IRCP"}]}, "reference": {"reference": organization}}]}
    else:
        provision = {"provision": [{"type": "deny", "dataPeriod": {"end": "2014-12-31"}}]}
    return {"resourceType": "Consent", "id": f"bench-consent-{number}", "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                            "consentscope", "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": f"Patient/{patient}"},
            "policyRule": {"coding": [{"system": ACT_CODE,
                                       "code": "OPTOUT" if kind == 1 else "OPTIN"}]},
            "provision": provision}


def _app(settings: Settings, client: Any, middleware: type[AccessControl]) -> Any:
    application = create_app(settings, client)
    application.user_middleware = [Middleware(middleware) if m.cls is AccessControl else m
                                   for m in application.user_middleware]
    return application


def _percentiles(values: list[float]) -> tuple[float, float]:
    return median(values) * 1000, quantiles(values, n=20)[18] * 1000


async def _time(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = await http.get(url, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return elapsed


async def run(uri: str, copies: int, iterations: int) -> None:
    client = connect(uri)
    database = f"bench_consent_{uuid.uuid4().hex[:8]}"
    settings = Settings(database=database, mongodb_uri=uri, base_url=BASE, auth="smart",
                        data_dir=Path(tempfile.gettempdir()) / database)
    open_settings = Settings(database=database, mongodb_uri=uri, base_url=BASE, auth="off",
                             data_dir=settings.data_dir)
    db = client[database]
    engine, storage = engine_on(db, settings)
    try:
        await storage.ensure_indexes()
        print(f"loading {copies} copies of the Synthea bundles ...", flush=True)
        data = await load(db, engine, copies)
        patients = [p["id"] for p in data.patients]
        organization = (await db["Organization"].find_one())["_id"]
        apps = {"off": _app(open_settings, client, AccessControl),
                "on, no audit": _app(settings, client, _NoAudit),
                "on": _app(settings, client, AccessControl)}
        contexts = [a.router.lifespan_context(a) for a in apps.values()]
        for context in contexts:
            await context.__aenter__()
        try:
            writer = SystemWriter(apps["on"].state.services.storage.resources)
            for number, patient in enumerate(patients):
                consent = _consent(number, patient, f"Organization/{organization}")
                await writer.update(consent, consent["id"])
            print(f"{sum(data.counts.values())} resources, {len(patients)} patients, "
                  f"{len(patients)} Consents", flush=True)
            auth = apps["on"].state.auth
            value, _ = await auth.tokens.access_token(
                client_id="bench", scopes=parse_scopes("user/*.rs"), kind="user",
                subject="bench", lifetime=3600, fhir_user="Practitioner/bench")
            headers = {"Authorization": f"Bearer {value}"}
            observation = (await db["Observation"].find_one(
                {"resource.subject.reference": f"Patient/{patients[0]}"}))["_id"]
            await _measure(apps, headers, patients, observation, iterations)
            await _audit_cost(db, iterations)
        finally:
            for context in contexts:
                await context.__aexit__(None, None, None)
    finally:
        await client.drop_database(database)
        await client.close()


async def _measure(apps: dict[str, Any], headers: dict[str, str], patients: list[str],
                   observation: str, iterations: int) -> None:
    queries = {
        "read Observation/[id]": lambda i: f"/fhir/Observation/{observation}",
        "read Patient/[id]": lambda i: f"/fhir/Patient/{patients[i % len(patients)]}",
        "Observation?patient=[id]&_count=50":
            lambda i: f"/fhir/Observation?patient={patients[i % len(patients)]}&_count=50",
        "Observation?code=8302-2&_count=50 (population)":
            lambda i: "/fhir/Observation?code=http://loinc.org|8302-2&_count=50",
        "Condition?_count=50&_total=accurate (population)":
            lambda i: "/fhir/Condition?_count=50&_total=accurate",
        "Patient/[id]/$everything?_count=100":
            lambda i: f"/fhir/Patient/{patients[i % len(patients)]}/$everything?_count=100",
    }
    clients = {name: httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                       base_url="http://bench") for name, app in apps.items()}
    ratios: dict[str, list[float]] = {"on": [], "on, no audit": []}
    print(f"\n{'query':50} " + " ".join(f"{n + ' p50/p95':>22}" for n in apps)
          + f" {'on/off':>7} {'no audit/off':>12}")
    try:
        for name, url in queries.items():
            timings: dict[str, list[float]] = {n: [] for n in apps}
            for i in range(iterations + 2):
                for config, http in clients.items():
                    elapsed = await _time(http, url(i), headers)
                    if i >= 2:
                        timings[config].append(elapsed)
            cells = [_percentiles(timings[n]) for n in apps]
            off = cells[0][0]
            on_ratio, no_audit_ratio = cells[2][0] / off, cells[1][0] / off
            ratios["on"].append(on_ratio)
            ratios["on, no audit"].append(no_audit_ratio)
            print(f"{name:50} " + " ".join(f"{p50:11.1f}/{p95:6.1f} ms" for p50, p95 in cells)
                  + f" {on_ratio:6.2f}x {no_audit_ratio:11.2f}x", flush=True)
    finally:
        for http in clients.values():
            await http.aclose()
    print(f"\ngeometric mean of p50 ratios: on/off {geometric_mean(ratios['on']):.2f}x, "
          f"on without audit/off {geometric_mean(ratios['on, no audit']):.2f}x")


async def _audit_cost(db: Any, iterations: int) -> None:
    timings = []
    for i in range(iterations * 3):
        started = time.perf_counter()
        await AuditTrail(db).append_all([{
            "resourceType": "AuditEvent", "outcome": "0", "outcomeDesc": f"bench {i}",
            "recorded": "2026-01-01T00:00:00Z"}])
        timings.append(time.perf_counter() - started)
    p50, p95 = _percentiles(timings)
    print(f"audit-trail append alone (read head, insert, move head: one transaction): "
          f"p50 {p50:.1f} ms, p95 {p95:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()
    uri = os.environ.get("MONGODB_URI")
    if uri:
        asyncio.run(run(uri, args.copies, args.iterations))
        return
    with temporary_database("bench-consent-") as database:
        asyncio.run(run(database.uri, args.copies, args.iterations))


if __name__ == "__main__":
    main()
