"""The features $match compares, each landing on one level of its own.

https://hl7.org/fhir/R4/patient-operation-match.html leaves the algorithm to the server;
these are the features this server weighs (``match_rules.json`` gives the weights).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .birth_dates import BIRTH_DATE_LEVELS, compare_birth_dates
from .contact import (
    ADDRESS_LEVELS,
    BIRTH_ORDER_LEVELS,
    GENDER_LEVELS,
    PHONE_LEVELS,
    compare_addresses,
    compare_birth_order,
    compare_gender,
    compare_phones,
)
from .identifiers import IDENTIFIER_LEVELS, compare_identifiers
from .mothers import MOTHER_LEVELS, compare_mothers
from .names import TOKEN_LEVELS, compare_patient_names

__all__ = ["FEATURE_LEVELS", "compare_features"]

_NAME_LEVELS = (*TOKEN_LEVELS, "missing")
FEATURE_LEVELS: Mapping[str, tuple[str, ...]] = {
    "identifier": IDENTIFIER_LEVELS,
    "given": _NAME_LEVELS,
    "family": _NAME_LEVELS,
    "nameOrder": ("straight", "swapped", "missing"),
    "birthDate": BIRTH_DATE_LEVELS,
    "gender": GENDER_LEVELS,
    "phone": PHONE_LEVELS,
    "address": ADDRESS_LEVELS,
    "mother": MOTHER_LEVELS,
    "birthOrder": BIRTH_ORDER_LEVELS,
}


def compare_features(a: Mapping[str, Any], b: Mapping[str, Any],
                     a_mothers: set[tuple[str | None, str]],
                     b_mothers: set[tuple[str | None, str]]) -> dict[str, str]:
    """The level of every feature in :data:`FEATURE_LEVELS` for Patients ``a`` and ``b``."""
    names = compare_patient_names(a, b)
    no_names = names.given == names.family == "missing"
    return {
        "identifier": compare_identifiers(a, b),
        "given": names.given,
        "family": names.family,
        "nameOrder": "missing" if no_names else "swapped" if names.swapped else "straight",
        "birthDate": compare_birth_dates(a, b),
        "gender": compare_gender(a, b),
        "phone": compare_phones(a, b),
        "address": compare_addresses(a, b),
        "mother": compare_mothers(a, b, a_mothers, b_mothers),
        "birthOrder": compare_birth_order(a, b),
    }
