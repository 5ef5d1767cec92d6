"""Topic-based subscriptions, R4 (Subscriptions R5 Backport IG,
http://hl7.org/fhir/uv/subscriptions-backport/): see ``docs/subscriptions.md``.

* :mod:`.topics`, :mod:`.catalog`: the SubscriptionTopics (shipped and the deployment's);
* :mod:`.registration`: a client's Subscription write, checked and registered with its
  owner's access, in the write's transaction;
* :mod:`.dispatcher`, :mod:`.matching`: committed versions (the outbox) -> numbered events;
* :mod:`.delivery` (rest-hook), :mod:`.websocket`: notifications, through the owner's
  access policy (:mod:`.owner`), as Bundles (:mod:`.notifications`).

``install(app, settings)`` adds the websocket route, the CapabilityStatement entries, and
starts the dispatcher and the rest-hook worker with the app (every process runs both;
leases in MongoDB decide who works).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import WebSocketRoute

from ..config import Settings
from ..rest.plugins import add_to_capability, run_in_lifespan
from .delivery import RestHookDelivery
from .dispatcher import Dispatcher
from .endpoints import EndpointPolicy
from .retention import event_retention
from .topics import shipped_topics
from .websocket import PATH, websocket_channel

__all__ = ["install", "websocket_url", "BACKPORT_CAPABILITY"]

BACKPORT_CAPABILITY = ("http://hl7.org/fhir/uv/subscriptions-backport/CapabilityStatement/"
                       "backport-subscription-server-r4")
STOP_SECONDS = 10.0
_WEBSOCKET = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-websocket"
_TOPIC_CANONICAL = ("http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
                    "capabilitystatement-subscriptiontopic-canonical")


def websocket_url(base: str) -> str:
    """The websocket channel's URL for a FHIR base ``http[s]://host/.../fhir``."""
    scheme, _, rest = base.partition("://")
    root = rest.split("/", 1)[0]
    return f"{'wss' if scheme == 'https' else 'ws'}://{root}{PATH}"


def _capability(request: Request, rest: dict[str, Any]) -> None:
    base = request.app.state.services.base
    rest.setdefault("extension", []).append({"url": _WEBSOCKET,
                                             "valueUri": websocket_url(base)})
    for resource in rest.get("resource", []):
        if resource["type"] == "Subscription":
            resource.setdefault("extension", []).extend(
                {"url": _TOPIC_CANONICAL, "valueCanonical": url}
                for url in sorted(shipped_topics()))


def install(app: Starlette, settings: Settings) -> None:
    app.router.routes.insert(0, WebSocketRoute(PATH, websocket_channel))
    add_to_capability(app, _capability, instantiates=BACKPORT_CAPABILITY)

    @asynccontextmanager
    async def notifications(application: Starlette) -> AsyncIterator[None]:
        services = application.state.services
        await services.storage.subscription_events.keep_for(event_retention())
        worker = uuid.uuid4().hex
        dispatcher = Dispatcher(services, worker)
        delivery = RestHookDelivery(services, worker, EndpointPolicy.for_server(settings))
        tasks = [asyncio.create_task(dispatcher.loop(), name="subscription-dispatcher"),
                 asyncio.create_task(delivery.loop(), name="rest-hook-delivery")]
        try:
            yield
        finally:  # bounded: a stop never waits for the database forever
            await delivery.stop()
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks, timeout=STOP_SECONDS)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_SECONDS):
                    await dispatcher.stop()

    run_in_lifespan(app, notifications)
