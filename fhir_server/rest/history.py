"""history at instance, type and system level (the spec's http page, 3.1.0.11).

The Bundle lists versions newest first, deletions included (no resource, method DELETE).
Each entry's ``request`` says how that version was written and ``response`` what the
server answered then. Paging follows a keyset cursor carried in the ``next`` link.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from .. import clock, interactions
from ..config import Settings
from ..dates import parse_date_range, parse_instant
from ..errors import InvalidRequest
from ..storage import StoredResource
from .context import caller_of
from .negotiation import check_accept
from .paging import decode_cursor, encode_cursor
from .responses import fhir_response

__all__ = ["history", "history_entry"]

_KNOWN = {"_since", "_at", "_count", "_cursor", "_format", "_pretty"}
_CURSOR = "_cursor"
_COUNT = re.compile(r"^[0-9]{1,9}$")


async def history(
    request: Request, resource_type: str | None = None, rid: str | None = None
) -> Response:
    media = check_accept(request)
    caller = caller_of(request)
    params = request.query_params
    unknown = sorted(set(params.keys()) - _KNOWN)
    if unknown:
        raise InvalidRequest(f"Unknown history parameter(s) {', '.join(unknown)[:200]}; "
                             "history takes _since, _at and _count")
    count = page_size(params.get("_count"), caller.services.settings)
    since = parse_instant(params["_since"], "_since") if "_since" in params else None
    at = parse_date_range(params["_at"], "_at") if "_at" in params else None
    page = await interactions.history(caller, resource_type, rid, since=since, at=at,
                                      count=count, after=_cursor(params.get(_CURSOR)))
    base = caller.base
    url = f"{base}/" + "/".join(p for p in (resource_type, rid, "_history") if p)
    query = [(k, v) for k, v in params.multi_items() if k != _CURSOR]
    links = [{"relation": "self", "url": _with_query(url, params.multi_items())}]
    if page.next_cursor is not None:
        token = encode_cursor(list(page.next_cursor))
        links.append({"relation": "next", "url": _with_query(url, [*query, (_CURSOR, token)])})
    bundle = {
        "resourceType": "Bundle",
        "type": "history",
        "link": links,
        "entry": [history_entry(stored, base) for stored in page.entries],
    }
    return fhir_response(bundle, 200, request=request, media_type=media)


def history_entry(stored: StoredResource, base: str) -> dict[str, Any]:
    """One version as a history Bundle entry (Bundle.entry.request / .response)."""
    url = f"{stored.resource_type}/{stored.id}"
    entry: dict[str, Any] = {"fullUrl": f"{base}/{url}"}
    if stored.resource is not None:
        entry["resource"] = stored.resource
    if stored.deleted:
        method, status = "DELETE", "200 OK"
    elif stored.method == "POST":
        method, status = "POST", "201 Created"
    else:
        method = "PATCH" if stored.method == "PATCH" else "PUT"
        status = "201 Created" if stored.created else "200 OK"
    entry["request"] = {"method": method,
                        "url": stored.resource_type if method == "POST" else url}
    entry["response"] = {"status": status, "etag": stored.etag,
                         "lastModified": clock.to_instant(stored.last_updated)}
    return entry


def page_size(value: str | None, settings: Settings) -> int:
    """``_count``: the page size, capped at the configured maximum."""
    if value is None:
        return settings.default_page_size
    if not _COUNT.match(value):
        raise InvalidRequest(f"_count must be a non-negative integer, not '{value[:40]}'")
    return max(1, min(int(value), settings.max_page_size))


def _cursor(token: str | None) -> tuple[datetime, str] | None:
    if token is None:
        return None
    values = decode_cursor(token)
    if len(values) != 2 or not isinstance(values[0], datetime) or not isinstance(values[1], str):
        raise InvalidRequest("Invalid or expired paging cursor")
    return values[0], values[1]


def _with_query(url: str, query: Any) -> str:
    query = list(query)
    return f"{url}?{urlencode(query)}" if query else url
