"""Checking a resource's JSON against its compiled element tree.

Implements the JSON representation rules (https://hl7.org/fhir/R4/json.html): known
element names only, arrays exactly for repeating elements, no empty objects, arrays or
strings, ``null`` only inside primitive arrays paired with their ``_name`` extension
array, at most one type of a choice element, cardinality, primitive formats and required
bindings. Every problem is recorded with its FHIRPath location; nothing stops at the first.

Checks that read values (invariants, bindings, UCUM codes, extension definitions) run on
an object only when every value inside it has the JSON kind its definition says (no array
for a single value, no object for a string, ...): they may then rely on those kinds.
"""

from __future__ import annotations

import re
from typing import Any

from .bindings import check_binding, check_coding_system
from .definitions import resource_types
from .elements import RESOURCE_TYPE_CODES, ElementRule, TypeModel, model_for, type_url
from .findings import Findings
from .primitives import json_kind_of
from .quantities import QUANTITY_TYPES, check_ucum_code

__all__ = ["check_resource", "check_object"]

_ABSENT: Any = object()
_ABSOLUTE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")  # a scheme (RFC 3986)


def check_resource(resource: Any, location: str | None, findings: Findings) -> None:
    """Check ``resource`` as a resource of the type named by its ``resourceType``."""
    where = location or "Resource"
    if not isinstance(resource, dict):
        findings.malformed("structure", where,
                           f"A resource must be a JSON object, not {json_kind_of(resource)}")
        return
    resource_type = resource.get("resourceType")
    if resource_type is None:
        findings.malformed("required", where, "The resource has no resourceType")
        return
    if not isinstance(resource_type, str) or resource_type not in resource_types():
        findings.malformed("structure",
                           f"{where}.resourceType" if location else "resourceType",
                           f"Unknown resourceType '{str(resource_type)[:80]}'")
        return
    with findings.inside(resource, contained=location is not None and ".contained[" in location
                         and location.endswith("]")):
        check_object(resource, model_for(type_url(resource_type)), location or resource_type,
                     findings)


def check_object(value: dict[str, Any], model: TypeModel, location: str,
                 findings: Findings) -> bool:
    """Check the properties of one JSON object against ``model``; whether every value in
    it has the JSON kind its definition says (see :meth:`Findings.malformed`)."""
    if not value:
        findings.error("structure", location,
                       "An empty object is not allowed; leave the element out instead")
        return True
    mark = findings.malformed_count
    choices: dict[str, set[str]] | None = None
    properties = model.properties
    for key, item in value.items():
        rule = properties.get(key)
        if rule is None:
            rule = properties.get(key[1:]) if key[:1] == "_" else None
            if rule is None or rule.primitive is None:
                if not (key == "resourceType" and model.is_resource):
                    _unknown(key, model, location, findings)
                continue
            if rule.name not in value:
                _check_property(rule, _ABSENT, item, location, findings)
        elif rule.primitive is None:
            _check_property(rule, item, _ABSENT, location, findings)
        else:
            _check_property(rule, item, value.get(rule.extension_key, _ABSENT), location,
                            findings)
        if rule.choice is not None:
            if choices is None:
                choices = {}
            choices.setdefault(rule.choice, set()).add(rule.name)
    if choices is not None:
        _check_choices(choices, location, findings)
    for path, names in model.required:
        if not any(name in value for name in names):
            findings.error("required", _child(location, path),
                           f"{path} is required (minimum cardinality 1) but missing")
    if not findings.well_formed_since(mark):
        return False
    if model.path == "Extension" and findings.extension_check is not None:
        findings.extension_check(value, location)
    elif model.path in QUANTITY_TYPES:
        check_ucum_code(value, location, findings)
    elif model.path == "Coding":
        check_coding_system(value, location, findings)
    elif model.path == "Bundle.entry":
        _check_full_url(value, location, findings)
    for invariant in model.invariants:
        if invariant.severity != "error" and not findings.detailed:
            continue
        if invariant.holds(value, findings) is False:
            report = findings.error if invariant.severity == "error" else findings.warning
            report("invariant", location, f"{invariant.key}: {invariant.human}")
    return True


def _check_full_url(entry: dict[str, Any], location: str, findings: Findings) -> None:
    """``Bundle.entry.fullUrl`` is "the absolute URL for the resource"
    (https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.fullUrl)."""
    full_url = entry.get("fullUrl")
    if isinstance(full_url, str) and not _ABSOLUTE_URL.match(full_url):
        findings.error("invalid", f"{location}.fullUrl",
                       f"The fullUrl must be an absolute URL (not '{_shorten(full_url)}')")


def _child(location: str, path: str) -> str:
    return f"{location}.{path.rsplit('.', 1)[1].removesuffix('[x]')}"


