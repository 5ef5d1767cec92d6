"""``GET /metadata``: a CapabilityStatement generated from what the server really supports
(FHIR R4 http page 3.1.0.10, capabilitystatement.html)."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

from profiles.validator import Validator

from .helpers import assert_outcome

VALUESETS = Path(__file__).parents[2] / "terminology" / "r4" / "valuesets.json.gz"


def _official_types() -> set[str]:
    bundle = orjson.loads(gzip.open(VALUESETS).read())
    system = next(e["resource"] for e in bundle["entry"]
                  if e["resource"].get("url") == "http://hl7.org/fhir/resource-types")
    return {c["code"] for c in system["concept"]} - {"Resource", "DomainResource"}


async def _statement(client) -> dict:
    r = await client.get("metadata")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/fhir+json; charset=utf-8"
    return r.json()


async def test_statement_header(client):
    statement = await _statement(client)
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    assert statement["status"] == "active"
    assert set(statement["format"]) >= {"application/fhir+json", "json"}
    assert not {f for f in statement["format"] if "xml" in f}
    assert set(statement["patchFormat"]) == {"application/json-patch+json",
                                             "application/fhir+json"}
    assert statement["implementation"]["url"] == "http://testserver/fhir"
    assert statement["rest"][0]["mode"] == "server"


async def test_statement_is_a_valid_r4_resource(client):
    statement = await _statement(client)
    errors = [i for i in Validator().validate(statement) if i.severity in ("error", "fatal")]
    assert errors == []


async def test_every_type_with_its_interactions(client):
    rest = (await _statement(client))["rest"][0]
    resources = {r["type"]: r for r in rest["resource"]}
    assert _official_types() <= set(resources)
    for resource in resources.values():
        codes = {i["code"] for i in resource["interaction"]}
        assert codes == {"read", "vread", "update", "patch", "delete", "history-instance",
                         "history-type", "create", "search-type"}, resource["type"]
        assert resource["versioning"] == "versioned-update"
        assert resource["readHistory"] is True and resource["updateCreate"] is True
        assert resource["conditionalCreate"] is True and resource["conditionalUpdate"] is True
        assert resource["conditionalDelete"] == "single"
        assert resource["conditionalRead"] == "full-support"
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch",
                                                         "search-system", "history-system"}


async def test_search_parameters_come_from_the_search_service(client, app):
    search = app.state.services.search
    resources = {r["type"]: r for r in (await _statement(client))["rest"][0]["resource"]}
    for resource_type in ("Patient", "Observation", "Immunization", "Binary"):
        assert resources[resource_type].get("searchParam", []) == search.capability(
            resource_type)
    assert {"name": "_id", "type": "token"}.items() <= next(
        p for p in resources["Patient"]["searchParam"] if p["name"] == "_id").items()


async def test_operations_come_from_the_registry(client, app):
    operations = app.state.services.operations
    rest = (await _statement(client))["rest"][0]
    resources = {r["type"]: r for r in rest["resource"]}
    assert "validate" in operations
    for name, operation in operations.items():
        if not operation.definition:
            continue
        if operation.system:
            assert name in {op["name"] for op in rest["operation"]}
        if operation.type_level or operation.instance:
            types = operation.resource_types or resources.keys()
            for resource_type in types:
                offered = {op["name"]: op["definition"]
                           for op in resources[resource_type]["operation"]}
                assert offered.get(name, "").startswith("http"), (name, resource_type)
    validate = {"name": "validate",
                "definition": "http://hl7.org/fhir/OperationDefinition/Resource-validate"}
    assert validate in resources["Observation"]["operation"]


async def test_metadata_negotiation_and_methods(client):
    assert (await client.get("metadata?_format=json")).status_code == 200
    assert (await client.head("metadata")).content == b""
    assert_outcome(await client.get("metadata?_format=xml"), 406, "xml")
    assert_outcome(await client.post("metadata", json={}), 405)


MCH = "https://mch-fhir.org/fhir/StructureDefinition/"


async def test_supported_profiles_come_from_the_validator(client, app):
    """``rest.resource.supportedProfile``: the core, project and stored profiles of each
    type (R4 capabilitystatement-definitions.html, rest.resource.supportedProfile)."""
    resources = {r["type"]: r for r in (await _statement(client))["rest"][0]["resource"]}
    known = app.state.services.validator.registry.supported_profiles()
    assert f"{MCH}mch-pregnancy-status" in resources["Observation"]["supportedProfile"]
    assert "http://hl7.org/fhir/StructureDefinition/vitalsigns" in resources[
        "Observation"]["supportedProfile"]
    assert f"{MCH}mch-pediatric-immunization" in resources["Immunization"]["supportedProfile"]
    assert f"{MCH}mch-pregnancy-status" not in resources["Immunization"]["supportedProfile"]
    for resource_type, resource in resources.items():
        assert resource.get("supportedProfile", []) == known.get(resource_type, [])


async def test_a_stored_profile_is_listed_until_deleted(client):
    url = "https://example.org/StructureDefinition/named-patient"
    profile = {"resourceType": "StructureDefinition", "id": "named-patient", "url": url,
               "name": "NamedPatient", "status": "draft", "kind": "resource",
               "abstract": False, "type": "Patient", "derivation": "constraint",
               "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
               "differential": {"element": [
                   {"id": "Patient.name", "path": "Patient.name", "min": 1}]}}

    async def patient_profiles() -> list[str]:
        rest = (await _statement(client))["rest"][0]
        return next(r for r in rest["resource"] if r["type"] == "Patient").get(
            "supportedProfile", [])

    assert url not in await patient_profiles()
    response = await client.put("StructureDefinition/named-patient", json=profile,
                                headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == 201, response.text
    assert url in await patient_profiles()
    assert (await client.delete("StructureDefinition/named-patient")).status_code == 200
    assert url not in await patient_profiles()
