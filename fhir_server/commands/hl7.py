"""``fhir-server hl7 listen|import|dead-letters``: the HL7 v2 feed (see docs/hl7v2.md).

Every command works on the same database as the server (the data dir's embedded database,
attached to or started, or ``MONGODB_URI``), so they can run beside a running server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..config import Settings
from ..server_record import command_settings
from .on_database import database_options, run_on_database

__all__ = ["commands"]

T = TypeVar("T")


def _settings(data_dir: Path, mongodb_uri: str | None) -> Settings:
    return command_settings(data_dir, mongodb_uri)


def _run(settings: Settings, work: Callable[[Any], Awaitable[T]], max_bytes: int,
         *, long_running: bool = False) -> T:
    """Run ``work(ingestor)`` against the server's database. A short command leaves storing
    the shipped terminology (a background task of the services) to the server."""
    from importers.hl7v2 import Ingestor

    if not long_running:
        os.environ.setdefault("FHIR_TERMINOLOGY_SEED", "off")

    from ..services import build_services

    async def with_ingestor(client: Any) -> T:
        services = await build_services(settings, client)
        ingestor = Ingestor(services.storage.hl7_feed, services.validator, max_bytes=max_bytes)
        await ingestor.ensure_indexes()
        return await work(ingestor)

    return run_on_database(settings, with_ingestor)


def _common(function: Callable[..., Any]) -> Callable[..., Any]:
    """The database options and ``--max-bytes``."""
    function = database_options(function)
    return click.option("--max-bytes", envvar="FHIR_HL7_MAX_BYTES", show_envvar=True, type=int,
                        default=4 << 20, show_default=True,
                        help="Largest message accepted; larger ones are answered AR.")(function)


@click.group("hl7")
def hl7() -> None:
    """HL7 v2 feeds: MLLP listener, file import, dead letters."""


@hl7.command("listen")
@click.option("--host", envvar="FHIR_MLLP_HOST", show_envvar=True,
              default="127.0.0.1", show_default=True)
@click.option("--port", envvar="FHIR_MLLP_PORT", show_envvar=True,
              default=2575, show_default=True, type=int)
@_common
def listen(host: str, port: int, data_dir: Path, mongodb_uri: str | None,
           max_bytes: int) -> None:
    """Run the MLLP listener alone (no HTTP) against the server's database."""
    from importers.hl7v2 import MllpServer

    async def work(ingestor: Any) -> None:
        server = await MllpServer(ingestor, host, port).start()
        click.echo(f"MLLP listener on {host}:{server.port} (Ctrl-C to stop)", err=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        await server.close()

    _run(_settings(data_dir, mongodb_uri), work, max_bytes, long_running=True)


@hl7.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_common
def import_files(files: tuple[Path, ...], data_dir: Path, mongodb_uri: str | None,
                 max_bytes: int) -> None:
    """Import files of HL7 v2 messages (one or many per file, FHS/BHS batches)."""
    from tqdm import tqdm

    from importers.hl7v2.batch import split_batch

    async def work(ingestor: Any) -> Counter[str]:
        items = [(path, text) for path in files for text in split_batch(path.read_bytes())]
        counts: Counter[str] = Counter()
        failures: list[str] = []
        with tqdm(total=len(items), unit="msg", file=sys.stderr) as progress:
            for path, text in items:
                outcome = await ingestor.ingest(text, source=f"file:{path}")
                counts["repeat" if outcome.duplicate else outcome.code] += 1
                if outcome.error is not None:
                    failures.append(f"{path.name} {outcome.control_id or '?'}: {outcome.code} "
                                    f"{outcome.error.location} {outcome.error.text}")
                progress.update()
        for line in failures[:20]:
            click.echo(line, err=True)
        if len(failures) > 20:
            click.echo(f"... and {len(failures) - 20} more", err=True)
        return counts

    counts = _run(_settings(data_dir, mongodb_uri), work, max_bytes)
    click.echo(f"{sum(counts.values())} messages: {counts['AA']} stored, {counts['repeat']} "
               f"already stored, {counts['AE']} AE, {counts['AR']} AR "
               "(failures are dead letters: fhir-server hl7 dead-letters list)")
    sys.exit(1 if counts["AE"] or counts["AR"] else 0)


@hl7.group("dead-letters")
def dead_letters() -> None:
    """Messages that failed (AE/AR): list them, replay them after a fix."""


@dead_letters.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also the resolved ones.")
@click.option("--limit", default=100, show_default=True, type=int)
@_common
def list_letters(show_all: bool, limit: int, data_dir: Path, mongodb_uri: str | None,
                 max_bytes: int) -> None:
    """List dead letters, oldest first."""

    async def work(ingestor: Any) -> list[dict[str, Any]]:
        return await ingestor.store.dead_letters(None if show_all else "open", limit)

    letters = _run(_settings(data_dir, mongodb_uri), work, max_bytes)
    for letter in letters:
        error = letter.get("error", {})
        click.echo(f"{letter['_id']}  {letter.get('status')}  {letter.get('ackCode')}  "
                   f"{letter.get('event') or '-'}  {letter.get('controlId') or '-'}  "
                   f"attempts={letter.get('attempts')}  {error.get('location') or '-'}  "
                   f"{error.get('text')}")
    click.echo(f"{len(letters)} dead letter(s)", err=True)


@dead_letters.command("replay")
@click.argument("ids", nargs=-1)
@_common
def replay(ids: tuple[str, ...], data_dir: Path, mongodb_uri: str | None,
           max_bytes: int) -> None:
    """Replay open dead letters (all, or those with the given ids) after a fix."""
    from importers.hl7v2.dead_letters import replay_dead_letters

    async def work(ingestor: Any) -> list[Any]:
        return await replay_dead_letters(ingestor, list(ids) or None)

    results = _run(_settings(data_dir, mongodb_uri), work, max_bytes)
    for key, outcome in results:
        detail = f"  {outcome.error.location} {outcome.error.text}" if outcome.error else ""
        click.echo(f"{key}  {outcome.code}{detail}")
    stored = sum(1 for _, outcome in results if outcome.code == "AA")
    click.echo(f"{len(results)} replayed: {stored} stored, {len(results) - stored} still "
               "failing", err=True)
    sys.exit(0 if stored == len(results) else 1)


commands = [hl7]
