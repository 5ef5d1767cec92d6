"""``fhir-server load``: each Patient of a Bundle (or NDJSON chunk) is resolved before the
Bundle is written, as the HL7 v2 feed resolves its patients
(:mod:`fhir_server.interactions.patient_resolution`): one person, one record.

For each Patient entry of the (idempotent) Bundle:

* known, or nobody like it: written as loaded;
* another stored Patient (same identifier, a certain match, an earlier decision): the entry
  becomes an update of that Patient adding the identifiers it lacks (or goes, when it has
  them all), and every reference to the loaded Patient (``Patient/<id>`` or its fullUrl)
  in the Bundle points at the stored one. References to Patients resolved in earlier files
  (NDJSON loads Patients first, then the resources that refer to them) follow the same
  aliases;
* a probable match: held for review (``fhir-server review``). A Bundle file is then not
  loaded at all (its resources belong to that patient) and not recorded as loaded: load it
  again after the decision. In an NDJSON chunk only the held Patients are left out (and
  lines that refer to a held Patient, also one held by an earlier file), and the chunk is
  loaded again next time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from importers.hl7v2.patients import with_identifiers

from ..access import SYSTEM
from ..errors import Gone, NotFound
from ..interactions import Caller
from ..interactions.patient_resolution import hold_for_review, resolve_patient

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["LoadPatients", "ResolvedBundle"]


@dataclass
class ResolvedBundle:
    """The Bundle to write (None: hold all of it), a line per held patient, and the
    indexes (in the Bundle given) of the entries kept."""

    bundle: dict[str, Any] | None
    held: list[str] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)


def _references(value: Any, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and reference.startswith("Patient/"):
            found.add(reference)
        for item in value.values():
            _references(item, found)
    elif isinstance(value, list):
        for item in value:
            _references(item, found)
    return found


def _pointed(value: Any, moves: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {k: _pointed(v, moves) for k, v in value.items()}
        reference = value.get("reference")
        if isinstance(reference, str) and reference in moves:
            out["reference"] = moves[reference]
        return out
    if isinstance(value, list):
        return [_pointed(v, moves) for v in value]
    return value


def _is_patient(entry: Any) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("resource"), dict) and \
        entry["resource"].get("resourceType") == "Patient" and \
        (entry.get("request") or {}).get("method") in (None, "PUT", "POST")


class LoadPatients:
    """The patient resolution of ``fhir-server load`` (the server's own work: SYSTEM)."""

    def __init__(self, services: Services) -> None:
        self.caller = Caller(services, SYSTEM)

    async def _onto(self, entry: dict[str, Any], target: str) -> dict[str, Any] | None:
        """The loaded Patient as an update of ``target``: its missing identifiers."""
        try:
            stored = await self.caller.resources.read(SYSTEM, "Patient", target)
        except (NotFound, Gone):
            return None
        assert stored.resource is not None
        updated = with_identifiers(stored.resource, entry["resource"])
        if updated is stored.resource:
            return None
        return {"resource": updated, "request": {"method": "PUT", "url": f"Patient/{target}",
                                                 "ifMatch": f'W/"{stored.vid}"'}}

    async def resolve(self, bundle: dict[str, Any], origin: str, *,
                      partial: bool) -> ResolvedBundle:
        """Resolve the Bundle's Patients; ``partial``: an NDJSON chunk, whose held lines
        may be left out (a Bundle file is held as a whole)."""
        entries = list(bundle.get("entry") or [])
        moves: dict[str, str] = {}
        held: dict[str, str] = {}
        replaced: dict[int, dict[str, Any] | None] = {}
        for index, entry in enumerate(entries):
            if not _is_patient(entry) or not isinstance(entry["resource"].get("id"), str):
                continue
            patient = entry["resource"]
            resolution = await resolve_patient(self.caller, patient)
            if resolution.held is not None:
                await hold_for_review(self.caller, patient, resolution, source="load",
                                      held={"kind": "load", "origin": origin})
                held[f"Patient/{patient['id']}"] = resolution.held
                replaced[index] = None
            elif resolution.target is not None and resolution.target != patient["id"]:
                new = f"Patient/{resolution.target}"
                moves[f"Patient/{patient['id']}"] = new
                if isinstance(entry.get("fullUrl"), str):
                    moves[entry["fullUrl"]] = new
                replaced[index] = await self._onto(entry, resolution.target)
        review = self.caller.services.storage.patient_review
        referenced = _references(entries, set()) - set(moves) - set(held)
        for reference in await review.open_keys(sorted(referenced)):
            held[reference] = "its patient waits for review"
        lines = [f"{reference} held for review ({why}): decide with fhir-server review, then "
                 "load again" for reference, why in held.items()]
        if held and not partial:
            return ResolvedBundle(None, lines)
        aliases = await review.aliases([r.removeprefix("Patient/") for r in referenced])
        moves.update({f"Patient/{k}": f"Patient/{v}" for k, v in aliases.items() if k != v})
        kept: dict[int, dict[str, Any]] = {}
        for index, entry in enumerate(entries):
            written = replaced[index] if index in replaced else entry
            if written is not None and not _references(written, set()) & set(held):
                kept[index] = _pointed(written, moves)
        return ResolvedBundle({**bundle, "entry": list(kept.values())}, lines, list(kept))
