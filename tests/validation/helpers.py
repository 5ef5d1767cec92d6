"""Helpers shared by the validator tests."""

from __future__ import annotations

from typing import Any

from profiles.validator import Validator

__all__ = ["findings", "only_finding", "patient"]


def findings(validator: Validator, resource: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(location, issue code, message)`` of every issue; each issue has one location."""
    result = []
    for issue in validator.validate(resource):
        assert issue.severity == "error", issue
        assert len(issue.expression) == 1, issue
        result.append((issue.expression[0], issue.code, issue.diagnostics))
    return result


def only_finding(validator: Validator, resource: dict[str, Any]) -> tuple[str, str, str]:
    found = findings(validator, resource)
    assert len(found) == 1, found
    return found[0]


def patient(**elements: Any) -> dict[str, Any]:
    """A valid Patient plus ``elements``."""
    return {"resourceType": "Patient", "name": [{"family": "Okafor", "given": ["Ada"]}],
            **elements}
