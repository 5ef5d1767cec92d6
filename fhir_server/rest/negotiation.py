"""Content negotiation: what the client sends and what it accepts."""

from __future__ import annotations

from starlette.requests import Request

from ..errors import NotAcceptable, UnsupportedMediaType

__all__ = ["FHIR_JSON", "check_accept", "body_media_type", "require_json_body"]

FHIR_JSON = "application/fhir+json"
JSON_TYPES = {FHIR_JSON, "application/json", "application/json+fhir", "text/json"}
_FORMAT_ALIASES = {"json": FHIR_JSON, "application/json": "application/json",
                   FHIR_JSON: FHIR_JSON, "application/json+fhir": FHIR_JSON,
                   "text/json": "application/json"}
_WILDCARDS = {"*/*", "application/*"}
XML_TYPES = {"xml", "text/xml", "application/xml", "application/fhir+xml",
             "application/xml+fhir"}


def _media_types(header: str) -> list[str]:
    result = []
    for part in header.split(","):
        media = part.split(";")[0].strip().lower()
        params = part.split(";")[1:]
        if any(p.strip().replace(" ", "") in ("q=0", "q=0.0") for p in params):
            continue
        if media:
            result.append(media)
    return result


def check_accept(request: Request) -> str:
    """The response media type, from ``_format`` first, then ``Accept``; 406 otherwise."""
    requested = request.query_params.get("_format")
    if requested:
        media = requested.strip().lower()
        if media in _FORMAT_ALIASES:
            return _FORMAT_ALIASES[media]
        if media in XML_TYPES:
            raise NotAcceptable("XML is not supported by this server; use _format=json")
        raise NotAcceptable(f"Unsupported _format '{requested}'; use json")
    accept = request.headers.get("accept", "")
    types = _media_types(accept)
    if not types:
        return FHIR_JSON
    for media in types:
        if media in JSON_TYPES:
            return "application/json" if media in ("application/json", "text/json") else FHIR_JSON
        if media in _WILDCARDS or media == "text/html" or media.startswith("application/fhir+ndjson"):
            return FHIR_JSON
    raise NotAcceptable(
        f"Cannot produce any of '{accept}': this server answers with "
        "application/fhir+json or application/json"
    )


def body_media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def require_json_body(request: Request) -> None:
    media = body_media_type(request)
    if media not in JSON_TYPES:
        shown = media or "no Content-Type"
        raise UnsupportedMediaType(
            f"Unsupported Content-Type '{shown}': send application/fhir+json"
        )
