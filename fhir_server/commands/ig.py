"""``fhir-server ig install PACKAGE.tgz``: install an implementation guide package.

Stores the package's StructureDefinitions, ValueSets, CodeSystems, ConceptMaps and
SearchParameters (see :mod:`profiles.install`) in the server's database (the data dir's
embedded database, attaching to a running server's, or ``MONGODB_URI``). Running servers
use the new profiles and value sets within ``FHIR_CONFORMANCE_REFRESH_SECONDS``; new
search parameters index existing data after ``$reindex``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import click

from ..config import Settings
from ..server_record import command_settings

__all__ = ["commands"]


async def _install(settings: Settings, path: Path) -> tuple[str, Counter[str]]:
    from profiles.install import install_package
    from profiles.packages import read_package

    from ..database import connect
    from ..services import build_services

    package = read_package(path)
    client = connect(settings.mongodb_uri or "")
    try:
        services = await build_services(settings, client)
        registry = services.validator.registry
        stored = await install_package(services.storage.packages, package, registry)
        return package.label, stored
    finally:
        await client.close()


@click.group("ig")
def ig() -> None:
    """Implementation guides (FHIR packages)."""


@ig.command("install")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--data-dir", envvar="FHIR_DATA_DIR", show_envvar=True,
              default="data", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="The server's data dir (its embedded database).")
@click.option("--mongodb-uri", envvar="MONGODB_URI", show_envvar=True, default=None,
              help="An external MongoDB instead of the embedded database.")
def install(package: Path, data_dir: Path, mongodb_uri: str | None) -> None:
    """Install a FHIR package (.tgz) into the server's database."""
    from profiles.packages import PackageError

    from ..server import database_for

    settings = command_settings(data_dir, mongodb_uri)
    database = database_for(settings)
    try:
        label, stored = asyncio.run(_install(settings, package))
    except PackageError as error:
        raise click.ClickException(str(error)) from None
    finally:
        if database is not None:
            database.stop()
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(stored.items())) or "nothing"
    click.echo(f"Installed {label}: {counts}")
    if stored.get("SearchParameter"):
        click.echo("New search parameters apply to existing resources after $reindex.")


commands = [ig]
