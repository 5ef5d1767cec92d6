"""One finding of a validation, as an ``OperationOutcome.issue``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Issue"]


@dataclass(frozen=True)
class Issue:
    """One ``OperationOutcome.issue``: severity, code, text and FHIRPath locations."""

    severity: str
    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()

    def to_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue
