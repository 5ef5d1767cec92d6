"""What the commands that work on the server's database share: the options that name the
database and the run against it.

A command uses the database the server uses: ``MONGODB_URI``, or the data dir's embedded
database, attached to while its server runs and otherwise started for the command and
stopped after it (:func:`fhir_server.server.database_for`). So every such command works
beside a running server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pymongo import AsyncMongoClient

from ..config import Settings

__all__ = ["database_options", "run_on_database"]

T = TypeVar("T")


def database_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--data-dir`` and ``--mongodb-uri``, with their environment twins."""
    function = click.option(
        "--mongodb-uri", envvar="MONGODB_URI", show_envvar=True, default=None,
        help="An external MongoDB; the data dir's embedded database when unset.")(function)
    return click.option(
        "--data-dir", envvar="FHIR_DATA_DIR", show_envvar=True, default="data",
        show_default=True, type=click.Path(file_okay=False, path_type=Path),
        help="The server's data dir (its embedded database and the base URL it answers at)."
    )(function)


def run_on_database(settings: Settings, work: Callable[[AsyncMongoClient], Awaitable[T]]
                    ) -> T:
    """Run ``work(client)`` with a client of the server's database (``settings``)."""
    from ..database import connect
    from ..server import database_for

    database = database_for(settings)

    async def main() -> T:
        client = connect(settings.mongodb_uri or "")
        try:
            return await work(client)
        finally:
            await client.close()

    try:
        return asyncio.run(main())
    finally:
        if database is not None:
            database.stop()
