"""The deployment-wide person identifier ("health ID"): configuration, issue, validation.

A health ID is an ``Identifier`` (https://hl7.org/fhir/R4/datatypes.html#Identifier) whose
``system`` is the deployment's and whose ``value`` follows a configured format: ``#`` stands
for a digit, ``-``, ``/``, ``.`` and spaces are separators, anything else is literal (a prefix
such as ``MCH-``). With a check digit algorithm the last digit checks the others
(:mod:`.check_digits`). The default format ``##-####-####-####`` has the 14 digits grouped
as India's ABHA number is printed.

Environment (read by :meth:`HealthIdConfig.from_environment`):

``FHIR_HEALTH_ID_SYSTEM``  the identifier system URI (no default)
``FHIR_HEALTH_ID_FORMAT``  the format, default ``##-####-####-####``
``FHIR_HEALTH_ID_CHECK``   ``verhoeff`` (default), ``luhn`` or ``none``
``FHIR_HEALTH_ID_ISSUE``   ``on``: the server issues one to a Patient created without; ``off``
"""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .check_digits import CHECK_DIGIT_ALGORITHMS, check_digit

__all__ = ["HealthIdConfig", "HealthIdError", "SEPARATORS", "issue_health_id",
           "validate_health_id", "normalise_health_id", "format_health_id",
           "is_valid_health_id", "patient_health_ids"]

SEPARATORS = frozenset(" -/.")
_DIGIT = "#"
_DEFAULT_FORMAT = "##-####-####-####"


class HealthIdError(ValueError):
    """A value that is not a health ID of the configured format, or a bad configuration."""


@dataclass(frozen=True)
class HealthIdConfig:
    """How this deployment writes, checks and issues its health IDs."""

    system: str | None = None
    format: str = _DEFAULT_FORMAT
    check: str = "verhoeff"
    issue: bool = False

    def __post_init__(self) -> None:
        if self.check != "none" and self.check not in CHECK_DIGIT_ALGORITHMS:
            raise HealthIdError(f"FHIR_HEALTH_ID_CHECK must be verhoeff, luhn or none, "
                                f"not {self.check!r}")
        digits = self.format.count(_DIGIT)
        if digits < (2 if self.check != "none" else 1):
            raise HealthIdError(f"FHIR_HEALTH_ID_FORMAT {self.format!r} needs '#' digit places")
        if digits < 8 and self.issue:
            raise HealthIdError("an issued health ID needs at least 8 digits to be unguessable")
        if self.issue and not self.system:
            raise HealthIdError("FHIR_HEALTH_ID_ISSUE=on needs FHIR_HEALTH_ID_SYSTEM")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> HealthIdConfig:
        """The configuration from ``FHIR_HEALTH_ID_*`` variables (defaults where unset)."""
        env = os.environ if environ is None else environ
        issue = env.get("FHIR_HEALTH_ID_ISSUE", "off").strip().lower()
        if issue not in ("on", "off"):
            raise HealthIdError(f"FHIR_HEALTH_ID_ISSUE must be on or off, not {issue!r}")
        return cls(system=env.get("FHIR_HEALTH_ID_SYSTEM") or None,
                   format=env.get("FHIR_HEALTH_ID_FORMAT") or _DEFAULT_FORMAT,
                   check=(env.get("FHIR_HEALTH_ID_CHECK") or "verhoeff").strip().lower(),
                   issue=issue == "on")

    @property
    def pattern(self) -> str:
        """The format without separators: ``#`` places and literal characters."""
        return "".join(c for c in self.format.upper() if c not in SEPARATORS)


def normalise_health_id(value: str) -> str:
    """The value without separators and surrounding space, upper-cased (``91-2345`` ->
    ``912345``): the form two spellings of one health ID share."""
    return "".join(c for c in value.strip().upper() if c not in SEPARATORS)


def _compact(value: str, config: HealthIdConfig) -> str:
    compact = normalise_health_id(value)
    pattern = config.pattern
    if len(compact) != len(pattern):
        raise HealthIdError(f"a health ID has {pattern.count(_DIGIT)} digits in the format "
                            f"{config.format}")
    for char, place in zip(compact, pattern, strict=True):
        if place == _DIGIT and not (char.isascii() and char.isdigit()):
            raise HealthIdError(f"a health ID follows the format {config.format}")
        if place != _DIGIT and char != place:
            raise HealthIdError(f"a health ID follows the format {config.format}")
    return compact


def format_health_id(value: str, config: HealthIdConfig) -> str:
    """The value written in the configured format (separators where the format has them);
    :class:`HealthIdError` when it does not fit the format. The check digit is not checked."""
    chars = iter(_compact(value, config))
    return "".join(c if c in SEPARATORS else next(chars) for c in config.format.upper())


def _digits(compact: str, config: HealthIdConfig) -> str:
    return "".join(c for c, place in zip(compact, config.pattern, strict=True) if place == _DIGIT)


def validate_health_id(value: str, config: HealthIdConfig) -> str:
    """The value in its canonical (formatted) form if it fits the format and its last digit
    is the check digit of the others; :class:`HealthIdError` saying why not otherwise."""
    formatted = format_health_id(value, config)
    if config.check != "none":
        digits = _digits(_compact(value, config), config)
        if check_digit(config.check, digits[:-1]) != digits[-1]:
            raise HealthIdError(f"the health ID's check digit ({config.check}) is wrong: "
                                "a digit was mistyped or two were swapped")
    return formatted


def is_valid_health_id(value: str, config: HealthIdConfig) -> bool:
    """Whether :func:`validate_health_id` accepts the value."""
    try:
        validate_health_id(value, config)
    except HealthIdError:
        return False
    return True


def issue_health_id(config: HealthIdConfig, rng: random.Random | None = None) -> str:
    """A new health ID in canonical form: random digits (from :mod:`secrets` unless a
    ``rng`` is given, as reproducible test data does), the first not 0 so that the number
    survives spreadsheets, then the check digit. Uniqueness is the store's job (a unique
    index on system and value; retry on a duplicate)."""
    source = rng if rng is not None else secrets.SystemRandom()
    places = config.pattern.count(_DIGIT) - (0 if config.check == "none" else 1)
    digits = str(source.randrange(1, 10)) + "".join(
        str(source.randrange(10)) for _ in range(places - 1))
    if config.check != "none":
        digits += check_digit(config.check, digits)
    chars = iter(digits)
    compact = "".join(next(chars) if place == _DIGIT else place for place in config.pattern)
    return format_health_id(compact, config)


def patient_health_ids(patient: Mapping[str, Any], config: HealthIdConfig) -> list[str]:
    """The values of the Patient's identifiers in the health ID system, as written."""
    if not config.system:
        return []
    return [i["value"] for i in patient.get("identifier") or []
            if isinstance(i, dict) and i.get("system") == config.system
            and isinstance(i.get("value"), str)]
