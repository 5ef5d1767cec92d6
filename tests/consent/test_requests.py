"""Consent on the request paths beyond the scenario table: Consents written through the
API take effect on the next request, masked data never matches a content search, history
and vread, purpose of use and break-glass checks."""

from __future__ import annotations

import pytest

from tests.conftest import database_of

from .conftest import set_consents, set_policy, token
from .data import HIV_CODES, consent

MASK = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObligationPolicy", "code": "MASK"}


async def test_consents_written_through_the_api_apply_to_the_next_request(consent_app, http):
    set_policy(consent_app)
    await set_consents(consent_app, [])
    clerk = await token(consent_app, "Practitioner/outsider", scope="user/Consent.cruds")
    midwife = await token(consent_app, "Practitioner/midwife")
    assert (await http.get("/fhir/Observation/obs-hiv", headers=midwife)).status_code == 200
    created = await http.post("/fhir/Consent", headers=clerk, json={
        **consent("new", {"provision": [{"type": "deny", "code": HIV_CODES}]}), "id": None})
    assert created.status_code == 201, created.text
    location = created.headers["location"].split("/fhir/")[1].split("/_history")[0]
    assert (await http.get("/fhir/Observation/obs-hiv", headers=midwife)).status_code == 404
    revoked = {**created.json(), "status": "inactive"}
    assert (await http.put(f"/fhir/{location}", json=revoked, headers=clerk)).status_code == 200
    assert (await http.get("/fhir/Observation/obs-hiv", headers=midwife)).status_code == 200
    reinstated = {**revoked, "status": "active"}
    assert (await http.put(f"/fhir/{location}", json=reinstated, headers=clerk)).status_code \
        == 200
    assert (await http.get("/fhir/Observation/obs-hiv", headers=midwife)).status_code == 404
    assert (await http.delete(f"/fhir/{location}", headers=clerk)).status_code in (200, 204)
    assert (await http.get("/fhir/Observation/obs-hiv", headers=midwife)).status_code == 200


async def test_masked_data_is_shown_masked_but_never_matches_its_content(consent_app, http):
    set_policy(consent_app)
    await set_consents(consent_app, [consent("c1", {"provision": [
        {"type": "deny", "code": HIV_CODES, "securityLabel": [MASK]}]})])
    midwife = await token(consent_app, "Practitioner/midwife")
    by_code = await http.get("/fhir/Observation?code=http://loinc.org|75622-1&_total=accurate",
                             headers=midwife)
    assert by_code.status_code == 200 and by_code.json()["total"] == 0
    by_date = await http.get("/fhir/Observation?subject=Patient/mum&date=2023-02-01"
                             "&_total=accurate", headers=midwife)
    assert by_date.json()["total"] == 0
    listed = await http.get("/fhir/Observation?subject=Patient/mum", headers=midwife)
    hiv = next(e["resource"] for e in listed.json()["entry"] if e["resource"]["id"] == "obs-hiv")
    assert "MASKED" in {label["code"] for label in hiv["meta"]["security"]}
    assert "coding" not in hiv["code"] and "effectiveDateTime" not in hiv
    everything = await http.get("/fhir/Patient/mum/$everything", headers=midwife)
    masked = {e["resource"]["id"] for e in everything.json()["entry"]
              if "MASKED" in {s["code"] for s in e["resource"].get("meta", {}).get(
                  "security", [])}}
    assert masked == {"obs-hiv", "cond-hiv"}


async def test_history_and_vread_follow_every_version(consent_app, http):
    set_policy(consent_app)
    await set_consents(consent_app, [consent("c1", {"provision": [
        {"type": "deny", "code": HIV_CODES}]})])
    midwife = await token(consent_app, "Practitioner/midwife")
    assert (await http.get("/fhir/Observation/obs-hiv/_history", headers=midwife)
            ).status_code == 404
    assert (await http.get("/fhir/Observation/obs-hiv/_history/1", headers=midwife)
            ).status_code == 404
    assert (await http.get("/fhir/Observation/obs-bp/_history", headers=midwife)
            ).status_code == 200
    for level in ("/fhir/Observation/_history", "/fhir/_history"):
        versions = await _history(http, level, midwife)
        assert "Observation/obs-bp" in versions and "Observation/obs-hiv" not in versions
    await set_consents(consent_app, [])
    assert "Observation/obs-hiv" in await _history(http, "/fhir/Observation/_history", midwife)


async def _history(http, url: str, headers: dict[str, str]) -> set[str]:
    """Every version a history lists, over all its pages (``Type/id``)."""
    found: set[str] = set()
    while url:
        response = await http.get(url, headers=headers)
        assert response.status_code == 200, response.text
        bundle = response.json()
        found |= {e["fullUrl"].split("/fhir/", 1)[1] for e in bundle.get("entry", [])}
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), "")
    return found


async def test_purpose_of_use_header_is_checked(consent_app, http):
    set_policy(consent_app)
    await set_consents(consent_app, [])
    open_token = await token(consent_app, "Practitioner/midwife")
    unknown = await http.get("/fhir/Patient/mum", headers={**open_token,
                                                           "X-Purpose-Of-Use": "SHOPPING"})
    assert unknown.status_code == 400
    treat_only = await token(consent_app, "Practitioner/midwife", purposes=("TREAT",))
    research = await http.get("/fhir/Patient/mum", headers={**treat_only,
                                                            "X-Purpose-Of-Use": "HRESCH"})
    assert research.status_code == 403
    emergency = await http.get("/fhir/Patient/mum", headers={**treat_only,
                                                             "X-Purpose-Of-Use": "ETREAT"})
    assert emergency.status_code == 200


