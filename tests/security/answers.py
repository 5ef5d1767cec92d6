"""Asking and reading answers: :func:`fetch` follows ``next`` links and keeps the answers
of read-only requests; the helpers find resources, entries and links in them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .data import Actor
from .paths import Rendered


def resources_in(node: Any) -> list[dict[str, Any]]:
    """Every resource in an answer (Bundle entries, contained, nested outcomes)."""
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("resourceType"), str) and isinstance(node.get("id"), str):
            found.append(node)
        for value in node.values():
            found.extend(resources_in(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(resources_in(item))
    return found


def references_of(resource: dict[str, Any]) -> set[str]:
    found = set()
    for node in _dicts(resource):
        reference = node.get("reference")
        if isinstance(reference, str):
            parts = reference.split("/fhir/")[-1].split("/")
            if len(parts) >= 2:
                found.add(f"{parts[0]}/{parts[1]}")
    return found


def _dicts(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _dicts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _dicts(item)


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def next_link(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    for link in body.get("link") or []:
        if link.get("relation") == "next":
            return link["url"]
    return None


def relative(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def entries(pages: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """(search mode, resource) of every entry with a resource, over all pages."""
    found = []
    for page in pages:
        for entry in (page or {}).get("entry") or []:
            resource = entry.get("resource")
            if isinstance(resource, dict) and "id" in resource:
                mode = (entry.get("search") or {}).get("mode", "match")
                found.append((mode, resource))
    return found


@dataclass
class Answer:
    """A response and, for a paged Bundle, every page (``texts``/``bodies``)."""

    response: httpx.Response
    texts: list[str]
    bodies: list[Any]


MAX_PAGES = 40


async def fetch(server: Any, actor: Actor | None, situation: str, sent: Rendered,
                cache: bool = True) -> Answer:
    """Ask (as ``actor``; None: the oracle), following ``next`` links; answers of
    read-only requests are kept per actor and token."""
    token_key = "" if actor is None else actor.name + (
        f":{situation}" if actor.per_situation else "")
    cache_key = f"{token_key} {sent.cache_key()}"
    if cache and cache_key in server.answers:
        return server.answers[cache_key]

    async def ask(method: str, url: str, headers: dict[str, str],
                  content: bytes | None) -> httpx.Response:
        if actor is None:
            return await server.oracle(method, url, headers=headers, content=content)
        return await server.ask(actor, situation, method, url, headers=headers,
                                content=content)

    response = await ask(sent.method, sent.url, sent.headers, sent.content)
    texts, bodies = [response.text], [json_of(response)]
    following = next_link(bodies[0]) if response.status_code == 200 else None
    while following:
        assert len(bodies) < MAX_PAGES, f"more than {MAX_PAGES} pages: {sent.url}"
        page = await ask("GET", relative(following), {}, None)
        assert page.status_code == 200, page.text[:300]
        texts.append(page.text)
        bodies.append(json_of(page))
        following = next_link(bodies[-1])
    answer = Answer(response, texts, bodies)
    if cache:
        server.answers[cache_key] = answer
    return answer
