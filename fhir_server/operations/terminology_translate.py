"""``ConceptMap/$translate`` (https://hl7.org/fhir/R4/conceptmap-operation-translate.html)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from terminology.translate import translate

from ..errors import InvalidRequest
from . import Operation
from .terminology_parameters import TerminologyInput, answering, parameters_response

__all__ = ["OPERATIONS"]


async def _translate(given: TerminologyInput) -> Response:
    coded = given.coded()
    if not coded:
        raise InvalidRequest("$translate needs a code and system, a coding or a "
                             "codeableConcept")
    concept_map = await given.resource("ConceptMap", "conceptMap")
    maps = [concept_map] if concept_map is not None else given.terminology.resources(
        "ConceptMap")
    matches: list[dict[str, Any]] = []
    for system, code, _ in coded:
        matches += translate(maps, system, code, source=given.text("source"),
                             target=given.text("target"),
                             target_system=given.text("targetsystem"),
                             reverse=given.boolean("reverse"))
    found = any(match["matching"] for match in matches)
    parameters: list[dict[str, Any]] = [{"name": "result", "valueBoolean": found}]
    if not found:
        parameters.append({"name": "message", "valueString": "No mapping found for "
                           + ", ".join(f"{s or ''}#{c}" for s, c, _ in coded)})
    for match in matches:
        parameters.append({"name": "match", "part": [
            {"name": "equivalence", "valueCode": match["equivalence"]},
            {"name": "concept", "valueCoding": match["concept"]},
            {"name": "source", "valueUri": match["source"]}]})
    return parameters_response(given.call, parameters)


OPERATIONS = [
    Operation(name="translate", handler=answering(_translate), type_level=True, instance=True,
              resource_types=frozenset({"ConceptMap"}),
              definition="http://hl7.org/fhir/OperationDefinition/ConceptMap-translate"),
]
