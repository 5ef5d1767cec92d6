"""HTTP plumbing shared by the OAuth endpoints: forms in, JSON out, CORS, errors.

Token responses carry ``Cache-Control: no-store`` and ``Pragma: no-cache`` (RFC 6749
section 5.1); errors are ``{"error", "error_description"}`` (section 5.2).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import PayloadTooLarge
from ..rest.body import read_body

__all__ = ["read_form", "oauth_json", "oauth_error", "cors_headers", "preflight",
           "auth_of", "MAX_FORM_BYTES"]

MAX_FORM_BYTES = 64 * 1024
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def auth_of(request: Request) -> Any:
    return request.app.state.auth


def cors_headers(request: Request) -> dict[str, str]:
    """CORS for browser apps: any origin may read discovery, metadata and tokens.

    Credentials (cookies) are never allowed cross-origin; the endpoints authenticate with
    the request body or the Authorization header.
    """
    origin = request.headers.get("origin")
    if not origin:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
            "Access-Control-Expose-Headers": "Location, ETag, Content-Location, "
                                             "WWW-Authenticate"}


def preflight(request: Request) -> Response:
    headers = cors_headers(request)
    if headers:
        headers.update({
            "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": request.headers.get(
                "access-control-request-headers",
                "Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Exist"),
            "Access-Control-Max-Age": "600",
        })
    return Response(status_code=204, headers=headers)


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body; a parameter given twice is refused."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise InvalidRequestError(
            description="the body must be application/x-www-form-urlencoded")
    try:
        body = await read_body(request, MAX_FORM_BYTES)
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError(description="malformed form body") from None
    except PayloadTooLarge as error:
        raise InvalidRequestError(description=error.message) from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise InvalidRequestError(description=f"parameter '{name}' is repeated")
        form[name] = value
    return form


def oauth_json(request: Request, body: dict[str, Any], status: int = 200,
               no_store: bool = True) -> JSONResponse:
    headers = {**(_NO_STORE if no_store else {}), **cors_headers(request)}
    return JSONResponse(body, status_code=status, headers=headers)


def oauth_error(request: Request, error: OAuth2Error) -> JSONResponse:
    body = dict(error.get_body())
    headers = {**_NO_STORE, **cors_headers(request)}
    if error.status_code == 401:
        headers["WWW-Authenticate"] = 'Basic realm="fhir-server"'
    return JSONResponse(body, status_code=error.status_code, headers=headers)
