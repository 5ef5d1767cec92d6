"""Which slice an item of a sliced element belongs to.

https://hl7.org/fhir/R4/profiling.html#discriminator: ``value`` and ``pattern`` compare
the item's value at the discriminator path with the slice's fixed/pattern value (or its
required binding) there, ``type`` its type, ``profile`` whether it conforms to the slice's
profile, ``exists`` whether the path is present.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .primitives import is_primitive
from .profile_tree import Discriminator, ElementNode
from .values import equals_fixed, matches_pattern

__all__ = ["Item", "SliceContext", "slice_matches", "values_at", "type_of_key", "reference_type"]

_EXTENSION_CALL = re.compile(r"extension\(['\"](.+)['\"]\)")
_OF_TYPE = re.compile(r"ofType\((\w+)\)")



@dataclass(frozen=True)
class SliceContext:
    """What matching needs from the validator: conformance of a value to a profile,
    membership of a coded value in a value set, and the resource type of a profile."""

    conforms: Callable[[Any, str], bool]
    in_value_set: Callable[[Any, str], bool | None]
    profile_type: Callable[[str], str | None]


@dataclass
class Item:
    """One value of an element in the instance, with its FHIR type and location."""

    value: Any
    type_code: str
    location: str
    position: int
    extras: dict[str, Any] | None = None  # the ``_name`` object of a primitive


def _segments(path: str) -> list[str]:
    return [s for s in re.split(r"\.(?![^(]*\))", path) if s and s != "$this"]


def type_of_key(key: str, stem: str) -> str:
    """The FHIR type of choice property ``key`` (``valueDateTime`` -> ``dateTime``)."""
    suffix = key[len(stem):]
    lowered = suffix[:1].lower() + suffix[1:]
    return lowered if is_primitive(lowered) else suffix


def values_at(value: Any, path: str) -> list[tuple[Any, str | None]]:
    """The values (with their JSON property name) at a discriminator ``path``."""
    current: list[tuple[Any, str | None]] = [(value, None)]
    for segment in _segments(path):
        found: list[tuple[Any, str | None]] = []
        for item, _ in current:
            found.extend(_step(item, segment))
        current = found
    return current


def _step(item: Any, segment: str) -> list[tuple[Any, str | None]]:
    if not isinstance(item, dict):
        return []
    call = _EXTENSION_CALL.fullmatch(segment)
    if call:
        return [(e, "extension") for e in item.get("extension", [])
                if isinstance(e, dict) and e.get("url") == call.group(1)]
    of_type = _OF_TYPE.fullmatch(segment)
    if of_type or segment == "resolve()":
        return [(item, None)]
    if segment in item:
        found = item[segment]
        return [(v, segment) for v in (found if isinstance(found, list) else [found])]
    return [(v, key) for key, v in item.items()
            if key.startswith(segment) and key[len(segment):][:1].isupper()]


def _target(node: ElementNode, path: str) -> ElementNode | None:
    """The node of the slice ``node`` at the discriminator ``path``."""
    current: ElementNode | None = node
    for segment in _segments(path):
        if current is None:
            return None
        call = _EXTENSION_CALL.fullmatch(segment)
        if call:
            extension = current.children.get("extension")
            current = None if extension is None else next(
                (s for s in extension.slices if _extension_url(s) == call.group(1)), None)
        elif _OF_TYPE.fullmatch(segment) or segment == "resolve()":
            continue
        else:
            current = current.children.get(segment) or current.children.get(f"{segment}[x]")
    return current


def _extension_url(node: ElementNode) -> str | None:
    url = node.children.get("url")
    if url is not None and url.fixed is not None:
        return url.fixed[1]
    profiles = node.type_profiles.get("Extension")
    return profiles[0] if profiles else None


def slice_matches(item: Item, slice_node: ElementNode, discriminators: tuple[Discriminator, ...],
                  context: SliceContext) -> bool:
    """Whether ``item`` belongs to ``slice_node`` by every discriminator."""
    return all(_matches(item, slice_node, d, context) for d in discriminators)


def _matches(item: Item, node: ElementNode, discriminator: Discriminator,
             context: SliceContext) -> bool:
    kind, path = discriminator.type, discriminator.path
    target = _target(node, path)
    actual = values_at(item.value, path)
    if kind in ("value", "pattern"):
        return _value_matches(node, target, path, actual, context)
    if kind == "exists":
        if target is None:
            return False
        return bool(actual) if target.min >= 1 else (not actual if target.max == 0 else True)
    if kind == "type":
        return _type_matches(item, target, path, actual, context)
    if kind == "profile":
        return _profile_matches(target, path, actual, context)
    return False


def _value_matches(node: ElementNode, target: ElementNode | None, path: str,
                   actual: list[tuple[Any, str | None]], context: SliceContext) -> bool:
    if target is None and path == "url":
        expected = _extension_url(node)
        return expected is not None and any(v == expected for v, _ in actual)
    if target is None:
        return False
    required = target.binding is not None and target.binding[0] == "required"
    if target.fixed is None and target.pattern is None and not required:
        return True  # the slice does not constrain this discriminator
    if not actual:
        return False
    if target.fixed is not None:
        return any(equals_fixed(v, target.fixed[1]) for v, _ in actual)
    if target.pattern is not None:
        return any(matches_pattern(v, target.pattern[1]) for v, _ in actual)
    assert target.binding is not None
    return any(context.in_value_set(v, target.binding[1]) for v, _ in actual)


def _type_matches(item: Item, target: ElementNode | None, path: str,
                  actual: list[tuple[Any, str | None]], context: SliceContext) -> bool:
    if target is None:
        return False
    if "resolve()" in path:
        return _targets_match(target, actual, context)
    if not _segments(path):
        return _type_of(item.value, None, target, item.type_code) in target.types
    return any(_type_of(value, key, target, None) in target.types for value, key in actual)


def _type_of(value: Any, key: str | None, target: ElementNode, declared: str | None) -> str | None:
    """The FHIR type of a value: a resource's type, a choice property's type suffix, or
    the type declared for the element."""
    if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
        return value["resourceType"]
    if key is not None and target.is_choice:
        return type_of_key(key, target.stem)
    return declared if declared is not None else (target.types[0] if target.types else None)


def _targets_match(target: ElementNode, actual: list[tuple[Any, str | None]],
                   context: SliceContext) -> bool:
    """``resolve()``: the referenced resource type against the slice's target profiles
    (references are not resolved while validating)."""
    wanted = {context.profile_type(p) for p in target.target_profiles}
    return any(reference_type(v) in wanted for v, _ in actual)


def _profile_matches(target: ElementNode | None, path: str,
                     actual: list[tuple[Any, str | None]], context: SliceContext) -> bool:
    if target is None:
        return False
    if "resolve()" in path:
        return _targets_match(target, actual, context)
    profiles = [p for ps in target.type_profiles.values() for p in ps]
    return any(context.conforms(v, profile) for v, _ in actual for profile in profiles)


def reference_type(value: Any) -> str | None:
    """The resource type a Reference's ``reference`` names (``Patient/1`` -> Patient)."""
    if not isinstance(value, dict) or not isinstance(value.get("reference"), str):
        return None
    parts = value["reference"].split("/")
    return parts[-4] if len(parts) >= 4 and parts[-2] == "_history" else (
        parts[-2] if len(parts) >= 2 else None)
