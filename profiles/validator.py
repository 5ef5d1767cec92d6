"""Validation of resources against StructureDefinitions: the core R4 definitions and profiles.

The REST layer calls :meth:`Validator.validate` on every create, update and patch and
turns error-severity issues into a 400 OperationOutcome (https://hl7.org/fhir/R4/validation.html).
A resource is checked against its base definition, then against every profile it claims
in ``meta.profile``, the profiles the deployment requires for its type
(:class:`~profiles.policy.ProfilePolicy`) and those asked for by ``$validate``; every
extension with a known definition is checked against it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from terminology import TerminologyService, shipped_terminology

from .conformance import ProfileChecker
from .findings import Findings
from .issues import Issue
from .policy import ProfilePolicy
from .registry import DefinitionRegistry
from .structure import check_resource

__all__ = ["Validator", "StoredConformance"]

_NESTED = (("contained", None), ("entry", "resource"), ("parameter", "resource"))


class StoredConformance(Protocol):
    """The conformance resources stored on the server, mirrored into the registry and
    terminology the validator uses (the server's storage layer implements it)."""

    def refresh_soon(self) -> None:
        """Start a background refresh when the last one is old enough."""

    async def refresh(self, force: bool = False) -> bool:
        """Reload what changed; True when the stored content changed."""


class Validator:
    """Structural validation driven by StructureDefinitions (element names, cardinality,
    types, primitive formats, choice types, invariants, required bindings, nested
    resources), then profile and extension validation. Element trees are compiled once
    per definition and shared."""

    def __init__(self, terminology: TerminologyService | None = None,
                 registry: DefinitionRegistry | None = None,
                 policy: ProfilePolicy | None = None, store: StoredConformance | None = None
                 ) -> None:
        self.terminology = terminology if terminology is not None else shipped_terminology()
        self.registry = registry if registry is not None else DefinitionRegistry()
        self.policy = policy if policy is not None else ProfilePolicy.from_environment()
        self.store = store

    def validate(self, resource: dict[str, Any], *, profiles: Iterable[str] = (),
                 detailed: bool = False) -> list[Issue]:
        """Every problem found in ``resource``, each with its FHIRPath location.

        ``profiles``: more profiles to check against (``$validate``'s ``profile``);
        ``detailed``: also warnings of best-practice invariants and absent ``mustSupport``
        elements (``$validate``); a write only needs the errors.
        """
        if self.store is not None:
            self.store.refresh_soon()
        findings = Findings(self.terminology, self.registry, detailed)
        checker = ProfileChecker(self.registry, findings)
        findings.extension_check = lambda extension, where: self._check_extension(
            extension, where, checker)
        try:
            check_resource(resource, None, findings)
        except RecursionError:
            findings.error("structure", str(resource.get("resourceType", "Resource")),
                           "The resource is nested too deeply to validate")
            return findings.issues
        if findings.has_errors_since(0) or not isinstance(resource, dict):
            return findings.issues
        with findings.inside(resource, contained=False):
            self._check_profiles(resource, str(resource["resourceType"]), checker,
                                 list(profiles))
        return list(dict.fromkeys(findings.issues))

    def _check_profiles(self, resource: dict[str, Any], location: str,
                        checker: ProfileChecker, asked: list[str]) -> None:
        for nested, where in _nested_resources(resource, location):
            with checker.findings.inside(nested, contained=".contained[" in where):
                self._check_profiles(nested, where, checker, [])
        resource_type = resource["resourceType"]
        wanted = _claimed(resource) + self.policy.required_for(resource_type) + asked
        for url in dict.fromkeys(wanted):
            definition = self.registry.get(url)
            if definition is None:
                self._unknown_profile(url, location, checker.findings)
            elif definition.get("type") != resource_type:
                checker.findings.error(
                    "invalid", f"{location}.meta.profile",
                    f"The profile {url} is for {definition.get('type')}, not {resource_type}")
            else:
                checker.check(resource, url, location)

    def _unknown_profile(self, url: str, location: str, findings: Findings) -> None:
        message = f"Profile reference '{url}' has not been checked because it is unknown"
        if self.policy.unknown_profile == "error":
            findings.error("not-supported", f"{location}.meta.profile", message)
        else:
            findings.warning("not-supported", f"{location}.meta.profile", message)

    def _check_extension(self, extension: dict[str, Any], where: str,
                         checker: ProfileChecker) -> None:
        """An extension against its definition, when the definition is known."""
        url = extension.get("url")
        if not isinstance(url, str) or "://" not in url:
            return
        definition = self.registry.get(url)
        if definition is not None and definition.get("type") == "Extension":
            checker.check(extension, url, where)
            return
        if checker.findings.detailed:
            checker.findings.warning("not-supported", where,
                                     f"The extension {url} is unknown, so it was not checked")


def _claimed(resource: dict[str, Any]) -> list[str]:
    meta = resource.get("meta")
    profiles = meta.get("profile", []) if isinstance(meta, dict) else []
    return [p for p in profiles if isinstance(p, str)]


def _nested_resources(resource: dict[str, Any], location: str
                      ) -> Iterator[tuple[dict[str, Any], str]]:
    for field, inner in _NESTED:
        items = resource.get(field)
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            nested = item.get(inner) if inner is not None and isinstance(item, dict) else item
            if isinstance(nested, dict) and "resourceType" in nested:
                suffix = f".{inner}" if inner else ""
                yield nested, f"{location}.{field}[{index}]{suffix}"
