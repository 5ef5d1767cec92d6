"""Collecting validation issues while walking a resource."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from terminology.service import TerminologyService

from .issues import Issue

if TYPE_CHECKING:
    from .registry import DefinitionRegistry

__all__ = ["Findings"]


@dataclass
class Findings:
    """The issues found so far in one validation, and the services the checks use.

    ``detailed`` (``$validate``) adds what a write does not need: warnings of invariants
    and best practices, and ``mustSupport`` elements that are absent.
    """

    terminology: TerminologyService
    registry: DefinitionRegistry | None = None
    detailed: bool = False
    issues: list[Issue] = field(default_factory=list)
    resource: Any = None  # FHIRPath %resource: the resource (or contained resource) at hand
    root: Any = None  # FHIRPath %rootResource: the outermost resource
    container: Any = None  # the resource whose ``contained`` local references ``#id`` name
    extension_check: Callable[[dict[str, Any], str], None] | None = None
    malformed_count: int = 0  # JSON values of the wrong kind found so far

    def error(self, code: str, location: str, message: str) -> None:
        """Record an error-severity issue with its FHIRPath ``location``."""
        self.issues.append(Issue("error", code, message, (location,)))

    def malformed(self, code: str, location: str, message: str) -> None:
        """Record a JSON value of the wrong kind (an array for a single value, an object
        for a string, ...): checks that read values (invariants, bindings, UCUM,
        extension definitions) skip the objects around it (:meth:`well_formed_since`)."""
        self.malformed_count += 1
        self.error(code, location, message)

    def well_formed_since(self, mark: int) -> bool:
        """Whether no wrong-kind value was found since ``malformed_count`` was ``mark``."""
        return self.malformed_count == mark

    def warning(self, code: str, location: str, message: str) -> None:
        self.issues.append(Issue("warning", code, message, (location,)))

    def information(self, code: str, location: str, message: str) -> None:
        self.issues.append(Issue("information", code, message, (location,)))

    @contextmanager
    def inside(self, resource: Any, contained: bool) -> Iterator[None]:
        """Within ``resource`` (https://hl7.org/fhir/R4/fhirpath.html#variables): a
        contained resource is its own ``%resource`` below the same ``%rootResource`` and
        container; any other resource (top level, a Bundle entry, a Parameters resource)
        is its own ``%resource``, ``%rootResource`` and container."""
        saved = (self.resource, self.root, self.container)
        if contained and self.root is not None:
            self.resource = resource
        else:
            self.resource = self.root = self.container = resource
        try:
            yield
        finally:
            self.resource, self.root, self.container = saved

    def has_errors_since(self, mark: int) -> bool:
        return any(issue.severity in ("error", "fatal") for issue in self.issues[mark:])
