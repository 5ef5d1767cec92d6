"""The ``fhir-server`` command line."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from .config import Settings, is_loopback

__all__ = ["main"]


def _data_dir_option(function):
    return click.option(
        "--data-dir", envvar="FHIR_DATA_DIR", show_envvar=True, default="data",
        show_default=True, type=click.Path(file_okay=False, path_type=Path),
        help="Where the embedded database and server state live.",
    )(function)


def _mongodb_option(function):
    return click.option(
        "--mongodb-uri", envvar="MONGODB_URI", show_envvar=True, default=None,
        help="An external MongoDB (replica set, cluster, Atlas); embedded DB when unset.",
    )(function)


@click.group()
@click.version_option(package_name="mch-fhir-server")
def main() -> None:
    """FHIR R4 health record server for maternal and child health."""


@main.command(epilog="Settings without an option (database name, body and Bundle limits, "
                     "HL7 v2 limits, ...) are environment variables only: see the "
                     "Configuration table in README.md.")
@click.option("--host", envvar="FHIR_HOST", show_envvar=True, default="127.0.0.1",
              show_default=True, help="Address to listen on.")
@click.option("--port", envvar="FHIR_PORT", show_envvar=True, default=8080,
              show_default=True, type=int,
              help="HTTP port; the FHIR base is http://HOST:PORT/fhir.")
@_data_dir_option
@_mongodb_option
@click.option("--auth", envvar="FHIR_AUTH", show_envvar=True,
              type=click.Choice(["smart", "off"]), default=None,
              help="SMART on FHIR authorization, or off (loopback only). Default: off on a "
                   "loopback host, smart elsewhere.")
@click.option("--base-url", envvar="FHIR_BASE_URL", show_envvar=True, default=None,
              help="Public FHIR base URL when behind a proxy.")
@click.option("--mllp-port", envvar="FHIR_MLLP_PORT", show_envvar=True, default=None,
              type=int, help="Also accept HL7 v2 over MLLP on this port (see docs/hl7v2.md).")
def serve(host: str, port: int, data_dir: Path, mongodb_uri: str | None, auth: str | None,
          base_url: str | None, mllp_port: int | None) -> None:
    """Run the FHIR server."""
    from .server import run

    auth = auth or ("off" if is_loopback(host) else "smart")
    if auth == "off" and not is_loopback(host):
        raise click.UsageError(
            f"--auth off is only allowed on a loopback address, not on '{host}'"
        )
    try:
        settings = Settings(host=host, port=port, data_dir=data_dir, mongodb_uri=mongodb_uri,
                            auth=auth, base_url=base_url, mllp_port=mllp_port,
                            database=os.environ.get("FHIR_DATABASE", "fhir"))
    except ValueError as error:  # an environment setting that is not a number
        raise click.UsageError(str(error)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                        "%(message)s")
    sys.exit(run(settings))


def _register_subcommands() -> None:
    from .commands import register

    register(main)


_register_subcommands()

if __name__ == "__main__":  # pragma: no cover
    main()
