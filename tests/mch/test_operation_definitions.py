"""Each MCH operation answers what its OperationDefinition declares (R4 operations.html,
operationdefinition.html): ``$growth``, ``$pregnancy-summary``, ``$immds-forecast`` and
``Observation/$lastn`` run on seeded data (``mch_server``: two Synthea bundles, as
docs/maternal-child.md shows them), and a generic checker compares every answer with the
definition the CapabilityStatement names, read from the server (``GET
OperationDefinition?url=``) or, for a core operation, from the R4 specification: every out
parameter and part named and typed as declared, cardinalities respected, and every
declared one seen in some answer."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pytest

from fhir_server.operations import definitions
from profiles.definitions import load_bundle, resource_types
from profiles.policy import ProfilePolicy
from profiles.validator import Validator

from .operation_helpers import FHIR, LAURIE, LOINC, LUIGI, UCUM, child_bundle

CORE = "http://hl7.org/fhir/OperationDefinition/"
OURS = "https://mch-fhir.org/fhir/OperationDefinition/"
IMMDS = "http://hl7.org/fhir/us/immds/OperationDefinition/ImmDSForecastOperation"


def _stateless_parameters() -> dict[str, Any]:
    """The type-level example of docs/maternal-child.md, and a measurement without id."""
    def measurement(*parts: dict[str, Any]) -> dict[str, Any]:
        return {"name": "measurement", "part": list(parts)}
    return {"resourceType": "Parameters", "parameter": [
        {"name": "sex", "valueCode": "female"},
        {"name": "birthDate", "valueDate": "2024-01-01"},
        {"name": "gestationalAgeAtBirth", "valueQuantity": {
            "value": 39, "unit": "wk", "system": UCUM, "code": "wk"}},
        measurement({"name": "id", "valueString": "visit-6m-weight"},
                    {"name": "code", "valueCoding": {"system": LOINC, "code": "29463-7"}},
                    {"name": "value", "valueQuantity": {"value": 7200, "unit": "g",
                                                        "system": UCUM, "code": "g"}},
                    {"name": "date", "valueDate": "2024-07-01"}),
        measurement({"name": "kind", "valueCode": "length"},
                    {"name": "position", "valueCode": "lying"},
                    {"name": "value", "valueQuantity": {"value": 0.66, "unit": "m",
                                                        "system": UCUM, "code": "m"}},
                    {"name": "date", "valueDate": "2024-07-01"})]}


CALLS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    # (operation, method, path, body)
    ("growth", "GET", f"Patient/{LUIGI}/$growth", None),
    ("growth", "POST", "Patient/$growth", _stateless_parameters()),
    ("growth", "POST", "Patient/$growth", child_bundle()),
    ("pregnancy-summary", "GET", f"Patient/{LAURIE}/$pregnancy-summary?date=2019-01-19", None),
    ("pregnancy-summary", "GET", f"Patient/{LAURIE}/$pregnancy-summary?date=2019-02-10", None),
    ("pregnancy-summary", "GET", f"Patient/{LAURIE}/$pregnancy-summary?date=2018-06-01", None),
    ("immds-forecast", "GET",
     f"Patient/{LUIGI}/$immds-forecast?assessmentDate=2021-06-01&schedule=who-routine", None),
    ("immds-forecast", "GET",
     f"Patient/{LUIGI}/$immds-forecast?assessmentDate=2020-10-20&schedule=india-uip", None),
    ("lastn", "GET", f"Observation/$lastn?patient={LUIGI}&category=vital-signs&max=2", None),
]
TYPE_OF = {"growth": "Patient", "pregnancy-summary": "Patient", "immds-forecast": "Patient",
           "lastn": "Observation"}


async def _definition(client, url: str) -> dict[str, Any]:
    """The OperationDefinition of ``url``: the server's, or a core one from the R4
    specification (profiles/r4, the official 4.0.1 definitions)."""
    found = (await client.get("OperationDefinition", params={"url": url})).json()
    if found["total"] == 1:
        return found["entry"][0]["resource"]
    assert url.startswith(CORE), f"{url} is not stored on the server"
    [core] = [e["resource"] for e in load_bundle("profiles-resources")["entry"]
              if e["resource"].get("url") == url]
    return core


def _most(cardinality: str) -> float:
    return math.inf if cardinality == "*" else int(cardinality)


def _declared_paths(declared: Iterable[dict[str, Any]], where: str = "") -> set[str]:
    paths = set()
    for parameter in declared:
        if parameter.get("use", "out") != "out":
            continue
        path = f"{where}.{parameter['name']}" if where else parameter["name"]
        paths |= {path, *_declared_paths(parameter.get("part", []), path)}
    return paths


def _check_parameters(given: list[dict[str, Any]], declared: list[dict[str, Any]],
                      where: str, seen: set[str]) -> list[str]:
    """What in ``given`` (Parameters.parameter or a parameter's parts) breaks the
    ``declared`` out parameters; every path met is added to ``seen``."""
    outs = {d["name"]: d for d in declared if d.get("use", "out") == "out"}
    names = [p.get("name") for p in given]
    problems = [f"{where}.{n}: not declared" for n in dict.fromkeys(names) if n not in outs]
    for name, definition in outs.items():
        count = names.count(name)
        if not definition["min"] <= count <= _most(definition["max"]):
            problems.append(f"{where}.{name}: {count} given, declared "
                            f"{definition['min']}..{definition['max']}")
    for parameter in given:
        definition = outs.get(parameter.get("name"))
        if definition is None:
            continue
        path = f"{where}.{parameter['name']}" if where else parameter["name"]
        seen.add(path)
        values = sorted(k for k in parameter if k.startswith("value"))
        carried = [k for k in ("part", "resource") if k in parameter] + values
        kind = definition.get("type")
        if "part" in definition:
            if carried != ["part"]:
                problems.append(f"{path}: declared with parts, given {carried}")
            else:
                problems += _check_parameters(parameter["part"], definition["part"], path, seen)
        elif kind == "Resource" or kind in resource_types():
            resource = parameter.get("resource") or {}
            if carried != ["resource"] or kind not in ("Resource", resource.get("resourceType")):
                problems.append(f"{path}: declared a {kind}, given {carried} "
                                f"{resource.get('resourceType', '')}".rstrip())
        elif kind is None:
            problems.append(f"{path}: declared with neither type nor parts")
        elif carried != [f"value{kind[0].upper()}{kind[1:]}"]:
            problems.append(f"{path}: declared {kind}, given {carried}")
    return problems


def check_answer(answer: dict[str, Any], definition: dict[str, Any], seen: set[str]
                 ) -> list[str]:
    """What in an operation's answer breaks its OperationDefinition. A single out
    parameter ``return`` of a resource type other than Parameters is the answer itself
    (R4 operations.html, "Response")."""
    outs = [p for p in definition["parameter"] if p["use"] == "out"]
    if len(outs) == 1 and outs[0]["name"] == "return" and outs[0].get("type") not in (
            None, "Parameters"):
        seen.add("return")
        if answer.get("resourceType") != outs[0]["type"]:
            return [f"return: declared a {outs[0]['type']}, answered a "
                    f"{answer.get('resourceType')}"]
        return []
    if answer.get("resourceType") != "Parameters":
        return [f"answered a {answer.get('resourceType')}, not Parameters"]
    return _check_parameters(answer.get("parameter", []), outs, "", seen)


@pytest.fixture(scope="module")
def validator() -> Validator:
    return Validator(policy=ProfilePolicy())


async def test_every_answer_follows_its_operation_definition(mch_server, validator):
    capability = (await mch_server.get("metadata")).json()
    named = {(r["type"], o["name"]): o["definition"]
             for r in capability["rest"][0]["resource"] for o in r.get("operation", [])}
    seen: dict[str, set[str]] = {}
    definitions: dict[str, dict[str, Any]] = {}
    for operation, method, path, body in CALLS:
        url = named[(TYPE_OF[operation], operation)]
        if operation not in definitions:
            definitions[operation] = await _definition(mch_server, url)
        definition = definitions[operation]
        assert definition["code"] == operation and TYPE_OF[operation] in definition["resource"]
        level = "instance" if path.split("/$")[0].count("/") else "type"
        assert definition[level] is True, (operation, level)
        response = await mch_server.request(method, path, json=body,
                                        headers=FHIR if body else None)
        assert response.status_code == 200, (path, response.text[:500])
        answer = response.json()
        assert check_answer(answer, definition, seen.setdefault(operation, set())) == [], path
        errors = [i for i in validator.validate(answer) if i.severity in ("error", "fatal")]
        assert errors == [], (path, errors[:3])
    for operation, definition in definitions.items():
        # Nothing declared that no answer holds: each out parameter and part is real.
        assert seen[operation] == _declared_paths(definition["parameter"]), operation


def test_the_shipped_definitions_are_valid_r4(validator):
    for definition in definitions():
        errors = [i for i in validator.validate(definition) if i.severity in ("error", "fatal")]
        assert errors == [], (definition["id"], errors)


def test_the_checker_catches_what_the_review_found():
    """The defects of the first ``Patient-pregnancy-summary`` definition: ``nextContact``
    declared a date but answered with parts, ``visit`` declared without parts."""
    declared = [{"name": "nextContact", "use": "out", "min": 0, "max": "1", "type": "date"},
                {"name": "visit", "use": "out", "min": 0, "max": "*"},
                {"name": "date", "use": "out", "min": 1, "max": "1", "type": "date"}]
    answer = {"resourceType": "Parameters", "parameter": [
        {"name": "nextContact", "part": [{"name": "number", "valueInteger": 2}]},
        {"name": "visit", "part": [{"name": "date", "valueDate": "2019-01-19"}]},
        {"name": "trimester", "valueInteger": 1}]}
    problems = check_answer(answer, {"parameter": declared}, set())
    assert problems == [".trimester: not declared", ".date: 0 given, declared 1..1",
                        "nextContact: declared date, given ['part']",
                        "visit: declared with neither type nor parts"]


async def test_immds_forecast_names_the_servers_own_definition(mch_server):
    capability = (await mch_server.get("metadata")).json()
    patient = next(r for r in capability["rest"][0]["resource"] if r["type"] == "Patient")
    url = next(o["definition"] for o in patient["operation"] if o["name"] == "immds-forecast")
    assert url == f"{OURS}Patient-immds-forecast"
    found = (await mch_server.get("OperationDefinition", params={"url": url})).json()
    [definition] = [e["resource"] for e in found["entry"]]
    # The IG's operation is system-level with the patient in the request; ours is not
    # that operation, says it mirrors it, and does not claim its canonical.
    assert (definition["system"], definition["type"], definition["instance"]) == (
        False, False, True)
    assert "base" not in definition and definition["url"] != IMMDS
    assert IMMDS in definition["comment"] and "not an implementation" in definition["comment"]
    assert (await mch_server.get("OperationDefinition/Patient-immds-forecast")).status_code == 200
