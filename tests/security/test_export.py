"""Bulk export (``$export`` at system, Patient and Group level, ``_typeFilter``,
``_elements``): the NDJSON files hold exactly what the actor may see of the level's
scope, masked where a Consent masks; kick-offs the actor may not make are refused the
same way whatever exists; a job belongs to the user who started it (token ``sub``) and
its client: another user of the same client gets the answers of a job that does not
exist (poll, download, cancel). The in-process app runs the export worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from .answers import relative
from .checks import assert_like_absent, assert_nothing_protected, check_cell, in_scope
from .data import ACTORS, HIV_TEST, LOINC, OTHER_PATIENT, SITUATIONS, Actor
from .expect import HIDDEN, MASKED, STATIC, VISIBLE, key, patients_of, state
from .paths import Path, cells, render

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
TYPES = "Patient,Observation,Condition,Group,Consent,Encounter,Immunization,RelatedPerson"
_COMPARTMENT_TYPES = set(TYPES.split(","))


@dataclass(frozen=True)
class Export:
    """One export: its kick-off ``path``, which resources of the record its level and
    filters cover (``covers(resource, situation)``), whether it filters on content."""

    path: Path
    covers: Callable[[dict[str, Any], str], bool]
    content: bool = False


def _typed(*types: str) -> Callable[[dict[str, Any], str], bool]:
    return lambda resource, situation: resource["resourceType"] in types


EXPORTS = [
    Export(Path("system", "GET", f"/fhir/$export?_type={TYPES},Binary"),
           _typed(*_COMPARTMENT_TYPES, "Binary")),
    Export(Path("patient-level", "GET", f"/fhir/Patient/$export?_type={TYPES}"),
           lambda r, s: r["resourceType"] in _COMPARTMENT_TYPES and bool(patients_of(r))),
    Export(Path("group-level", "GET", f"/fhir/Group/{{id}}/$export?_type={TYPES}", "group",
                narrowing=True),
           lambda r, s: r["resourceType"] in _COMPARTMENT_TYPES and bool(
               patients_of(r) & {s, OTHER_PATIENT})),
    Export(Path("type-filter", "GET", "/fhir/$export?_type=Observation&_typeFilter="
                f"Observation%3Fcode%3D{LOINC}%7C{HIV_TEST}"),
           lambda r, s: r["resourceType"] == "Observation" and HIV_TEST in orjson.dumps(
               r.get("code")).decode(), content=True),
    Export(Path("elements", "GET", "/fhir/$export?_type=Observation&_elements=valueString,code"),
           _typed("Observation")),
    Export(Path("post-patient-level", "POST", "/fhir/Patient/$export", body={
        "resourceType": "Parameters", "parameter": [
            {"name": "_type", "valueString": "Observation,Group"}]}),
           lambda r, s: r["resourceType"] in ("Observation", "Group") and bool(patients_of(r))),
]
BY_NAME = {e.path.name: e for e in EXPORTS}
ACTOR_NAMES = ("self", "other", "doc", "outsider", "backend", "narrow")


async def run_export(server: Any, actor: Actor, situation: str, path: Path
                     ) -> tuple[Any, dict[str, list[dict[str, Any]]], list[str], str | None]:
    """Kick off, poll to the end, download: (kick-off response, type -> resources, the
    raw NDJSON texts, the status URL). Kept per actor and request."""
    sent = render(path, situation)
    cache_key = f"export {actor.name}:{situation if actor.per_situation else ''} " \
                f"{sent.cache_key()}"
    if cache_key in server.answers:
        return server.answers[cache_key]
    kick = await server.ask(actor, situation, sent.method, sent.url,
                            headers={**sent.headers, **ASYNC}, content=sent.content)
    files: dict[str, list[dict[str, Any]]] = {}
    texts: list[str] = []
    status_url = None
    if kick.status_code == 202:
        status_url = relative(kick.headers["content-location"])
        for _ in range(1200):  # up to a minute on a loaded machine
            done = await server.ask(actor, situation, "GET", status_url)
            if done.status_code != 202:
                break
            await asyncio.sleep(0.05)  # the worker runs in this event loop
        assert done.status_code == 200, done.text
        for output in done.json()["output"]:
            response = await server.ask(actor, situation, "GET", relative(output["url"]))
            assert response.status_code == 200, response.text
            texts.append(response.text)
            files.setdefault(output["type"], []).extend(
                orjson.loads(line) for line in response.content.splitlines() if line)
    server.answers[cache_key] = kick, files, texts, status_url
    return server.answers[cache_key]


LEAKS: tuple[Any, ...] = ()


@pytest.mark.parametrize("actor, path, situation",
                         cells([e.path for e in EXPORTS], LEAKS, ACTOR_NAMES))
async def test_export(server, actor, path, situation):
    who = ACTORS[actor]
    export = BY_NAME[path.name]
    where = f"[{actor} export {path.name} {situation}]"
    kick, files, texts, _ = await run_export(server, who, situation, path)
    if kick.status_code != 202:
        assert kick.status_code in (401, 403), f"{where}: {kick.status_code} {kick.text}"
        if path.target is not None:  # refused alike whatever the Group is
            absent = render(path, situation, absent=True)
            missing = await server.ask(who, situation, absent.method, absent.url,
                                       headers={**absent.headers, **ASYNC})
            assert_like_absent(kick, missing, render(path, situation).values, absent.values,
                               where)
        return
    exported = {key(r): r for rs in files.values() for r in rs}
    assert_nothing_protected(who, situation, texts, list(files.values()), where=where)
    for reference, resource in STATIC.items():
        if not in_scope(situation, resource) or not export.covers(resource, situation):
            continue
        seen = state(who, situation, resource)
        shared = len(patients_of(resource)) > 1 and path.narrowing
        if seen == HIDDEN:
            assert reference not in exported, f"{where}: {reference} exported"
        elif seen == MASKED and export.content:
            assert reference not in exported, f"{where}: masked {reference} matched a filter"
        elif seen == VISIBLE and not shared:
            assert reference in exported, f"{where}: {reference} is missing"
        if reference in exported and seen == VISIBLE and path.name != "elements":
            assert exported[reference] == {**resource, "meta": exported[reference]["meta"]} \
                or resource["resourceType"] == "Binary", f"{where}: {reference} altered"


@pytest.mark.parametrize("situation", SITUATIONS)
async def test_refused_alike(server, situation):
    """Kick-offs a token may not make are refused before anything is read: a
    practitioner's user token at system level, a patient token at system and Group level
    (the Group hidden from her or absent)."""
    for actor, url in (("doc", "/fhir/$export"), ("outsider", "/fhir/Group/{id}/$export"),
                       ("self", "/fhir/$export"), ("self", "/fhir/Group/{id}/$export")):
        path = Path("refused", "GET", url, "group" if "{id}" in url else None,
                    headers=ASYNC, exact=False)
        answer = await check_cell(server, actor, path, situation, cache=False)
        assert answer.response.status_code == 403, answer.response.text


@pytest.mark.parametrize("stranger", ["other", "doc", "backend", "self-of-another"])
async def test_jobs_belong_to_their_user(server, stranger):
    """Another user of the same client polls, downloads and cancels someone else's job:
    every answer is the answer for a job that does not exist; the owner's job goes on."""
    owner = ACTORS["self"]
    path = BY_NAME["patient-level"].path
    kick, files, _, status_url = await run_export(server, owner, "den", path)
    assert kick.status_code == 202 and status_url is not None and files
    job = status_url.rsplit("=", 1)[1]
    manifest = (await server.ask(owner, "den", "GET", status_url)).json()
    file_url = relative(manifest["output"][0]["url"])
    who, situation = (owner, "hiv") if stranger == "self-of-another" else (
        ACTORS[stranger], "den")
    found = {"id": job}
    missing = {"id": "0" * len(job)}
    for method, url in (("GET", status_url), ("GET", file_url), ("DELETE", status_url)):
        theirs = await server.ask(who, situation, method, url)
        nobodys = await server.ask(who, situation, method, url.replace(job, missing["id"]))
        assert_like_absent(theirs, nobodys, found, missing, f"[{stranger} {method} {url}]")
        assert theirs.status_code == 404, theirs.text
    assert (await server.ask(owner, "den", "GET", file_url)).status_code == 200
    assert (await server.ask(owner, "den", "GET", status_url)).status_code == 200
