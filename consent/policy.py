"""Deployment policy: what holds when no Consent decides, and who may break the glass."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ConsentPolicy", "OPT_IN", "OPT_OUT"]

OPT_IN, OPT_OUT = "opt-in", "opt-out"


@dataclass(frozen=True)
class ConsentPolicy:
    """``default``: ``opt-out`` (patient data is shared unless a Consent denies it) or
    ``opt-in`` (shared only where a Consent permits it). ``break_glass_roles``: the
    PractitionerRole codes (any system) allowed to override a denial in an emergency;
    ``*`` allows every practitioner. ``explain_roles``: the PractitionerRole codes of
    privacy officers and support staff, who may ask ``$consent-explain`` about any patient
    (patients may always ask about their own record)."""

    default: str = OPT_OUT
    break_glass_roles: frozenset[str] = frozenset({"doctor", "nurse"})
    explain_roles: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.default not in (OPT_IN, OPT_OUT):
            raise ValueError(f"consent default policy must be {OPT_IN} or {OPT_OUT}, "
                             f"not {self.default!r}")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ConsentPolicy:
        """``FHIR_CONSENT_DEFAULT``, ``FHIR_CONSENT_BREAK_GLASS_ROLES`` and
        ``FHIR_CONSENT_EXPLAIN_ROLES`` (comma lists)."""
        environ = os.environ if environ is None else environ

        def roles(name: str, default: frozenset[str]) -> frozenset[str]:
            value = environ.get(name)
            if value is None:
                return default
            return frozenset(r.strip() for r in value.split(",") if r.strip())

        return cls(
            default=environ.get("FHIR_CONSENT_DEFAULT", OPT_OUT).strip().lower(),
            break_glass_roles=roles("FHIR_CONSENT_BREAK_GLASS_ROLES", cls.break_glass_roles),
            explain_roles=roles("FHIR_CONSENT_EXPLAIN_ROLES", cls.explain_roles),
        )

    def may_break_glass(self, roles: frozenset[str], practitioner: bool) -> bool:
        return practitioner and ("*" in self.break_glass_roles
                                 or bool(roles & self.break_glass_roles))
