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

from .errors import InvalidRequest, BusinessRuleViolation

__all__ = ["apply_json_patch", "apply_fhirpath_patch"]


def apply_json_patch(resource: dict[str, Any], operations: Any) -> dict[str, Any]:
    if not isinstance(operations, list):
        raise InvalidRequest("A JSON Patch body must be an array of operations")
    try:
        patched = jsonpatch.JsonPatch(operations).apply(resource)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise BusinessRuleViolation(f"JSON Patch test failed: {exc}") from None
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError,
            KeyError, IndexError, ValueError) as exc:
        raise InvalidRequest(f"Invalid JSON Patch: {exc}") from None
    if not isinstance(patched, dict):
        raise InvalidRequest("JSON Patch must leave a resource (a JSON object)")
    return patched


# -- FHIRPath Patch -------------------------------------------------------------------

_STEP = re.compile(
    r"""\s*(?:
        (?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<index>\[\d+\])?
      | (?P<func>first|last)\(\)
      | where\(\s*(?P<field>[A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(?P<value>'(?:[^'\\]|\\.)*'|[\w.+-]+)\s*\)
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


def _locate(resource: dict[str, Any], path: str) -> list[_Location]:
    steps = _split_path(path.strip())
    if not steps or steps[0] != resource["resourceType"]:
        raise InvalidRequest(f"FHIRPath Patch path '{path}' must start with "
                             f"'{resource['resourceType']}'")
    locations: list[_Location] = []
    nodes: list[tuple[Any, _Location | None]] = [(resource, None)]
    for step in steps[1:]:
        match = _STEP.fullmatch(step)
        if not match:
            raise InvalidRequest(f"Unsupported FHIRPath Patch path step '{step}' in '{path}'")
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
                     if str(_field_value(n, match.group("field"))) == expected]
    for _, location in nodes:
        if location is None:
            raise InvalidRequest("A FHIRPath Patch cannot replace the whole resource")
        locations.append(location)
    return locations


def _part_value(part: dict[str, Any]) -> Any:
    """The value of a ``value`` part: ``value[x]``, or nested parts forming an object."""
    for key, value in part.items():
        if key.startswith("value") and key != "value":
            return value
    if "part" in part:
        result: dict[str, Any] = {}
        for sub in part["part"]:
            name = sub.get("name")
            value = _part_value(sub)
            result.setdefault(name, []).append(value)
        return {k: v[0] if len(v) == 1 else v for k, v in result.items()}
    raise InvalidRequest(f"FHIRPath Patch part '{part.get('name')}' has no value")


def _operation_parts(parameter: dict[str, Any]) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for part in parameter.get("part", []):
        name = part.get("name")
        parts[name] = part if name == "value" else _part_value(part)
    return parts


def _single(locations: list[_Location], path: str, op: str) -> _Location:
    if len(locations) != 1:
        raise InvalidRequest(
            f"FHIRPath Patch {op}: path '{path}' matches {len(locations)} elements, "
            "it must match exactly one"
        )
    return locations[0]


def _container(resource: dict[str, Any], path: str, op: str) -> tuple[dict[str, Any], tuple]:
    if path.strip() == resource["resourceType"]:
        return resource, ()
    location = _single(_locate(resource, path), path, op)
    node = location.get()
    if not isinstance(node, dict):
        raise InvalidRequest(f"FHIRPath Patch {op}: '{path}' is not an element with children")
    return node, location.names


def apply_fhirpath_patch(resource: dict[str, Any], parameters: Any) -> dict[str, Any]:
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise InvalidRequest("A FHIRPath Patch body must be a Parameters resource")
    patched = copy.deepcopy(resource)
    for parameter in parameters.get("parameter", []):
        if parameter.get("name") != "operation":
            raise InvalidRequest("FHIRPath Patch parameters must be named 'operation'")
        parts = _operation_parts(parameter)
        op, path = parts.get("type"), parts.get("path")
        if not isinstance(path, str):
            raise InvalidRequest("A FHIRPath Patch operation needs a path")
        value = _part_value(parts["value"]) if "value" in parts else None
        if op == "add":
            name = parts.get("name")
            container, names = _container(patched, path, op)
            if is_repeating(patched["resourceType"], [*names, name]):
                container.setdefault(name, []).append(value)
            elif name in container:
                raise InvalidRequest(f"FHIRPath Patch add: '{path}.{name}' already has a value")
            else:
                container[name] = value
        elif op == "insert":
            location = _locate(patched, path)
            index = int(parts.get("index", 0))
            if locations_parent := (location[0] if location else None):
                items = locations_parent.parent[locations_parent.key]
            else:
                raise InvalidRequest(f"FHIRPath Patch insert: '{path}' matches nothing")
            if not 0 <= index <= len(items):
                raise InvalidRequest(f"FHIRPath Patch insert: index {index} out of range")
            items.insert(index, value)
        elif op == "delete":
            locations = _locate(patched, path)
            if not locations:
                continue
            location = _single(locations, path, op)
            if location.index is None:
                del location.parent[location.key]
            else:
                del location.parent[location.key][location.index]
                if not location.parent[location.key]:
                    del location.parent[location.key]
        elif op == "replace":
            location = _single(_locate(patched, path), path, op)
            if location.index is None:
                location.parent[location.key] = value
            else:
                location.parent[location.key][location.index] = value
        elif op == "move":
            locations = _locate(patched, path)
            if not locations:
                raise InvalidRequest(f"FHIRPath Patch move: '{path}' matches nothing")
            items = locations[0].parent[locations[0].key]
            source, destination = int(parts.get("source", -1)), int(parts.get("destination", -1))
            if not (0 <= source < len(items) and 0 <= destination < len(items)):
                raise InvalidRequest("FHIRPath Patch move: source or destination out of range")
            items.insert(destination, items.pop(source))
        else:
            raise InvalidRequest(f"Unknown FHIRPath Patch operation type '{op}'")
    return patched
