"""``fhir-server review list|show|link|reject``: the patient review queue (docs/identity.md).

A feed (HL7 v2, ``fhir-server load``) that finds a probable match for an incoming patient
holds it here instead of creating a second person. ``link`` says it is the named stored
Patient, ``reject`` that it is a person of its own; either way the held HL7 v2 messages are
ingested again at once (now reaching the right Patient), and held ``load`` files take the
decision when they are loaded again. Works on the server's database, also while it runs.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from ..server_record import command_settings
from .on_database import database_options, run_on_database

__all__ = ["commands"]

T = TypeVar("T")


def _run(data_dir: Path, mongodb_uri: str | None, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(services)`` against the server's database."""
    from ..services import build_services

    os.environ.setdefault("FHIR_TERMINOLOGY_SEED", "off")
    settings = command_settings(data_dir, mongodb_uri)

    async def with_services(client: Any) -> T:
        return await work(await build_services(settings, client))

    return run_on_database(settings, with_services)


def _fail(message: str) -> NoReturn:
    raise click.ClickException(message)


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    patient = item["patient"]
    return {"id": item["_id"], "status": item["status"], "source": item.get("source"),
            "created": str(item.get("createdAt")), "reason": item.get("reason"),
            "incoming": {k: patient[k] for k in ("name", "gender", "birthDate", "identifier",
                                                  "telecom", "address") if k in patient},
            "candidates": item.get("candidates", []), "held": item.get("held", []),
            **({"target": item["target"]} if item.get("target") else {})}


@click.group("review")
def review() -> None:
    """The patient review queue: incoming patients a feed could not place with certainty."""


@review.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also the decided ones.")
@click.option("--limit", default=100, show_default=True, type=int)
@database_options
def list_items(show_all: bool, limit: int, data_dir: Path, mongodb_uri: str | None) -> None:
    """Review items, oldest first, one JSON object per line."""

    async def work(services: Any) -> list[dict[str, Any]]:
        return await services.storage.patient_review.items(None if show_all else "open", limit)

    items = _run(data_dir, mongodb_uri, work)
    for item in items:
        click.echo(json.dumps(_summary(item), default=str))
    click.echo(f"{len(items)} item(s)", err=True)


async def _replay(services: Any, item: dict[str, Any]) -> list[str]:
    """Ingest the item's held HL7 v2 messages again; a line per message."""
    from importers.hl7v2 import Ingestor
    from importers.hl7v2.dead_letters import replay_dead_letters

    keys = [h["key"] for h in item.get("held", []) if h.get("kind") == "hl7"]
    lines = []
    if keys:
        ingestor = Ingestor(services.storage.hl7_feed, services.validator)
        for key, outcome in await replay_dead_letters(ingestor, keys, status="held"):
            lines.append(f"HL7 message {key}: {outcome.code}"
                         + (f" {outcome.error.text}" if outcome.error else ""))
    lines += [f"load {h['origin']}: load it again to write it with this decision"
              for h in item.get("held", []) if h.get("kind") == "load"]
    return lines


def _decide(key: str, status: str, target: str | None, data_dir: Path,
            mongodb_uri: str | None) -> None:
    from ..access import SYSTEM
    from ..errors import Gone, NotFound

    async def work(services: Any) -> list[str]:
        if target is not None:
            try:
                await services.storage.resources.read(SYSTEM, "Patient", target)
            except (NotFound, Gone):
                _fail(f"Patient/{target} is not a current Patient on this server")
        item = await services.storage.patient_review.decide(key, status, target,
                                                            getpass.getuser())
        if item is None:
            _fail(f"no open review item {key} (fhir-server review list)")
        return await _replay(services, item)

    for line in _run(data_dir, mongodb_uri, work):
        click.echo(line)
    click.echo(f"{key} {status}" + (f" to Patient/{target}" if target else ""), err=True)


@review.command("link")
@click.argument("key")
@click.option("--patient", "target", required=True, help="The stored Patient's id.")
@database_options
def link(key: str, target: str, data_dir: Path, mongodb_uri: str | None) -> None:
    """The incoming patient KEY (Patient/...) is the stored Patient --patient."""
    _decide(key, "linked", target.removeprefix("Patient/"), data_dir, mongodb_uri)


@review.command("reject")
@click.argument("key")
@database_options
def reject(key: str, data_dir: Path, mongodb_uri: str | None) -> None:
    """The incoming patient KEY is none of the candidates: a person of their own."""
    _decide(key, "rejected", None, data_dir, mongodb_uri)


commands = [review]
