"""The few core invariants that are cheap to check without a FHIRPath engine.

Keyed by constraint key; a compiled model runs those found among its root element's
constraints. Invariants in general need a FHIRPath engine (profile validation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CHEAP_INVARIANTS", "Invariant"]


@dataclass(frozen=True)
class Invariant:
    """A constraint of an ElementDefinition with a Python test standing in for its FHIRPath."""

    key: str
    human: str
    holds: Callable[[dict[str, Any]], bool]


def _extension_has_value_or_children(extension: dict[str, Any]) -> bool:
    """ext-1 (https://hl7.org/fhir/R4/extensibility.html#ext-1)."""
    has_value = any(key.startswith(("value", "_value")) for key in extension)
    return has_value != ("extension" in extension)


CHEAP_INVARIANTS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "ext-1": _extension_has_value_or_children,
}
