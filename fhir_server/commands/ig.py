"""``fhir-server ig install PACKAGE.tgz``: install an implementation guide package.

Stores the package's StructureDefinitions, ValueSets, CodeSystems, ConceptMaps and
SearchParameters (see :mod:`profiles.install`) in the server's database (the data dir's
embedded database, attaching to a running server's, or ``MONGODB_URI``). Running servers
use the new profiles and value sets within ``FHIR_CONFORMANCE_REFRESH_SECONDS``; new
search parameters index existing data after ``$reindex``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click

from ..config import Settings
from ..server_record import command_settings
from .on_database import database_options, run_on_database

__all__ = ["commands"]


async def _install(settings: Settings, client: Any, path: Path) -> tuple[str, Counter[str]]:
    from profiles.install import install_package
    from profiles.packages import read_package

    from ..services import build_services

    package = read_package(path)
    services = await build_services(settings, client)
    registry = services.validator.registry
    stored = await install_package(services.storage.packages, package, registry)
    return package.label, stored


@click.group("ig")
def ig() -> None:
    """Implementation guides (FHIR packages)."""


@ig.command("install")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database_options
def install(package: Path, data_dir: Path, mongodb_uri: str | None) -> None:
    """Install a FHIR package (.tgz) into the server's database."""
    from profiles.packages import PackageError

    settings = command_settings(data_dir, mongodb_uri)
    try:
        label, stored = run_on_database(settings,
                                        lambda client: _install(settings, client, package))
    except PackageError as error:
        raise click.ClickException(str(error)) from None
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(stored.items())) or "nothing"
    click.echo(f"Installed {label}: {counts}")
    if stored.get("SearchParameter"):
        click.echo("New search parameters apply to existing resources after $reindex.")


commands = [ig]
