"""Collecting validation issues while walking a resource."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fhir_server.errors import Issue
from terminology.service import TerminologyService

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

    def error(self, code: str, location: str, message: str) -> None:
        """Record an error-severity issue with its FHIRPath ``location``."""
        self.issues.append(Issue("error", code, message, (location,)))

    def warning(self, code: str, location: str, message: str) -> None:
        self.issues.append(Issue("warning", code, message, (location,)))

    def information(self, code: str, location: str, message: str) -> None:
        self.issues.append(Issue("information", code, message, (location,)))

    @contextmanager
    def inside(self, resource: Any, contained: bool) -> Iterator[None]:
        """Within ``resource``: a contained resource is its own ``%resource`` below the
        same ``%rootResource``; a Bundle entry or top-level resource is both (at the top)
        or neither (a Bundle's entries keep the Bundle as ``%resource``)."""
        saved = (self.resource, self.root, self.container)
        if self.root is None:
            self.resource = self.root = resource
        if contained:
            self.resource = resource
        else:
            self.container = resource
        try:
            yield
        finally:
            self.resource, self.root, self.container = saved

    def has_errors_since(self, mark: int) -> bool:
        return any(issue.severity in ("error", "fatal") for issue in self.issues[mark:])
