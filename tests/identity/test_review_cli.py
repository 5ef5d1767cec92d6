"""``fhir-server review list|link|reject`` on the server's database: a held HL7 v2 message is
listed with its candidates, and linking it ingests it again onto the chosen Patient."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from fhir_server.access import SYSTEM
from fhir_server.cli import main
from importers.hl7v2 import Ingestor
from tests.hl7.test_patient_resolution import CHILD, vxu


async def test_list_link_and_refusals(app, settings, db, tmp_path):
    services = app.state.services
    await services.storage.resources.update(SYSTEM, CHILD, "anaya")
    ingestor = Ingestor(services.storage.hl7_feed, services.validator)
    outcome = await ingestor.ingest(vxu("VXU-5", "9090", name="Kulkarni^A", facility="LAB-9"))
    assert outcome.code == "AA" and outcome.held == "a probable match"
    env = {"MONGODB_URI": settings.mongodb_uri, "FHIR_DATABASE": settings.database,
           "FHIR_DATA_DIR": str(tmp_path)}

    async def cli(*args: str):
        return await asyncio.to_thread(CliRunner().invoke, main, ["review", *args], env=env)

    listed = await cli("list")
    assert listed.exit_code == 0, listed.output
    [item] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert item["status"] == "open" and item["source"] == "hl7"
    assert item["incoming"]["name"] == [{"family": "Kulkarni", "given": ["A"]}]
    assert item["candidates"][0]["reference"] == "Patient/anaya"
    missing = await cli("link", item["id"], "--patient", "nobody")
    assert missing.exit_code == 1 and "not a current Patient" in missing.output
    linked = await cli("link", item["id"], "--patient", "Patient/anaya")
    assert linked.exit_code == 0, linked.output
    assert "AA" in linked.stdout
    immunization = await db["Immunization"].find_one({})
    assert immunization["resource"]["patient"] == {"reference": "Patient/anaya"}
    again = await cli("reject", item["id"])
    assert again.exit_code == 1 and "no open review item" in again.output
    assert [json.loads(line)["status"] for line in (await cli("list", "--all")).stdout
            .splitlines()] == ["linked"]
