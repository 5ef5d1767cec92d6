"""Compartments the server knows (R4 CompartmentDefinitions shipped in search/r4)."""

from __future__ import annotations

from functools import cache

from ..search.compartments import compartment_definitions

__all__ = ["compartment_types"]


@cache
def compartment_types() -> frozenset[str]:
    return frozenset(compartment_definitions())
