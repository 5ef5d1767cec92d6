"""The area a case is counted in: the patient's address district, else its postal code.

Of ``Patient.address``, addresses of use ``old`` or whose ``period`` has ended are left
out, and a ``home`` address is preferred; the first one with a ``district`` gives the area,
else the first with a ``postalCode``. Names are compared without case or extra spaces.
https://hl7.org/fhir/R4/datatypes.html#Address
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from .windows import case_day

__all__ = ["Area", "area_of"]


@dataclass(frozen=True)
class Area:
    kind: str  # "district" or "postalCode"
    name: str  # as first written

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, " ".join(self.name.split()).casefold()


def _current(address: dict[str, Any], today: date) -> bool:
    if address.get("use") == "old":
        return False
    period = address.get("period")
    ended = case_day(period.get("end")) if isinstance(period, dict) else None
    return ended is None or ended >= today


def area_of(patient: dict[str, Any], today: date) -> Area | None:
    addresses = [a for a in patient.get("address") or [] if isinstance(a, dict)
                 and _current(a, today)]
    addresses.sort(key=lambda a: a.get("use") != "home")  # stable: home ones first
    for kind in ("district", "postalCode"):
        for address in addresses:
            value = address.get(kind)
            if isinstance(value, str) and value.strip():
                return Area(kind, " ".join(value.split()))
    return None
