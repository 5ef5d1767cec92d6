"""The ``searchset`` Bundle: entries (match / include), links and total.

https://hl7.org/fhir/R4/bundle.html#searchset — links are absolute under the server base;
``_summary`` and ``_elements`` subset every returned resource (marked SUBSETTED).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from .. import clock
from ..storage import Found
from ..subsetting import apply_elements, apply_summary
from .execution import Page
from .results import CURSOR_PARAMETER, ResultParameters

__all__ = ["searchset", "search_url"]


def search_url(base: str, path: str, params: list[tuple[str, str]],
               cursor: str | None = None) -> str:
    pairs = [*params, (CURSOR_PARAMETER, cursor)] if cursor else list(params)
    url = f"{base}/{path}" if path else base
    return f"{url}?{urlencode(pairs)}" if pairs else url


def _resource(found: Found, results: ResultParameters) -> dict[str, Any]:
    resource = found.resource
    if results.summary and results.summary != "false":
        return apply_summary(resource, results.summary)
    if results.elements:
        return apply_elements(resource, results.elements)
    return resource


def _entry(base: str, found: Found, mode: str, results: ResultParameters) -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{found.key}",
        "resource": _resource(found, results),
        "search": {"mode": mode},
    }


def searchset(base: str, path: str, applied: list[tuple[str, str]], page: Page,
              results: ResultParameters, current_cursor: str | None) -> dict[str, Any]:
    links = [{"relation": "self", "url": search_url(base, path, applied, current_cursor)}]
    if page.next_cursor:
        links.append({"relation": "next",
                      "url": search_url(base, path, applied, page.next_cursor)})
    if page.previous_cursor:
        links.append({"relation": "previous",
                      "url": search_url(base, path, applied, page.previous_cursor)})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": clock.to_instant(clock.now())},
        "type": "searchset",
    }
    if page.total is not None:
        bundle["total"] = page.total
    bundle["link"] = links
    entries = [_entry(base, f, "match", results) for f in page.matches]
    entries += [_entry(base, f, "include", results) for f in page.included]
    if entries:
        bundle["entry"] = entries
    return bundle
