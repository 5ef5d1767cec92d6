"""PATCH: JSON Patch (RFC 6902) and FHIRPath Patch (the spec's fhirpatch page).

FHIRPath Patch paths are resolved by a small locator that understands the path forms
patches use: element names, ``[n]`` indexes, ``first()``, ``last()`` and
``where(name = 'value')`` filters. Anything else is refused with a clear 400.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import jsonpatch

from profiles.definitions import is_repeating

from .errors import BusinessRuleViolation, InvalidRequest

__all__ = ["apply_json_patch", "apply_fhirpath_patch"]


def apply_json_patch(resource: dict[str, Any], operations: Any) -> dict[str, Any]:
    if not isinstance(operations, list):
        raise InvalidRequest("A JSON Patch body must be an array of operations")
    try:
        patched = jsonpatch.JsonPatch(operations).apply(resource)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise BusinessRuleViolation(f"JSON Patch test failed: {exc}") from None
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError,
            KeyError, IndexError, ValueError, AttributeError) as exc:
        raise InvalidRequest(f"Invalid JSON Patch: {exc}") from None
    if not isinstance(patched, dict):
        raise InvalidRequest("JSON Patch must leave a resource (a JSON object)")
    return patched


# -- FHIRPath Patch -------------------------------------------------------------------

_STEP = re.compile(
    r"""\s*(?:
        (?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<index>\[\d+\])?
      | (?P<func>first|last)\(\)
      | where\(\s*(?P<field>[A-Za-z_][A-Za-z0-9_.]*)\s*=\s*
               (?P<value>'(?:[^'\\]|\\.)*'|[\w.+-]+)\s*\)
    )\s*""",
    re.VERBOSE,
)


@dataclass
class _Location:
    """A node in the resource: ``parent[key]`` or ``parent[key][index]``."""

    parent: dict[str, Any]
    key: str
    index: int | None
    names: tuple[str, ...]

    def get(self) -> Any:
        value = self.parent[self.key]
        return value if self.index is None else value[self.index]


def _split_path(path: str) -> list[str]:
    steps, depth, current = [], 0, ""
    for char in path:
        if char == "." and depth == 0:
            steps.append(current)
            current = ""
            continue
        depth += char == "("
        depth -= char == ")"
        current += char
    steps.append(current)
    return steps


def _field_value(node: Any, dotted: str) -> Any:
    for name in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(name)
    return node


def _as_text(value: Any) -> str:
    """A primitive as FHIRPath literals write it (``true``, ``1.50``, ``abc``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _locate(resource: dict[str, Any], path: str) -> list[_Location]:
    steps = _split_path(path.strip())
    if not steps or steps[0] != resource["resourceType"]:
        raise InvalidRequest(f"FHIRPath Patch path '{path[:120]}' must start with "
                             f"'{resource['resourceType']}'")
    locations: list[_Location] = []
    nodes: list[tuple[Any, _Location | None]] = [(resource, None)]
    for step in steps[1:]:
        match = _STEP.fullmatch(step)
        if not match:
            raise InvalidRequest(f"Unsupported FHIRPath Patch path step '{step[:60]}' in "
                                 f"'{path[:120]}'")
        if match.group("name"):
            name = match.group("name")
            found: list[tuple[Any, _Location | None]] = []
            for node, location in nodes:
                if not isinstance(node, dict) or name not in node:
                    continue
                names = (location.names if location else ()) + (name,)
                value = node[name]
                if isinstance(value, list):
                    found.extend((item, _Location(node, name, i, names))
                                 for i, item in enumerate(value))
                else:
                    found.append((value, _Location(node, name, None, names)))
            if match.group("index"):
                position = int(match.group("index")[1:-1])
                found = found[position : position + 1]
            nodes = found
        elif match.group("func"):
            nodes = nodes[:1] if match.group("func") == "first" else nodes[-1:]
        else:
            expected = match.group("value").strip("'")
            nodes = [(n, loc) for n, loc in nodes
                     if _as_text(_field_value(n, match.group("field"))) == expected]
    for _, location in nodes:
        if location is None:
            raise InvalidRequest("A FHIRPath Patch cannot replace the whole resource")
        locations.append(location)
    return locations


def _value_of(part: dict[str, Any], resource_type: str, names: tuple[str, ...]) -> Any:
    """The value a part carries: its ``value[x]``, or nested parts forming an element whose
    children repeat (become lists) as the definition of ``names`` says."""
    for key, value in part.items():
        if key.startswith("value") and key[5:6].isupper():
            return value
    if "part" not in part:
        raise InvalidRequest(f"FHIRPath Patch part '{str(part.get('name'))[:40]}' has no value")
    children: dict[str, list[Any]] = {}
    for child in _parts(part):
        name = child["name"]
        children.setdefault(name, []).append(_value_of(child, resource_type, (*names, name)))
    element: dict[str, Any] = {}
    for name, values in children.items():
        if is_repeating(resource_type, [*names, name]):
            element[name] = values
        elif len(values) == 1:
            element[name] = values[0]
        else:
            raise InvalidRequest(f"FHIRPath Patch value: '{name}' does not repeat")
    return element


def _parts(parameter: dict[str, Any]) -> list[dict[str, Any]]:
    parts = parameter.get("part")
    if not isinstance(parts, list) or not all(
        isinstance(p, dict) and isinstance(p.get("name"), str) for p in parts
    ):
        raise InvalidRequest("FHIRPath Patch: every operation needs a 'part' list of named parts")
    return parts


@dataclass
class _Operation:
    """One ``operation`` parameter of a FHIRPath Patch."""

    type: str
    path: str
    parts: dict[str, dict[str, Any]]

    @classmethod
    def parse(cls, parameter: Any) -> _Operation:
        if not isinstance(parameter, dict) or parameter.get("name") != "operation":
            raise InvalidRequest("FHIRPath Patch parameters must be named 'operation'")
        parts = {p["name"]: p for p in _parts(parameter)}
        kind = parts.get("type", {}).get("valueCode")
        path = parts.get("path", {}).get("valueString")
        if not isinstance(kind, str) or kind not in _APPLY:
            raise InvalidRequest(f"Unknown FHIRPath Patch operation type '{str(kind)[:40]}'; "
                                 f"use one of {', '.join(_APPLY)}")
        if not isinstance(path, str) or not path.strip():
            raise InvalidRequest(f"The FHIRPath Patch {kind} operation needs a path (valueString)")
        return cls(kind, path.strip(), parts)

    def integer(self, name: str) -> int:
        value = self.parts.get(name, {}).get("valueInteger")
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidRequest(f"FHIRPath Patch {self.type}: '{name}' must be a valueInteger")
        return value

    def name(self) -> str:
        value = self.parts.get("name", {}).get("valueString")
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise InvalidRequest(f"FHIRPath Patch {self.type}: 'name' must be an element name")
        return value

    def value(self, resource_type: str, names: tuple[str, ...]) -> Any:
        if "value" not in self.parts:
            raise InvalidRequest(f"FHIRPath Patch {self.type}: a value is required")
        return _value_of(self.parts["value"], resource_type, names)


def _single(locations: list[_Location], path: str, op: str) -> _Location:
    if len(locations) != 1:
        raise InvalidRequest(
            f"FHIRPath Patch {op}: path '{path[:120]}' matches {len(locations)} elements, "
            "it must match exactly one"
        )
    return locations[0]


def _container(resource: dict[str, Any], path: str, op: str) -> tuple[dict[str, Any], tuple]:
    if path == resource["resourceType"]:
        return resource, ()
    location = _single(_locate(resource, path), path, op)
    node = location.get()
    if not isinstance(node, dict):
        raise InvalidRequest(f"FHIRPath Patch {op}: '{path[:120]}' is not an element with "
                             "children")
    return node, location.names


def _list_at(resource: dict[str, Any], path: str, op: str) -> tuple[list[Any], tuple]:
    """The list a path names (``Patient.identifier``), created empty when absent."""
    locations = _locate(resource, path)
    if locations:
        first = locations[0]
        items = first.parent[first.key]
        if not isinstance(items, list) or any(
            loc.parent is not first.parent or loc.key != first.key for loc in locations
        ):
            raise InvalidRequest(f"FHIRPath Patch {op}: '{path[:120]}' is not one list")
        return items, first.names
    parent, _, name = path.rpartition(".")
    if not parent or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise InvalidRequest(f"FHIRPath Patch {op}: '{path[:120]}' matches nothing")
    container, names = _container(resource, parent, op)
    return container.setdefault(name, []), (*names, name)


def _add(resource: dict[str, Any], op: _Operation) -> None:
    name = op.name()
    container, names = _container(resource, op.path, "add")
    value = op.value(resource["resourceType"], (*names, name))
    if is_repeating(resource["resourceType"], [*names, name]):
        container.setdefault(name, []).append(value)
    elif name in container:
        raise InvalidRequest(f"FHIRPath Patch add: '{op.path}.{name}' already has a value")
    else:
        container[name] = value


def _insert(resource: dict[str, Any], op: _Operation) -> None:
    items, names = _list_at(resource, op.path, "insert")
    index = op.integer("index")
    if not 0 <= index <= len(items):
        raise InvalidRequest(f"FHIRPath Patch insert: index {index} out of range")
    items.insert(index, op.value(resource["resourceType"], names))


def _delete(resource: dict[str, Any], op: _Operation) -> None:
    locations = _locate(resource, op.path)
    if not locations:
        return  # deleting what is not there changes nothing (fhirpatch.html)
    location = _single(locations, op.path, "delete")
    if location.index is None:
        del location.parent[location.key]
    else:
        del location.parent[location.key][location.index]
        if not location.parent[location.key]:
            del location.parent[location.key]


def _replace(resource: dict[str, Any], op: _Operation) -> None:
    location = _single(_locate(resource, op.path), op.path, "replace")
    value = op.value(resource["resourceType"], location.names)
    if location.index is None:
        location.parent[location.key] = value
    else:
        location.parent[location.key][location.index] = value


def _move(resource: dict[str, Any], op: _Operation) -> None:
    items, _ = _list_at(resource, op.path, "move")
    source, destination = op.integer("source"), op.integer("destination")
    if not (0 <= source < len(items) and 0 <= destination < len(items)):
        raise InvalidRequest("FHIRPath Patch move: source or destination out of range")
    items.insert(destination, items.pop(source))


_APPLY = {"add": _add, "insert": _insert, "delete": _delete, "replace": _replace,
          "move": _move}


def apply_fhirpath_patch(resource: dict[str, Any], parameters: Any) -> dict[str, Any]:
    """Apply a FHIRPath Patch ``Parameters`` resource; the input resource is not changed."""
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise InvalidRequest("A FHIRPath Patch body must be a Parameters resource")
    operations = parameters.get("parameter", [])
    if not isinstance(operations, list):
        raise InvalidRequest("Parameters.parameter must be a list of operations")
    patched = copy.deepcopy(resource)
    for parameter in operations:
        operation = _Operation.parse(parameter)
        _APPLY[operation.type](patched, operation)
    return patched
