"""The access log (AuditEvent): one event per patient touched, writes included; a patient
sees only events about her own record, and events never mention another patient; nobody
learns from the log what they may not see (an event about a hidden resource is not
shown, and the event of asking for a hidden resource is the event of asking for an
absent one).

Each cell starts from an empty log, has the actor ask for the situation's telling
resource and for an absent one, lets others work on the record (the doctor reads and
writes, the outsider reads), then reads the log as the actor: ``AuditEvent`` search,
``patient=``, ``entity=``, the compartment and ``$everything?_type=AuditEvent``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from .answers import entries, fetch
from .checks import check_cell
from .data import ACTORS, OTHER_PATIENT, PATIENTS, observation
from .expect import HIDDEN, STATIC, state
from .paths import ABSENT, MAIN_ACTORS, Leak, Path, cells, render


def _log_paths() -> list[Path]:
    return [Path("read-log", "GET", "/fhir/AuditEvent?_count=500", exact=False)]


async def _events(server: Any, actor: str, situation: str, url: str) -> list[dict[str, Any]]:
    answer = await fetch(server, ACTORS[actor], situation,
                         render(Path("log", "GET", url), situation), cache=False)
    if answer.response.status_code != 200:
        assert answer.response.status_code in (401, 403), answer.response.text[:300]
        return []
    return [r for _, r in entries(answer.bodies) if r["resourceType"] == "AuditEvent"]


def _named(event: dict[str, Any]) -> set[str]:
    return {e["what"]["reference"] for e in event.get("entity", []) if "what" in e}


def _about(event: dict[str, Any], url: str) -> bool:
    return f" {url} " in event.get("outcomeDesc", "") or f" {url}?" in event.get(
        "outcomeDesc", "")


def _comparable(events: list[dict[str, Any]], rid: str) -> list[str]:
    """Events with the asked id, ids, timestamps and token left out."""
    found = []
    for event in events:
        kept = {k: v for k, v in event.items() if k not in ("id", "meta", "recorded")}
        text = re.sub(rf"(?<![\w-]){re.escape(rid)}(?![\w-])", "{id}", json.dumps(kept))
        found.append(text)
    return sorted(found)


async def _work_on_the_record(server: Any, situation: str) -> None:
    """Others touch the record: the doctor reads the situation's resources and the other
    patient's, searches and writes; the outsider reads."""
    for url in (f"/fhir/Observation/{situation}-vital", f"/fhir/Observation/{situation}-psy",
                f"/fhir/Observation/{OTHER_PATIENT}-vital",
                f"/fhir/Observation?patient={situation}"):
        await server.ask("doc", situation, "GET", url)
    await server.ask("outsider", situation, "GET", f"/fhir/Observation/{situation}-vital")
    written = await server.ask("doc", situation, "POST", "/fhir/Observation", json={
        **observation("x", situation, "vital-signs", "29463-7"), "id": None,
        "valueString": "written by the doctor"})
    assert written.status_code == 201, written.text


LEAKS = (
    Leak("the access log names resources hidden from its reader: an AuditEvent recording a "
         "denied read of Observation/hiv-hiv (entity.what, decision deny, the Consent's "
         "reasons) is readable by practitioners and backends; AuditEvent?entity="
         "Observation/hiv-hiv finds it, an absent id finds nothing",
         ("read-log", "audit-entity", "audit-patient", "audit-compartment", "audit-everything"),
         ("doc", "clerk", "outsider", "backend"), ("hiv",)),
    Leak("the access log tells hidden from absent: the outsider's read of "
         "Observation/den-vital is logged in den's record only (hidden from him), his read "
         "of an absent id in a patient-less event he can list",
         ("read-log",), ("outsider",), ("den",)),
)


