"""The websocket channel (Backport IG channels.md, "Websockets"): ``ws[s]://HOST/fhir/ws``.

The client gets a token from ``Subscription/[id]/$get-ws-binding-token`` (the token is
its authorization: websockets carry no Authorization header), connects, and sends
``{"type": "bind-with-token", "payload": {"token": "..."}}`` (or the text
``bind-with-token <token>``). For each subscription of the token the server sends a
``handshake`` notification, then every event not yet delivered, in order, then new
events as they are numbered, and ``heartbeat`` notifications when a ``heartbeatPeriod``
passes without any. Any server process can take the connection: delivery state lives in
MongoDB, and a newer binding of a subscription (a reconnect, maybe to another process)
takes it over from an older one. An unknown or expired token is answered with an
OperationOutcome on the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..errors import Issue, operation_outcome
from .notifications import notification
from .owner import owner_policy, shown_events

__all__ = ["websocket_channel", "PATH"]

log = logging.getLogger("fhir_server.subscriptions")
PATH = "/fhir/ws"
POLL_SECONDS = 0.05
MAX_MESSAGE = 64 * 1024


def _token_of(message: str) -> str | None:
    text = message.strip()
    if text.startswith("{"):
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        if isinstance(parsed, dict) and parsed.get("type") == "bind-with-token":
            token = (parsed.get("payload") or {}).get("token")
            return token if isinstance(token, str) else None
        return None
    command, _, token = text.replace(":", " ", 1).partition(" ")
    return token.strip() or None if command == "bind-with-token" else None


class _Connection:
    def __init__(self, services: Any, socket: WebSocket) -> None:
        self.services = services
        self.socket = socket
        self.name = uuid.uuid4().hex
        self.bound: dict[str, float] = {}  # subscription -> loop time of the last message
        self.lock = asyncio.Lock()

    async def send(self, bundle: dict[str, Any]) -> None:
        async with self.lock:
            await self.socket.send_text(orjson.dumps(bundle).decode())

    async def refuse(self, text: str) -> None:
        async with self.lock:
            await self.socket.send_text(orjson.dumps(operation_outcome(
                [Issue("error", "security", text)])).decode())

    async def receive(self) -> None:
        """Bind-with-token messages, until the client goes away."""
        states = self.services.storage.subscriptions
        while True:
            message = await self.socket.receive_text()
            token = _token_of(message[:MAX_MESSAGE])
            subscriptions = None if token is None else await states.redeem_token(token)
            if subscriptions is None:
                await self.refuse("Send bind-with-token with a token from "
                                  "$get-ws-binding-token (unknown or expired token)")
                continue
            for sid in subscriptions:
                state = await states.bind_websocket(sid, self.name)
                if state is None:
                    await self.refuse(f"Subscription/{sid} is not an active websocket "
                                      "subscription")
                    continue
                await self.send(notification(self.services.base, state, "handshake", []))
                self.bound[sid] = asyncio.get_running_loop().time()

    async def deliver(self) -> None:
        """Send what the bound subscriptions have pending, forever."""
        states = self.services.storage.subscriptions
        while True:
            if self.bound:
                for state in await states.get_many(list(self.bound)):
                    await self._deliver_one(state)
            await asyncio.sleep(POLL_SECONDS)

    async def _deliver_one(self, state: dict[str, Any]) -> None:
        sid = state["_id"]
        if (state.get("ws") or {}).get("worker") != self.name:
            self.bound.pop(sid, None)  # another binding took it over
            return
        loop_time = asyncio.get_running_loop().time()
        if state["delivered"] < state["events"]:
            first = state["delivered"] + 1
            last = min(state["events"], state["delivered"] + state["channel"]["max_count"])
            events = await self.services.storage.subscription_events.between(sid, first, last)
            shown = await shown_events(self.services, owner_policy(self.services, state),
                                       events, state["channel"]["content"])
            await self.send(notification(self.services.base, state, "event-notification",
                                         shown))
            if not await self.services.storage.subscriptions.websocket_sent(
                    sid, self.name, state["delivered"], last):
                self.bound.pop(sid, None)
                return
            self.bound[sid] = loop_time
            return
        heartbeat = state["channel"].get("heartbeat")
        if heartbeat and loop_time - self.bound[sid] >= heartbeat:
            await self.send(notification(self.services.base, state, "heartbeat", []))
            self.bound[sid] = loop_time

    async def close(self) -> None:
        for sid in list(self.bound):
            with contextlib.suppress(Exception):
                await self.services.storage.subscriptions.unbind_websocket(sid, self.name)


async def websocket_channel(socket: WebSocket) -> None:
    """The websocket endpoint (a Starlette WebSocketRoute)."""
    services = socket.app.state.services
    await socket.accept()
    connection = _Connection(services, socket)
    tasks = [asyncio.create_task(connection.receive()),
             asyncio.create_task(connection.deliver())]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect):
                log.warning("websocket connection ended: %r", error)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await connection.close()
        with contextlib.suppress(Exception):
            await socket.close()

