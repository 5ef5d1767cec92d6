"""Helpers for the immunization forecast tests: Immunization resources as apps send them."""

from __future__ import annotations

from itertools import count
from typing import Any

__all__ = ["CVX", "UIP", "immunization", "labels", "reasons"]

CVX = "http://hl7.org/fhir/sid/cvx"
UIP = "https://mch-fhir.org/fhir/CodeSystem/uip-vaccine"
_ids = count(1)


def immunization(code: str, day: str, *, system: str = CVX, status: str = "completed",
                 rid: str | None = None, **elements: Any) -> dict[str, Any]:
    """An R4 Immunization of vaccine ``code`` given on ``day``."""
    return {"resourceType": "Immunization", "id": rid or f"imm-{next(_ids)}", "status": status,
            "vaccineCode": {"coding": [{"system": system, "code": code}]},
            "patient": {"reference": "Patient/child"}, "occurrenceDateTime": day, **elements}


def labels(series) -> list[tuple[str, bool]]:
    """``(target dose label, counted)`` of each dose evaluated in a series."""
    return [(e.target, e.counted) for e in series.doses]


def reasons(series) -> list[str | None]:
    return [e.reason.value if e.reason else None for e in series.doses]
