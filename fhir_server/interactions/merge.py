"""Merging two Patient records (R5 ``Patient/$merge`` semantics,
https://hl7.org/fhir/R5/patient-operation-merge.html), in ONE MongoDB transaction:

* every resource in the source's compartment that references the source (``Patient/S`` or
  ``[base]/Patient/S``) is re-pointed to the target, each as a new version (its previous
  version stays in its history); versioned references (``Patient/S/_history/2``, e.g. a
  Provenance target) name one version of the source and are left as they are; AuditEvents
  are append-only and keep naming the source;
* the source gets ``active: false`` and a ``replaced-by`` link to the target;
* the target gets a ``replaces`` link to the source and the source's identifiers it lacks,
  with ``use: old`` (so a search by any of them finds the target; the source keeps holding
  its health ID), or becomes ``result`` when the caller gives the resulting Patient.

Every read and write goes through the caller's access policy: the caller must be able to
change both patients and every moved resource, and the merge is refused (403) when the
policy hides any resource of the source's compartment (a merge must be complete). A
failure anywhere aborts the transaction and nothing changes. ``preview`` runs everything
and then aborts, reporting what would have changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from ..errors import BusinessRuleViolation, Forbidden, InvalidRequest
from ..identity import normalise_health_id
from ..storage import StoredResource
from .caller import Caller
from .validate import validate

__all__ = ["MergeResult", "merge_patients", "MAX_MOVED"]

MAX_MOVED = 5000


@dataclass
class MergeResult:
    """What a merge changed (or, for a preview, would change)."""

    source: StoredResource
    target: StoredResource
    moved: list[StoredResource] = field(default_factory=list)
    copied_identifiers: int = 0
    preview: bool = False


class _Preview(Exception):  # noqa: N818 - control flow: abort the transaction, keep the result
    def __init__(self, result: MergeResult) -> None:
        super().__init__("preview")
        self.result = result


def _repointed(value: Any, pattern: re.Pattern[str], target: str) -> Any:
    """``value`` with every reference matching ``pattern`` pointed at ``target`` (the base
    part of an absolute reference kept)."""
    if isinstance(value, dict):
        out = {k: _repointed(v, pattern, target) for k, v in value.items()}
        reference = value.get("reference")
        if isinstance(reference, str):
            found = pattern.fullmatch(reference)
            if found:
                out["reference"] = f"{found.group(1)}Patient/{target}"
        return out
    if isinstance(value, list):
        return [_repointed(v, pattern, target) for v in value]
    return value


def _identifier_key(identifier: Any) -> tuple[Any, str] | None:
    if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
        return identifier.get("system"), normalise_health_id(identifier["value"])
    return None


def _link(patient: dict[str, Any], other: str, kind: str) -> list[dict[str, Any]]:
    link = {"other": {"reference": f"Patient/{other}"}, "type": kind}
    kept = [x for x in patient.get("link") or [] if x != link]
    return [*kept, link]


def _retired(source: dict[str, Any], target_id: str) -> dict[str, Any]:
    return {**source, "active": False, "link": _link(source, target_id, "replaced-by")}


def _survivor(target: dict[str, Any], source: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The target with the ``replaces`` link and the source's identifiers it lacks."""
    own = {_identifier_key(i) for i in target.get("identifier") or []}
    copied = [{**i, "use": "old"} for i in source.get("identifier") or []
              if _identifier_key(i) is not None and _identifier_key(i) not in own]
    survivor = {**target, "link": _link(target, source["id"], "replaces")}
    if copied:
        survivor["identifier"] = [*(target.get("identifier") or []), *copied]
    return survivor, len(copied)


def _check_result(result: dict[str, Any], target: dict[str, Any], source_id: str
                  ) -> dict[str, Any]:
    """The caller's ``result-patient``: the target's id, with the ``replaces`` link."""
    if result.get("id") != target["id"]:
        raise InvalidRequest(f"result-patient must have the target's id ({target['id']}), "
                             f"not '{str(result.get('id'))[:64]}'")
    return {**result, "link": _link(result, source_id, "replaces")}


async def _move(caller: Caller, source_id: str, target_id: str,
                session: AsyncClientSession) -> list[StoredResource]:
    """Re-point the source's compartment to the target; the new versions."""
    members, hidden = await caller.services.storage.compartment_members.of(
        caller.policy, f"Patient/{source_id}", session)
    if hidden:
        raise Forbidden("You may not merge these patients: the source's record holds "
                        "resources you may not change")
    members = [(t, i) for t, i in members if (t, i) not in
               {("Patient", source_id), ("Patient", target_id)}]
    if len(members) > MAX_MOVED:
        raise BusinessRuleViolation(f"The source's record has {len(members)} resources; a "
                                    f"merge moves at most {MAX_MOVED} in one transaction")
    base = re.escape(caller.base.rstrip("/") + "/")
    pattern = re.compile(rf"((?:{base})?)Patient/{re.escape(source_id)}")
    moved = []
    for resource_type, rid in members:
        current = await caller.resources.current_for_change(caller.policy, resource_type, rid,
                                                            session)
        assert current.resource is not None
        repointed = _repointed(current.resource, pattern, target_id)
        if repointed != current.resource:
            moved.append(await caller.resources.update(
                caller.policy, repointed, rid, if_match=current.vid, session=session))
    return moved


async def merge_patients(caller: Caller, source_id: str, target_id: str, *,
                         result: dict[str, Any] | None = None,
                         preview: bool = False) -> MergeResult:
    """Merge Patient ``source_id`` into ``target_id`` (see the module docstring)."""
    if source_id == target_id:
        raise InvalidRequest("The source and target patients are the same record")

    async def work(session: AsyncClientSession) -> MergeResult:
        resources, policy = caller.resources, caller.policy
        source = await resources.current_for_change(policy, "Patient", source_id, session)
        target = await resources.current_for_change(policy, "Patient", target_id, session)
        assert source.resource is not None and target.resource is not None
        for name, patient in (("source", source.resource), ("target", target.resource)):
            if any(link.get("type") == "replaced-by" for link in patient.get("link") or []
                   if isinstance(link, dict)):
                raise BusinessRuleViolation(f"The {name} patient was already merged into "
                                            "another record (it has a replaced-by link)")
        if result is not None:
            survivor, copied = _check_result(result, target.resource, source_id), 0
        else:
            survivor, copied = _survivor(target.resource, source.resource)
        validate(caller, survivor)
        moved = await _move(caller, source_id, target_id, session)
        retired = await resources.update(policy, _retired(source.resource, target_id),
                                         source_id, if_match=source.vid, session=session)
        kept = await resources.update(policy, survivor, target_id, if_match=target.vid,
                                      session=session)
        outcome = MergeResult(retired, kept, moved, copied, preview)
        if preview:
            raise _Preview(outcome)
        return outcome

    try:
        return await caller.resources.in_transaction(work)
    except _Preview as previewed:
        return previewed.result
