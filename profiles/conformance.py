"""Checking a resource (or a datatype value) against a profile's element tree.

Runs after the structural check against the base definition, so it reports only what the
profile adds (https://hl7.org/fhir/R4/profiling.html): cardinality narrower than the base,
types, fixed and pattern values, bindings by strength (required: error; extensible and
preferred: warning), min/max values and lengths, reference targets, type profiles,
invariants the profile adds, slicing, and (for ``$validate``) absent ``mustSupport``
elements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .bindings import value_set_verdict
from .fhirpath import evaluate_invariant
from .findings import Findings
from .limits import limit_problem
from .profile_tree import ElementNode
from .slicing import Item, SliceContext, reference_type, slice_matches, type_of_key
from .values import describe, equals_fixed, matches_pattern

if TYPE_CHECKING:
    from .registry import DefinitionRegistry

__all__ = ["ProfileChecker"]

_EXTENSIONS = frozenset({"extension", "modifierExtension"})


class ProfileChecker:
    """Walks values against profile trees taken from ``registry``, into ``findings``."""

    def __init__(self, registry: DefinitionRegistry, findings: Findings) -> None:
        self.registry = registry
        self.findings = findings
        self.context = SliceContext(self.conforms, self.in_value_set, self.profile_type)

    def check(self, value: Any, url: str, location: str) -> bool:
        """Check ``value`` against the profile ``url``; False when the profile is unknown."""
        tree = self.registry.tree(url)
        if tree is None:
            return False
        if isinstance(value, dict):
            self._check_object(value, tree, location)
            self._invariants(tree, value, location)
        return True

    def conforms(self, value: Any, url: str) -> bool:
        """Whether ``value`` conforms to profile ``url`` (for profile discriminators)."""
        definition = self.registry.get(url)
        if (definition is None or isinstance(value, dict) and "resourceType" in value
                and value["resourceType"] != definition.get("type")):
            return False
        probe = ProfileChecker(self.registry, self._probe_findings(detailed=False))
        return probe.check(value, url, "$this") and not probe.findings.has_errors_since(0)

    def _probe_findings(self, detailed: bool) -> Findings:
        """Findings for a trial check, in the same resource context."""
        return Findings(self.findings.terminology, self.registry, detailed,
                        resource=self.findings.resource, root=self.findings.root,
                        container=self.findings.container)

    def in_value_set(self, value: Any, value_set: str) -> bool | None:
        return value_set_verdict(value, value_set, self.findings.terminology)

    def profile_type(self, url: str) -> str | None:
        definition = self.registry.get(url)
        return None if definition is None else definition.get("type")

    def _check_object(self, value: dict[str, Any], node: ElementNode, location: str) -> None:
        for child in node.children.values():
            items = _items(value, child, location)
            self._check_element(child, items, f"{location}.{child.stem}")

    def _check_element(self, node: ElementNode, items: list[Item], where: str) -> None:
        count = len(items)
        if count < node.min and node.min > node.base_min:
            self.findings.error("required", where,
                                f"{_label(node)}: minimum required = {node.min}, but only "
                                f"found {count}")
        if node.max is not None and count > node.max and (
                node.base_max is None or node.max < node.base_max):
            self.findings.error("structure", items[node.max].location if node.is_choice
                                else where,
                                f"{_label(node)}: max allowed = {node.max}, but found {count}")
        if self.findings.detailed and node.must_support and not items:
            self.findings.information("informational", where,
                                      f"{_label(node)} is mustSupport but absent")
        for item in items:
            self._check_item(node, item)
        if node.slicing is not None or node.slices:
            self._check_slices(node, items, where)

    def _check_slices(self, node: ElementNode, items: list[Item], where: str) -> None:
        slicing = node.slicing
        discriminators = slicing.discriminators if slicing is not None else ()
        matched: dict[int, list[Item]] = {index: [] for index in range(len(node.slices))}
        last_slice, unmatched_seen = -1, False
        for item in items:
            index = next((i for i, s in enumerate(node.slices)
                          if discriminators and slice_matches(item, s, discriminators,
                                                              self.context)), None)
            if index is None:
                unmatched_seen = True
                if slicing is not None and slicing.rules == "closed":
                    self.findings.error("structure", item.location,
                                        f"This element does not match any known slice of "
                                        f"{_label(node)} and the slicing is closed")
                continue
            if slicing is not None and slicing.rules == "openAtEnd" and unmatched_seen:
                self.findings.error("structure", item.location,
                                    f"{_label(node)}: items that match no slice must come "
                                    "after all the slices (openAtEnd)")
            if slicing is not None and slicing.ordered and index < last_slice:
                self.findings.error("structure", item.location,
                                    f"{_label(node)}: the slices are out of order")
            last_slice = max(last_slice, index)
            matched[index].append(item)
        for index, slice_node in enumerate(node.slices):
            slice_items = matched[index]
            count = len(slice_items)
            if count < slice_node.min:
                self.findings.error("required", where,
                                    f"Slice '{_label(slice_node)}': a matching slice is "
                                    f"required, but not found (min {slice_node.min}, "
                                    f"found {count})")
            if slice_node.max is not None and count > slice_node.max:
                self.findings.error("structure", where,
                                    f"Slice '{_label(slice_node)}': max allowed = "
                                    f"{slice_node.max}, but found {count}")
            for item in slice_items:
                self._check_item(slice_node, item)

    def _check_item(self, node: ElementNode, item: Item) -> None:
        findings, where = self.findings, item.location
        if node.types and item.type_code not in node.types and node.is_choice:
            findings.error("structure", where,
                           f"The type {item.type_code} is not allowed for {_label(node)} "
                           f"(allowed: {', '.join(node.types)})")
            return
        if node.fixed is not None and not equals_fixed(item.value, node.fixed[1]):
            findings.error("value", where,
                           f"Value is {describe(item.value)} but must be exactly "
                           f"{describe(node.fixed[1])} ({_label(node)})")
        if node.pattern is not None and not matches_pattern(item.value, node.pattern[1]):
            findings.error("value", where,
                           f"The value {describe(item.value)} does not match the pattern "
                           f"{describe(node.pattern[1])} required by {_label(node)}")
        if node.binding is not None:
            self._check_binding(node, item)
        problem = limit_problem(node.element, item.value)
        if problem is not None:
            findings.error("value", where, f"{_label(node)}: {problem}")
        if item.type_code == "Reference" and node.target_profiles:
            self._check_target(node, item)
        self._check_type_profiles(node, item)
        if node.children:
            value = item.value
            if not isinstance(value, dict):
                value = {"value": value, **(item.extras or {})}
            if "resourceType" in value:  # a contained resource is %resource inside itself
                with findings.inside(value, contained=".contained[" in where):
                    self._check_object(value, node, where)
            else:
                self._check_object(value, node, where)
        typed = item.type_code if node.is_choice or not isinstance(item.value, dict) else None
        self._invariants(node, item.value, where, typed)

    def _check_binding(self, node: ElementNode, item: Item) -> None:
        assert node.binding is not None
        strength, value_set = node.binding
        if strength == "example" or (strength == "required" and value_set == node.core_binding):
            return
        verdict = value_set_verdict(item.value, value_set, self.findings.terminology)
        if verdict is not False:
            return
        message = (f"The value {describe(item.value)} is not in the value set "
                   f"{value_set.split('|', 1)[0]} ({strength} binding of {_label(node)})")
        if strength == "required":
            self.findings.error("code-invalid", item.location, message)
        else:
            self.findings.warning("code-invalid", item.location, message)

    def _check_target(self, node: ElementNode, item: Item) -> None:
        referenced = _referenced_type(item.value, self.findings.container)
        allowed = {self.profile_type(p) for p in node.target_profiles}
        if referenced is None or "Resource" in allowed or None in allowed:
            return
        if referenced not in allowed:
            self.findings.error("structure", f"{item.location}.reference",
                                f"The reference points to a {referenced}, but {_label(node)} "
                                f"allows only {', '.join(sorted(a for a in allowed if a))}")

    def _check_type_profiles(self, node: ElementNode, item: Item) -> None:
        profiles = node.type_profiles.get(item.type_code, ())
        if not profiles or item.type_code == "Extension" or not isinstance(item.value, dict):
            return
        attempts = []
        for profile in profiles:
            probe = self._probe_findings(self.findings.detailed)
            if not ProfileChecker(self.registry, probe).check(item.value, profile,
                                                               item.location):
                return  # conformance to an unknown profile cannot be decided
            if not probe.has_errors_since(0):
                self.findings.issues.extend(probe.issues)
                return
            attempts.append(probe.issues)
        if attempts:
            self.findings.issues.extend(attempts[0])

    def _invariants(self, node: ElementNode, value: Any, where: str,
                    type_code: str | None = None) -> None:
        for invariant in node.invariants:
            if invariant.severity != "error" and not self.findings.detailed:
                continue
            if evaluate_invariant(invariant, value, self.findings.resource, self.findings.root,
                                  type_code) is False:
                report = (self.findings.error if invariant.severity == "error"
                          else self.findings.warning)
                report("invariant", where, f"Constraint failed: {invariant.key}: "
                                           f"'{invariant.human}'")


def _label(node: ElementNode) -> str:
    return f"{node.path}:{node.slice_name}" if node.slice_name else node.path


def _items(value: dict[str, Any], node: ElementNode, location: str) -> list[Item]:
    """The values of ``node`` in ``value``; a primitive given only by its ``_name`` object
    (an id or extensions, no value: https://hl7.org/fhir/R4/json.html#primitive) is one."""
    if node.is_choice:
        return _choice_items(value, node.stem, location)
    name = node.name
    raw, extras = value.get(name), value.get(f"_{name}")
    if raw is None and extras is None:
        return []
    type_code = node.types[0] if len(node.types) == 1 else "Element"
    if isinstance(raw, list) or isinstance(extras, list):
        raws = raw if isinstance(raw, list) else []
        extra_items = extras if isinstance(extras, list) else []
        size = max(len(raws), len(extra_items))
        return [Item(raws[i] if i < len(raws) else None, type_code, f"{location}.{name}[{i}]",
                     i, extra_items[i] if i < len(extra_items) else None)
                for i in range(size)]
    return [Item(raw, type_code, f"{location}.{name}", 0,
                 extras if isinstance(extras, dict) else None)]


def _choice_items(value: dict[str, Any], stem: str, location: str) -> list[Item]:
    items = []
    for key, item in value.items():
        only_element = key[:1] == "_"
        name = key[1:] if only_element else key
        if not (name.startswith(stem) and name[len(stem):][:1].isupper()):
            continue
        if not only_element:
            extras = value.get(f"_{key}")
            items.append(Item(item, type_of_key(key, stem), f"{location}.{key}", 0,
                              extras if isinstance(extras, dict) else None))
        elif name not in value:
            items.append(Item(None, type_of_key(name, stem), f"{location}.{name}", 0,
                              item if isinstance(item, dict) else None))
    return items


def _referenced_type(reference: Any, root: Any) -> str | None:
    if not isinstance(reference, dict):
        return None
    target = reference.get("reference")
    if isinstance(target, str) and target.startswith("#") and isinstance(root, dict):
        for contained in root.get("contained", []):
            if isinstance(contained, dict) and contained.get("id") == target[1:]:
                return contained.get("resourceType")
        return None
    return reference_type(reference)
