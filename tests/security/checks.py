"""The generic checkers every cell of the leak suite runs.

A cell is (actor, path, situation) (paths.py); its target is one resource of the
situation's patient. Every cell asserts:

1. **nothing protected leaves**: no secret of a resource the actor may not see in full
   is in the answer (raw or base64), and no resource the actor may not see is in it;
   masked ones carry the MASKED label;
2. **hidden is absent**: when the target is hidden from the actor, the answer equals
   (status, headers that matter, body but for the target's id and timestamps) the answer
   for a resource that never existed (id ``nx-absent``);
3. **the rest is exact** (searches, histories, ``$everything``): every page is followed;
   the results are the oracle's (the same request with access control off) that the
   actor may see (and whose joins it may see), includes hang on something shown, and
   ``total`` is the number of matches shown.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from typing import Any
from urllib.parse import unquote

import httpx

from consent.masking import is_masked

from .answers import Answer, entries, fetch, references_of, resources_in
from .data import ACTORS, OTHER_PATIENT, Actor, binary_content, secret
from .expect import (
    HIDDEN,
    MASKED,
    OPTIONAL,
    STATIC,
    VISIBLE,
    key,
    patients_of,
    protected,
    state,
)
from .paths import Path, render, target_of


def _secrets(reference: str) -> list[str]:
    found = [secret(reference)]
    if reference.startswith("Binary/"):
        content = binary_content(reference.split("/")[1].removesuffix("-bin"))
        found += [content.decode(), base64.b64encode(content).decode()]
    return found


def in_scope(situation: str, resource: dict[str, Any]) -> bool:
    """Whether a resource belongs to a cell of ``situation``: the situation patient's
    record, the other patient's, or no patient's (so that a leak of one patient's data
    fails that patient's cells, not every cell of a population search)."""
    patients = patients_of(resource)
    return not patients or bool(patients & {situation, OTHER_PATIENT})


@functools.cache
def _named(reference: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(reference)}(?![\w-])")


def assert_nothing_protected(actor: Actor, situation: str, texts: list[str],
                             bodies: list[Any], echoed: dict[str, str] | None = None,
                             where: str = "", asked: str = "") -> None:
    """Check 1: no secret or resource the actor may not see in full, and no reference
    to a hidden resource that the request itself did not name (``asked``). References
    are not checked for a token limited by a query (its Observations may name the
    patient and visit it cannot read)."""
    echoed = echoed or {}
    shown = [t for t in texts]
    for name in ("secret",):
        if name in echoed:
            shown = [t.replace(echoed[name], "{" + name + "}") for t in shown]
    unquoted = [unquote(t) for t in shown]
    for reference, seen in protected(actor, situation).items():
        if not in_scope(situation, STATIC[reference]):
            continue
        for text in shown:
            for value in _secrets(reference):
                assert value not in text, f"{where}: the content of {reference} ({seen}) " \
                                          f"is in the answer"
        if seen != HIDDEN or actor.observation_category is not None or reference in asked:
            continue
        named = _named(reference)
        for text in unquoted:
            assert not named.search(text), f"{where}: the answer names {reference}, " \
                                           f"hidden from {actor.name}"
    for body in bodies:
        for resource in resources_in(body):
            reference = key(resource)
            if reference not in STATIC or not in_scope(situation, STATIC[reference]):
                continue
            seen = state(actor, situation, STATIC[reference])
            assert seen != HIDDEN, f"{where}: {reference} (hidden from {actor.name}) " \
                                   "is in the answer"
            if seen == MASKED:
                assert is_masked(resource), f"{where}: {reference} is shown unmasked"


_NAMED = ("id", "ref", "secret", "decoy", "event")  # values that name the target
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_VOLATILE = {"lastUpdated", "lastModified", "timestamp", "date", "recorded"}
_COMPARED_HEADERS = ("etag", "location", "content-location", "last-modified",
                     "www-authenticate", "content-type", "x-break-glass")


def _placeheld(text: str, found: dict[str, str]) -> str:
    """``text`` with each of ``found``'s values, as a whole word, replaced by its name."""
    for name in sorted(found, key=lambda n: -len(found[n])):
        text = re.sub(rf"(?<![\w-]){re.escape(found[name])}(?![\w-])", "{" + name + "}",
                      text)
    return text


def _stable(node: Any, top: bool = True) -> Any:
    if isinstance(node, dict):
        kept = {}
        for k, v in node.items():
            if k in _VOLATILE or (k == "id" and node.get("resourceType") in (
                    "Bundle", "OperationOutcome")):
                continue
            kept[k] = _stable(v, False)
        return kept
    if isinstance(node, list):
        return [_stable(v, False) for v in node]
    return node


def comparable(response: httpx.Response, found: dict[str, str]) -> dict[str, Any]:
    """An answer with the target's id, reference, secret and timestamps left out."""
    replaced = {k: v for k, v in found.items() if k in _NAMED or (
        k == "patient" and found.get("type") == "Patient")}
    text = _UUID.sub("{uuid}", _placeheld(unquote(response.text), replaced))
    try:
        body: Any = _stable(json.loads(text))
    except ValueError:
        body = text
    headers = {h: _UUID.sub("{uuid}", _placeheld(response.headers[h], replaced))
               for h in _COMPARED_HEADERS if h in response.headers}
    if "last-modified" in headers:
        headers["last-modified"] = "present"
    return {"status": response.status_code, "headers": headers, "body": body}


def assert_like_absent(seen: httpx.Response, absent: httpx.Response, real: dict[str, str],
                       missing: dict[str, str], where: str) -> None:
    """Check 2: the hidden target's answer is the absent one's."""
    left, right = comparable(seen, real), comparable(absent, missing)
    assert left == right, f"{where}: hidden and absent answers differ:\n" \
                          f"hidden: {json.dumps(left)[:900]}\nabsent: {json.dumps(right)[:900]}"


def assert_exact(actor: Actor, situation: str, path: Path, pages: list[Any],
                 oracle_pages: list[Any], where: str) -> set[str]:
    """Check 3 on searchset-like answers; returns the keys of the matches shown."""
    shown = entries(pages)
    matches = {key(r) for mode, r in shown if mode == "match"}
    expected = {key(r): r for mode, r in entries(oracle_pages) if mode == "match"}
    returned = {key(r): r for _, r in shown}
    for reference in matches:
        assert reference in expected or reference not in STATIC, \
            f"{where}: {reference} matched, but not for the oracle"
    for reference in expected:
        if reference not in STATIC or not in_scope(situation, STATIC[reference]):
            continue
        seen = state(actor, situation, STATIC[reference])
        joined = [state(actor, situation, STATIC[j]) for j in (
            path.joins(reference, situation) if path.joins else []) if j in STATIC]
        if HIDDEN in joined or (path.content and MASKED in joined):
            assert reference not in matches, \
                f"{where}: {reference} matched through a resource hidden from {actor.name}"
            continue
        shared = len(patients_of(STATIC[reference])) > 1 and path.narrowing
        if seen == VISIBLE and not shared and OPTIONAL not in joined and MASKED not in joined:
            assert reference in matches, f"{where}: {reference} is missing (visible to " \
                                         f"{actor.name})"
        if seen == MASKED and path.content:
            assert reference not in matches, \
                f"{where}: masked {reference} matched a search on content"
    for mode, resource in shown:
        if mode != "include":
            continue
        reference = key(resource)
        if reference in STATIC and not in_scope(situation, STATIC[reference]):
            continue
        linked = any(reference in references_of(other) or key(other) in references_of(
            resource) for other in returned.values() if key(other) != reference)
        assert linked, f"{where}: included {reference} hangs on nothing shown"
    totals = [p.get("total") for p in pages if isinstance(p, dict) and "total" in p]
    if totals and path.count_of is None:
        assert all(t == len(matches) for t in totals), \
            f"{where}: total {totals} but {len(matches)} matches shown"
    return matches


def assert_shown(answer: Answer, reference: str, embedded: bool, where: str) -> None:
    """A target the actor may see: the request succeeds (every entry of a batch too),
    and the target is in the answer where it should be."""
    response = answer.response
    if response.status_code == 403 and "insufficient_scope" in response.headers.get(
            "www-authenticate", ""):
        return  # the interaction itself is outside the token's scopes, whatever the data
    assert response.status_code < 400, f"{where}: {response.status_code} for a resource " \
                                       f"the actor may see: {response.text[:300]}"
    body = answer.bodies[0]
    if isinstance(body, dict) and body.get("type") in ("batch-response",
                                                       "transaction-response"):
        statuses = [e.get("response", {}).get("status", "") for e in body.get("entry", [])]
        assert all(s[:1] in "23" for s in statuses), f"{where}: entries {statuses}"
    if embedded:
        shown = {key(r) for b in answer.bodies for r in resources_in(b)}
        assert reference in shown, f"{where}: {reference} is not in the answer"


def hidden_target(actor: Actor, situation: str, reference: str | None) -> bool:
    """Whether the target is hidden from the actor; for a Patient, her whole record (a
    request naming her may show her other resources the actor can see)."""
    if reference is None or reference not in STATIC:
        return False
    if reference.startswith("Patient/"):
        patient = reference.split("/")[1]
        return all(state(actor, situation, r) == HIDDEN for r in STATIC.values()
                   if patient in patients_of(r))
    return state(actor, situation, STATIC[reference]) == HIDDEN


def _listing(body: Any) -> bool:
    return isinstance(body, dict) and body.get("resourceType") == "Bundle" and body.get(
        "type") in ("searchset", "history")


async def check_cell(server: Any, actor_name: str, path: Path, situation: str, *,
                     cache: bool = True, extra: dict[str, str] | None = None,
                     extra_absent: dict[str, str] | None = None) -> Answer:
    """Checks 1 to 3 for one cell; returns the actor's answer. ``extra`` /
    ``extra_absent``: more placeholder values for the request and its absent twin."""
    actor = ACTORS[actor_name]
    where = f"[{actor_name} {path.name} {situation}]"
    sent = render(path, situation, extra=extra)
    answer = await fetch(server, actor, situation, sent, cache)
    response = answer.response
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:300]}"
    assert_nothing_protected(actor, situation, answer.texts, answer.bodies, sent.values, where,
                             sent.asked)
    reference = target_of(path, situation)
    if reference is not None and reference in STATIC and state(
            actor, situation, STATIC[reference]) in (VISIBLE, MASKED) and path.positive:
        assert_shown(answer, reference, path.shows_target, where)
    if hidden_target(actor, situation, reference) and path.absent_alike:
        missing = render(path, situation, absent=True, extra=extra_absent)
        absent = await fetch(server, actor, situation, missing, cache)
        assert_like_absent(response, absent.response, sent.values, missing.values, where)
        if _listing(answer.bodies[0]):
            assert len(answer.bodies) == len(absent.bodies), f"{where}: pages differ"
    if path.exact and response.status_code == 200 and _listing(answer.bodies[0]):
        oracle = await fetch(server, None, situation, sent, cache)
        assert oracle.response.status_code == 200, oracle.response.text[:300]
        assert_exact(actor, situation, path, answer.bodies, oracle.bodies, where)
        if path.count_of is not None:
            listed = Path(path.name + " listed", "GET", path.count_of, path.target,
                          content=path.content, joins=path.joins, narrowing=path.narrowing)
            companion = await fetch(server, actor, situation, render(listed, situation),
                                    cache)
            shown = {key(r) for mode, r in entries(companion.bodies) if mode == "match"}
            total = answer.bodies[0].get("total")
            assert total == len(shown), \
                f"{where}: _summary=count says {total}, the search shows {len(shown)}"
    return answer
