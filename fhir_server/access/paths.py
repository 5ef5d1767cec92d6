"""Where R4 resources keep what consent rules look at (:class:`consent.PathMatcher`).

Derived once from the official R4 definitions, for the resource types of the Patient
compartment:

* ``patient``: the compartment's paths (R4 CompartmentDefinition/patient);
* ``code``: the CodeableConcepts of the ``code`` search parameter (and Immunization's
  ``vaccine-code``);
* ``date``: the clinical date of the first of the ``authoredon``, ``onset-date``,
  ``date``, ``occurrence``, ``recorded-date``, ``created``, ``issued``, ``period`` search
  parameters the type has (a Period counts by its start);
* ``reference``: every Reference element of the type's StructureDefinition;
* ``author``: those of them that name who wrote or performed it (``author``,
  ``recorder``, ``asserter``, ``requester``, ``performer``, ...).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from consent import PathMatcher
from profiles.definitions import structure_definition

from .compartment import compartment_paths, parameter_expressions

__all__ = ["r4_paths"]

_PARAMETERS = Path(__file__).resolve().parent.parent / "search" / "r4" / \
    "search-parameters.json.gz"
_DATE_PARAMETERS = ("authoredon", "onset-date", "date", "occurrence", "recorded-date",
                    "created", "issued", "period")
_CODE_PARAMETERS = ("code", "vaccine-code")
_AUTHORING = frozenset({"author", "recorder", "asserter", "requester", "performer", "enterer",
                       "sender", "informationSource", "resultsInterpreter", "source"})
_DATE_TYPES = ("dateTime", "date", "instant")
_OF_TYPE = re.compile(r"^\(?([A-Za-z]+)\.([A-Za-z.]+?)(?:\.ofType\((\w+)\))?\)?$")


@cache
def _elements(resource_type: str) -> dict[str, list[str]]:
    """Element path below the type (``effective[x]``) -> its type codes."""
    definition = structure_definition(resource_type)
    if definition is None:
        return {}
    return {e["path"].split(".", 1)[1]: [t.get("code", "") for t in e.get("type", [])]
            for e in definition["snapshot"]["element"] if "." in e["path"]}


def _typed_paths(resource_type: str, path: str, of_type: str | None,
                 wanted: tuple[str, ...]) -> list[str]:
    """Concrete JSON paths of an element whose type is one of ``wanted`` (choice
    elements spelled out: ``effective`` -> ``effectiveDateTime``, ``effectivePeriod.start``)."""
    elements = _elements(resource_type)
    choice = path + "[x]" in elements
    types = elements.get(path + "[x]" if choice else path, [])
    if of_type:
        types = [t for t in types if t == of_type]
    found = []
    for code in types:
        name = path + (code[0].upper() + code[1:] if choice else "")
        if code == "Period" and "Period" in wanted:
            found.append(name + ".start")
        elif code in wanted:
            found.append(name)
    return found


def _parameter_paths(resource_type: str, code: str, wanted: tuple[str, ...]) -> list[str]:
    found = []
    for part in parameter_expressions().get((resource_type, code), "").split("|"):
        match = _OF_TYPE.match(part.strip())
        if match and match.group(1) == resource_type:
            found += _typed_paths(resource_type, match.group(2), match.group(3), wanted)
    return found


def _date_paths(resource_type: str) -> tuple[str, ...]:
    for code in _DATE_PARAMETERS:
        found = _parameter_paths(resource_type, code, (*_DATE_TYPES, "Period"))
        if found:
            return tuple(found)
    return ()


def _reference_paths(resource_type: str) -> tuple[str, ...]:
    found = []
    for path, types in _elements(resource_type).items():
        if "Reference" in types:
            found.append(path[:-3] + "Reference" if path.endswith("[x]") else path)
    return tuple(found)


@cache
def _tables() -> dict[str, dict[str, tuple[str, ...]]]:
    compartment = compartment_paths()
    tables: dict[str, dict[str, tuple[str, ...]]] = {
        "patient": {t: tuple(".".join(p) for p in paths) for t, paths in compartment.items()},
        "code": {}, "date": {}, "reference": {}, "author": {},
    }
    for resource_type in compartment:
        codes = [p for code in _CODE_PARAMETERS
                 for p in _parameter_paths(resource_type, code, ("CodeableConcept",))]
        references = _reference_paths(resource_type)
        tables["code"][resource_type] = tuple(dict.fromkeys(codes))
        tables["date"][resource_type] = _date_paths(resource_type)
        tables["reference"][resource_type] = references
        tables["author"][resource_type] = tuple(
            p for p in references if p.split(".")[0] in _AUTHORING)
    return tables


def r4_paths(base: str) -> PathMatcher:
    """The R4 tables for a server whose FHIR base URL is ``base``."""
    return PathMatcher(base, _tables())
