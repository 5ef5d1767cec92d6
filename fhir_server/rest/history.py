"""history at instance, type and system level (the spec's http page, 3.1.0.11)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from .. import clock
from ..dates import parse_date_range, parse_instant
from ..errors import InvalidRequest
from .context import services_of
from .negotiation import check_accept
from .paging import decode_cursor, encode_cursor
from .responses import fhir_response

__all__ = ["history"]

_KNOWN = {"_since", "_at", "_count", "_cursor", "_format", "_pretty", "_list", "_sort"}


async def history(
    request: Request, resource_type: str | None = None, rid: str | None = None
) -> Response:
    media = check_accept(request)
    services = services_of(request)
    params = request.query_params
    unknown = sorted(set(params.keys()) - _KNOWN)
    if unknown:
        raise InvalidRequest(f"Unknown history parameter(s) {', '.join(unknown)}; "
                             "history takes _since, _at and _count")
    count = _count(params.get("_count"), services.settings)
    since = parse_instant(params["_since"], "_since") if "_since" in params else None
    at = parse_date_range(params["_at"], "_at") if "_at" in params else None
    after = None
    if "_cursor" in params:
        moment, key = decode_cursor(params["_cursor"])
        after = (moment, key)
    page = await services.repository.history(
        resource_type, rid, since=since, at=at, count=count, after=after
    )
    if rid is not None and not page.entries and after is None:
        # instance history of an unknown resource is 404 (a deleted one still has history)
        await services.repository.read(resource_type, rid)  # type: ignore[arg-type]
    base = services.base
    path = "/".join(p for p in (resource_type, rid, "_history") if p)
    keep = [(k, v) for k, v in params.multi_items() if k != "_cursor"]
    links = [{"relation": "self", "url": f"{base}/{path}" + (f"?{urlencode(keep)}" if keep else "")}]
    if page.next_cursor is not None:
        moment, key = page.next_cursor
        token = encode_cursor([moment, key])
        links.append({"relation": "next",
                      "url": f"{base}/{path}?{urlencode([*keep, ('_cursor', token)])}"})
    entries: list[dict[str, Any]] = []
    for stored in page.entries:
        url = f"{stored.resource_type}/{stored.id}"
        entry: dict[str, Any] = {"fullUrl": f"{base}/{url}"}
        if stored.resource is not None:
            entry["resource"] = stored.resource
        method = "DELETE" if stored.deleted else ("POST" if stored.vid == 1 and
                                                  stored.method == "POST" else "PUT")
        entry["request"] = {"method": method,
                            "url": url if method != "POST" else stored.resource_type}
        entry["response"] = {
            "status": "201 Created" if method == "POST" else
                      ("204 No Content" if stored.deleted else "200 OK"),
            "etag": stored.etag,
            "lastModified": clock.to_instant(stored.last_updated),
        }
        entries.append(entry)
    bundle = {"resourceType": "Bundle", "type": "history", "link": links, "entry": entries}
    return fhir_response(bundle, 200, request=request, media_type=media)


def _count(value: str | None, settings: Any) -> int:
    if value is None:
        return settings.default_page_size
    if not value.isdigit():
        raise InvalidRequest(f"_count must be a non-negative integer, not '{value}'")
    return max(1, min(int(value), settings.max_page_size))
