"""The ASGI application: routes, lifespan, and the one place errors become responses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from pymongo import AsyncMongoClient
from pymongo.errors import DocumentTooLarge, PyMongoError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, request_response
from starlette.types import Receive, Scope, Send

from importers.hl7v2.listener import listening as hl7v2_listening

from ..access.middleware import AccessControl
from ..auth import install as install_auth
from ..config import Settings
from ..database import connect
from ..errors import FhirError, InternalError, NotFound, PayloadTooLarge, ServiceUnavailable
from ..export import install as install_export
from ..services import build_services
from ..subscriptions import install as install_subscriptions
from ..webapp import install as install_webapp
from .responses import error_response
from .router import dispatch
from .timeouts import BodyTimeout

__all__ = ["create_app"]

log = logging.getLogger("fhir_server")


async def _fhir(request: Request) -> Response:
    try:
        response = await dispatch(request, request.path_params.get("path", ""))
    except FhirError as error:
        response = error_response(error, request)
    except DocumentTooLarge:
        response = error_response(
            PayloadTooLarge("The resource is larger than MongoDB's 16 MB document limit"),
            request,
        )
    except PyMongoError:
        log.exception("database error on %s %s", request.method, request.url.path)
        response = error_response(
            ServiceUnavailable("The database is unavailable or failed; try again"), request
        )
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        response = error_response(InternalError("Internal server error"), request)
    if request.method == "HEAD":
        response.body = b""
    return response


async def _not_fhir(request: Request) -> Response:
    return error_response(NotFound(
        f"'{request.url.path[:200]}' is not under the FHIR base /fhir"), request)


class _AnyMethod:
    """An ASGI endpoint for every HTTP method: the router answers 405 as OperationOutcome."""

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = request_response(handler)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def create_app(settings: Settings, client: AsyncMongoClient | None = None) -> Starlette:
    """The server. Without ``client`` it connects to ``settings.mongodb_uri`` at startup."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = client is None
        mongo = connect(settings.mongodb_uri or "") if own else client
        assert mongo is not None
        try:
            app.state.services = await build_services(settings, mongo)
            async with app.state.services.seeding.running(), \
                    hl7v2_listening(app.state.services):
                yield
        finally:
            if own:
                await mongo.close()

    routes = [
        Route("/fhir", _AnyMethod(_fhir)),
        Route("/fhir/{path:path}", _AnyMethod(_fhir)),
        Route("/{path:path}", _AnyMethod(_not_fhir)),
    ]
    app = Starlette(routes=routes,
                    middleware=[Middleware(BodyTimeout), Middleware(AccessControl)],
                    lifespan=lifespan)
    app.state.settings = settings
    app.state.capability_hooks = []
    install_auth(app, settings)
    install_export(app, settings)
    install_subscriptions(app, settings)
    install_webapp(app, settings)
    return app