def _check_choices(choices: dict[str, set[str]], location: str, findings: Findings) -> None:
    for path, names in choices.items():
        if len(names) > 1:
            findings.error("structure", _child(location, path),
                           f"Only one type may be given for {path}, found "
                           f"{', '.join(sorted(names))}")


def _unknown(key: str, model: TypeModel, location: str, findings: Findings) -> None:
    name = key[1:] if key[:1] == "_" else key
    rule = model.properties.get(name)
    if rule is not None:
        message = f"'{key}' is not allowed: '{name}' is not a primitive element"
    else:
        stems = {r.choice for r in model.properties.values()
                 if r.choice is not None and name.startswith(r.name_stem())}
        message = (f"'{_shorten(key)}' is not an allowed type for {', '.join(sorted(stems))}"
                   if stems else f"Unknown element '{_shorten(key)}' in {model.path}")
    findings.error("structure", f"{location}.{_shorten(key)}", message)


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _check_property(rule: ElementRule, base: Any, extensions: Any, location: str,
                    findings: Findings) -> None:
    where = f"{location}.{rule.name}"
    if rule.max == 0:
        findings.error("structure", where, f"{rule.path} is not allowed here (maximum 0)")
    elif rule.repeats:
        _check_repeating(rule, base, extensions, where, findings)
    else:
        if base is not _ABSENT:
            if isinstance(base, list):
                findings.malformed("structure", where,
                                   f"{rule.path} is a single value, not an array")
            else:
                _check_value(rule, base, where, findings)
        if extensions is not _ABSENT:
            _check_primitive_element(rule, extensions, where, findings)


def _as_list(rule: ElementRule, value: Any, prefix: str, where: str,
             findings: Findings) -> list[Any] | None:
    if value is _ABSENT:
        return None
    if not isinstance(value, list):
        findings.malformed("structure", where,
                           f"{prefix}{rule.name} repeats, so it must be a JSON array")
        return None
    if not value:
        findings.error("structure", where,
                       f"An empty array is not allowed for {prefix}{rule.name}")
    return value


def _check_repeating(rule: ElementRule, base: Any, extensions: Any, where: str,
                     findings: Findings) -> None:
    values = _as_list(rule, base, "", where, findings)
    elements = _as_list(rule, extensions, "_", where, findings)
    if values is not None and elements is not None and len(values) != len(elements):
        findings.error("structure", where,
                       f"{rule.name} and _{rule.name} must have the same number of items")
    count = max(len(values or ()), len(elements or ()))
    if rule.max is not None and count > rule.max:
        findings.error("structure", where,
                       f"{rule.path} allows at most {rule.max} items, found {count}")
    if 0 < count < rule.min:
        findings.error("required", where,
                       f"{rule.path} needs at least {rule.min} items, found {count}")
    for index in range(count):
        value = values[index] if values is not None and index < len(values) else None
        element = elements[index] if elements is not None and index < len(elements) else None
        here = f"{where}[{index}]"
        if value is None and element is None:
            findings.malformed("structure", here, _null_message(rule))
        if value is not None:
            _check_value(rule, value, here, findings)
        if element is not None:
            _check_primitive_element(rule, element, here, findings)


def _null_message(rule: ElementRule) -> str:
    if rule.primitive is None:
        return f"null is not allowed in {rule.name}"
    return (f"null is only allowed in {rule.name} where the matching _{rule.name} item "
            "carries an id or extension")


def _check_primitive_element(rule: ElementRule, element: Any, where: str,
                             findings: Findings) -> None:
    """``_name``: the id and extensions of a primitive value (json.html#primitive)."""
    if isinstance(element, dict):
        check_object(element, rule.model(), where, findings)
    else:
        findings.malformed("structure", where,
                           f"_{rule.name} must hold a JSON object with id or extension, "
                           f"not {json_kind_of(element)}")


def _check_value(rule: ElementRule, value: Any, where: str, findings: Findings) -> None:
    if rule.primitive is not None:
        problem = rule.primitive.problem(value)
        if problem is None:
            if rule.binding is not None:
                check_binding(rule.type_code, value, rule.binding, where, findings)
        elif rule.primitive.has_json_kind(value):
            findings.error("value", where, problem)
        else:
            findings.malformed("value", where, problem)
        return
    if not isinstance(value, dict):
        findings.malformed("structure", where,
                           f"{rule.path} must be a JSON object ({rule.type_code}), "
                           f"not {json_kind_of(value)}")
        return
    if rule.type_code in RESOURCE_TYPE_CODES:
        check_resource(value, where, findings)
        return
    well_formed = check_object(value, rule.children or rule.model(), where, findings)
    if well_formed and rule.binding is not None:
        check_binding(rule.type_code, value, rule.binding, where, findings)
