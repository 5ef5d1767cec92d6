"""The fast path of ``paths.py`` reads every R4 SearchParameter expression as FHIRPath does.

For every official parameter, every resource type it applies to and every ``|`` part of
its expression that the fast path compiles (all but three), the values the fast path
extracts are compared with ``fhirpathpy``'s evaluation of the same expression, on
generated resources in which every element is present and every type of every choice
element occurs (``samples.generated``), and on the real resources in ``tests/data``.
Composite components are compared the same way on the elements their parameter selects.

Two readings differ from ``fhirpathpy`` on purpose, as HAPI's FHIRPath engine reads them
(``Base.hasType``): type names are compared case-insensitively, so the System type in
``value.ofType(DateTime)`` (``code-value-date``) is FHIR's ``dateTime`` (the expected
values come from the expression with such names replaced), and ``ofType(uri)`` selects
``uri`` values only, where ``fhirpathpy`` also takes a ``canonical`` (a specialisation of
``uri``): listed in :data:`SUBTYPE_READINGS`. ``resolve()`` is given to ``fhirpathpy`` as
a function returning a stub of the referenced type, as the server cannot resolve.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from functools import cache
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

from fhir_server.search.definitions import SearchParameter, official_parameters
from fhir_server.search.paths import (
    _compile_part,
    applies_to,
    compile_expression,
    compile_relative,
    fhir_type_names,
    split_union,
)
from profiles.definitions import resource_types

from .samples import examples, generated, variants

SUBTYPE_READINGS = {
    ("ConceptMap", "source-uri", "(ConceptMap.source.ofType(uri))"),
    ("ConceptMap", "target-uri", "(ConceptMap.target.ofType(uri))"),
}
EXAMPLES_PER_TYPE = 8
_SYSTEM_TYPES = {"DateTime": "dateTime", "Date": "date", "String": "string",
                 "Boolean": "boolean", "Integer": "integer", "Decimal": "decimal",
                 "Time": "time"}


def _resolve(references: list[Any]) -> list[Any]:
    """A stub of the resource each ``Type/id`` reference points at."""
    found = []
    for reference in references:
        text = reference.get("reference", "") if isinstance(reference, dict) else ""
        if text.count("/") >= 1:
            kind = text.split("/")[-2]
            found.append(ResourceNode.create_node({"resourceType": kind}, kind))
    return found


OPTIONS = {"userInvocationTable": {"resolve": {"fn": _resolve, "arity": {0: []}}}}


def _as_fhirpath(resource_type: str, part: str) -> str:
    """The part as ``fhirpathpy`` should evaluate it: rooted at the concrete type, with
    System type names read as the FHIR primitives (as HAPI does)."""
    part = re.sub(r"^(\(*)(?:Resource|DomainResource)\.", rf"\g<1>{resource_type}.", part)
    return re.sub(r"(ofType|as|is)\((\w+)\)",
                  lambda m: f"{m[1]}({_SYSTEM_TYPES.get(m[2], m[2])})", part)


@cache
def _compiled(expression: str) -> Any:
    return fhirpathpy.compile(expression, model=models["r4"], options=OPTIONS)


def _without_primitive_extensions(value: Any) -> Any:
    """``_name`` (a primitive's extensions) dropped: ``fhirpathpy`` rewrites them in the
    resources it returns."""
    if isinstance(value, dict):
        return {k: _without_primitive_extensions(v) for k, v in value.items()
                if not k.startswith("_")}
    if isinstance(value, list):
        return [_without_primitive_extensions(v) for v in value]
    return value


def _canonical(values: list[Any]) -> list[str]:
    """Comparable values; an element carrying only extensions is left out, as
    ``fhirpathpy`` leaves it out of what it returns."""
    return sorted(json.dumps(_without_primitive_extensions(v), sort_keys=True, default=str)
                  for v in values if not (isinstance(v, dict) and set(v) == {"extension"}))


def _types(parameter: SearchParameter) -> list[str]:
    generic = {"Resource", "DomainResource"} & set(parameter.base)
    return sorted(resource_types()) if generic else [
        b for b in parameter.base if b in resource_types()]


@cache
def _samples(resource_type: str) -> tuple[dict[str, Any], ...]:
    made = [generated(resource_type, v) for v in range(max(variants(resource_type), 4))]
    real = [r for r in _examples() if r["resourceType"] == resource_type][:EXAMPLES_PER_TYPE]
    return (*made, *real)


@cache
def _examples() -> tuple[dict[str, Any], ...]:
    return tuple(examples())


def _parameters_by_type() -> dict[str, list[SearchParameter]]:
    found: dict[str, list[SearchParameter]] = defaultdict(list)
    for parameter in official_parameters():
        if parameter.expression:
            for resource_type in _types(parameter):
                found[resource_type].append(parameter)
    return found


BY_TYPE = _parameters_by_type()


@pytest.mark.parametrize("resource_type", sorted(BY_TYPE))
def test_fast_path_extracts_what_fhirpath_selects(resource_type: str) -> None:
    differences = set()
    compared = 0
    for parameter in BY_TYPE[resource_type]:
        for part in split_union(parameter.expression or ""):
            fast = _compile_part(resource_type, part) if applies_to(resource_type, part) \
                else None
            if fast is None:
                continue
            evaluate = _compiled(_as_fhirpath(resource_type, part))
            for sample in _samples(resource_type):
                compared += 1
                if _canonical([n.value for n in fast(sample)]) != _canonical(evaluate(sample)):
                    differences.add((resource_type, parameter.code, part))
    assert compared
    assert differences == {d for d in SUBTYPE_READINGS if d[0] == resource_type}


def _composites() -> list[tuple[str, SearchParameter]]:
    return [(t, p) for p in official_parameters() if p.type == "composite"
            for t in _types(p)]


@pytest.mark.parametrize(("resource_type", "parameter"), _composites(),
                         ids=lambda v: v if isinstance(v, str) else v.code)
def test_composite_components_extract_what_fhirpath_selects(
        resource_type: str, parameter: SearchParameter) -> None:
    elements = compile_expression(resource_type, parameter.expression or "")
    compared = 0
    for sample in _samples(resource_type):
        for node in elements(sample):
            base = node.context[1] if node.context else resource_type
            for _, expression in parameter.components:
                fast = compile_relative(resource_type, expression)(node, sample)
                expected = _compiled(_as_fhirpath(resource_type, expression))(
                    ResourceNode.create_node(node.value, base), {"resource": sample})
                assert _canonical([n.value for n in fast]) == _canonical(expected), (
                    sample["id"], expression)
                compared += 1
    assert compared


def test_system_type_names_read_as_fhir_primitives() -> None:
    assert fhir_type_names("value.ofType(DateTime) | value.as(System.String)") == (
        "value.ofType(dateTime) | value.as(string)")
    assert fhir_type_names("value is DateTime and name = 'is Boolean'") == (
        "value is dateTime and name = 'is Boolean'")
    observation = {"resourceType": "Observation", "valueDateTime": "2020-01-02"}
    for expression in ("Observation.value.ofType(DateTime)", "Observation.value.as(DateTime)",
                       "Observation.value.ofType(FHIR.dateTime)"):
        assert [n.value for n in compile_expression("Observation", expression)(observation)] \
            == ["2020-01-02"], expression
    fallback = compile_expression("Observation", "Observation.value.where($this is DateTime)")
    assert [n.value for n in fallback(observation)] == ["2020-01-02"]


async def _ids(client: Any, path: str, **params: str) -> list[str]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text[:500]
    return sorted(e["resource"]["id"] for e in response.json().get("entry", []))


async def test_code_value_date_matches(client: Any) -> None:
    """``code-value-date``'s component ``value.ofType(DateTime)`` selects valueDateTime and
    valuePeriod (https://hl7.org/fhir/R4/observation.html#search)."""
    loinc = "http://loinc.org"
    for rid, value in (("dt", {"valueDateTime": "2020-03-04T10:00:00Z"}),
                       ("period", {"valuePeriod": {"start": "2020-03-01", "end": "2020-03-31"}}),
                       ("other", {"valueDateTime": "2021-01-01"})):
        body = {"resourceType": "Observation", "id": rid, "status": "final",
                "code": {"coding": [{"system": loinc, "code": "11778-8"}]}, **value}
        assert (await client.put(f"Observation/{rid}", json=body)).status_code == 201
    query = {"code-value-date": f"{loinc}|11778-8$2020-03"}
    assert await _ids(client, "Observation", **query) == ["dt", "period"]
    assert await _ids(client, "Observation", **{"code-value-date": "11778-8$ge2021"}) == [
        "other"]
    assert await _ids(client, "Observation", **{"code-value-date": "9999-9$2020-03"}) == []


async def test_components_relative_to_the_resource_match(client: Any) -> None:
    """``chromosome-variant-coordinate`` takes its chromosome from ``%resource``."""
    sequence = {"resourceType": "MolecularSequence", "id": "seq", "coordinateSystem": 0,
                "referenceSeq": {"chromosome": {"coding": [{"code": "7"}]},
                                 "genomeBuild": "GRCh38"},
                "variant": [{"start": 100, "end": 200}]}
    assert (await client.put("MolecularSequence/seq", json=sequence)).status_code == 201
    found = await _ids(client, "MolecularSequence",
                       **{"chromosome-variant-coordinate": "7$ge100$le200"})
    assert found == ["seq"]
    assert await _ids(client, "MolecularSequence",
                      **{"chromosome-variant-coordinate": "8$ge100$le200"}) == []
