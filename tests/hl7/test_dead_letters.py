"""Dead letters: every failed message is kept with its error; after a configuration fix a
replay (or a resend) stores it and resolves the letter. Also through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from importers.hl7v2 import Ingestor, MllpServer
from importers.hl7v2.dead_letters import replay_dead_letters
from tests.conftest import database_of
from tests.hl7.conftest import DATA, ack_fields, exchange, message, stored

VXU = "ms-fhir-converter/IZ_1_1.1_Admin_Child_Max_Message.hl7"


def _config(path: Path, system: str) -> str:
    path.write_text(json.dumps({"identifier_systems": {"by_authority": {"NIST MPI": system}}}))
    return str(path)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "hl7-config.json"


@pytest.fixture
async def configured(ingestor: Ingestor, config_file: Path):
    """A listener whose identifier-system table maps NIST MPI to something not a URI."""
    _config(config_file, "NIST MPI patients")
    configured = Ingestor(ingestor.store, ingestor.validator,
                          config_path=str(config_file))
    server = await MllpServer(configured, "127.0.0.1", 0).start()
    try:
        yield configured, server
    finally:
        await server.close()


async def test_failure_is_kept_then_replayed_after_the_configuration_fix(
        configured, config_file, services):
    ingestor, server = configured
    fields = ack_fields(await exchange(server.port, message(VXU)))
    assert fields["MSA"][1] == "AE"
    assert fields["ERR"][2] == "PID^1" and "Patient.identifier[0].system" in fields["ERR"][8]
    assert await database_of(services)["Patient"].count_documents({}) == 0, "nothing partial"
    [letter] = await services.storage.hl7_feed.dead_letters()
    assert letter["controlId"] == "NIST-IZ-001.00" and letter["ackCode"] == "AE"
    assert letter["text"] == message(VXU).decode("utf-8-sig")
    assert letter["error"]["location"] == "PID^1"

    assert [key for key, outcome in await replay_dead_letters(ingestor)] == [letter["_id"]]
    [again] = await services.storage.hl7_feed.dead_letters(None)
    assert again["attempts"] == 2 and again["status"] == "open"

    _config(config_file, "urn:oid:2.16.840.1.113883.3.72.5.30.2")
    [(key, outcome)] = await replay_dead_letters(ingestor)
    assert (key, outcome.code) == (letter["_id"], "AA")
    assert await services.storage.hl7_feed.dead_letters() == []
    patient = (await stored(services))["Patient"][0]
    assert patient["identifier"][0]["system"] == "urn:oid:2.16.840.1.113883.3.72.5.30.2"
    assert ack_fields(await exchange(server.port, message(VXU)))["MSA"][1] == "AA"


async def test_a_resend_after_the_fix_resolves_the_letter(configured, config_file, services):
    _, server = configured
    assert ack_fields(await exchange(server.port, message(VXU)))["MSA"][1] == "AE"
    _config(config_file, "https://nist.example/mpi")
    assert ack_fields(await exchange(server.port, message(VXU)))["MSA"][1] == "AA"
    [letter] = await services.storage.hl7_feed.dead_letters(None)
    assert letter["status"] == "resolved"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fhir_server.cli", "hl7", *args],
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120)


async def test_cli_import_list_and_replay(mongodb_uri, settings, services, tmp_path,
                                          config_file):
    env = {"MONGODB_URI": mongodb_uri, "FHIR_DATABASE": settings.database,
           "FHIR_HL7_CONFIG": _config(config_file, "NIST MPI patients")}
    batch = tmp_path / "feed.hl7"
    batch.write_bytes(
        (DATA / "cdc-trusted-intermediary/messages/"
         "005_AL_ORU_R01_NBS_Simplified_0_initial_message.hl7").read_bytes()
        + b"\n" + message(VXU) + b"\n" + message("ms-fhir-converter/ADT-A04-02.hl7"))
    imported = _cli("import", str(batch), env=env)
    assert imported.returncode == 1, imported.stderr
    assert "3 messages: 2 stored, 0 already stored, 1 AE, 0 AR" in imported.stdout
    assert "NIST-IZ-001.00: AE PID^1" in imported.stderr

    listed = _cli("dead-letters", "list", env=env)
    assert listed.returncode == 0 and "NIST-IZ-001.00" in listed.stdout
    assert "1 dead letter(s)" in listed.stderr

    env["FHIR_HL7_CONFIG"] = _config(config_file, "urn:oid:2.16.840.1.113883.3.72.5.30.2")
    replayed = _cli("dead-letters", "replay", env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert "1 replayed: 1 stored" in replayed.stderr
    assert await database_of(services)["hl7_messages"].count_documents({}) == 3

    again = _cli("import", str(batch), env=env)
    assert again.returncode == 0 and "3 already stored" in again.stdout
