"""Server-rendered pages of the authorization endpoint (Jinja2, autoescaped)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from ..access.scopes import parse_scope

__all__ = ["render", "describe_scope"]

_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
_VERBS = {"c": "create", "r": "read", "u": "update", "d": "delete", "s": "search"}
_WHO = {"patient": "of the patient", "user": "you can see", "system": "on the whole server"}
_CONTEXT = {
    "openid": "Know who you are (OpenID Connect)",
    "fhirUser": "Know which FHIR Patient or Practitioner you are",
    "profile": "Know which FHIR Patient or Practitioner you are",
    "launch/patient": "Know which patient is selected",
    "launch/encounter": "Know which encounter is selected",
    "launch": "Receive the context the EHR launched it with",
    "offline_access": "Keep access after you sign out (offline access)",
    "online_access": "Keep access while you stay signed in",
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
    )


def render(template: str, status: int = 200, headers: dict[str, str] | None = None,
           **values: Any) -> HTMLResponse:
    html = _environment().get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers={**_HEADERS, **(headers or {})})


def describe_scope(token: str) -> str:
    """A sentence a person can consent to."""
    scope = parse_scope(token)
    if scope is None:
        return _CONTEXT.get(token, token)
    verbs = ", ".join(_VERBS[p] for p in scope.permissions)
    what = "all data" if scope.resource_type == "*" else f"{scope.resource_type} records"
    text = f"{verbs.capitalize()} {what} {_WHO[scope.context]}"
    if scope.query:
        text += " limited to " + ", ".join(f"{k}={v}" for k, v in scope.query)
    return text
