"""What a terminology operation cannot answer: the caller turns it into a 4xx."""

from __future__ import annotations

__all__ = ["TerminologyError", "UnknownContent"]


class TerminologyError(ValueError):
    """The request cannot be answered (bad input, content that cannot be expanded)."""


class UnknownContent(TerminologyError):
    """A CodeSystem, ValueSet, ConceptMap or code the server does not have."""
