"""``fhir-server load PATH...``: bulk-load Bundles and NDJSON into the server's store.

Works against the data dir's embedded database (attaching to a running server's, or
starting it) or ``MONGODB_URI``, and writes through the same transaction code as
``POST /fhir``. Idempotent and resumable: see :mod:`fhir_server.bundles.loading`.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click
from pymongo import AsyncMongoClient
from tqdm import tqdm

from ..config import Settings
from ..server_record import command_settings
from .on_database import database_options, run_on_database

__all__ = ["commands"]


async def _load(settings: Settings, client: AsyncMongoClient, files: list[Path],
                chunk_size: int, force: bool, quiet: bool) -> list:
    from ..bundles.load_patients import LoadPatients
    from ..bundles.loading import Loader, count_resources
    from ..services import build_services

    total = sum(count_resources(path) for path in files)
    os.environ.setdefault("FHIR_TERMINOLOGY_SEED", "off")  # the server seeds on its start
    services = await build_services(settings, client)
    with tqdm(total=total, unit=" resources", disable=quiet, file=sys.stderr,
              dynamic_ncols=True) as bar:
        loader = Loader(services, chunk_size=chunk_size, force=force, progress=bar.update,
                        patients=LoadPatients(services))
        reports = []
        for path in files:
            bar.set_postfix_str(path.name[-40:], refresh=False)
            reports.append(await loader.load_file(path))
    return reports


def _summary(reports: list, elapsed: float) -> tuple[str, int]:
    loaded = sum(r.resources for r in reports)
    skipped = sum(1 for r in reports if r.skipped)
    failed = [r for r in reports if r.problems]
    lines = []
    for report in failed:
        lines.append(f"{report.path}:")
        lines.extend(f"  {problem}" for problem in report.problems[:20])
        if len(report.problems) > 20:
            lines.append(f"  ... and {len(report.problems) - 20} more")
    rate = loaded / elapsed if elapsed > 0 else 0.0
    lines.append(
        f"{len(reports)} files: {len(reports) - skipped - len(failed)} loaded, {skipped} "
        f"already loaded, {len(failed)} with problems; {loaded} resources written in "
        f"{elapsed:.1f} s ({rate:.0f} resources/s)"
        + (f"; {sum(r.held for r in reports)} patients held for review (fhir-server review "
           "list)" if any(r.held for r in reports) else ""))
    return "\n".join(lines), (1 if failed else 0)


@click.command("load")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@database_options
@click.option("--chunk-size", default=500, show_default=True, type=click.IntRange(1, 10_000),
              help="NDJSON lines per transaction.")
@click.option("--force", is_flag=True, help="Load files again even if recorded as loaded.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def load(paths: tuple[Path, ...], data_dir: Path, mongodb_uri: str | None, chunk_size: int,
         force: bool, quiet: bool) -> None:
    """Load Bundles (.json) and NDJSON files or folders of them."""
    from ..bundles.loading import discover

    # Patients first: the resources of later files refer to them as they were resolved
    files = sorted(discover(list(paths)), key=lambda path: not path.name.startswith("Patient"))
    if not files:
        raise click.UsageError("no .json or .ndjson files found in the given paths")
    settings = command_settings(data_dir, mongodb_uri)
    started = time.perf_counter()
    reports = run_on_database(settings, lambda client: _load(
        settings, client, files, chunk_size, force, quiet))
    text, code = _summary(reports, time.perf_counter() - started)
    click.echo(text)
    sys.exit(code)


commands = [load]
