"""The MLLP listener: HL7 v2 over TCP with asyncio (HL7 v2.5.1 Appendix C, MLLP release 1).

A frame is ``0x0B`` message ``0x1C 0x0D``; each message is answered on the same connection
with its ACK in a frame. Many connections are served at once; bytes outside a frame are
ignored, a frame over ``max_bytes`` is answered AR (and kept as a dead letter) while its rest
is skipped, an idle or dropped connection is closed, and no error in one connection stops the
listener.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from .ingest import Ingestor

__all__ = ["MllpServer", "Oversized", "read_frames", "frame", "START", "END"]

log = logging.getLogger("fhir_server.hl7v2")
START, END, CR = b"\x0b", b"\x1c", b"\x0d"
_CHUNK = 1 << 16


@dataclass
class Oversized:
    """A frame longer than the limit: its first bytes (for MSH-10) and its size."""

    head: bytes
    size: int


def frame(payload: bytes) -> bytes:
    return START + payload + END + CR


async def read_frames(reader: asyncio.StreamReader, max_bytes: int,
                      idle_seconds: float | None = None) -> AsyncIterator[bytes | Oversized]:
    """The frames on a connection, until it closes (a partial last frame is dropped)."""
    body = bytearray()
    inside, size = False, 0
    while True:
        async with asyncio.timeout(idle_seconds):
            chunk = await reader.read(_CHUNK)
        if not chunk:
            return
        while chunk:
            if not inside:
                start = chunk.find(START)
                if start < 0:
                    break
                inside, size, body = True, 0, bytearray()
                chunk = chunk[start + 1:]
                continue
            end = chunk.find(END)
            restart = chunk.find(START)
            if restart >= 0 and (end < 0 or restart < end):
                size, body, chunk = 0, bytearray(), chunk[restart + 1:]
                continue
            piece = chunk if end < 0 else chunk[:end]
            size += len(piece)
            if size <= max_bytes:
                body += piece
            elif len(body) < 4096:
                body += piece[:4096 - len(body)]
            if end < 0:
                break
            inside = False
            chunk = chunk[end + 1:]
            yield bytes(body) if size <= max_bytes else Oversized(bytes(body), size)


class MllpServer:
    """``await start()``, then ``port``; ``await close()`` stops it."""

    def __init__(self, ingestor: Ingestor, host: str = "127.0.0.1", port: int = 2575, *,
                 idle_seconds: float | None = 600.0) -> None:
        self.ingestor = ingestor
        self.host, self._port = host, port
        self.idle_seconds = idle_seconds
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> MllpServer:
        await self.ingestor.ensure_indexes()
        self._server = await asyncio.start_server(self._serve, self.host, self._port,
                                                  limit=_CHUNK)
        log.info("MLLP listener on %s:%s", self.host, self.port)
        return self

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._clients):
                task.cancel()
            await asyncio.gather(*self._clients, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        peer = writer.get_extra_info("peername")
        try:
            async for payload in read_frames(reader, self.ingestor.max_bytes,
                                             self.idle_seconds):
                ack = await self._answer(payload, peer)
                writer.write(frame(ack))
                await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("MLLP connection from %s failed", peer)
        finally:
            self._clients.discard(task)
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _answer(self, payload: bytes | Oversized, peer: object) -> bytes:
        try:
            if isinstance(payload, Oversized):
                outcome = await self.ingestor.reject_oversized(payload.head, payload.size,
                                                               source=f"mllp:{peer}")
            else:
                outcome = await self.ingestor.ingest(payload, source=f"mllp:{peer}")
            return outcome.ack.encode("utf-8", "replace")
        except Exception:
            log.exception("answering an MLLP message from %s failed", peer)
            return self.ingestor.internal_error_ack().encode()
