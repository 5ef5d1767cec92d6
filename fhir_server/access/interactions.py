"""Which FHIR interaction a request under the base is (R4 http.html), for scope checks
and the audit trail.

Mirrors the URL grammar the router serves; a path the router rejects is classified as
something harmless here and refused by the router itself.
"""

from __future__ import annotations

__all__ = ["interaction_of"]

_TYPE_LEVEL = {"GET": "search", "POST": "create", "PUT": "update", "DELETE": "delete",
               "PATCH": "patch"}
_INSTANCE_LEVEL = {"GET": "read", "PUT": "update", "DELETE": "delete", "PATCH": "patch"}


def interaction_of(method: str, segments: list[str]) -> tuple[str, str | None]:
    """``(interaction, resource type)`` of a request; type None at system level."""
    if not segments:
        return ("search", None) if method == "GET" else ("transaction", None)
    first, rest = segments[0], segments[1:]
    if first.startswith("$"):
        return "operation", None
    if first == "metadata":
        return "capabilities", None
    if first == "_history":
        return "history", None
    if first == "_search":
        return "search", None
    if not rest:
        return _TYPE_LEVEL.get(method, "search"), first
    second = rest[0]
    if second == "_history":
        return "history", first
    if second == "_search":
        return "search", first
    if second.startswith("$"):
        return "operation", first
    if len(rest) == 1:
        return _INSTANCE_LEVEL.get(method, "read"), first
    third = rest[1]
    if third == "_history":
        return ("history", first) if len(rest) == 2 else ("vread", first)
    if third.startswith("$"):
        return "operation", first
    return "search", None if third == "*" else third
