"""``CodeSystem/$lookup`` and ``CodeSystem/$subsumes``.

https://hl7.org/fhir/R4/codesystem-operation-lookup.html,
https://hl7.org/fhir/R4/codesystem-operation-subsumes.html.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from terminology.codesystem import CodeSystemConcepts
from terminology.lookup import check_system, lookup, subsumes

from ..errors import InvalidRequest
from . import Operation
from .terminology_parameters import TerminologyInput, answering, parameters_response

__all__ = ["OPERATIONS"]


async def _concepts(given: TerminologyInput) -> CodeSystemConcepts | None:
    if given.call.id is None:
        return None
    resource = await given.resource("CodeSystem", "codeSystem")
    assert resource is not None
    return CodeSystemConcepts(resource)


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, dict):
        return {"valueCoding": value}
    return {"valueCode": str(value)} if " " not in str(value) else {"valueString": str(value)}


async def _lookup(given: TerminologyInput) -> Response:
    coded = given.coded()
    if len(coded) != 1:
        raise InvalidRequest("$lookup needs one code (code and system, or coding)")
    system, code, _ = coded[0]
    concepts = await _concepts(given)
    found = lookup(given.terminology, check_system(system or (concepts and concepts.url)),
                   code, concepts)
    parameters: list[dict[str, Any]] = [{"name": "name", "valueString": found.name}]
    if found.version:
        parameters.append({"name": "version", "valueString": found.version})
    if found.display:
        parameters.append({"name": "display", "valueString": found.display})
    if found.definition:
        parameters.append({"name": "definition", "valueString": found.definition})
    parameters.append({"name": "abstract", "valueBoolean": found.abstract})
    for designation in found.designations:
        parameters.append({"name": "designation", "part": [
            {"name": key, **({"valueCoding": value} if key == "use" else
                             {"valueCode" if key == "language" else "valueString": value})}
            for key, value in designation.items() if key in ("language", "use", "value")]})
    wanted = set(given.values("property"))
    for name, value in found.properties:
        if not wanted or name in wanted:
            parameters.append({"name": "property", "part": [
                {"name": "code", "valueCode": name}, {"name": "value", **_value(value)}]})
    return parameters_response(given.call, parameters)


async def _subsumes(given: TerminologyInput) -> Response:
    first = given.coded("codeA", "system", "codingA")
    second = given.coded("codeB", "system", "codingB")
    if len(first) != 1 or len(second) != 1:
        raise InvalidRequest("$subsumes needs codeA and codeB (with system), or codingA "
                             "and codingB")
    (system_a, code_a, _), (system_b, code_b, _) = first[0], second[0]
    if system_a and system_b and system_a != system_b:
        raise InvalidRequest("codingA and codingB must be from the same code system")
    concepts = await _concepts(given)
    system = check_system(system_a or system_b or (concepts and concepts.url))
    outcome = subsumes(given.terminology, system, code_a, code_b, concepts)
    return parameters_response(given.call, [{"name": "outcome", "valueCode": outcome}])


OPERATIONS = [
    Operation(name="lookup", handler=answering(_lookup), type_level=True, instance=True,
              resource_types=frozenset({"CodeSystem"}),
              definition="http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"),
    Operation(name="subsumes", handler=answering(_subsumes), type_level=True, instance=True,
              resource_types=frozenset({"CodeSystem"}),
              definition="http://hl7.org/fhir/OperationDefinition/CodeSystem-subsumes"),
]
