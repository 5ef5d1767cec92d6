"""``ValueSet/$expand`` and ``$validate-code`` (on ValueSet and on CodeSystem).

https://hl7.org/fhir/R4/valueset-operation-expand.html,
https://hl7.org/fhir/R4/valueset-operation-validate-code.html,
https://hl7.org/fhir/R4/codesystem-operation-validate-code.html.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from terminology.codesystem import CodeSystemConcepts
from terminology.expand import Verdict, expand, validate_in_code_system, validate_in_value_set
from terminology.lookup import check_system

from ..errors import InvalidRequest
from ..rest.negotiation import check_accept
from ..rest.responses import fhir_response
from . import Operation
from .terminology_parameters import TerminologyInput, answering, parameters_response

__all__ = ["OPERATIONS"]


async def _value_set(given: TerminologyInput) -> dict[str, Any]:
    value_set = await given.resource("ValueSet", "valueSet")
    if value_set is None:
        raise InvalidRequest("Name the ValueSet: ValueSet/[id]/$op, the 'url' parameter, or "
                             "a 'valueSet' parameter holding it")
    return value_set


async def _expand(given: TerminologyInput) -> Response:
    value_set = await _value_set(given)
    expanded = expand(given.terminology, value_set, text_filter=given.text("filter"),
                      offset=given.integer("offset") or 0, count=given.integer("count"))
    media = check_accept(given.call.request)
    return fhir_response(expanded, 200, request=given.call.request, media_type=media)


async def _validate_code(given: TerminologyInput) -> Response:
    if given.call.resource_type == "CodeSystem":
        verdict = await _in_code_system(given)
    else:
        value_set = await _value_set(given)
        verdict = validate_in_value_set(given.terminology, value_set, given.coded())
    parameters: list[dict[str, Any]] = [{"name": "result", "valueBoolean": verdict.result}]
    if verdict.message:
        parameters.append({"name": "message", "valueString": verdict.message})
    if verdict.display:
        parameters.append({"name": "display", "valueString": verdict.display})
    return parameters_response(given.call, parameters)


async def _in_code_system(given: TerminologyInput) -> Verdict:
    coded = given.coded("code", "url")
    if not coded:
        raise InvalidRequest("$validate-code needs a code, a coding or a codeableConcept")
    concepts = None
    if given.call.id is not None:
        resource = await given.resource("CodeSystem", "codeSystem")
        assert resource is not None
        concepts = CodeSystemConcepts(resource)
    verdicts = []
    for system, code, display in coded:
        system = check_system(system or given.text("url") or (concepts and concepts.url))
        verdict = validate_in_code_system(given.terminology, system, code, display, concepts)
        if verdict.result:
            return verdict
        verdicts.append(verdict)
    return Verdict(False, "; ".join(v.message or "" for v in verdicts),
                   verdicts[0].display if verdicts else None)


OPERATIONS = [
    Operation(name="expand", handler=answering(_expand), type_level=True, instance=True,
              resource_types=frozenset({"ValueSet"}),
              definition="http://hl7.org/fhir/OperationDefinition/ValueSet-expand"),
    Operation(name="validate-code", handler=answering(_validate_code), type_level=True,
              instance=True, resource_types=frozenset({"ValueSet", "CodeSystem"}),
              definition="http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code"),
]
