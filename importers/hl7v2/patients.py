"""The message's patient, resolved before anything is written: one person, one record.

A message maps to a Patient with a deterministic id (its primary identifier, see
``mapping/patient.py``). Before the writes, the server is asked which stored Patient that
record is (:class:`PatientDirectory`, implemented by the server's feed store: by
identifier, then a certain ``$match``; see docs/identity.md):

* the mapped one (known, or nobody like it): the writes go ahead unchanged;
* another stored Patient: every reference to the mapped Patient is pointed at it, and the
  Patient write becomes an amendment of it: ADT messages replace its demographics (keeping
  its links and its identifiers from other systems), other messages leave them and only
  add the identifiers the message knows it by;
* held for review (a probable match): nothing is written; the message waits, as a dead
  letter with status ``held``, for a reviewer to link or reject (``fhir-server review``).

ADT^A40 merges name their patients explicitly and are not resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .mapping import Write
from .message import V2Message

__all__ = ["PatientResolution", "PatientDirectory", "Resolved", "resolve_message_patient",
           "with_identifiers"]


@dataclass(frozen=True)
class PatientResolution:
    """``target``: the stored Patient id the message is about (None: the mapped one);
    ``held``: why the message waits for review instead."""

    target: str | None = None
    held: str | None = None


class PatientDirectory(Protocol):
    async def resolve_patient(self, patient: dict[str, Any], *,
                              message_key: str) -> PatientResolution:
        """Where the mapped ``patient`` belongs (putting it up for review if unsure)."""


@dataclass(frozen=True)
class Resolved:
    writes: list[Write]
    held: str | None = None


def with_identifiers(stored: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any]:
    """``stored`` with the identifiers (with a system) of ``planned`` it lacks."""
    have = {(i.get("system"), i.get("value")) for i in stored.get("identifier") or []
            if isinstance(i, dict)}
    extra = [i for i in planned.get("identifier") or [] if isinstance(i, dict)
             and i.get("system") and (i.get("system"), i.get("value")) not in have]
    return {**stored, "identifier": [*(stored.get("identifier") or []), *extra]} if extra \
        else stored


def _pointed(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        out = {k: _pointed(v, old, new) for k, v in value.items()}
        if value.get("reference") == old:
            out["reference"] = new
        return out
    if isinstance(value, list):
        return [_pointed(v, old, new) for v in value]
    return value


def _onto(write: Write, target: str) -> Write:
    """The Patient write as an amendment of the stored ``target``."""
    def amend(stored: dict[str, Any] | None, planned: dict[str, Any]) -> dict[str, Any]:
        if write.mode == "amend" and write.amend is not None:
            base = write.amend(stored, planned)
        else:
            base = stored if stored is not None else planned
        return with_identifiers(base, planned)

    return Write({**write.resource, "id": target}, "amend", amend, write.source)


async def resolve_message_patient(directory: PatientDirectory, message: V2Message, key: str,
                                  writes: list[Write]) -> Resolved:
    """The writes of a message about its resolved patient, or the reason it is held."""
    patients = [w for w in writes if w.resource["resourceType"] == "Patient"]
    if message.event_type == "ADT^A40" or len(patients) != 1:
        return Resolved(writes)
    planned = patients[0]
    resolution = await directory.resolve_patient(planned.resource, message_key=key)
    if resolution.held is not None:
        return Resolved([], resolution.held)
    mapped = planned.resource["id"]
    if resolution.target is None or resolution.target == mapped:
        return Resolved(writes)
    old, new = f"Patient/{mapped}", f"Patient/{resolution.target}"
    return Resolved([_onto(w, resolution.target) if w is planned else
                     Write(_pointed(w.resource, old, new), w.mode, w.amend, w.source)
                     for w in writes])