@pytest.mark.parametrize("who, purpose, reason, status", [
    ("Practitioner/researcher", "BTG", "emergency", 403),   # role not allowed
    ("Practitioner/outsider", "ETREAT", "emergency", 403),  # no role at all
    ("Practitioner/doctor", "BTG", None, 400),               # no reason
    ("Practitioner/doctor", "TREAT", "emergency", 400),     # not an emergency purpose
    ("Practitioner/doctor", "ETREAT", "x" * 501, 400),      # reason too long
])
async def test_break_glass_is_refused(consent_app, http, db, who, purpose, reason, status):
    set_policy(consent_app)
    await set_consents(consent_app, [consent("c1", policy="OPTOUT")])
    headers = {**await token(consent_app, who), "X-Purpose-Of-Use": purpose}
    if reason is not None:
        headers["X-Break-Glass-Reason"] = reason
    response = await http.get("/fhir/Observation/obs-bp", headers=headers)
    assert response.status_code == status
    assert "x-break-glass" not in response.headers
    last = await db["AuditEvent"].find_one({}, sort=[("chain.seq", -1)])
    assert last["resource"]["outcome"] == "4"


async def test_break_glass_is_allowed_per_role_and_audited(consent_app, http, db):
    await set_consents(consent_app, [consent("c1", policy="OPTOUT")])
    set_policy(consent_app, break_glass_roles=frozenset({"researcher"}))
    researcher = {**await token(consent_app, "Practitioner/researcher"),
                  "X-Purpose-Of-Use": "BTG", "X-Break-Glass-Reason": "mass casualty drill"}
    response = await http.get("/fhir/Observation/obs-bp", headers=researcher)
    assert response.status_code == 200 and response.headers["x-break-glass"] == "override"
    event = (await db["AuditEvent"].find_one({}, sort=[("chain.seq", -1)]))["resource"]
    assert event["outcomeDesc"].startswith("override")
    assert "break-glass: mass casualty drill" in event["outcomeDesc"]
    reasons = [d["valueString"] for e in event["entity"] for d in e.get("detail", [])
               if d["type"] == "break-glass-reason"]
    assert reasons == ["mass casualty drill"]
    assert event["purposeOfEvent"][0]["coding"][0]["code"] == "BTG"
    doctor = {**await token(consent_app, "Practitioner/doctor"),
              "X-Purpose-Of-Use": "ETREAT", "X-Break-Glass-Reason": "emergency"}
    assert (await http.get("/fhir/Observation/obs-bp", headers=doctor)).status_code == 403


async def test_one_patient_searches_get_plain_field_conditions(consent_app):
    from fhir_server.access.scopes import parse_scopes
    from fhir_server.auth.tokens import AccessContext

    await set_consents(consent_app, [
        consent("c1", {"provision": [{"type": "deny", "code": HIV_CODES},
                                     {"type": "deny", "securityLabel": [
                                         {"system": "http://terminology.hl7.org/CodeSystem/"
                                                    "v3-ActCode", "code": "PSY"}]}]})])
    access = AccessContext(client_id="c", scopes=parse_scopes("user/*.rs"), kind="user",
                           subject="s", issuer="i", expires_at=0,
                           fhir_user="Practitioner/midwife")

    async def compiled(patients: frozenset[str] | None, policy: str) -> dict:
        set_policy(consent_app, default=policy)
        view = consent_app.state.services.access.consent_view(access, "TREAT")
        found = await view.filter("Observation", patients, hide_masked=False)
        assert found is not None
        return found

    one = await compiled(frozenset({"mum"}), "opt-out")
    assert not [key for key in one if key.startswith("$")]
    assert one["search.code.sc"] == {"$nin": ["http://loinc.org|75622-1",
                                              "http://snomed.info/sct|86406008"]}
    opt_in = await compiled(frozenset({"mum"}), "opt-in")
    assert not [key for key in opt_in if key.startswith("$")]
    assert "$not" in opt_in["search._compartments"]
    population = await compiled(None, "opt-out")
    assert "$or" in population


async def test_auth_off_applies_no_consent_and_writes_no_audit(client, app):
    db = database_of(app)  # this test's own database, not the module's consent_app one
    await client.put("Patient/mum", json={"resourceType": "Patient", "id": "mum"})
    denied = await client.put("Consent/c1", json=consent("c1", policy="OPTOUT"))
    assert denied.status_code == 201, denied.text
    assert (await client.get("Patient/mum")).status_code == 200
    assert await db["AuditEvent"].count_documents({}) == 0
    event = {"resourceType": "AuditEvent", "id": "a1", "recorded": "2024-01-01T00:00:00Z",
             "type": {"code": "rest"}, "agent": [{"requestor": True}],
             "source": {"observer": {"display": "x"}}}
    assert (await client.put("AuditEvent/a1", json=event)).status_code == 405
