"""search: type, system and compartment level, by GET or POST ``_search``."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from .. import interactions
from ..errors import InvalidRequest, UnsupportedMediaType
from .body import read_body
from .context import caller_of
from .negotiation import body_media_type, check_accept, handling_preference
from .responses import fhir_response

__all__ = ["search", "search_post"]


def _query_params(request: Request) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.query_params.multi_items()
            if k not in ("_format", "_pretty")]


async def search(
    request: Request,
    resource_type: str | None = None,
    compartment: tuple[str, str] | None = None,
) -> Response:
    media = check_accept(request)
    bundle = await interactions.search(caller_of(request), resource_type,
                                       _query_params(request), compartment=compartment,
                                       lenient=handling_preference(request))
    return fhir_response(bundle, 200, request=request, media_type=media)


async def search_post(request: Request, resource_type: str | None = None) -> Response:
    """``POST [type]/_search`` with a form body: the same search as GET with those
    parameters (the same interaction, so the same access policy)."""
    media = check_accept(request)
    caller = caller_of(request)
    content_type = body_media_type(request)
    body = await read_body(request, caller.services.settings.max_body_bytes)
    if body.strip() and content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType(
            "POST _search takes application/x-www-form-urlencoded parameters"
        )
    try:
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest(f"Malformed form body: {exc}") from None
    params = _query_params(request) + [(k, v) for k, v in form if k not in ("_format",
                                                                          "_pretty")]
    await caller.services.shipped.admit(resource_type, form, every_type=resource_type is None)
    bundle = await interactions.search(caller, resource_type, params,
                                       lenient=handling_preference(request))
    return fhir_response(bundle, 200, request=request, media_type=media)
