"""The identity of the data dir's server, for the commands that act in its name.

A token's issuer and audience, an IPS document's ``fullUrl`` and the references the search
index takes as local all depend on the server's FHIR base. A server started with
``--port 9000`` answers at ``http://127.0.0.1:9000/fhir``; a command that assumed port 8080
would mint tokens that server refuses (``Invalid claim: 'iss'``). So the server records its
base in ``<data-dir>/server.json`` when it starts (:func:`record_server`), and the commands
read it back (:func:`command_settings`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .config import Settings

__all__ = ["SERVER_RECORD", "record_server", "recorded_base", "command_settings"]

SERVER_RECORD = "server.json"


def record_server(settings: Settings) -> None:
    """Write ``server.json`` (``{"pid": ..., "fhir_base": ...}``) into the data dir, whole
    or not at all; called by the server once it holds the data dir's lock."""
    path = settings.data_dir / SERVER_RECORD
    partial = path.with_name(f".{SERVER_RECORD}.{os.getpid()}")
    partial.write_text(json.dumps({"pid": os.getpid(), "fhir_base": settings.fhir_base}))
    os.replace(partial, path)


def recorded_base(data_dir: Path) -> str | None:
    """The FHIR base the data dir's server (running, or the last one) answers at."""
    try:
        base = json.loads((data_dir / SERVER_RECORD).read_text()).get("fhir_base")
    except (OSError, ValueError, AttributeError):
        return None
    return base if isinstance(base, str) and base.startswith(("http://", "https://")) else None


def command_settings(data_dir: Path, mongodb_uri: str | None,
                     base_url: str | None = None) -> Settings:
    """Settings for a command against the server's database, with the server's FHIR base:
    ``base_url`` (``--base-url``/``FHIR_BASE_URL``) when given, else the one the data dir's
    server recorded (embedded database only: servers sharing a MongoDB share no data dir),
    else ``FHIR_HOST`` and ``FHIR_PORT`` as ``serve`` reads them."""
    base_url = base_url or os.environ.get("FHIR_BASE_URL") or None
    if not base_url and not mongodb_uri:
        base_url = recorded_base(data_dir)
    return Settings(
        data_dir=data_dir, mongodb_uri=mongodb_uri,
        host=os.environ.get("FHIR_HOST", "127.0.0.1"),
        port=int(os.environ.get("FHIR_PORT") or 8080),
        base_url=base_url, database=os.environ.get("FHIR_DATABASE", "fhir"),
    )
