"""Time limits on what a client sends, so that a silent or short request cannot hold a
connection until the client gives up.

* :class:`HeadTimeoutProtocol` (uvicorn's httptools protocol): a connection whose request
  line and headers are not complete within ``FHIR_REQUEST_HEAD_SECONDS`` (default 10) is
  closed (a client that connects and sends nothing, or too little).
* :class:`BodyTimeout` (pure ASGI): a request body that stops arriving for
  ``FHIR_REQUEST_BODY_SECONDS`` (default 30: a body shorter than its ``Content-Length``)
  is answered ``408`` with an OperationOutcome, and nothing of it is stored.
"""

from __future__ import annotations

import asyncio
import os
from asyncio import TimerHandle, Transport

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..errors import FhirError

__all__ = ["HeadTimeoutProtocol", "BodyTimeout", "RequestTimeout"]


def _seconds(name: str, default: float) -> float:
    return max(float(os.environ.get(name, default)), 0.1)


class RequestTimeout(FhirError):
    status, code = 408, "timeout"


class HeadTimeoutProtocol(HttpToolsProtocol):
    """Closes a connection that does not send a complete request head in time."""

    _head_deadline: TimerHandle | None = None

    def connection_made(self, transport: Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_deadline = self.loop.call_later(
            _seconds("FHIR_REQUEST_HEAD_SECONDS", 10), self._too_slow)

    def on_headers_complete(self) -> None:
        self._cancel_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _cancel_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _too_slow(self) -> None:
        self._head_deadline = None
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()


class BodyTimeout:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = _seconds("FHIR_REQUEST_BODY_SECONDS", 30)

        async def timed() -> Message:
            try:
                async with asyncio.timeout(limit):
                    return await receive()
            except TimeoutError:
                raise RequestTimeout(f"The request body stopped arriving for {limit:.0f} s "
                                     "(shorter than its Content-Length?); nothing was "
                                     "stored") from None

        await self.app(scope, timed, send)
