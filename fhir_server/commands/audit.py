"""``fhir-server audit verify``: check the AuditEvent hash chain for tampering.

Works against the data dir's embedded database (attaching to a running server's, or
starting it) or ``MONGODB_URI`` / ``FHIR_DATABASE``. Prints one JSON object
(``{"intact", "events", "problems"}``) and exits 1 when the chain was tampered with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..server_record import command_settings
from .on_database import database_options, run_on_database

__all__ = ["commands"]


async def _verify(database: Any) -> dict:
    from ..storage import AuditTrail

    result = await AuditTrail(database).verify()
    return {"intact": result.intact, "events": result.events, "problems": result.problems}


@click.group()
def audit() -> None:
    """The audit trail (AuditEvents of every access decision)."""


@audit.command("verify")
@database_options
def verify_command(data_dir: Path, mongodb_uri: str | None) -> None:
    """Detect edited, deleted, reordered or inserted AuditEvents."""
    settings = command_settings(data_dir, mongodb_uri)
    report = run_on_database(settings, lambda client: _verify(client[settings.database]))
    click.echo(json.dumps(report, indent=2))
    if not report["intact"]:
        raise SystemExit(1)


commands = [audit]
