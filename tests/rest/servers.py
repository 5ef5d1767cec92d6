"""Real ``fhir-server serve`` processes on their own data dir and embedded database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fhir_server.embedded_db import database_pids as secantusd_pids

from ..conftest import free_port, terminated_with_this_process

__all__ = ["EmbeddedServer", "secantusd_pids", "wait_until_gone"]

_SERVER_ENV = ("MONGODB_URI", "FHIR_DATABASE", "FHIR_DATA_DIR", "FHIR_PORT", "FHIR_HOST",
               "FHIR_AUTH", "FHIR_BASE_URL", "FHIR_MLLP_PORT")


def wait_until_gone(data_dir: Path, timeout: float = 30) -> list[int]:
    """Wait for the data dir's database processes to exit; the ones still running."""
    deadline = time.monotonic() + timeout
    while (pids := secantusd_pids(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return pids


class EmbeddedServer:
    """``fhir-server serve`` without MONGODB_URI: it starts its own embedded database.

    The data dir and port are given as environment variables (their flags' twins) or as
    flags, so both ways are exercised.
    """

    def __init__(self, data_dir: Path, *, port: int | None = None, use_env: bool = False,
                 wait: bool = True) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}/fhir"
        env = {k: v for k, v in os.environ.items() if k not in _SERVER_ENV}
        args = ["--auth", "off"]
        if use_env:
            env.update(FHIR_DATA_DIR=str(data_dir), FHIR_PORT=str(self.port))
        else:
            args += ["--data-dir", str(data_dir), "--port", str(self.port)]
        data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fhir_server.cli", "serve", *args],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=terminated_with_this_process(),
        )
        if wait:
            self.wait_ready()

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early ({self.process.returncode}):\n"
                                   f"{self.output}")
            try:
                if httpx.get(f"{self.base}/metadata", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"server did not start within {timeout} s:\n{self.output}")

    def database_pid(self) -> int:
        return int(json.loads((self.data_dir / "embedded-db.json").read_text())["pid"])

    def wait_exit(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log.close()

    def terminate(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.wait_exit()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.wait_exit()
