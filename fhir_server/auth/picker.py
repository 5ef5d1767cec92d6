"""The patient picker of the consent page: the patients the signed-in user may see.

SMART App Launch 2.x: "When granting a patient-level scope, the server SHALL provide a
patient launch context"; a user who is not that patient (a practitioner) chooses it.
The list, and the check of the patient chosen, read Patient through the storage layer
with the access policy of the signed-in user (:mod:`fhir_server.access`): their fhirUser
reading Patient (``user/Patient.rs``) for purpose ``TREAT``. So the patients' Consents
decide: a patient whose Consent denies this user (or their organization or role) is not
offered, and choosing that patient's id anyway is refused exactly like an unknown id.

The app's own scopes do not enter this decision: a ``patient/`` scope grants nothing until
a patient is chosen, and the names on the page are shown to the user, not to the app.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..access import SYSTEM, AccessPolicy, Hints
from ..access.identity import AccessContext
from ..access.scopes import parse_scopes

if TYPE_CHECKING:
    from ..access import AccessService
    from ..storage.queries import Queries

__all__ = ["PatientPicker", "PICKER_SIZE"]

PICKER_SIZE = 200
_READ_PATIENTS = parse_scopes("user/Patient.rs")
_PURPOSE = "TREAT"


def _label(resource: dict[str, Any]) -> str:
    reference = f"Patient/{resource.get('id')}"
    names = resource.get("name") or []
    name = names[0] if names and isinstance(names[0], dict) else {}
    text = name.get("text") or " ".join(
        [*[g for g in name.get("given", []) if isinstance(g, str)],
         name.get("family", "") if isinstance(name.get("family"), str) else ""]).strip()
    return f"{text} ({reference})" if text else reference


@dataclass(frozen=True)
class PatientPicker:
    access: AccessService
    queries: Queries
    issuer: str

    def _policy(self, client_id: str, session: dict[str, Any]) -> AccessPolicy:
        user = AccessContext(
            client_id=client_id, scopes=_READ_PATIENTS, kind="user",
            subject=str(session["username"]), issuer=self.issuer,
            expires_at=int(time.time()), fhir_user=session["fhirUser"])
        return self.access.for_token(user, _PURPOSE)

    async def choices(self, client_id: str, session: dict[str, Any]
                      ) -> list[dict[str, str]]:
        """Up to :data:`PICKER_SIZE` patients the user may see, by id: ``{id, label}``."""
        found = await self.queries.find(self._policy(client_id, session), "Patient", {},
                                        sort=[("_id", 1)], limit=PICKER_SIZE)
        return [{"id": str(f.doc["_id"]), "label": _label(f.resource)} for f in found]

    async def represented(self, fhir_user: str) -> str | None:
        """The patient a RelatedPerson user acts for (``RelatedPerson.patient``, while the
        RelatedPerson is active): a parent signing in opens their child's record."""
        kind, _, rid = fhir_user.partition("/")
        if kind != "RelatedPerson" or not rid:
            return None
        found = await self.queries.find(SYSTEM, "RelatedPerson", {"_id": rid}, limit=1)
        person = found[0].resource if found else {}
        if person.get("active", True) is False:
            return None
        kind, _, patient = str((person.get("patient") or {}).get("reference", "")).partition("/")
        return patient if kind == "Patient" and patient and "/" not in patient else None

    async def may_choose(self, client_id: str, session: dict[str, Any],
                         patient_id: str) -> bool:
        """Whether the patient exists and the user may see it."""
        policy = self._policy(client_id, session).narrowed(
            Hints(patients=frozenset({patient_id})))
        found = await self.queries.find(policy, "Patient", {"_id": patient_id}, limit=1)
        return bool(found)
