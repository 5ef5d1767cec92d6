"""Validation of resources against the core R4 StructureDefinitions.

The REST layer calls :meth:`Validator.validate` on every create, update and patch and
turns error-severity issues into a 400 OperationOutcome (https://hl7.org/fhir/R4/validation.html).
"""

from __future__ import annotations

from typing import Any

from fhir_server.errors import Issue
from terminology import TerminologyService, shipped_terminology

from .findings import Findings
from .structure import check_resource

__all__ = ["Validator"]


class Validator:
    """Structural validation driven by StructureDefinitions (element names, cardinality,
    types, primitive formats, choice types, extensions, nested resources, required
    bindings). Element trees are compiled once per type and shared."""

    def __init__(self, terminology: TerminologyService | None = None) -> None:
        self.terminology = terminology if terminology is not None else shipped_terminology()

    def validate(self, resource: dict[str, Any]) -> list[Issue]:
        """Every problem found in ``resource``, each with its FHIRPath location."""
        findings = Findings(self.terminology)
        try:
            check_resource(resource, None, findings)
        except RecursionError:
            findings.error("structure", str(resource.get("resourceType", "Resource")),
                           "The resource is nested too deeply to validate")
        return findings.issues
