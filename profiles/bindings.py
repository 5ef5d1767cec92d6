"""Required bindings: coded values must come from the bound ValueSet.

https://hl7.org/fhir/R4/terminologies.html#required. A ValueSet that cannot be expanded
locally (all of SNOMED CT, UCUM, MIME types, ...) is not held against the resource.
"""

from __future__ import annotations

from typing import Any

from .findings import Findings

__all__ = ["check_binding", "check_coding_system", "value_set_verdict"]

_LISTED_CODES = 12


def check_binding(type_code: str, value: Any, value_set: str, location: str,
                  findings: Findings) -> None:
    """Check a structurally valid ``value`` of ``type_code`` against ``value_set``."""
    if type_code == "CodeableConcept":
        _check_codeable_concept(value, value_set, location, findings)
    elif isinstance(value, dict):
        if isinstance(value.get("code"), str):
            _check_coding(value, value_set, location, findings)
    elif isinstance(value, str):
        if findings.terminology.validate_code(value_set, value) is False:
            findings.error("code-invalid", location, _not_in(value, None, value_set, findings))


def check_coding_system(coding: dict[str, Any], location: str, findings: Findings) -> None:
    """``Coding.system`` names a code system (https://hl7.org/fhir/R4/datatypes.html#Coding):
    a URL known only as a ValueSet is a mistake the client can fix."""
    system = coding.get("system")
    if (isinstance(system, str) and findings.terminology.resource("CodeSystem", system) is None
            and findings.terminology.resource("ValueSet", system) is not None):
        findings.error("invalid", f"{location}.system",
                       f"The Coding references a value set, not a code system ('{system}')")


def _check_coding(coding: dict[str, Any], value_set: str, location: str,
                  findings: Findings) -> None:
    code, system = coding["code"], coding.get("system")
    if findings.terminology.validate_code(value_set, code, system) is False:
        findings.error("code-invalid", f"{location}.code", _not_in(code, system, value_set,
                                                                     findings))


def _check_codeable_concept(concept: dict[str, Any], value_set: str, location: str,
                            findings: Findings) -> None:
    codings = [c for c in concept.get("coding", ()) if isinstance(c, dict)
               and isinstance(c.get("code"), str)]
    if not codings:
        if findings.terminology.expand(value_set) is not None:
            findings.error("code-invalid", location,
                           f"A coding from the required value set {_plain(value_set)} is "
                           "needed; text alone is not enough")
        return
    verdicts = [findings.terminology.validate_code(value_set, c["code"], c.get("system"))
                for c in codings]
    if verdicts and all(verdict is False for verdict in verdicts):
        shown = ", ".join(f"{c.get('system', '')}#{c['code']}" for c in codings)
        findings.error("code-invalid", f"{location}.coding",
                       f"None of the codings ({shown}) is in the required value set "
                       f"{_plain(value_set)}{_allowed(value_set, findings)}")


def _not_in(code: str, system: str | None, value_set: str, findings: Findings) -> str:
    shown = f"{system}#{code}" if system else f"'{code}'"
    return (f"The code {shown} is not in the required value set {_plain(value_set)}"
            f"{_allowed(value_set, findings)}")


def _allowed(value_set: str, findings: Findings) -> str:
    expansion = findings.terminology.expand(value_set)
    if expansion is None or len(expansion.codes) > _LISTED_CODES:
        return ""
    return f" (allowed: {', '.join(sorted(expansion.codes))})"


def _plain(value_set: str) -> str:
    return value_set.split("|", 1)[0]


def value_set_verdict(value: Any, value_set: str, terminology: Any) -> bool | None:
    """Whether a coded ``value`` (code string, Coding, CodeableConcept or Quantity) is in
    ``value_set``: True, False, or None when that cannot be decided locally."""
    if isinstance(value, str):
        return terminology.validate_code(value_set, value)
    if not isinstance(value, dict):
        return None
    if "coding" in value or "text" in value:
        codings = [c for c in value.get("coding", []) if isinstance(c, dict)
                   and isinstance(c.get("code"), str)]
        verdicts = [terminology.validate_code(value_set, c["code"], c.get("system"))
                    for c in codings]
        if any(verdict is True for verdict in verdicts):
            return True
        if not codings:
            return False if terminology.expand(value_set) is not None else None
        return False if verdicts and all(v is False for v in verdicts) else None
    if isinstance(value.get("code"), str):
        return terminology.validate_code(value_set, value["code"], value.get("system"))
    return None
