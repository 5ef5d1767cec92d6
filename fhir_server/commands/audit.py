"""``fhir-server audit verify``: check the AuditEvent hash chain for tampering.

Works against the data dir's embedded database (attaching to a running server's, or
starting it) or ``MONGODB_URI`` / ``FHIR_DATABASE``. Prints one JSON object
(``{"intact", "events", "problems"}``) and exits 1 when the chain was tampered with.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from ..config import Settings
from ..server_record import command_settings

__all__ = ["commands"]


async def _verify(settings: Settings) -> dict:
    from ..database import connect
    from ..storage import AuditTrail

    client = connect(settings.mongodb_uri or "")
    try:
        result = await AuditTrail(client[settings.database]).verify()
    finally:
        await client.close()
    return {"intact": result.intact, "events": result.events, "problems": result.problems}


@click.group()
def audit() -> None:
    """The audit trail (AuditEvents of every access decision)."""


@audit.command("verify")
@click.option("--data-dir", envvar="FHIR_DATA_DIR", show_envvar=True,
              default="data", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The server's data dir (its embedded database).")
@click.option("--mongodb-uri", envvar="MONGODB_URI", show_envvar=True, default=None,
              help="An external MongoDB instead of the embedded database.")
def verify_command(data_dir: Path, mongodb_uri: str | None) -> None:
    """Detect edited, deleted, reordered or inserted AuditEvents."""
    from ..server import database_for

    settings = command_settings(data_dir, mongodb_uri)
    database = database_for(settings)
    try:
        report = asyncio.run(_verify(settings))
    finally:
        if database is not None:
            database.stop()
    click.echo(json.dumps(report, indent=2))
    if not report["intact"]:
        raise SystemExit(1)


commands = [audit]
