"""The authorization endpoint with its login, consent and patient-picker pages.

RFC 6749 section 4.1.1-4.1.2 (authorization code), RFC 7636 (PKCE, S256 only), and
SMART App Launch 2.x "App Launch" steps 3-4 (``aud``, ``launch``, ``state``; standalone
and EHR launch; https://hl7.org/fhir/smart-app-launch/app-launch.html).

Errors about the client or its redirect_uri are shown as a page (the redirect target
cannot be trusted); every other error is sent back to the app's redirect_uri.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..access.scopes import CONTEXT_SCOPES, ScopeSet, grant, parse_scopes
from ..errors import PayloadTooLarge
from ..rest.body import read_body
from .decision import PageError, RedirectError, consent_values, decide
from .oauth_http import MAX_FORM_BYTES, auth_of
from .pages import render
from .picker import PatientPicker
from .registry import Client
from .service import AuthService
from .store import digest

__all__ = ["authorize", "login", "consent_page", "consent"]

COOKIE = "fhir_auth_session"
_AUTOMATIC = CONTEXT_SCOPES - {"offline_access"}


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _redirect(uri: str, params: dict[str, str]) -> RedirectResponse:
    return RedirectResponse(_with_query(uri, params), status_code=303,
                            headers={"Cache-Control": "no-store"})


async def _pairs(request: Request) -> list[tuple[str, str]]:
    if request.method == "GET":
        return list(request.query_params.multi_items())
    try:
        body = await read_body(request, MAX_FORM_BYTES)
    except PayloadTooLarge:
        raise PageError("The form is too large") from None
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise PageError("The form could not be read") from None


def _single(pairs: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            raise PageError(f"Parameter '{name}' is repeated")
        values[name] = value
    return values


def _error_page(message: str, status: int = 400) -> Response:
    return render("error.html", status, message=message)


def _picker(request: Request, auth: AuthService) -> PatientPicker:
    services = request.app.state.services
    return PatientPicker(services.access, services.storage.queries, auth.endpoints.issuer)


async def authorize(request: Request) -> Response:
    auth: AuthService = auth_of(request)
    try:
        params = _single(await _pairs(request))
        client, redirect_uri = await _client_and_redirect(auth, params)
    except PageError as error:
        return _error_page(str(error))
    state = params.get("state", "")
    try:
        pending = await _validate(auth, client, redirect_uri, params)
    except RedirectError as error:
        reply = {"error": error.error, "error_description": error.description}
        return _redirect(redirect_uri, {**reply, **({"state": state} if state else {})})
    handle = await auth.store.put_pending(pending, auth.options.pending_seconds)
    # OpenID Connect Core 3.1.2.1: prompt=login asks the person to sign in again even
    # with a session (a shared phone after someone signed out).
    fresh_login = "login" in params.get("prompt", "").split()
    session = None if fresh_login else await auth.store.session(request.cookies.get(COOKIE))
    if session is not None:
        await auth.store.bind_pending(handle, request.cookies[COOKIE])
        return await _consent(request, auth, handle, session)
    doc = await auth.store.pending_request(handle)
    assert doc is not None
    return _login_page(auth, client, handle, doc["csrf"])


async def _client_and_redirect(auth: AuthService, params: dict[str, str]
                               ) -> tuple[Client, str]:
    client_id = params.get("client_id", "")
    client = await auth.registry.client(client_id) if client_id else None
    if client is None:
        raise PageError("Unknown client_id: this application is not registered here.")
    redirect_uri = params.get("redirect_uri") or ""
    if not redirect_uri and len(client.redirect_uris) == 1:
        redirect_uri = client.redirect_uris[0]
    if redirect_uri not in client.redirect_uris:
        raise PageError("The redirect_uri is not one registered for this application.")
    return client, redirect_uri


async def _validate(auth: AuthService, client: Client, redirect_uri: str,
                    params: dict[str, str]) -> dict[str, Any]:
    if params.get("response_type") != "code":
        raise RedirectError("unsupported_response_type", "response_type must be 'code'")
    if not params.get("state"):
        raise RedirectError("invalid_request", "state is required")
    if params.get("aud", "").rstrip("/") != auth.endpoints.fhir_base:
        raise RedirectError("invalid_request",
                            f"aud must be this server's FHIR base {auth.endpoints.fhir_base}")
    challenge = _pkce(client, params)
    requested = parse_scopes(params.get("scope"))
    offered = _offered(client, requested)
    if not offered.resources and "openid" not in offered:
        raise RedirectError("invalid_scope",
                            "none of the requested scopes is allowed for this application")
    launch: dict[str, Any] | None = None
    if params.get("launch"):
        launch = await auth.store.launch(params["launch"])
        if launch is None:
            raise RedirectError("invalid_request", "unknown or expired launch")
    return {"client_id": client.client_id, "redirect_uri": redirect_uri,
            "state": params["state"], "requested": str(requested), "offered": str(offered),
            "code_challenge": challenge, "nonce": params.get("nonce"), "launch": launch}


def _pkce(client: Client, params: dict[str, str]) -> str | None:
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None:
        if client.pkce:
            raise RedirectError("invalid_request",
                                "PKCE is required: send code_challenge with method S256")
        return None
    if method != "S256":
        raise RedirectError("invalid_request", "code_challenge_method must be S256")
    if not 43 <= len(challenge) <= 128:
        raise RedirectError("invalid_request", "malformed code_challenge")
    return challenge


def _offered(client: Client, requested: ScopeSet) -> ScopeSet:
    allowed = parse_scopes(client.scope)
    allowed = ScopeSet(allowed.resources, tuple(dict.fromkeys([*allowed.others, *_AUTOMATIC])))
    return grant(requested, allowed, {"patient", "user"})


def _login_page(auth: AuthService, client: Client, handle: str, csrf: str,
                error: str | None = None, status: int = 200) -> Response:
    return render("login.html", status, client_name=client.name or client.client_id,
                  handle=handle, csrf=csrf, error=error,
                  action=f"{auth.endpoints.issuer}/auth/login")


async def login(request: Request) -> Response:
    auth: AuthService = auth_of(request)
    try:
        form = _single(await _pairs(request))
    except PageError as error:
        return _error_page(str(error))
    handle = form.get("request", "")
    doc = await auth.store.pending_request(handle)
    if doc is None or form.get("csrf") != doc["csrf"]:
        return _error_page("This sign-in request has expired or is not valid.")
    client = await auth.registry.client(doc["request"]["client_id"])
    if client is None:
        return _error_page("The application is no longer registered.")
    username = form.get("username", "")[:128]
    if await auth.store.login_blocked(username):
        return _login_page(auth, client, handle, doc["csrf"],
                           "Too many failed sign-ins; try again in a quarter of an hour.", 429)
    user = await auth.registry.authenticate_user(username, form.get("password", ""))
    if user is None:
        await auth.store.login_failed(username)
        return _login_page(auth, client, handle, doc["csrf"],
                           "Wrong username or password.", 401)
    await auth.store.login_succeeded(username)
    cookie = await auth.store.put_session(user.username, user.fhir_user,
                                          auth.options.login_seconds)
    await auth.store.bind_pending(handle, cookie)
    response = RedirectResponse(
        f"{auth.endpoints.issuer}/auth/consent?{urlencode({'request': handle})}",
        status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=auth.options.login_seconds,
                        path=auth.endpoints.cookie_path, secure=auth.endpoints.secure,
                        httponly=True, samesite="lax")
    return response


async def _session_for(request: Request, auth: AuthService, handle: str
                       ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    cookie = request.cookies.get(COOKIE)
    doc = await auth.store.pending_request(handle)
    session = await auth.store.session(cookie)
    if doc is None or session is None or doc["session"] != digest(cookie or ""):
        return None
    return doc, session


async def consent_page(request: Request) -> Response:
    auth: AuthService = auth_of(request)
    handle = request.query_params.get("request", "")
    found = await _session_for(request, auth, handle)
    if found is None:
        return _error_page("This sign-in request has expired or is not valid.")
    return await _consent(request, auth, handle, found[1])


async def _consent(request: Request, auth: AuthService, handle: str,
                   session: dict[str, Any], error: str | None = None) -> Response:
    doc = await auth.store.pending_request(handle)
    if doc is None:
        return _error_page("This sign-in request has expired or is not valid.")
    values = await consent_values(auth, _picker(request, auth), doc, session)
    return render("consent.html", 200, handle=handle, csrf=doc["csrf"], error=error,
                  action=f"{auth.endpoints.issuer}/auth/consent", **values)


async def consent(request: Request) -> Response:
    auth: AuthService = auth_of(request)
    try:
        pairs = await _pairs(request)
    except PageError as error:
        return _error_page(str(error))
    form = dict(pairs)
    handle = form.get("request", "")
    found = await _session_for(request, auth, handle)
    if found is None or form.get("csrf") != found[0]["csrf"]:
        return _error_page("This sign-in request has expired or is not valid.")
    doc, session = found
    pending = doc["request"]
    try:
        params = await decide(auth, _picker(request, auth), handle, pending, session, pairs)
    except RedirectError as error:
        reply = {"error": error.error, "error_description": error.description}
        return _redirect(pending["redirect_uri"], {**reply, "state": pending["state"]})
    except PageError as error:
        return await _consent(request, auth, handle, session, str(error))
    return _redirect(pending["redirect_uri"], params)
