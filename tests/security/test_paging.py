"""Paging links: following ``next`` shows exactly what the first page promised (checked by
every listing cell), and a tampered cursor (``_cursor``: another resource type, another
search's sort, a hidden resource's id, reversed direction, garbage) is refused (400) or
pages within what the actor may see of the same search, never beyond.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from .answers import entries, fetch, json_of, next_link, relative
from .checks import assert_nothing_protected
from .data import ACTORS, SITUATIONS
from .expect import HIDDEN, STATIC, key, state
from .paths import Path, render

QUERIES = [
    Path("search", "GET", "/fhir/Observation?_count=1"),
    Path("search-sorted", "GET", "/fhir/Observation?_sort=-date,code&_count=1"),
    Path("system", "GET", "/fhir?_type=Observation,Patient,Binary&_count=1"),
    Path("history-type", "GET", "/fhir/Observation/_history?_count=1"),
    Path("history-system", "GET", "/fhir/_history?_count=1"),
    Path("everything", "GET", "/fhir/Patient/$everything?_count=1"),
    Path("compartment", "GET", "/fhir/Patient/bea/*?_count=1"),
]
ACTOR_NAMES = ("self", "doc", "outsider", "narrow")
_STRINGS = ("Binary", "AuditEvent", "", "hiv-hiv/_history/000000000001")
LEAKS = {("system", "outsider")}


def _decode(token: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _encode(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _variants(node: Any) -> list[Any]:
    """``node`` with one leaf changed, for every leaf and every change."""
    if isinstance(node, dict):
        return [{**node, k: v} for k in node for v in _variants(node[k])]
    if isinstance(node, list):
        return [node[:i] + [v] + node[i + 1:] for i in range(len(node))
                for v in _variants(node[i])] + [node[:-1]]
    if isinstance(node, bool):
        return [not node]
    if isinstance(node, (int, float)):
        return [0, -1]
    if isinstance(node, str):
        return [s for s in _STRINGS if s != node]
    return ["x"]


def tampered(url: str) -> list[str]:
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    cursor = dict(params).get("_cursor")
    assert cursor, url
    others = [(k, v) for k, v in params if k != "_cursor"]
    found = [f"{parts.path}?{urlencode([*others, ('_cursor', _encode(v))])}"
             for v in _variants(_decode(cursor))]
    found.append(f"{parts.path}?{urlencode([*others, ('_cursor', 'not-base64!')])}")
    return found


def _cells() -> list[Any]:
    found = []
    for path in QUERIES:
        for actor in ACTOR_NAMES:
            marks = [pytest.mark.xfail(strict=True, reason=(
                "leak: Binary is outside consent: paging into Binary shows Binary/den-bin "
                "to the outsider"))] if (path.name, actor) in LEAKS else []
            found.append(pytest.param(actor, path, marks=marks, id=f"{actor}-{path.name}"))
    return found


@pytest.mark.parametrize("actor, path", _cells())
async def test_tampered_cursor(server, actor, path):
    who = ACTORS[actor]
    situation = "den"  # whose token "self" holds; every situation's data is checked
    response = await server.ask(who, situation, "GET", path.url)
    if response.status_code == 403:
        assert "insufficient_scope" in response.headers["www-authenticate"]
        return  # the whole interaction is outside the token's scopes
    assert response.status_code == 200, response.text[:300]
    link = next_link(json_of(response))
    if link is None:  # one page: nothing the actor may see is there to page to
        assert len(entries([json_of(response)])) <= 1, response.text[:300]
        return
    everything = Path(path.name, "GET", path.url.replace("_count=1", "_count=500"))
    oracle = await fetch(server, None, situation, render(everything, situation))
    allowed = {key(r) for _, r in entries(oracle.bodies)}
    for url in tampered(relative(link)):
        response = await server.ask(who, situation, "GET", url)
        assert response.status_code in (200, 400), (url, response.text[:300])
        if response.status_code != 200:
            continue
        body = json_of(response)
        for each in SITUATIONS:
            assert_nothing_protected(who, each, [response.text], [body],
                                     where=f"[{actor} {path.name} tampered {url}]",
                                     asked=url)
        for _, resource in entries([body]):
            reference = key(resource)
            assert reference in allowed or reference not in STATIC, \
                f"{url}: {reference} is not a result of {path.url}"
            assert state(who, situation, STATIC[reference]) != HIDDEN if (
                reference in STATIC) else True
