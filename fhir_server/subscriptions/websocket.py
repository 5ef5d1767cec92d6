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
from datetime import timedelta
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..errors import Issue, operation_outcome
from .notifications import notification
from .owner import owner_policy, shown_events
from .pacing import Pace

__all__ = ["websocket_channel", "PATH"]

log = logging.getLogger("fhir_server.subscriptions")
PATH = "/fhir/ws"
POLL_SECONDS = 0.05
WINDOW = 50  # events read (and decided on) at once
LEASE = timedelta(seconds=3)
RENEW_SECONDS = 1.0
TAKEOVER_SECONDS = 5.0
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
        self.states = services.storage.subscriptions
        self.socket = socket
        self.name = uuid.uuid4().hex
        self.bound: dict[str, float] = {}  # subscription -> loop time of the last message
        self.lock = asyncio.Lock()
        self.sending: asyncio.Task[None] | None = None

    async def send(self, bundle: dict[str, Any]) -> None:
        async with self.lock:
            await self.socket.send_text(orjson.dumps(bundle).decode())

    async def refuse(self, text: str) -> None:
        async with self.lock:
            await self.socket.send_text(orjson.dumps(operation_outcome(
                [Issue("error", "security", text)])).decode())

    async def receive(self) -> None:
        """Bind-with-token messages, until the client goes away."""
        while True:
            message = await self.socket.receive_text()
            token = _token_of(message[:MAX_MESSAGE])
            subscriptions = None if token is None else await self.states.redeem_token(token)
            if subscriptions is None:
                await self.refuse("Send bind-with-token with a token from "
                                  "$get-ws-binding-token (unknown or expired token)")
                continue
            for sid in subscriptions:
                await self.bind(sid)

    async def bind(self, sid: str) -> None:
        """Take ``sid`` over: once the connection that had it has let it go (it records
        what it sent first), or after :data:`TAKEOVER_SECONDS` in any case."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TAKEOVER_SECONDS
        state = await self.states.bind_websocket(sid, self.name, LEASE)
        while state is None and loop.time() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            state = await self.states.bind_websocket(sid, self.name, LEASE)
        if state is None:
            state = await self.states.bind_websocket(sid, self.name, LEASE, force=True)
        if state is None:
            await self.refuse(f"Subscription/{sid} is not an active websocket subscription")
            return
        await self.send(notification(self.services.base, state, "handshake", []))
        self.bound[sid] = loop.time()

    async def deliver(self) -> None:
        """Send what the bound subscriptions have pending, forever; the bindings are
        renewed every :data:`RENEW_SECONDS`."""
        loop = asyncio.get_running_loop()
        pace = Pace()
        renewed = loop.time()
        while True:
            worked = False
            if self.bound:
                for state in await self.states.get_many(list(self.bound)):
                    # sending and recording it go together, even when the connection is
                    # being closed: a notification sent is a notification recorded
                    self.sending = asyncio.create_task(self._deliver_one(state))
                    worked = await asyncio.shield(self.sending) or worked
                if loop.time() - renewed >= RENEW_SECONDS:
                    await self.states.renew_websocket(list(self.bound), self.name, LEASE)
                    renewed = loop.time()
            await pace.wait(worked)

    async def _deliver_one(self, state: dict[str, Any]) -> bool:
        """Send the subscription's next events (or its heartbeat); whether it sent any."""
        sid = state["_id"]
        if (state.get("ws") or {}).get("worker") != self.name:
            self.bound.pop(sid, None)  # another binding took it over
            return False
        loop_time = asyncio.get_running_loop().time()
        if state["delivered"] < state["events"]:
            first = state["delivered"] + 1
            last = min(state["events"], state["delivered"] + WINDOW)
            events = await self.services.storage.subscription_events.between(sid, first, last)
            if not events:  # all of them expired undelivered: go on after them
                if not await self.states.websocket_sent(sid, self.name, state["delivered"],
                                                        last):
                    self.bound.pop(sid, None)
                return True
            shown = await shown_events(self.services, owner_policy(self.services, state),
                                       events, state["channel"]["content"])
            size = state["channel"]["max_count"]
            delivered = state["delivered"]
            for start in range(0, len(shown), size):
                part = shown[start:start + size]
                await self.send(notification(self.services.base, state,
                                             "event-notification", part))
                if not await self.states.websocket_sent(sid, self.name, delivered,
                                                        part[-1].event["n"]):
                    self.bound.pop(sid, None)
                    return True
                delivered = part[-1].event["n"]
            self.bound[sid] = loop_time
            return True
        heartbeat = state["channel"].get("heartbeat")
        if heartbeat and loop_time - self.bound[sid] >= heartbeat:
            await self.send(notification(self.services.base, state, "heartbeat", []))
            self.bound[sid] = loop_time
        return False

    async def close(self) -> None:
        if self.sending is not None:
            with contextlib.suppress(Exception):
                await self.sending
        for sid in list(self.bound):
            with contextlib.suppress(Exception):
                await self.states.unbind_websocket(sid, self.name)


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

