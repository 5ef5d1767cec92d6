"""Validation of a resource about to be written (profiles/: structure, profiles,
terminology, invariants)."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidResource, Issue
from .caller import Caller

__all__ = ["validate", "check_resource"]


def validate(caller: Caller, resource: dict[str, Any]) -> list[Issue]:
    """400 with every issue when the resource is not valid; else its warnings (an unknown
    claimed profile, say), which a write reports with ``Prefer: return=OperationOutcome``."""
    issues = caller.services.validator.validate(resource)
    errors = [i for i in issues if i.severity in ("error", "fatal")]
    if errors:
        raise InvalidResource(
            f"{resource.get('resourceType')} failed validation: "
            + "; ".join(i.diagnostics for i in errors[:3]),
            issues=issues,
        )
    return [i for i in issues if i.severity in ("warning", "information")]


def check_resource(
    resource: dict[str, Any], resource_type: str, rid: str | None, *, require_id: bool
) -> None:
    """resourceType must match the URL; on PUT the body's id must match it too; ``meta``,
    which the server completes, must be an object."""
    if resource.get("resourceType") != resource_type:
        shown = str(resource.get("resourceType"))[:80]
        raise InvalidResource(
            f"resourceType '{shown}' does not match the URL type '{resource_type}'",
            issues=[Issue("error", "invalid", f"resourceType '{shown}' does not match the URL "
                          f"type '{resource_type}'", ("resourceType",))],
        )
    if not isinstance(resource.get("meta", {}), dict):
        raise InvalidResource("meta must be a JSON object", issues=[Issue(
            "error", "structure", "meta must be a JSON object", (f"{resource_type}.meta",))])
    if require_id:
        body_id = resource.get("id")
        if body_id is None:
            raise InvalidResource("The resource in a PUT must carry its id", issues=[Issue(
                "error", "required", "The resource in a PUT must carry its id", ("id",))])
        if body_id != rid:
            message = (f"The id in the body ('{str(body_id)[:80]}') does not match the id in "
                       f"the URL ('{rid}')")
            raise InvalidResource(message, issues=[Issue("error", "invalid", message, ("id",))])
