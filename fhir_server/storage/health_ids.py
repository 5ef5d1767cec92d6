"""The deployment's health ID on every Patient write (a :class:`~.write_guards.WriteGuard`).

With ``FHIR_HEALTH_ID_SYSTEM`` set (:class:`~fhir_server.identity.HealthIdConfig`), every
write of a Patient, by any path, inside its own transaction:

* checks each identifier in that system against the format and check digit and stores it
  in the canonical (formatted) form; a wrong one refuses the write with 422;
* issues one to a Patient created without one when ``FHIR_HEALTH_ID_ISSUE=on``;
* claims each held value (:mod:`.identifier_claims`): a value another Patient holds
  refuses the write with 409, whichever of two concurrent writes loses; an update or
  delete releases what the Patient no longer holds.

Identifiers with ``use: old`` are checked but not claimed: a merge copies the source
patient's identifiers to the target that way (R4 Identifier.use "old": "no longer
considered valid, but may be relevant for search purposes ... account merges"), while the
inactive source keeps holding them, so no one else can take them.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from ..errors import BusinessRuleViolation, Conflict, Issue
from ..identity import (
    HealthIdConfig,
    HealthIdError,
    issue_health_id,
    normalise_health_id,
    validate_health_id,
)
from .identifier_claims import IdentifierClaims, claim_key

__all__ = ["HealthIdGuard"]

_ISSUE_ATTEMPTS = 20


class HealthIdGuard:
    resource_types = frozenset({"Patient"})

    def __init__(self, config: HealthIdConfig, claims: IdentifierClaims) -> None:
        self.config = config
        self.claims = claims

    def _health_ids(self, patient: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
        return [(i, ident) for i, ident in enumerate(patient.get("identifier") or [])
                if isinstance(ident, dict) and ident.get("system") == self.config.system
                and isinstance(ident.get("value"), str)]

    def _keys(self, patient: dict[str, Any] | None) -> set[str]:
        if patient is None:
            return set()
        system = self.config.system or ""
        return {claim_key(system, normalise_health_id(ident["value"]))
                for _, ident in self._health_ids(patient) if ident.get("use") != "old"}

    def _canonical(self, patient: dict[str, Any]) -> dict[str, Any]:
        """The Patient with its health IDs in canonical form; 422 for a wrong one."""
        identifiers = list(patient.get("identifier") or [])
        for index, ident in self._health_ids(patient):
            try:
                value = validate_health_id(ident["value"], self.config)
            except HealthIdError as error:
                where = f"Patient.identifier[{index}].value"
                message = (f"Patient.identifier[{index}] ({self.config.system}) is not a "
                           f"valid health ID: {error}")
                raise BusinessRuleViolation(message, issues=[
                    Issue("error", "business-rule", message, (where,))]) from None
            if value != ident["value"]:
                identifiers[index] = {**ident, "value": value}
        return {**patient, "identifier": identifiers} if identifiers else patient

    async def _issued(self, patient: dict[str, Any], session: AsyncClientSession
                      ) -> dict[str, Any]:
        """The Patient with a newly issued health ID (one nobody holds)."""
        system = self.config.system or ""
        for _ in range(_ISSUE_ATTEMPTS):
            value = issue_health_id(self.config)
            if await self.claims.holder(claim_key(system, normalise_health_id(value)),
                                        session) is None:
                issued = {"use": "official", "system": system, "value": value}
                return {**patient, "identifier": [*(patient.get("identifier") or []), issued]}
        raise Conflict("No free health ID was found to issue; widen FHIR_HEALTH_ID_FORMAT")

    async def before_write(self, resource_type: str, rid: str, old: dict[str, Any] | None,
                           new: dict[str, Any] | None, session: AsyncClientSession
                           ) -> dict[str, Any] | None:
        if not self.config.system:
            return new
        owner = f"Patient/{rid}"
        before = self._keys(old)
        if new is None:
            await self.claims.release(owner, before, session)
            return None
        new = self._canonical(new)
        if old is None and self.config.issue and not self._health_ids(new):
            new = await self._issued(new, session)
        keys = self._keys(new)
        taken = await self.claims.hold(owner, keys, session)
        if taken:
            indexes = [i for i, ident in self._health_ids(new)
                       if claim_key(self.config.system, normalise_health_id(ident["value"]))
                       in taken]
            message = (f"The health ID ({self.config.system}) in Patient.identifier"
                       f"{indexes} is already another Patient's: one person, one health ID. "
                       "Find that record (GET Patient?identifier=system|value) or merge the "
                       "two ($merge)")
            raise Conflict(message, issues=[Issue("error", "duplicate", message, tuple(
                f"Patient.identifier[{i}]" for i in indexes))])
        await self.claims.release(owner, before - keys, session)
        return new
