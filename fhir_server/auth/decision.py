"""What the person decides on the consent page: scopes, patient, and the resulting code.

SMART App Launch 2.x: "When granting a patient-level scope, the server SHALL provide a
patient launch context"; the patient comes from the EHR launch, from the user being that
patient (or, for a RelatedPerson user, the patient the RelatedPerson is for: a parent
acts for their child, and only for them), or from the patient picker (a practitioner
choosing among the patients the access policy lets them see: :mod:`.picker`).
"""

from __future__ import annotations

from typing import Any

from ..access.scopes import parse_scopes
from .pages import describe_scope
from .picker import PatientPicker
from .service import AuthService

__all__ = ["PageError", "RedirectError", "consent_values", "decide"]


class PageError(Exception):
    """Shown to the person, never redirected: the client or its redirect_uri is wrong."""


class RedirectError(Exception):
    """Sent to the app's redirect_uri as ``error`` (RFC 6749 section 4.1.2.1)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _needs_patient(offered: str) -> bool:
    scopes = parse_scopes(offered)
    return "patient" in scopes.contexts() or "launch/patient" in scopes


async def _fixed_patient(picker: PatientPicker, pending: dict[str, Any],
                         session: dict[str, Any]) -> str | None:
    """The patient the context already determines, if any."""
    launch = pending.get("launch") or {}
    own = session["fhirUser"].split("/", 1)
    if own[0] == "RelatedPerson":
        represented = await picker.represented(session["fhirUser"])
        if represented is None:
            raise RedirectError("access_denied", "this RelatedPerson acts for no patient")
        own_patient: str | None = represented
    else:
        own_patient = own[1] if own[0] == "Patient" else None
    if launch.get("patient"):
        if own_patient is not None and launch["patient"] != own_patient:
            raise RedirectError("access_denied", "the launch is for another patient")
        return str(launch["patient"])
    return own_patient


async def consent_values(auth: AuthService, picker: PatientPicker, doc: dict[str, Any],
                         session: dict[str, Any]) -> dict[str, Any]:
    pending = doc["request"]
    client = await auth.registry.client(pending["client_id"])
    offered = pending["offered"]
    try:
        patient = await _fixed_patient(picker, pending, session)
    except RedirectError:
        patient = None
    choose = _needs_patient(offered) and patient is None
    patients = await picker.choices(pending["client_id"], session) if choose else []
    return {
        "client_name": (client.name or client.client_id) if client else pending["client_id"],
        "username": session["username"], "fhir_user": session["fhirUser"],
        "patient": patient, "patient_label": f"Patient/{patient}" if patient else None,
        "choose_patient": choose, "patients": patients,
        "scopes": [{"value": token, "text": describe_scope(token)}
                   for token in offered.split()],
    }


async def _chosen_patient(picker: PatientPicker, client_id: str, session: dict[str, Any],
                          form: dict[str, str]) -> str:
    """The patient the user chose; one they may not see is refused as unknown."""
    chosen = (form.get("patient_id") or "").strip() or form.get("patient", "")
    if not chosen:
        raise PageError("Choose a patient.")
    if not await picker.may_choose(client_id, session, chosen):
        raise PageError("There is no such patient.")
    return chosen


async def decide(auth: AuthService, picker: PatientPicker, handle: str,
                 pending: dict[str, Any], session: dict[str, Any],
                 pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Turn the consent form into an authorization code; returns the redirect parameters."""
    form = dict(pairs)
    if form.get("decision") != "allow":
        await auth.store.finish_pending(handle)
        raise RedirectError("access_denied", "the user did not allow access")
    chosen = {value for name, value in pairs if name == "scope"}
    granted = parse_scopes(" ".join(t for t in pending["offered"].split() if t in chosen))
    patient = await _fixed_patient(picker, pending, session)
    if patient is None and _needs_patient(str(granted)):
        patient = await _chosen_patient(picker, pending["client_id"], session, form)
    doc = await auth.store.finish_pending(handle)
    if doc is None:
        raise PageError("This request was already decided.")
    launch = pending.get("launch") or {}
    grant = {
        "client_id": pending["client_id"], "redirect_uri": pending["redirect_uri"],
        "scope": str(granted), "subject": session["username"],
        "fhir_user": session["fhirUser"], "patient": patient,
        "encounter": launch.get("encounter"), "nonce": pending.get("nonce"),
        "code_challenge": pending.get("code_challenge"), "session": doc["session"],
    }
    code = await auth.store.put_code(grant, auth.options.code_seconds)
    return {"code": code, "state": pending["state"]}