@pytest.mark.parametrize("actor, path, situation", cells(_log_paths(), LEAKS, MAIN_ACTORS))
async def test_the_log_tells_nothing_hidden(server, actor, path, situation):
    who = ACTORS[actor]
    target = {"den": "Observation/den-vital", "hiv": "Observation/hiv-hiv",
              "psy": "Observation/psy-psy", "free": "Observation/free-hiv"}[situation]
    kind, rid = target.split("/")
    absent = f"{kind}/{ABSENT}{rid}"
    await server.db["AuditEvent"].delete_many({})
    for url in (f"/fhir/{target}", f"/fhir/{absent}"):
        await server.ask(who, situation, "GET", url)
    await _work_on_the_record(server, situation)
    events = await _events(server, actor, situation, path.url)
    where = f"[{actor} audit {situation}]"
    own = who.patient_of(situation)
    for event in events:
        text = json.dumps(event)
        for url in (f"/fhir/{target}", f"/fhir/{absent}"):  # the actor's own requests
            text = text.replace(url, "/fhir/{asked}")
        for reference in _named(event):
            if reference in STATIC:
                assert state(who, situation, STATIC[reference]) != HIDDEN, \
                    f"{where}: an event names {reference}, hidden from {actor}: {text[:600]}"
        if own is not None:
            assert f"Patient/{own}" in _named(event), \
                f"{where}: an event not about Patient/{own}: {text[:600]}"
            for other in set(PATIENTS) - {own}:
                assert not re.search(rf"(?<![\w-]){other}(?![\w])", text), \
                    f"{where}: an event mentions patient {other}: {text[:600]}"
    if state(who, situation, STATIC[target]) == HIDDEN:
        asked = [e for e in events if _about(e, f"/fhir/{target}")]
        missing = [e for e in events if _about(e, f"/fhir/{absent}")]
        assert _comparable(asked, rid) == _comparable(missing, ABSENT + rid), \
            f"{where}: the log tells asking for hidden {target} from asking for an " \
            f"absent one:\nhidden: {_comparable(asked, rid)}\n" \
            f"absent: {_comparable(missing, ABSENT + rid)}"
    if own == situation:
        written = [e for e in events if e.get("action") == "C"
                   and f"Patient/{situation}" in _named(e)]
        assert written, f"{where}: the doctor's write is not in the patient's access log"


AUDIT_SEARCHES = [
    Path("audit-patient", "GET", "/fhir/AuditEvent?patient={id}", "patient", exact=False),
    Path("audit-entity", "GET", "/fhir/AuditEvent?entity={ref}", "obs", exact=False),
    Path("audit-compartment", "GET", "/fhir/Patient/{id}/AuditEvent", "patient", exact=False),
    Path("audit-everything", "GET", "/fhir/Patient/{id}/$everything?_type=AuditEvent",
         "patient", exact=False),
    # an event about the record, read by id (the absent twin: an id no event has)
    Path("audit-read", "GET", "/fhir/AuditEvent/{event}", "patient", exact=False),
]


SEARCHING_ACTORS = ("self", "other", "doc", "outsider", "backend")


@pytest.mark.parametrize("actor, path, situation",
                         cells(AUDIT_SEARCHES, LEAKS, SEARCHING_ACTORS))
async def test_searching_the_log(server, actor, path, situation):
    """Searching the log about a record hidden from the actor answers as about a record
    that does not exist, even when the log has events about it."""
    await server.db["AuditEvent"].delete_many({})
    for reference in ("Observation/{s}-vital", "Observation/{s}-hiv"):
        await server.ask("doc", situation, "GET", "/fhir/" + reference.format(s=situation))
    extra = extra_absent = None
    if "{event}" in path.url:
        event = await server.db["AuditEvent"].find_one(
            {"resource.entity.what.reference": f"Patient/{situation}",
             "resource.outcomeDesc": {"$regex": f"{situation}-vital"}})
        extra, extra_absent = {"event": event["_id"]}, {"event": f"{ABSENT}-event"}
    answer = await check_cell(server, actor, path, situation, cache=False, extra=extra,
                              extra_absent=extra_absent)
    own = ACTORS[actor].patient_of(situation)
    if own is not None and answer.response.status_code == 200:
        for body in answer.bodies:
            for _, event in entries([body]):
                assert f"Patient/{own}" in _named(event), json.dumps(event)[:600]
