"""FHIR logical ids: ``[A-Za-z0-9\\-\\.]{1,64}``."""

from __future__ import annotations

import re

from .errors import InvalidRequest

__all__ = ["ID_PATTERN", "check_id"]

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def check_id(rid: str) -> str:
    if not ID_PATTERN.match(rid):
        raise InvalidRequest(
            f"'{rid[:80]}' is not a valid FHIR id (1-64 letters, digits, '-' and '.')"
        )
    return rid
