"""Two real server processes on one database (MONGODB_URI), 1,000 writes spread over
both, one of them restarted in the middle: a rest-hook endpoint and a websocket client
each receive every event exactly once, numbered 1..1000 in order, and their focus is
exactly the resources written."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveServer

from .helpers import check_every_event_once, events, kind, observation, subscription
from .receiver import Receiver

WRITES = 1000
PARALLEL = 6
MAX_COUNT = 10  # events per notification (the in-process tests cover one per notification)

pytestmark = pytest.mark.slow


async def start(mongodb_uri: str, database: str) -> LiveServer:
    return await asyncio.to_thread(LiveServer, mongodb_uri, database)


class WebsocketClient:
    """Binds to a websocket subscription and keeps every message; when its server goes
    away it binds again through another one (a fresh token)."""

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.bundles: list[dict] = []
        self.servers: list[LiveServer] = []
        self.changed = asyncio.Event()

    async def run(self) -> None:
        for attempt in itertools.count():
            server = self.servers[-1]
            try:
                async with httpx.AsyncClient(timeout=30) as http:
                    answer = (await http.get(f"{server.base}/Subscription/{self.sid}/"
                                             "$get-ws-binding-token")).json()
                values = {p["name"]: p for p in answer["parameter"]}
                async with connect(values["websocket-url"]["valueUrl"]) as socket:
                    await socket.send(json.dumps({"type": "bind-with-token", "payload": {
                        "token": values["token"]["valueString"]}}))
                    async for message in socket:
                        self.bundles.append(json.loads(message))
                        self.changed.set()
            except (ConnectionClosed, OSError, httpx.HTTPError, KeyError):
                # its server went away: bind again at once through the newest one (the
                # test adds it before stopping the old one)
                assert attempt < 10, "the websocket client cannot reconnect"

    async def wait_for_events(self, count: int, seconds: float) -> None:
        async def enough() -> None:
            while len(events(self.bundles)) < count:
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(enough(), seconds)


async def write(servers: list[LiveServer], count: int, written: list[str]) -> None:
    """``count`` Observation creates, spread round-robin over ``servers``, PARALLEL at once."""
    queue = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(servers[i % len(servers)])

    async def worker() -> None:
        async with httpx.AsyncClient(timeout=60) as http:
            while not queue.empty():
                server = queue.get_nowait()
                response = await http.post(f"{server.base}/Observation",
                                           json=observation(f"p{len(written) % 7}"))
                assert response.status_code == 201, response.text
                written.append(response.json()["id"])

    await asyncio.gather(*(worker() for _ in range(PARALLEL)))


async def test_every_event_once_in_order_across_two_processes_and_a_restart(mongodb_uri):
    database = f"subs_{uuid.uuid4().hex[:8]}"
    first, second = await asyncio.gather(start(mongodb_uri, database),
                                         start(mongodb_uri, database))
    receiver = await Receiver().start()
    servers = [first, second]
    websocket_task = None
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            hook = await http.post(f"{first.base}/Subscription", json=subscription(
                "observation-changed", endpoint=receiver.url, max_count=MAX_COUNT))
            assert hook.status_code == 201, hook.text
            socket = await http.post(f"{second.base}/Subscription", json=subscription(
                "observation-changed", channel="websocket", max_count=MAX_COUNT))
            assert socket.status_code == 201, socket.text
        await receiver.wait_for(lambda b: any(kind(x) == "handshake" for x in b))
        client = WebsocketClient(socket.json()["id"])
        client.servers = [first]
        websocket_task = asyncio.create_task(client.run())
        await asyncio.wait_for(_handshake(client), 30)

        written: list[str] = []
        await write(servers, 400, written)
        client.servers.append(second)
        await asyncio.to_thread(first.stop)  # a graceful restart (SIGTERM)
        await write([second], 200, written)
        third = await start(mongodb_uri, database)
        servers.append(third)
        await write([second, third], WRITES - 600, written)

        await receiver.wait_for(lambda b: len(events(b)) >= WRITES, seconds=180)
        await client.wait_for_events(WRITES, seconds=180)
        assert len(written) == WRITES
        for bundles in (receiver.bundles, client.bundles):
            check_every_event_once(bundles, written)
    finally:
        if websocket_task is not None:
            websocket_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await websocket_task
        await receiver.stop()
        for server in servers:
            await asyncio.to_thread(server.stop)


async def _handshake(client: WebsocketClient) -> None:
    while not any(kind(b) == "handshake" for b in client.bundles):
        client.changed.clear()
        await client.changed.wait()
