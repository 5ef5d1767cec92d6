"""An independent oracle: search semantics computed from the raw resource JSON.

Deliberately written without the server's code (no index, no normalisation helpers):
what a reader of https://hl7.org/fhir/R4/search.html expects each query to return.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

__all__ = ["fold", "starts", "codings", "concept_has", "day_range", "instant_range",
           "overlaps_after", "reference_is", "quantity"]


def fold(text: str) -> str:
    """Case- and accent-insensitive comparison form."""
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if unicodedata.category(c) != "Mn").lower()


def starts(values: list[str], prefix: str) -> bool:
    return any(fold(v).startswith(fold(prefix)) for v in values if isinstance(v, str))


def name_parts(names: list[dict[str, Any]]) -> list[str]:
    parts: list[str] = []
    for name in names:
        parts += [name.get("family", ""), name.get("text", ""), *name.get("given", []),
                  *name.get("prefix", []), *name.get("suffix", [])]
    return [p for p in parts if p]


def codings(concept: dict[str, Any] | None) -> list[dict[str, Any]]:
    return (concept or {}).get("coding", [])


def concept_has(concept: dict[str, Any] | None, code: str, system: str | None = None) -> bool:
    return any(c.get("code") == code and (system is None or c.get("system") == system)
               for c in codings(concept))


def instant_range(text: str) -> tuple[datetime, datetime]:
    """A Synthea date or dateTime (full seconds) as a [start, end) range."""
    if len(text) == 10:
        day = date.fromisoformat(text)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start, start + timedelta(days=1)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    return moment, moment + timedelta(seconds=1)


def day_range(text: str) -> tuple[datetime, datetime]:
    """A search value ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as a [start, end) range."""
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 1:
        return datetime(parts[0], 1, 1, tzinfo=UTC), datetime(parts[0] + 1, 1, 1, tzinfo=UTC)
    if len(parts) == 2:
        year, month = parts
        following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        return datetime(year, month, 1, tzinfo=UTC), following
    start = datetime(*parts, tzinfo=UTC)
    return start, start + timedelta(days=1)


def overlaps_after(target: tuple[datetime, datetime], moment: datetime) -> bool:
    return target[1] > moment


def reference_is(value: dict[str, Any] | None, reference: str) -> bool:
    return bool(value) and value.get("reference") == reference  # type: ignore[union-attr]


def quantity(resource: dict[str, Any]) -> tuple[Decimal, str] | None:
    value = resource.get("valueQuantity")
    if not value:
        return None
    return Decimal(str(value["value"])), value.get("code", "")
