"""Content negotiation and preferences (the spec's http page, 3.1.0.1.6 "Content Types
and encodings", 3.1.0.1.7 "Prefer"; versioning.html "fhirVersion" parameter).

The server speaks FHIR JSON only: ``application/fhir+json`` or, when the client asks for
it, ``application/json``. Anything else is answered 406 (responses) or 415 (bodies).
"""

from __future__ import annotations

from starlette.requests import Request

from ..errors import NotAcceptable, UnsupportedMediaType

__all__ = ["FHIR_JSON", "JSON_TYPES", "check_accept", "body_media_type", "require_json_body",
           "preference", "return_preference", "handling_preference"]

FHIR_JSON = "application/fhir+json"
JSON_TYPES = {FHIR_JSON, "application/json", "application/json+fhir", "text/json"}
_PLAIN_JSON = {"application/json", "text/json"}
_FORMAT_ALIASES = {"json": FHIR_JSON, **{media: media for media in JSON_TYPES}}
_WILDCARDS = {"*/*", "application/*"}
_XML_TYPES = {"xml", "text/xml", "application/xml", "application/fhir+xml",
              "application/xml+fhir"}
_FHIR_VERSIONS = {"4.0", "4.0.1"}
_RETURN = {"minimal": "minimal", "representation": "representation",
           "operationoutcome": "OperationOutcome"}


def _split_media(value: str) -> tuple[str, dict[str, str]]:
    """``type/subtype; a=b`` as (lowercase type, parameters with lowercase names)."""
    media, *raw = value.split(";")
    params: dict[str, str] = {}
    for item in raw:
        name, _, param = item.partition("=")
        params[name.strip().lower()] = param.strip().strip('"')
    return media.strip().lower(), params


def _answer_for(media: str, params: dict[str, str]) -> str | None:
    """The media type we answer with for one acceptable type, or None if we cannot."""
    version = params.get("fhirversion")
    if version is not None and version not in _FHIR_VERSIONS:
        return None
    if media in _PLAIN_JSON:
        return "application/json"
    if media in JSON_TYPES or media in _WILDCARDS or media == "text/html":
        return FHIR_JSON
    return None


def check_accept(request: Request) -> str:
    """The response media type, from ``_format`` first, then ``Accept``; 406 otherwise."""
    requested = request.query_params.get("_format")
    if requested:
        media, params = _split_media(requested)
        answer = _answer_for(_FORMAT_ALIASES.get(media, media), params)
        if answer is not None and media not in _WILDCARDS:
            return answer
        raise NotAcceptable(_refusal(f"_format '{requested[:80]}'", media))
    accept = request.headers.get("accept", "")
    offered = [_split_media(part) for part in accept.split(",") if part.strip()]
    acceptable = [(m, p) for m, p in offered if p.get("q", "1").strip() not in
                  ("0", "0.0", "0.00", "0.000")]
    if not offered:
        return FHIR_JSON
    ranked = sorted(acceptable, key=lambda mp: -_quality(mp[1]))
    for media, params in ranked:
        answer = _answer_for(media, params)
        if answer is not None:
            return answer
    first = offered[0][0]
    raise NotAcceptable(_refusal(f"Accept '{accept[:120]}'", first))


def _quality(params: dict[str, str]) -> float:
    try:
        return float(params.get("q", "1"))
    except ValueError:
        return 0.0


def _refusal(what: str, media: str) -> str:
    if media in _XML_TYPES:
        return (f"Cannot answer {what}: XML is not supported by this server; use "
                "application/fhir+json (_format=json)")
    return (f"Cannot answer {what}: this server answers with application/fhir+json or "
            "application/json, FHIR version 4.0")


def body_media_type(request: Request) -> str:
    return _split_media(request.headers.get("content-type", ""))[0]


def require_json_body(request: Request) -> None:
    media, params = _split_media(request.headers.get("content-type", ""))
    if media not in JSON_TYPES:
        shown = media or "no Content-Type"
        raise UnsupportedMediaType(
            f"Unsupported Content-Type '{shown[:80]}': send application/fhir+json"
        )
    version = params.get("fhirversion")
    if version is not None and version not in _FHIR_VERSIONS:
        raise UnsupportedMediaType(
            f"Unsupported fhirVersion '{version[:20]}' in Content-Type: this server is FHIR 4.0"
        )


def preference(request: Request, name: str) -> str | None:
    """The value of one ``Prefer`` preference (RFC 7240), e.g. ``return`` or ``handling``."""
    for header in request.headers.getlist("prefer"):
        for item in header.split(","):
            token, _, value = item.split(";")[0].partition("=")
            if token.strip().lower() == name:
                return value.strip().strip('"')
    return None


def return_preference(request: Request) -> str:
    """``Prefer: return=``: minimal, representation (the default) or OperationOutcome."""
    value = preference(request, "return")
    return _RETURN.get((value or "").lower(), "representation")


def handling_preference(request: Request) -> bool | None:
    """``Prefer: handling=lenient|strict`` (http.html#prefer): whether unknown search
    parameters are ignored; None when the client does not say (the server's setting)."""
    value = preference(request, "handling")
    if value is None:
        return None
    return value.lower() == "lenient"
