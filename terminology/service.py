"""The terminology interface the rest of the server depends on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["TerminologyService", "ValueSetExpansion"]


@dataclass(frozen=True)
class ValueSetExpansion:
    """The codes of an expanded ValueSet, as ``(system, code)`` pairs.

    https://hl7.org/fhir/R4/valueset.html#expansion
    """

    url: str
    contains: frozenset[tuple[str, str]]
    codes: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", frozenset(code for _, code in self.contains))

    def has(self, code: str, system: str | None = None) -> bool:
        """Whether ``code`` (from ``system``, or from any system when it is None) is in it."""
        if system is None:
            return code in self.codes
        return (system, code) in self.contains


@runtime_checkable
class TerminologyService(Protocol):
    """What validation needs from terminology (``$expand`` / ``$validate-code`` in spirit)."""

    def expand(self, value_set: str) -> ValueSetExpansion | None:
        """The expansion of the ValueSet with canonical URL ``value_set`` (a ``|version``
        suffix is ignored), or None when it cannot be expanded here (unknown ValueSet,
        or content such as SNOMED CT or UCUM that is not enumerable locally)."""
        ...

    def validate_code(self, value_set: str, code: str, system: str | None = None) -> bool | None:
        """True or False when membership of ``code`` can be decided, None when it cannot."""
        ...

    def resource(self, kind: str, url: str) -> dict[str, Any] | None:
        """The ``CodeSystem``, ``ValueSet`` or ``ConceptMap`` (``kind``) with canonical
        ``url``, or None when it is not held here."""
        ...
