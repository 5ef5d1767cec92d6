"""Booking Slots with Appointments, without double-booking (R4 appointment.html,
slot.html; run inside the Appointment write's transaction by :mod:`fhir_server.write_rules`).

An Appointment whose status holds its slots (:data:`HOLDING`: pending, booked, arrived,
fulfilled, checked-in) takes each ``Appointment.slot``: the Slot must be ``free`` (or
already held by this Appointment) and becomes ``busy``; anything else is ``409``, and
nothing is written. An Appointment that stops holding a Slot (cancelled, noshow,
entered-in-error, proposed, waitlist, the slot removed, or the Appointment deleted)
gives it back: ``free`` again.

Concurrent bookings of one Slot all write that Slot's document in their transaction, so
MongoDB lets one commit; the others conflict, are retried on the new state, find the
Slot busy and get ``409``. The Slot must be visible to the caller (else ``422``, as for
a Slot that does not exist); its status is changed by the server (the booking rule), so
the caller needs no write access to Slots.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from ..access import SYSTEM
from ..errors import BusinessRuleViolation, Conflict, Gone, NotFound, PreconditionFailed
from ..interactions import Caller
from ..storage import StoredResource

__all__ = ["hold_slots", "HOLDING"]

HOLDING = frozenset({"pending", "booked", "arrived", "fulfilled", "checked-in"})


def _slots(appointment: dict[str, Any] | None, base: str) -> list[str]:
    """The ids of the Slots an Appointment version holds."""
    if appointment is None or appointment.get("status") not in HOLDING:
        return []
    found = []
    for slot in appointment.get("slot") or []:
        reference = str((slot or {}).get("reference", "")).removeprefix(base + "/")
        kind, _, sid = reference.partition("/")
        if kind != "Slot" or not sid or "/" in sid:
            raise BusinessRuleViolation(f"Appointment.slot '{reference[:100]}' is not a "
                                        "reference to a Slot on this server")
        found.append(sid)
    return list(dict.fromkeys(found))


async def _previous(caller: Caller, stored: StoredResource) -> dict[str, Any] | None:
    if stored.vid <= 1 or (stored.created and stored.resource is not None):
        return None
    try:
        before = await caller.resources.vread(SYSTEM, "Appointment", stored.id, stored.vid - 1)
    except (NotFound, Gone):
        return None
    return before.resource


async def _set_status(caller: Caller, sid: str, status: str,
                      session: AsyncClientSession) -> None:
    slot = await caller.resources.read(SYSTEM, "Slot", sid, session)
    assert slot.resource is not None
    try:
        await caller.resources.update(SYSTEM, {**slot.resource, "status": status}, sid,
                                      if_match=slot.vid, session=session)
    except PreconditionFailed:
        raise Conflict(f"Slot/{sid} was booked at the same moment; it is no longer "
                       "free") from None


async def hold_slots(caller: Caller, stored: StoredResource,
                     session: AsyncClientSession) -> None:
    """Take the Slots this Appointment version holds and free those it no longer does."""
    base = caller.base
    held = _slots(await _previous(caller, stored), base)
    wanted = _slots(stored.resource, base)
    for sid in wanted:
        if sid in held:
            continue
        try:
            slot = await caller.resources.read(caller.policy, "Slot", sid, session)
        except (NotFound, Gone):
            raise BusinessRuleViolation(f"Slot/{sid} is not known") from None
        status = (slot.resource or {}).get("status")
        if status != "free":
            raise Conflict(f"Slot/{sid} is not free (it is {status}): choose another slot")
        await _set_status(caller, sid, "busy", session)
    for sid in held:
        if sid not in wanted:
            try:
                await _set_status(caller, sid, "free", session)
            except (NotFound, Gone):
                continue  # the Slot itself was deleted
