"""PATCH with JSON Patch (RFC 6902) and FHIRPath Patch (FHIR R4 http page 3.1.0.6,
fhirpatch.html)."""

from __future__ import annotations

from typing import Any

from .helpers import FHIR_JSON, assert_outcome, patient

JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def _operation(kind: str, path: str, **parts: Any) -> dict[str, Any]:
    """One FHIRPath Patch ``operation`` parameter; value parts are given as (key, value)."""
    part = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    for name, value in parts.items():
        if name == "value":
            key, content = value
            part.append({"name": "value", key: content})
        elif name == "value_parts":
            part.append({"name": "value", "part": value})
        elif isinstance(value, int):
            part.append({"name": name, "valueInteger": value})
        else:
            part.append({"name": name, "valueString": value})
    return {"name": "operation", "part": part}


def _parameters(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(operations)}


async def _two_names(client) -> str:
    body = patient(id="p", name=[{"family": "First"}, {"family": "Second"}])
    await client.put("Patient/p", json=body)
    return "Patient/p"


async def _fhirpath_patch(client, url: str, *operations: dict[str, Any]):
    return await client.patch(url, json=_parameters(*operations), headers=FHIR_JSON)


async def test_json_patch_operations_make_a_new_version(client):
    url = await _two_names(client)
    ops = [
        {"op": "test", "path": "/gender", "value": "female"},
        {"op": "replace", "path": "/gender", "value": "other"},
        {"op": "add", "path": "/name/0/given", "value": ["Ngozi"]},
        {"op": "remove", "path": "/birthDate"},
        {"op": "move", "from": "/name/1", "path": "/name/0"},
        {"op": "copy", "from": "/name/0/family", "path": "/name/1/text"},
    ]
    r = await client.patch(url, json=ops, headers=JSON_PATCH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["gender"] == "other"
    assert "birthDate" not in body
    assert body["name"] == [{"family": "Second"},
                            {"family": "First", "given": ["Ngozi"], "text": "Second"}]
    assert r.headers["etag"] == 'W/"2"'
    assert (await client.get(url)).json() == body


async def test_json_patch_errors_store_nothing(client):
    url = await _two_names(client)
    failed_test = [{"op": "test", "path": "/gender", "value": "male"},
                   {"op": "replace", "path": "/gender", "value": "other"}]
    assert_outcome(await client.patch(url, json=failed_test, headers=JSON_PATCH), 422, "test")
    assert_outcome(await client.patch(url, json=[{"op": "remove", "path": "/telecom"}],
                                      headers=JSON_PATCH), 400, "json patch")
    assert_outcome(await client.patch(url, json=[{"op": "jump", "path": "/x"}],
                                      headers=JSON_PATCH), 400)
    assert_outcome(await client.patch(url, json={"op": "add"}, headers=JSON_PATCH), 400,
                   "array")
    for malformed in (["x"], [{"op": "add"}], [{"path": "/gender"}], [None], [[]]):
        assert_outcome(await client.patch(url, json=malformed, headers=JSON_PATCH), 400)
    assert_outcome(await client.patch(url, json=[{"op": "replace", "path": "/id",
                                                  "value": "other"}], headers=JSON_PATCH),
                   400, "id")
    assert_outcome(await client.patch(url, json=[{"op": "replace", "path": "/resourceType",
                                                  "value": "Group"}], headers=JSON_PATCH),
                   400, "resourceType")
    assert_outcome(await client.patch(url, json=[{"op": "remove", "path": ""}],
                                      headers=JSON_PATCH), 400)
    assert_outcome(await client.patch(url, content=b"[{", headers=JSON_PATCH), 400, "json")
    assert_outcome(await client.patch(url, content=b"", headers=JSON_PATCH), 400, "empty")
    assert_outcome(await client.patch(url, content=b"[]", headers={"Content-Type":
                                                                  "text/plain"}), 415)
    assert (await client.get(url)).json()["meta"]["versionId"] == "1"


async def test_patch_of_missing_or_deleted_resources(client):
    ops = [{"op": "replace", "path": "/gender", "value": "male"}]
    assert_outcome(await client.patch("Patient/none", json=ops, headers=JSON_PATCH), 404)
    await client.put("Patient/gone", json=patient(id="gone"))
    await client.delete("Patient/gone")
    assert_outcome(await client.patch("Patient/gone", json=ops, headers=JSON_PATCH), 410)


async def test_patch_if_match(client):
    url = await _two_names(client)
    ops = [{"op": "replace", "path": "/gender", "value": "male"}]
    stale = await client.patch(url, json=ops, headers={**JSON_PATCH, "If-Match": 'W/"7"'})
    assert_outcome(stale, 412, 'W/"7"')
    ok = await client.patch(url, json=ops, headers={**JSON_PATCH, "If-Match": 'W/"1"'})
    assert ok.status_code == 200 and ok.headers["etag"] == 'W/"2"'


async def test_fhirpath_patch_add(client):
    url = await _two_names(client)
    r = await _fhirpath_patch(
        client, url,
        _operation("add", "Patient", name="deceasedBoolean", value=("valueBoolean", False)),
        _operation("add", "Patient", name="identifier",
                   value=("valueIdentifier", {"system": "urn:mch:anc", "value": "ANC-7"})),
        _operation("add", "Patient.name[0]", name="given", value=("valueString", "Ada")),
        _operation("add", "Patient", name="telecom", value_parts=[
            {"name": "system", "valueCode": "phone"},
            {"name": "value", "valueString": "+254 700 000000"},
        ]),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    r = await _fhirpath_patch(client, url, _operation("add", "Patient", name="name", value_parts=[
        {"name": "family", "valueString": "Obi"}, {"name": "given", "valueString": "Chi"}]))
    assert r.status_code == 200, r.text
    assert r.json()["name"][-1] == {"family": "Obi", "given": ["Chi"]}
    assert body["deceasedBoolean"] is False
    assert body["identifier"] == [{"system": "urn:mch:anc", "value": "ANC-7"}]
    assert body["name"][0] == {"family": "First", "given": ["Ada"]}
    assert body["telecom"] == [{"system": "phone", "value": "+254 700 000000"}]
    twice = await _fhirpath_patch(client, url, _operation(
        "add", "Patient", name="gender", value=("valueCode", "male")))
    assert_outcome(twice, 400, "already has a value")


async def test_fhirpath_patch_insert_replace_move_delete(client):
    url = await _two_names(client)
    r = await _fhirpath_patch(
        client, url,
        _operation("insert", "Patient.name", index=1,
                   value=("valueHumanName", {"family": "Middle"})),
        _operation("replace", "Patient.gender", value=("valueCode", "unknown")),
        _operation("replace", "Patient.name.where(family='First').family",
                   value=("valueString", "Premier")),
        _operation("move", "Patient.name", source=2, destination=0),
        _operation("delete", "Patient.birthDate"),
        _operation("delete", "Patient.telecom"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [n["family"] for n in body["name"]] == ["Second", "Premier", "Middle"]
    assert body["gender"] == "unknown"
    assert "birthDate" not in body
    r = await _fhirpath_patch(client, url,
                              _operation("delete", "Patient.name.where(family='Premier')"),
                              _operation("insert", "Patient.identifier", index=0,
                                         value=("valueIdentifier", {"value": "first"})))
    assert [n["family"] for n in r.json()["name"]] == ["Second", "Middle"]
    assert r.json()["identifier"] == [{"value": "first"}]
    assert r.json()["meta"]["versionId"] == "3"


async def test_fhirpath_patch_errors_store_nothing(client):
    url = await _two_names(client)
    cases = [
        (_operation("frobnicate", "Patient.gender"), "frobnicate"),
        (_operation("replace", "Patient.telecom", value=("valueString", "x")), "matches 0"),
        (_operation("replace", "Patient.name", value=("valueString", "x")), "matches 2"),
        (_operation("replace", "Observation.status", value=("valueCode", "final")), "start"),
        (_operation("insert", "Patient.name", index=9,
                    value=("valueHumanName", {"family": "X"})), "out of range"),
        (_operation("move", "Patient.name", source=0, destination=5), "out of range"),
        (_operation("replace", "Patient.name.select(family)", value=("valueString", "x")),
         "unsupported"),
        ({"name": "operation", "part": [{"name": "type", "valueCode": "delete"}]}, "path"),
        (_operation("replace", "Patient.id", value=("valueString", "other")), "id"),
        (_operation("insert", "Patient.name", index="first",
                    value=("valueHumanName", {"family": "X"})), "index"),
        (_operation("move", "Patient.name", source="a", destination=0), "source"),
        (_operation("add", "Patient", value=("valueCode", "male")), "name"),
        ({"name": "operation", "part": "everything"}, "part"),
        ({"name": "operation", "part": [{"name": "type", "valueCode": "delete"},
                                        {"name": "path", "valueInteger": 3}]}, "path"),
        ("operation", "parameter"),
    ]
    for operation, words in cases:
        r = await _fhirpath_patch(client, url, operation)
        assert_outcome(r, 400, words)
    assert_outcome(await client.patch(url, json={"resourceType": "Patient"}, headers=FHIR_JSON),
                   400, "Parameters")
    assert_outcome(await client.patch(url, json=_parameters({"name": "op"}),
                                      headers=FHIR_JSON), 400, "operation")
    assert_outcome(await client.patch(url, json={"resourceType": "Parameters",
                                                 "parameter": {"name": "operation"}},
                                      headers=FHIR_JSON), 400, "parameter")
    assert (await client.get(url)).json()["meta"]["versionId"] == "1"
