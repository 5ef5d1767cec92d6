"""``POST [base]`` with a Bundle: transaction and batch (R4 http.html#transaction).

The work is done by :mod:`fhir_server.bundles`; this handler reads the body, passes the
``Prefer: return=`` preference, and lets GET entries run through the router as
sub-requests so they can be any read, search or history the server offers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..bundles import Entry, process_bundle
from ..bundles.execute import EntryResult
from ..errors import FhirError, InvalidRequest
from ..json_io import parse_json
from .body import read_json
from .context import caller_of, services_of
from .negotiation import FHIR_JSON, check_accept, require_json_body
from .responses import fhir_response

__all__ = ["process"]

_PREFERENCES = ("minimal", "representation", "OperationOutcome")


def _return_preference(request: Request) -> str:
    for part in request.headers.get("prefer", "").split(","):
        name, _, value = part.strip().partition("=")
        if name.strip() == "return" and value.strip().strip('"') in _PREFERENCES:
            return value.strip().strip('"')
    return "minimal"


Dispatch = Callable[[Request, str], Awaitable[Response]]


async def process(request: Request, dispatch: Dispatch) -> Response:
    """The Bundle's answer; GET entries are routed by ``dispatch`` (the router's)."""
    media = check_accept(request)
    require_json_body(request)
    caller = caller_of(request)
    bundle = await read_json(request, caller.services.settings.max_body_bytes)
    await caller.services.shipped.admit_bundle(bundle)
    result = await process_bundle(caller, bundle, reader=_router_reader(request, dispatch),
                                  prefer=_return_preference(request))
    return fhir_response(result, 200, request=request, media_type=media)


def _router_reader(request: Request, dispatch: Dispatch):
    """GET entries as sub-requests through the router, with the entry's conditions."""

    async def read(entry: Entry) -> EntryResult:
        path, _, query = entry.url.removeprefix(services_of(request).base).lstrip(
            "/").partition("?")
        headers = [(b"accept", FHIR_JSON.encode())]
        for name, value in (("if-none-match", entry.if_none_match),
                            ("if-modified-since", entry.if_modified_since)):
            if value is not None:
                headers.append((name.encode(), value.encode("latin-1", "replace")))
        scope = {**request.scope, "method": "GET", "path": f"/fhir/{path}",
                 "raw_path": f"/fhir/{path}".encode(), "query_string": query.encode(),
                 "headers": headers, "path_params": {"path": path}}
        sub = Request(scope, _no_body)
        try:
            response = await dispatch(sub, path)
        except FhirError as error:
            if error.status == 304:
                return EntryResult(304, headers=dict(error.headers))
            raise
        body = await _body_of(response)
        resource = parse_json(body) if body else None
        if resource is not None and not isinstance(resource, dict):
            raise InvalidRequest("The GET entry did not return a resource")
        return EntryResult(response.status_code, resource=resource,
                           headers=dict(response.headers))

    return read


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _body_of(response: Response) -> bytes:
    if isinstance(response, StreamingResponse):
        return b"".join([chunk if isinstance(chunk, bytes) else chunk.encode()
                         async for chunk in response.body_iterator])
    return bytes(response.body)
