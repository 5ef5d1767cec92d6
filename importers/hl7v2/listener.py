"""The MLLP listener inside the server process (``fhir-server serve --mllp-port``)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .ingest import DEFAULT_MAX_BYTES, Ingestor
from .mllp import MllpServer

__all__ = ["listening", "MAX_BYTES_ENV"]

MAX_BYTES_ENV = "FHIR_HL7_MAX_BYTES"


@asynccontextmanager
async def listening(services: Any) -> AsyncIterator[MllpServer | None]:
    """Serve MLLP on ``settings.mllp_port`` (when set) on ``settings.host`` while inside."""
    port = getattr(services.settings, "mllp_port", None)
    if not port:
        yield None
        return
    max_bytes = int(os.environ.get(MAX_BYTES_ENV) or DEFAULT_MAX_BYTES)
    ingestor = Ingestor(services.storage.hl7_feed, services.validator, max_bytes=max_bytes)
    server = await MllpServer(ingestor, services.settings.host, port).start()
    try:
        yield server
    finally:
        await server.close()
