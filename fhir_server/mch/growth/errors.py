"""Input errors of the growth assessment: each is a client's mistake (a 4xx at the HTTP layer)."""

from __future__ import annotations

__all__ = ["GrowthInputError", "UnitMismatchError"]


class GrowthInputError(ValueError):
    """The input cannot be assessed: unknown sex, a measurement before birth, a value <= 0, ..."""


class UnitMismatchError(GrowthInputError):
    """A unit that is not a UCUM unit of the measured quantity (a weight in ``cm``)."""
