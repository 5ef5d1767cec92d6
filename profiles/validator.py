"""Validation of resources against StructureDefinitions."""

from __future__ import annotations

from typing import Any

from fhir_server.errors import Issue

from .definitions import resource_types

__all__ = ["Validator"]


class Validator:
    def validate(self, resource: dict[str, Any]) -> list[Issue]:
        """Every problem found in ``resource``, each with its FHIRPath location."""
        resource_type = resource.get("resourceType")
        if resource_type not in resource_types():
            return [Issue("error", "structure", f"Unknown resourceType '{resource_type}'")]
        return []
