"""A Quantity whose ``system`` is UCUM carries a valid UCUM code.

https://hl7.org/fhir/R4/datatypes.html#Quantity: "If the system is present, it SHALL be
UCUM ... the code SHALL be a valid UCUM unit" for the UCUM system. Applies to Quantity
and its specialisations (Age, Count, Distance, Duration, MoneyQuantity, SimpleQuantity).
"""

from __future__ import annotations

from typing import Any

from terminology.ucum import UCUM, is_valid_ucum

from .findings import Findings

__all__ = ["QUANTITY_TYPES", "check_ucum_code"]

QUANTITY_TYPES = frozenset({"Quantity", "Age", "Count", "Distance", "Duration",
                            "MoneyQuantity", "SimpleQuantity"})


def check_ucum_code(quantity: dict[str, Any], location: str, findings: Findings) -> None:
    code = quantity.get("code")
    if quantity.get("system") != UCUM or not isinstance(code, str):
        return
    if not is_valid_ucum(code):
        findings.error("code-invalid", f"{location}.code",
                       f"'{code[:80]}' is not a valid UCUM unit code (system {UCUM})")
