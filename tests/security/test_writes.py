"""Writes aimed at what the actor may not see: update, patch and delete, with ``If-Match``
(right, wrong, any version), their conditional forms, conditional create
(``If-None-Exist`` and search parameters on the POST), and the same as batch and
transaction entries (with a conditional reference). A hidden resource is never
changed, and every answer is the answer for a resource that does not exist, except the
documented limit: a PUT without ``If-Match`` of a hidden id is 404 where an absent id
would be created. A masked resource is never changed either (403).

This module runs last: its writes create resources (which the checks allow) but never
change the record the other modules read.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .checks import check_cell
from .data import ACTORS, CATEGORY, observation, secret
from .expect import HIDDEN, MASKED, STATIC, VISIBLE, state
from .paths import TARGETS, Leak, Path, cells, target_of

WRONG = 'W/"9"'
PATCH = [{"op": "add", "path": "/language", "value": "fr"}]
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def _changed(found: dict[str, str]) -> dict[str, Any]:
    """The target as stored, with one harmless change (for the absent twin: its id)."""
    kind, rid = found["ref"].split("/")
    reference = found["ref"] if found["ref"] in STATIC else TARGETS[found["role"]](
        found["situation"])
    changed = json.loads(json.dumps(STATIC[reference]).replace(secret(reference), "changed"))
    return {**changed, "id": rid, "language": "fr"}


def _new(found: dict[str, str]) -> dict[str, Any]:
    """A new Observation for the situation's patient (conditional create and update)."""
    resource = observation("x", found["patient"], "laboratory", "29463-7")
    return {k: v for k, v in resource.items() if k != "id"}


def _bundle(kind: str, *entries: dict[str, Any]) -> Any:
    def build(found: dict[str, str]) -> dict[str, Any]:
        filled = json.loads(json.dumps(list(entries)).replace("{ref}", found["ref"]).replace(
            "{type}", found["type"]).replace("{id}", found["id"]))
        for entry in filled:
            if entry.get("resource") == "changed":
                entry["resource"] = _changed(found)
            elif entry.get("resource") == "new":
                entry["resource"] = _new(found)
        return {"resourceType": "Bundle", "type": kind, "entry": filled}
    return build


def _request(method: str, url: str, resource: str | None = None, **request: str
             ) -> dict[str, Any]:
    entry: dict[str, Any] = {"request": {"method": method, "url": url, **request}}
    if resource:
        entry["resource"] = resource
    return entry


ON_TARGET = [
    Path("put-if-match", "PUT", "/fhir/{ref}", body=_changed, headers={"If-Match": 'W/"1"'}),
    Path("put-if-match-wrong", "PUT", "/fhir/{ref}", body=_changed, headers={"If-Match": WRONG}),
    Path("put", "PUT", "/fhir/{ref}", body=_changed, absent_alike=False),
    Path("delete", "DELETE", "/fhir/{ref}"),
    Path("delete-if-match", "DELETE", "/fhir/{ref}", headers={"If-Match": 'W/"1"'}),
    Path("delete-if-match-wrong", "DELETE", "/fhir/{ref}", headers={"If-Match": WRONG}),
    Path("patch", "PATCH", "/fhir/{ref}", body=PATCH, headers=JSON_PATCH),
    Path("patch-if-match-wrong", "PATCH", "/fhir/{ref}", body=PATCH,
         headers={**JSON_PATCH, "If-Match": WRONG}),
    Path("conditional-update-id", "PUT", "/fhir/{type}?_id={id}", body=_changed,
         absent_alike=False),
    Path("conditional-update", "PUT", "/fhir/{type}?_id={id}",
         body=lambda found: {k: v for k, v in _changed(found).items() if k != "id"}),
    Path("conditional-patch", "PATCH", "/fhir/{type}?_id={id}", body=PATCH, headers=JSON_PATCH),
    Path("conditional-delete", "DELETE", "/fhir/{type}?_id={id}"),
    Path("conditional-delete-two", "DELETE", "/fhir/{type}?_id={id},{decoy}"),
    Path("conditional-create", "POST", "/fhir/Observation", body=_new,
         headers={"If-None-Exist": "_id={id}"}),
    Path("conditional-create-url", "POST", "/fhir/Observation?_id={id}", body=_new),
    Path("batch", "POST", "/fhir", body=_bundle(
        "batch", _request("PUT", "{ref}", "changed", ifMatch='W/"1"'),
        _request("PUT", "{ref}", "changed", ifMatch=WRONG),
        _request("DELETE", "{ref}"), _request("DELETE", "{ref}", ifMatch='W/"1"'),
        _request("POST", "Observation", "new", ifNoneExist="_id={id}"),
        _request("PUT", "{type}?_id={id}", "new"), _request("DELETE", "{type}?_id={id}"))),
    Path("transaction-conditional", "POST", "/fhir", body=_bundle(
        "transaction", _request("POST", "Observation", "new", ifNoneExist="_id={id}"),
        _request("DELETE", "{type}?_id={id}"))),
    Path("transaction-reference", "POST", "/fhir", body=lambda found: {
        "resourceType": "Bundle", "type": "transaction", "entry": [{
            "request": {"method": "POST", "url": "Observation"},
            "resource": {**_new(found), "derivedFrom": [
                {"reference": f"{found['type']}?_id={found['id']}"}]}}]}),
]
# The Immunization of the issue's example ("a conditional PUT overwrote a denied
# patient's Immunization"): the main forms only.
_IMMUNIZATION = ("put-if-match", "put", "conditional-update", "conditional-update-id",
                 "delete", "patch", "batch")
