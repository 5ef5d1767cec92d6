"""The routes of the web app: its page, its static files and the WHO growth curves.

Every answer carries a Content-Security-Policy that allows nothing but this server
(``default-src 'self'``, no inline script), so the app cannot load anything from the
internet even by mistake, and a page injected with markup cannot run it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from .growth_curves import CurveRequestError, curves
from .registration import CLIENT_ID, redirect_uri

__all__ = ["routes", "REQUESTED_SCOPE"]

HERE = Path(__file__).parent
# What the app asks for; the server grants a Patient user her own compartment only.
REQUESTED_SCOPE = "openid fhirUser online_access user/*.rs user/Consent.cu"


def _security_headers(connect: str) -> dict[str, str]:
    sources = " ".join(dict.fromkeys(["'self'", connect]))
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' "
            f"data: blob:; font-src 'self'; connect-src {sources}; form-action 'self'; "
            "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@cache
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(HERE / "templates"),
                       autoescape=select_autoescape(["html"]))


def _config(request: Request) -> dict[str, Any]:
    settings = request.app.state.settings
    base = settings.fhir_base
    issuer = base.removesuffix("/fhir")
    services = getattr(request.app.state, "services", None)
    default = services.access.consent_policy.default if services is not None else "opt-out"
    return {"fhirBase": base, "appUrl": redirect_uri(issuer), "auth": settings.auth,
            "clientId": CLIENT_ID, "scope": REQUESTED_SCOPE, "consentDefault": default}


async def page(request: Request) -> Response:
    """The app's one page (hash routes inside); also the redirect URI of sign-in."""
    config = _config(request)
    html = _templates().get_template("index.html").render(config=config)
    return HTMLResponse(html, headers={**_security_headers(_origin(config["fhirBase"])),
                                       "Cache-Control": "no-store"})


async def to_page(request: Request) -> Response:
    return RedirectResponse("app/", status_code=308)


async def growth_curves(request: Request) -> Response:
    """``/app/growth-curves/{chart}?sex=&range=``: WHO centile curves (reference data)."""
    try:
        body = curves(request.path_params["chart"], request.query_params.get("sex", ""),
                      request.query_params.get("range", ""))
    except CurveRequestError as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=86400"})


class _Static:
    """The package's static files, revalidated on each use (no build step renames them
    when they change) and under the same security headers as the page."""

    def __init__(self) -> None:
        self.files = StaticFiles(directory=HERE / "static")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                extra = {**_security_headers("'self'"), "Cache-Control": "no-cache"}
                headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.files(scope, receive, send_with_headers)


def routes() -> list[Route | Mount]:
    return [
        Route("/app", to_page, methods=["GET", "HEAD"]),
        Route("/app/", page, methods=["GET", "HEAD"]),
        Route("/app/growth-curves/{chart}", growth_curves, methods=["GET"]),
        Mount("/app/static", app=_Static()),
    ]
