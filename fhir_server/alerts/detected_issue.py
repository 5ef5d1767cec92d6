"""The ``DetectedIssue`` a community alert is recorded as (docs/community-alerts.md).

One per value set, area and window: its identifier (system :data:`ALERT_SYSTEM`) is a
digest of the four, so a scan of the same window finds the alert it raised before
(conditional create). It names no patient: ``code`` says what kind of alert,
``identifiedPeriod`` the window, ``detail`` a sentence, and the extension
:data:`ALERT_EXTENSION` the value set, area, count and baseline.
https://hl7.org/fhir/R4/detectedissue.html
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from .detection import AreaCount
from .windows import Windows

__all__ = ["ALERT_SYSTEM", "ALERT_CODE_SYSTEM", "ALERT_EXTENSION", "alert_key",
           "detected_issue"]

ALERT_SYSTEM = "https://mch-fhir.org/fhir/community-alert"
ALERT_CODE_SYSTEM = "https://mch-fhir.org/fhir/CodeSystem/community-alert"
ALERT_EXTENSION = "https://mch-fhir.org/fhir/StructureDefinition/community-alert"
_AREA_WORDS = {"district": "district", "postalCode": "postal code"}


def alert_key(value_set: str, assessed: AreaCount, windows: Windows) -> str:
    kind, name = assessed.area.key
    text = "\n".join([value_set, kind, name, windows.start.isoformat(),
                      windows.end.isoformat()])
    return hashlib.sha256(text.encode()).hexdigest()


def _decimal(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def detected_issue(value_set: str, assessed: AreaCount, windows: Windows) -> dict[str, Any]:
    area = assessed.area
    where = f"{_AREA_WORDS[area.kind]} {area.name}"
    parts: list[dict[str, Any]] = [
        {"url": "valueSet", "valueCanonical": value_set},
        {"url": "areaType", "valueCode": area.kind},
        {"url": "area", "valueString": area.name},
        {"url": "count", "valueInteger": assessed.count},
        {"url": "baselineWindows", "valueInteger": len(assessed.baseline_counts)},
    ]
    baseline = (f"fewer than {assessed.minimum_cell} cases in the "
                f"{len(assessed.baseline_counts)} windows before")
    if assessed.baseline_shown:
        parts += [{"url": "baselineMean", "valueDecimal": _decimal(assessed.mean)},
                  {"url": "threshold", "valueDecimal": _decimal(assessed.threshold)}]
        baseline = (f"baseline {_decimal(assessed.mean)} per window over the "
                    f"{len(assessed.baseline_counts)} windows before, threshold "
                    f"{_decimal(assessed.threshold)}")
    return {
        "resourceType": "DetectedIssue",
        "extension": [{"url": ALERT_EXTENSION, "extension": parts}],
        "identifier": [{"system": ALERT_SYSTEM,
                        "value": alert_key(value_set, assessed, windows)}],
        "status": "final",
        "code": {"coding": [{"system": ALERT_CODE_SYSTEM, "code": "case-cluster",
                             "display": "More cases than expected in an area"}]},
        "severity": "moderate",
        "identifiedPeriod": {"start": windows.start.isoformat(),
                             "end": windows.end.isoformat()},
        "detail": (f"{assessed.count} cases of {value_set} in {where} from "
                   f"{windows.start.isoformat()} to {windows.end.isoformat()} ({baseline})."),
    }
