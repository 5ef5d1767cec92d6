"""Collecting validation issues while walking a resource."""

from __future__ import annotations

from dataclasses import dataclass, field

from fhir_server.errors import Issue
from terminology.service import TerminologyService

__all__ = ["Findings"]


@dataclass
class Findings:
    """The issues found so far in one validation, and the services the checks use."""

    terminology: TerminologyService
    issues: list[Issue] = field(default_factory=list)

    def error(self, code: str, location: str, message: str) -> None:
        """Record an error-severity issue with its FHIRPath ``location``."""
        self.issues.append(Issue("error", code, message, (location,)))
