"""Scope enforcement on every interaction (SMART scopes; RFC 6750 challenges), and the
patient compartment of patient-context tokens: another patient's data is 404, never
readable, writable, or reachable through history or transactions."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt

from .conftest import bearer, observation, patient, put


@pytest.fixture
async def data(repository):
    for pid in ("p1", "p2"):
        await put(repository, patient(pid))
    await put(repository, {"resourceType": "Practitioner", "id": "dr"})
    await put(repository, observation("o1", "p1", performer="Practitioner/dr"))
    await put(repository, observation("o2", "p2"))
    await put(repository, observation("lab1", "p1", category="laboratory"))


async def issue(auth, scope: str, *, patient_id: str | None = None,
                fhir_user: str | None = None, kind: str = "user", lifetime: int = 300,
                client_id: str = "app") -> str:
    from fhir_server.access.scopes import parse_scopes

    token, _ = await auth.tokens.access_token(
        client_id=client_id, scopes=parse_scopes(scope), kind=kind,
        subject=fhir_user or client_id, lifetime=lifetime, fhir_user=fhir_user,
        patient=patient_id)
    return token


async def test_missing_malformed_expired_and_tampered_tokens_are_401(http, auth, data):
    missing = await http.get("/fhir/Patient/p1")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert missing.json()["resourceType"] == "OperationOutcome"
    garbage = await http.get("/fhir/Patient/p1", headers=bearer("garbage"))
    assert garbage.status_code == 401
    assert 'error="invalid_token"' in garbage.headers["www-authenticate"]
    expired = await issue(auth, "user/*.rs", fhir_user="Practitioner/dr", lifetime=-60)
    response = await http.get("/fhir/Patient/p1", headers=bearer(expired))
    assert response.status_code == 401 and "expired" in response.headers["www-authenticate"]
    good = await issue(auth, "patient/*.rs", patient_id="p1")
    header, payload, signature = good.split(".")
    other = await issue(auth, "patient/*.rs", patient_id="p2")
    forged = ".".join([header, other.split(".")[1], signature])
    tampered = await http.get("/fhir/Patient/p2", headers=bearer(forged))
    assert tampered.status_code == 401
    assert "signature" in tampered.json()["issue"][0]["diagnostics"]


async def test_token_for_another_audience_or_issuer_is_401(http, auth, data):
    kid, key = await auth.keys.signing_key()
    now = int(time.time())
    claims = {"iss": auth.endpoints.issuer, "aud": "https://elsewhere.example/fhir",
              "sub": "x", "client_id": "app", "scope": "system/*.rs", "exp": now + 60,
              "iat": now, "jti": "j1", "kind": "backend"}
    header = {"alg": "RS256", "kid": kid, "typ": "at+jwt"}
    wrong_aud = jwt.encode(header, claims, key)
    assert (await http.get("/fhir/Patient/p1", headers=bearer(wrong_aud))).status_code == 401
    wrong_iss = jwt.encode(header, {**claims, "aud": auth.endpoints.fhir_base,
                                    "iss": "https://other"}, key)
    assert (await http.get("/fhir/Patient/p1", headers=bearer(wrong_iss))).status_code == 401
    id_token = await auth.tokens.id_token(client_id="app", subject="x", fhir_user=None,
                                          nonce=None, lifetime=60)
    assert (await http.get("/fhir/Patient/p1", headers=bearer(id_token))).status_code == 401


@pytest.mark.parametrize("scope, method, path, body, allowed", [
    ("system/Observation.r", "GET", "/fhir/Observation/o1", None, True),
    ("system/Observation.s", "GET", "/fhir/Observation/o1", None, False),
    ("system/Patient.rs", "GET", "/fhir/Observation/o1", None, False),
    ("system/*.read", "GET", "/fhir/Observation/o1/_history/1", None, True),
    ("system/*.s", "GET", "/fhir/Observation/o1/_history/1", None, False),
    ("system/Observation.rs", "DELETE", "/fhir/Observation/o1", None, False),
    ("system/Observation.d", "DELETE", "/fhir/Observation/o1", None, True),
    ("system/Observation.cud", "POST", "/fhir/Observation",
     {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}, True),
    ("system/Observation.r", "POST", "/fhir/Observation",
     {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}, False),
    ("system/Patient.u", "PUT", "/fhir/Patient/p1", patient("p1", "New"), True),
    ("system/Patient.c", "PUT", "/fhir/Patient/p1", patient("p1", "New"), False),
    ("system/*.rs", "PATCH", "/fhir/Patient/p1", [{"op": "add", "path": "/active",
                                                 "value": True}], False),
])
async def test_permissions_per_interaction(http, auth, data, scope, method, path, body,
                                           allowed):
    token = await issue(auth, scope, kind="backend")
    headers = bearer(token)
    if method == "PATCH":
        headers["Content-Type"] = "application/json-patch+json"
    response = await http.request(method, path, json=body, headers=headers)
    if allowed:
        assert response.status_code < 300, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["issue"][0]["code"] == "forbidden"
        assert "insufficient_scope" in response.headers["www-authenticate"]


async def test_kind_limits_scope_contexts(http, auth, data):
    sneaky = await issue(auth, "system/*.rs", kind="user", fhir_user="Patient/p1")
    assert (await http.get("/fhir/Patient/p2", headers=bearer(sneaky))).status_code == 403
    no_patient = await issue(auth, "patient/*.rs")
    assert (await http.get("/fhir/Patient/p1", headers=bearer(no_patient))).status_code == 403


async def test_patient_token_reads_only_its_compartment(http, auth, data):
    token = bearer(await issue(auth, "patient/*.rs", patient_id="p1"))
    assert (await http.get("/fhir/Patient/p1", headers=token)).status_code == 200
    assert (await http.get("/fhir/Observation/o1", headers=token)).status_code == 200
    for path in ("/fhir/Patient/p2", "/fhir/Observation/o2", "/fhir/Observation/o2/_history/1",
                 "/fhir/Patient/p2/_history", "/fhir/Observation/o2/_history"):
        response = await http.get(path, headers=token)
        assert response.status_code == 404, path
    practitioner = await http.get("/fhir/Practitioner/dr", headers=token)
    assert practitioner.status_code == 200  # outside the compartment: shared data


async def test_deleted_resource_of_another_patient_stays_hidden(http, auth, repository, data):
    await repository.delete("Observation", "o2")
    token = bearer(await issue(auth, "patient/*.rs", patient_id="p1"))
    assert (await http.get("/fhir/Observation/o2", headers=token)).status_code == 404
    own = bearer(await issue(auth, "patient/*.rs", patient_id="p2"))
    assert (await http.get("/fhir/Observation/o2", headers=own)).status_code == 410


async def test_patient_token_history(http, auth, data):
    token = bearer(await issue(auth, "patient/*.rs", patient_id="p1"))
    own = await http.get("/fhir/Observation/o1/_history", headers=token)
    assert own.status_code == 200 and own.json()["entry"]
    for path in ("/fhir/Observation/_history", "/fhir/_history"):
        listed = await http.get(path, headers=token)
        assert listed.status_code == 200, path
        shown = {e["fullUrl"].rsplit("/", 2)[-2] + "/" + e["fullUrl"].rsplit("/", 1)[-1]
                 for e in listed.json().get("entry", [])}
        assert "Observation/o1" in shown and "Observation/o2" not in shown, (path, shown)
    system = bearer(await issue(auth, "system/*.rs", kind="backend"))
    everything = await http.get("/fhir/Observation/_history?_count=100", headers=system)
    assert {e["resource"]["id"] for e in everything.json()["entry"]} >= {"o1", "o2"}


async def test_patient_token_writes_stay_in_its_compartment(http, auth, data):
    token = bearer(await issue(auth, "patient/*.cruds", patient_id="p1"))
    mine = observation("new", "p1")
    del mine["id"]
    created = await http.post("/fhir/Observation", json=mine, headers=token)
    assert created.status_code == 201, created.text
    theirs = {**mine, "subject": {"reference": "Patient/p2"}}
    refused = await http.post("/fhir/Observation", json=theirs, headers=token)
    assert refused.status_code == 403
    moved = await http.put("/fhir/Observation/o1", json={**observation("o1", "p2")},
                           headers=token)
    assert moved.status_code == 403
    hidden = await http.put("/fhir/Observation/o2", json=observation("o2", "p1"),
                            headers=token)
    assert hidden.status_code == 404
    deleted = await http.delete("/fhir/Observation/o2", headers=token)
    assert deleted.status_code == 200 and "nothing was deleted" in deleted.text
    system = bearer(await issue(auth, "system/*.rs", kind="backend"))
    still = await http.get("/fhir/Observation/o2", headers=system)
    assert still.json()["subject"]["reference"] == "Patient/p2"


async def test_user_scopes_of_a_patient_user_are_their_compartment(http, auth, data):
    token = bearer(await issue(auth, "user/*.rs", fhir_user="Patient/p1"))
    assert (await http.get("/fhir/Observation/o1", headers=token)).status_code == 200
    assert (await http.get("/fhir/Observation/o2", headers=token)).status_code == 404
    doctor = bearer(await issue(auth, "user/*.rs", fhir_user="Practitioner/dr"))
    assert (await http.get("/fhir/Observation/o2", headers=doctor)).status_code == 200


async def test_transaction_entries_are_checked(http, auth, data):
    token = bearer(await issue(auth, "patient/*.cruds", patient_id="p1"))
    other = observation("x", "p2")
    del other["id"]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": other, "request": {"method": "POST", "url": "Observation"}}]}
    response = await http.post("/fhir", json=bundle, headers=token)
    assert response.status_code == 403, response.text
    update = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": observation("o2", "p1"),
         "request": {"method": "PUT", "url": "Observation/o2"}}]}
    assert (await http.post("/fhir", json=update, headers=token)).status_code == 404
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "Patient/p2"}},
        {"request": {"method": "GET", "url": "Patient/p1"}},
        {"request": {"method": "DELETE", "url": "Observation/o2"}}]}
    result = await http.post("/fhir", json=batch, headers=token)
    assert result.status_code == 200, result.text
    statuses = [e["response"]["status"] for e in result.json()["entry"]]
    assert statuses[0].startswith("404") and statuses[1].startswith("200")
    assert statuses[2].startswith("204")  # as for an absent resource: nothing deleted
    system = bearer(await issue(auth, "system/*.rs", kind="backend"))
    assert (await http.get("/fhir/Observation/o2", headers=system)).status_code == 200


async def test_auth_off_keeps_everything_open(client):
    response = await client.post("Patient", json={"resourceType": "Patient"})
    assert response.status_code == 201
    assert (await client.get("metadata")).json()["rest"][0].get("security") is None


async def test_everything_stays_in_the_compartment(http, auth, data):
    token = bearer(await issue(auth, "patient/*.rs", patient_id="p1"))
    own = await http.get("/fhir/Patient/p1/$everything", headers=token)
    assert own.status_code == 200, own.text
    ids = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in own.json()["entry"]}
    assert ids == {("Patient", "p1"), ("Observation", "o1"), ("Observation", "lab1"),
                   ("Practitioner", "dr")}
    assert (await http.get("/fhir/Patient/p2/$everything", headers=token)).status_code == 404
    every = await http.get("/fhir/Patient/$everything", headers=token)
    assert {e["resource"]["id"] for e in every.json()["entry"]} == {"p1", "o1", "lab1", "dr"}
    narrow = bearer(await issue(auth, "patient/Patient.rs", patient_id="p1"))
    only = await http.get("/fhir/Patient/p1/$everything", headers=narrow)
    assert [e["resource"]["id"] for e in only.json()["entry"]] == ["p1"]
