"""Snapshot generation: a differential applied to its base definition's snapshot.

https://hl7.org/fhir/R4/profiling.html#snapshot. Elements are addressed by their ``id``
(``Observation.component:systolic.code``, https://hl7.org/fhir/R4/elementdefinition.html#id).
A differential element that reaches into a datatype the base does not expand (for example
``Observation.code.coding``) first unfolds that datatype's elements from its own definition;
a slice starts as a copy of the element it slices, children included; a renamed choice
element (``Observation.valueQuantity``) becomes the type slice ``value[x]:valueQuantity``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

__all__ = ["generate_snapshot", "SnapshotError"]

CORE = "http://hl7.org/fhir/StructureDefinition/"
_TYPE_SLICING = {"discriminator": [{"type": "type", "path": "$this"}], "ordered": False,
                 "rules": "open"}
_LIST_MERGED = ("constraint", "condition", "mapping")

Resolve = Callable[[str], dict[str, Any] | None]


class SnapshotError(Exception):
    """The differential cannot be applied to the base snapshot."""


def generate_snapshot(definition: dict[str, Any], base: dict[str, Any],
                      resolve: Resolve) -> list[dict[str, Any]]:
    """The snapshot elements of ``definition`` (whose base is ``base``, with snapshot);
    ``resolve`` gives other definitions (with snapshots) by URL."""
    elements = [copy.deepcopy(element) for element in base["snapshot"]["element"]]
    for element in elements:
        element.setdefault("id", element["path"])
    snapshot = _Snapshot(elements, resolve)
    for differential in definition.get("differential", {}).get("element", []):
        snapshot.apply(differential)
    return snapshot.elements


def _is_below(element_id: str, ancestor: str) -> bool:
    return element_id.startswith((f"{ancestor}.", f"{ancestor}:", f"{ancestor}/"))


def _type_name(code: str) -> str:
    return code[0].upper() + code[1:]


class _Snapshot:
    def __init__(self, elements: list[dict[str, Any]], resolve: Resolve) -> None:
        self.elements = elements
        self.resolve = resolve

    def index(self, element_id: str) -> int | None:
        for position, element in enumerate(self.elements):
            if element["id"] == element_id:
                return position
        return None

    def apply(self, differential: dict[str, Any]) -> None:
        raw_id = differential.get("id") or _id_from_path(differential)
        target = self.locate(raw_id.split("."), restrict_choice="type" in differential)
        element = self.elements[self.index(target)]  # type: ignore[index]
        _merge(element, differential)

    def locate(self, segments: list[str], restrict_choice: bool = False) -> str:
        """The normalised id of the element named by ``segments``, unfolding datatypes and
        creating slices on the way. A renamed choice element as the last segment restricts
        the choice's types when ``restrict_choice``, otherwise it names a type slice."""
        current = segments[0]
        if self.index(current) is None:
            raise SnapshotError(f"root {current} does not match the base")
        for depth, segment in enumerate(segments[1:], start=2):
            name, _, slice_name = segment.partition(":")
            if not any(_is_below(e["id"], current) and e["id"][len(current)] == "."
                       for e in self.elements):
                self.unfold(current)
            child = f"{current}.{name}"
            if self.index(child) is None:
                child = self.renamed_choice(current, name,
                                            restrict_choice and depth == len(segments))
            if slice_name:
                sliced = child
                child = f"{sliced}:{slice_name}"
                if self.index(child) is None:
                    self.create_slice(sliced, slice_name)
            current = child
        return current

    def renamed_choice(self, parent: str, name: str, restrict: bool) -> str:
        """``valueQuantity`` below ``parent``: ``value[x]`` restricted to Quantity when
        ``restrict`` (the differential lists the type), otherwise the type slice
        ``value[x]:valueQuantity`` (https://hl7.org/fhir/R4/profiling.html#choice), as the
        reference snapshot generator does."""
        for element in self.elements:
            element_id = element["id"]
            if not (element_id.startswith(f"{parent}.") and element_id.endswith("[x]")):
                continue
            stem = element_id[len(parent) + 1:-3]
            if "." in stem or ":" in stem or not name.startswith(stem):
                continue
            suffix = name[len(stem):]
            types = [t for t in element.get("type", []) if _type_name(t["code"]) == suffix]
            if types:
                slice_id = f"{element_id}:{name}"
                if self.index(slice_id) is None and not restrict:
                    element.setdefault("slicing", copy.deepcopy(_TYPE_SLICING))
                    self.create_slice(element_id, name)
                    self.elements[self.index(slice_id)]["type"] = copy.deepcopy(types)  # type: ignore[index]
                if self.index(slice_id) is not None:
                    return slice_id
                element["type"] = copy.deepcopy(types)
                return element_id
        raise SnapshotError(f"no element {parent}.{name} in the base")

    def create_slice(self, sliced: str, name: str) -> None:
        position = self.index(sliced)
        if position is None:
            raise SnapshotError(f"cannot slice unknown element {sliced}")
        base = self.elements[position]
        end = self._subtree_end(position)
        new = copy.deepcopy({k: v for k, v in base.items() if k != "slicing"})
        new.update(id=f"{sliced}:{name}", sliceName=name, min=0)
        children = [self._moved(e, sliced, f"{sliced}:{name}", None)
                    for e in self.elements[position + 1:end] if e["id"].startswith(f"{sliced}.")]
        self.elements[end:end] = [new, *children]

    def unfold(self, element_id: str) -> None:
        """Insert the children of ``element_id`` from its type's definition."""
        position = self.index(element_id)
        assert position is not None
        element = self.elements[position]
        if "contentReference" in element:
            children = self._referenced_children(element)
        else:
            children = self._type_children(element)
        self.elements[position + 1:position + 1] = children

    def _referenced_children(self, element: dict[str, Any]) -> list[dict[str, Any]]:
        """The children of the element a ``contentReference`` names, as the base resource
        defines them (not as this profile constrains them)."""
        target = element["contentReference"].split("#", 1)[1]
        base = self.resolve(f"{CORE}{target.split('.', 1)[0]}")
        if base is None:
            raise SnapshotError(f"unknown base of {element['contentReference']}")
        return [self._moved(e, target, element["id"], (target, element["path"]))
                for e in base["snapshot"]["element"]
                if e.get("id", e["path"]).startswith(f"{target}.")]

    def _type_children(self, element: dict[str, Any]) -> list[dict[str, Any]]:
        types = element.get("type", [])
        if len(types) != 1:
            url = f"{CORE}Element"
        else:
            profiles = types[0].get("profile") or [f"{CORE}{types[0]['code']}"]
            url = profiles[0]
        definition = self.resolve(url)
        if definition is None:
            raise SnapshotError(f"unknown type definition {url} below {element['id']}")
        type_elements = definition["snapshot"]["element"]
        root = type_elements[0]
        root_id, root_path = root.get("id", root["path"]), root["path"]
        return [self._moved(e, root_id, element["id"], (root_path, element["path"]))
                for e in type_elements[1:]]

    @staticmethod
    def _moved(element: dict[str, Any], old_id: str, new_id: str,
               paths: tuple[str, str] | None) -> dict[str, Any]:
        moved = copy.deepcopy(element)
        moved["id"] = new_id + moved.get("id", moved["path"])[len(old_id):]
        if paths is not None:
            moved["path"] = paths[1] + moved["path"][len(paths[0]):]
        return moved

    def _subtree_end(self, position: int) -> int:
        root = self.elements[position]["id"]
        end = position + 1
        while end < len(self.elements) and _is_below(self.elements[end]["id"], root):
            end += 1
        return end


def _id_from_path(differential: dict[str, Any]) -> str:
    path = differential["path"]
    return f"{path}:{differential['sliceName']}" if "sliceName" in differential else path


def _merge(element: dict[str, Any], differential: dict[str, Any]) -> None:
    for key, value in differential.items():
        if key in ("id", "path"):
            continue
        if key in _LIST_MERGED and isinstance(value, list):
            kept = [item for item in element.get(key, [])
                    if not any(_same(item, new) for new in value)]
            element[key] = kept + copy.deepcopy(value)
        else:
            element[key] = copy.deepcopy(value)
    if _has_prefix(differential, ("fixed", "pattern")):
        for key in [k for k in element if k.startswith(("fixed", "pattern"))
                    and k not in differential]:
            del element[key]


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in ("key", "identity"):
            if key in old and old.get(key) == new.get(key):
                return True
    return old == new


def _has_prefix(mapping: dict[str, Any], prefixes: tuple[str, ...]) -> bool:
    return any(key.startswith(prefixes) for key in mapping)
