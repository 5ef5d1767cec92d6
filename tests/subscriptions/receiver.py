"""A rest-hook endpoint for tests: a small HTTP/1.1 server on loopback, in the test's
event loop, that records every notification Bundle POSTed to it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson


class Receiver:
    def __init__(self) -> None:
        self.bundles: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.fail_next = 0  # answer 500 to this many requests
        self.gate = asyncio.Event()  # requests wait for it before they are answered
        self.gate.set()
        self.waiting = 0  # requests held at the gate
        self.changed = asyncio.Condition()
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> Receiver:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in
                           (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if not self.gate.is_set():
                    async with self.changed:
                        self.waiting += 1
                        self.changed.notify_all()
                    await self.gate.wait()
                if self.fail_next > 0:
                    self.fail_next -= 1
                    status = b"500 Internal Server Error"
                else:
                    status = b"200 OK"
                    async with self.changed:
                        self.bundles.append(orjson.loads(body))
                        self.headers.append(headers)
                        self.changed.notify_all()
                writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def wait_for(self, condition: Callable[[list[dict[str, Any]]], bool],
                       seconds: float = 30) -> list[dict[str, Any]]:
        """Wait until ``condition(bundles)`` holds; fail after ``seconds``."""
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: condition(self.bundles)),
                                   seconds)
        return list(self.bundles)
