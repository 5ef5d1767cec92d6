"""Comparing sex, phone numbers, addresses and birth order of two Patients.

* ``gender`` (https://hl7.org/fhir/R4/patient-definitions.html#Patient.gender):
  ``same``, ``different``; ``unknown`` counts as ``missing``.
* phones: ``telecom`` with system ``phone`` or ``sms``, digits only, the last 10 (an Indian
  mobile number without ``+91`` or a trunk ``0``): ``same``, ``different``, ``missing``.
* addresses: the best agreement over pairs of addresses: ``postal-code-and-line`` (same
  postal code, at least half the line words shared), ``postal-code``,
  ``locality-and-line`` (same city or district), ``locality``, ``different``, ``missing``.
* ``multipleBirthInteger``: ``same-order``, ``different-order`` (two children of one
  multiple birth), ``missing``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .names import fold

__all__ = ["GENDER_LEVELS", "PHONE_LEVELS", "ADDRESS_LEVELS", "BIRTH_ORDER_LEVELS",
           "phone_numbers", "compare_gender", "compare_phones", "compare_addresses",
           "compare_birth_order"]

GENDER_LEVELS = ("same", "different", "missing")
PHONE_LEVELS = ("same", "different", "missing")
ADDRESS_LEVELS = ("postal-code-and-line", "postal-code", "locality-and-line", "locality",
                  "different", "missing")
BIRTH_ORDER_LEVELS = ("same-order", "different-order", "missing")
_PHONE_DIGITS = 10
_SHORTEST_PHONE = 7


def compare_gender(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    ga, gb = a.get("gender"), b.get("gender")
    if ga in (None, "unknown") or gb in (None, "unknown"):
        return "missing"
    return "same" if ga == gb else "different"


def phone_numbers(patient: Mapping[str, Any]) -> set[str]:
    """The Patient's phone numbers as their last 10 digits."""
    numbers = set()
    for telecom in patient.get("telecom") or []:
        if isinstance(telecom, dict) and telecom.get("system") in ("phone", "sms") and \
                isinstance(telecom.get("value"), str):
            digits = re.sub(r"\D", "", telecom["value"])
            if len(digits) >= _SHORTEST_PHONE:
                numbers.add(digits[-_PHONE_DIGITS:])
    return numbers


def compare_phones(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    pa, pb = phone_numbers(a), phone_numbers(b)
    if not pa or not pb:
        return "missing"
    return "same" if pa & pb else "different"


def _words(text: Any) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", str(text).lower()) if len(w) > 1}


def _address_parts(address: Mapping[str, Any]) -> tuple[str, set[str], set[str]]:
    postal = re.sub(r"\s", "", str(address.get("postalCode") or "")).upper()
    places = {fold(w) for part in ("city", "district") if address.get(part)
              for w in [re.sub(r"[^a-z]", "", str(address[part]).lower())] if w}
    lines = set().union(*(_words(line) for line in address.get("line") or []
                          if isinstance(line, str)))
    return postal, places, lines


def _address_level(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    (pa, ca, la), (pb, cb, lb) = _address_parts(a), _address_parts(b)
    if not (pa or ca or la) or not (pb or cb or lb):
        return "missing"
    shared_line = bool(la and lb) and len(la & lb) * 2 >= min(len(la), len(lb))
    if pa and pa == pb:
        return "postal-code-and-line" if shared_line else "postal-code"
    if ca & cb:
        return "locality-and-line" if shared_line else "locality"
    return "different"


def compare_addresses(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    levels = [_address_level(x, y) for x in a.get("address") or [] if isinstance(x, dict)
              for y in b.get("address") or [] if isinstance(y, dict)]
    return min(levels, key=ADDRESS_LEVELS.index, default="missing")


def compare_birth_order(a: Mapping[str, Any], b: Mapping[str, Any]) -> str:
    oa, ob = a.get("multipleBirthInteger"), b.get("multipleBirthInteger")
    if type(oa) is not int or type(ob) is not int:
        return "missing"
    return "same-order" if oa == ob else "different-order"
