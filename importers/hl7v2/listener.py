"""The MLLP listener inside the server process (``fhir-server serve --mllp-port``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .ingest import Ingestor
from .mllp import MllpServer

__all__ = ["listening"]


@asynccontextmanager
async def listening(services: Any) -> AsyncIterator[MllpServer | None]:
    """Serve MLLP on ``settings.mllp_port`` (when set) on ``settings.host`` while inside."""
    port = getattr(services.settings, "mllp_port", None)
    if not port:
        yield None
        return
    ingestor = Ingestor(services.storage.hl7_feed, services.validator,
                        max_bytes=services.settings.hl7_max_bytes)
    server = await MllpServer(ingestor, services.settings.host, port).start()
    try:
        yield server
    finally:
        await server.close()
