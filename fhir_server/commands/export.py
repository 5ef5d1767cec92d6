"""``fhir-server export --patient ID --out FILE``: a patient's International Patient
Summary document, for a patient who asks in person (the operator acts; no token).

Writes the same document as ``Patient/[id]/$summary`` (:mod:`fhir_server.export.summary`)
against the data dir's embedded database (attaching to a running server's) or
``MONGODB_URI``. The file appears only when the whole document was written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..config import Settings
from ..server_record import command_settings
from .on_database import database_options, run_on_database

__all__ = ["commands"]


async def _summary(settings: Settings, client: Any, patient_id: str) -> dict[str, Any]:
    from ..access import SYSTEM
    from ..export.summary import patient_summary
    from ..services import build_services

    services = await build_services(settings, client)
    stored = await services.storage.resources.read(SYSTEM, "Patient", patient_id)
    assert stored.resource is not None
    return await patient_summary(services.storage.queries, SYSTEM, services.base,
                                 stored.resource)


@click.command("export")
@click.option("--patient", "patient_id", required=True, help="The Patient's id.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write the IPS document Bundle (JSON) to.")
@database_options
def export(patient_id: str, out: Path, data_dir: Path, mongodb_uri: str | None) -> None:
    """Write a patient's International Patient Summary (IPS document Bundle)."""
    from ..errors import FhirError
    from ..ids import check_id
    from ..json_io import dump_json
    settings = command_settings(data_dir, mongodb_uri)
    try:
        checked = check_id(patient_id)
        bundle = run_on_database(settings, lambda client: _summary(settings, client, checked))
    except FhirError as error:
        raise click.ClickException(f"Patient {patient_id}: {error.message}") from None
    partial = out.with_name(out.name + ".partial")
    partial.write_bytes(dump_json(bundle, pretty=True))
    partial.replace(out)
    click.echo(f"Wrote the patient summary of Patient/{patient_id} "
               f"({len(bundle['entry'])} resources) to {out}")


commands = [export]