PATHS = [Path(p.name + f":{role}", p.method, p.url, role, body=p.body, headers=p.headers,
              absent_alike=p.absent_alike, positive=False)
         for role in ("obs", "imm") for p in ON_TARGET
         if role == "obs" or p.name in _IMMUNIZATION]
# On a resource the actor may see, only what cannot change it: a wrong version is 412.
_SAFE = ("put-if-match-wrong", "delete-if-match-wrong", "patch-if-match-wrong")


CORE = {"put-if-match:obs", "put-if-match-wrong:obs", "conditional-update:obs", "delete:obs",
        "batch:obs"}


def _applicable() -> list[Any]:
    found = []
    for param in cells(PATHS, LEAKS, core=CORE):
        actor, path, situation = param.values
        seen = state(ACTORS[actor], situation, STATIC[target_of(path, situation)])
        if seen != VISIBLE or path.name.split(":")[0] in _SAFE:
            found.append(param)
    return found


async def _snapshot(server: Any, reference: str) -> tuple[Any, int]:
    kind, rid = reference.split("/")
    db = server.db
    current = await db[kind].find_one({"_id": rid}, {"search": 0})
    versions = await db["history"].count_documents({"type": kind, "id": rid})
    return current, versions


async def _decoy(server: Any, actor: str, situation: str, name: str) -> str:
    """A resource the actor may see and may delete (the second match of a conditional
    delete): an Observation of a patient whose record it sees."""
    from fhir_server.access import SYSTEM

    who = ACTORS[actor]
    patient = who.patient_of(situation) or "free"
    rid = f"decoy-{actor}-{situation}-{name}"
    resource = {**observation(rid, patient, "laboratory", "29463-7"),
                "category": [{"coding": [{"system": CATEGORY, "code": "laboratory"}]}]}
    await server.app.state.services.storage.resources.update(SYSTEM, resource, rid)
    return rid


LEAKS: tuple[Leak, ...] = ()


@pytest.mark.parametrize("actor, path, situation", _applicable())
async def test_write(server, actor, path, situation):
    reference = target_of(path, situation)
    seen = state(ACTORS[actor], situation, STATIC[reference])
    before = await _snapshot(server, reference)
    extra = extra_absent = None
    if "{decoy}" in path.url:
        extra = {"decoy": await _decoy(server, actor, situation, "1")}
        extra_absent = {"decoy": await _decoy(server, actor, situation, "2")}
    answer = await check_cell(server, actor, path, situation, cache=False, extra=extra,
                              extra_absent=extra_absent)
    status = answer.response.status_code
    where = f"[{actor} {path.name} {situation}]"
    if seen in (HIDDEN, MASKED):
        assert await _snapshot(server, reference) == before, f"{where}: {reference} changed"
    if not path.absent_alike and seen == HIDDEN:
        assert status in (403, 404), f"{where}: {status} {answer.response.text[:300]}"
    if seen == VISIBLE:
        assert status in (403, 412), f"{where}: {status} {answer.response.text[:300]}"
    if seen == MASKED and path.url != "/fhir" and path.method != "POST":
        assert status >= 400, f"{where}: {status} {answer.response.text[:300]}"
    if extra:
        kind = "Observation"
        still = await server.db[kind].find_one({"_id": extra["decoy"]})
        if seen == HIDDEN and status in (200, 204):
            assert still is None, f"{where}: the one visible match was not deleted"


async def test_the_record_the_other_modules_read_is_unchanged(server):
    """Every resource of the record is as stored (the writes above changed nothing)."""
    for reference, resource in STATIC.items():
        kind, rid = reference.split("/")
        stored = await server.db[kind].find_one({"_id": rid})
        assert stored is not None and stored["vid"] == 1, reference
        assert {k: v for k, v in stored["resource"].items() if k != "meta"} == {
            k: v for k, v in resource.items() if k not in ("meta", "data")} or \
            kind == "Binary", reference
