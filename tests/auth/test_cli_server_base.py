"""Black box: ``fhir-server token`` against a real server on a port other than 8080.

Issue 13: the commands minted tokens for ``http://127.0.0.1:8080`` unless given
``--base-url``, so a server started with another ``--port`` refused every one of them
(``Invalid claim: 'iss'``). The commands now take the base the data dir's server recorded.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fhir_server.config import Settings
from fhir_server.server_record import SERVER_RECORD, record_server

from ..conftest import free_port

# What a shell may have set that would tell the commands the answer.
_HINTS = ("MONGODB_URI", "FHIR_DATABASE", "FHIR_DATA_DIR", "FHIR_PORT", "FHIR_HOST",
          "FHIR_AUTH", "FHIR_BASE_URL", "FHIR_MLLP_PORT")


@dataclass
class Server:
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir"


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _HINTS}
    env["FHIR_TERMINOLOGY_SEED"] = "off"
    return env


def fhir_server(*args: str) -> subprocess.CompletedProcess[str]:
    """``fhir-server ARGS`` as an operator types it: no base URL, no port."""
    return subprocess.run([sys.executable, "-m", "fhir_server.cli", *args], env=_environment(),
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("server-base") / "data"
    data_dir.mkdir()
    port = free_port()
    log = open(data_dir.parent / "server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "fhir_server.cli", "serve", "--auth", "smart", "--port",
         str(port), "--data-dir", str(data_dir)],
        env=_environment(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    live = Server(data_dir, port, process)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (data_dir.parent / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start in 120 s"
            try:
                if httpx.get(f"{live.base}/metadata", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield live
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def _issued(server: Server, client_id: str, *extra: str) -> str:
    added = fhir_server("clients", "add", "--data-dir", str(server.data_dir), "--client-id",
                        client_id, "--secret", "a-long-secret", "--scope", "system/*.rs")
    assert added.returncode == 0, added.stderr
    issued = fhir_server("token", "--data-dir", str(server.data_dir), "--client-id",
                         client_id, "--scope", "system/*.rs", *extra)
    assert issued.returncode == 0, issued.stderr
    return issued.stdout.strip()


def _claims(token: str) -> dict[str, str]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _status(server: Server, token: str) -> int:
    return httpx.get(f"{server.base}/Patient", headers={"Authorization": f"Bearer {token}"},
                     timeout=30).status_code


def test_token_without_base_url_is_accepted_by_a_server_on_another_port(server):
    token = _issued(server, "ops")
    assert _claims(token)["iss"] == f"http://127.0.0.1:{server.port}"
    assert _status(server, token) == 200


def test_commands_use_the_base_the_data_dirs_server_recorded(server):
    record_server(Settings(port=server.port, data_dir=server.data_dir))
    assert json.loads((server.data_dir / SERVER_RECORD).read_text())["fhir_base"] == (
        server.base)
    token = _issued(server, "recorded")
    assert _claims(token)["aud"] == server.base
    assert _status(server, token) == 200
    stale = fhir_server("token", "--data-dir", str(server.data_dir), "--client-id",
                        "recorded", "--scope", "system/*.rs", "--base-url",
                        "http://127.0.0.1:8080/fhir")
    assert stale.returncode == 0 and _claims(stale.stdout.strip())["iss"] == (
        "http://127.0.0.1:8080")
    assert _status(server, stale.stdout.strip()) == 401
