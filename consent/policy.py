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
    ``*`` allows every practitioner."""

    default: str = OPT_OUT
    break_glass_roles: frozenset[str] = frozenset({"doctor", "nurse"})

    def __post_init__(self) -> None:
        if self.default not in (OPT_IN, OPT_OUT):
            raise ValueError(f"consent default policy must be {OPT_IN} or {OPT_OUT}, "
                             f"not {self.default!r}")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ConsentPolicy:
        """``FHIR_CONSENT_DEFAULT`` and ``FHIR_CONSENT_BREAK_GLASS_ROLES`` (comma list)."""
        environ = os.environ if environ is None else environ
        roles = environ.get("FHIR_CONSENT_BREAK_GLASS_ROLES")
        return cls(
            default=environ.get("FHIR_CONSENT_DEFAULT", OPT_OUT).strip().lower(),
            break_glass_roles=frozenset(r.strip() for r in roles.split(",") if r.strip())
            if roles is not None else cls.break_glass_roles,
        )

    def may_break_glass(self, roles: frozenset[str], practitioner: bool) -> bool:
        return practitioner and ("*" in self.break_glass_roles
                                 or bool(roles & self.break_glass_roles))
