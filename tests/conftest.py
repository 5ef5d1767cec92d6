"""Test fixtures: one embedded database per session (or MONGODB_URI), a database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from fhir_server.config import Settings
from fhir_server.database import connect
from fhir_server.embedded_db import EmbeddedDatabase, try_lock
from fhir_server.rest.app import create_app

from .harness import pytest_runtest_protocol, session_database  # noqa: F401 (pytest's hook)

DATA = Path(__file__).parent / "data"
BASE = "http://testserver/fhir"

# Per-test databases skip storing the 2,400 shipped terminology resources (tests/terminology
# seeds explicitly); the Synthea bulk data claims US Core profiles the server does not ship.
os.environ.setdefault("FHIR_TERMINOLOGY_SEED", "off")
os.environ.setdefault("FHIR_UNKNOWN_PROFILE", "warning")


@pytest.fixture(scope="session")
def mongodb_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    uri = os.environ.get("MONGODB_URI")
    if uri:
        session_database.update(uri=uri)
        yield _polled(uri)
        return
    data_dir = tmp_path_factory.mktemp("embedded")
    lock = try_lock(data_dir / "embedded-db.lock")
    assert lock is not None
    database = EmbeddedDatabase.start(data_dir, lock)
    session_database.update(uri=database.uri, pid=database.process.pid)
    try:
        yield _polled(database.uri)
    finally:
        database.stop()


def _polled(uri: str) -> str:
    """``uri`` with PyMongo's polling heartbeat. The session's event loop runs only while
    an async test or fixture does, and the session's clients live on it: with the
    streaming heartbeat a read with a 30 s deadline is always pending, a sync test of a
    minute or more lets the deadline pass, and on the next async test the heartbeat fails,
    the pool is cleared and the operations in flight are cancelled (_OperationCancelled at
    the setup of the first async test after tests/terminology/test_startup.py, seen in
    stress runs). Polling waits for a reply only for the milliseconds a hello takes."""
    return uri + ("&" if "?" in uri else "/?") + "serverMonitoringMode=poll"


@pytest.fixture(scope="session")
async def mongo_client(mongodb_uri: str) -> AsyncIterator[AsyncMongoClient]:
    client = connect(mongodb_uri)
    yield client
    await client.close()


@pytest.fixture
def database_name() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(database_name: str, mongodb_uri: str) -> Settings:
    return Settings(database=database_name, mongodb_uri=mongodb_uri,
                    base_url=BASE)


@pytest.fixture
async def app(settings: Settings, mongo_client: AsyncMongoClient):
    application = create_app(settings, mongo_client)
    async with application.router.lifespan_context(application):
        yield application
    await mongo_client.drop_database(settings.database)


@asynccontextmanager
async def smart_app_on(mongo_client: AsyncMongoClient, mongodb_uri: str, prefix: str
                       ) -> AsyncIterator[Any]:
    """A running in-process app with SMART authorization on a database of its own
    (``prefix`` and a random suffix), dropped afterwards."""
    database = f"{prefix}_{uuid.uuid4().hex[:10]}"
    settings = Settings(database=database, mongodb_uri=mongodb_uri, base_url=BASE,
                        auth="smart")
    application = create_app(settings, mongo_client)
    async with application.router.lifespan_context(application):
        yield application
    await mongo_client.drop_database(database)


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE + "/") as http:
        yield http


def database_of(app_or_services: Any) -> AsyncDatabase:
    """The database of an app (or its services), for tests that look at what is stored
    (the server's own code reaches it only through fhir_server.storage)."""
    services = getattr(getattr(app_or_services, "state", None), "services", app_or_services)
    return services.client[services.settings.database]


@pytest.fixture
def db(app):
    return database_of(app)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """A real ``fhir-server serve`` process on the session database (black-box tests)."""

    def __init__(self, mongodb_uri: str, database: str, extra_env: dict[str, str] | None = None,
                 args: list[str] | None = None) -> None:
        import subprocess
        import sys
        import tempfile
        import time

        self.port = free_port()
        self.database = database
        self.base = f"http://127.0.0.1:{self.port}/fhir"
        env = {**os.environ, "MONGODB_URI": mongodb_uri, "FHIR_DATABASE": database,
               "FHIR_PORT": str(self.port), **(extra_env or {})}
        # a file, not a pipe: nobody reads the output while the server runs, and a full
        # pipe would block the server's next log line (and with it every request)
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fhir_server.cli", "serve", *(args or [])],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=terminated_with_this_process(),
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output}")
            try:
                if httpx.get(f"{self.base}/metadata", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start within 120 s:\n{self.output}")

    @property
    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except Exception:
                self.process.kill()
                self.process.wait()
        self._log.close()


def terminated_with_this_process():
    """What a server process started by a test runs before exec: SIGTERM when the test
    process dies (Linux), so a killed test run leaves no server behind (the server stops
    its own children)."""
    import ctypes
    import signal

    parent = os.getpid()

    def prepare() -> None:
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PDEATHSIG
        except OSError:  # not Linux
            pass
        if os.getppid() != parent:
            os._exit(1)

    return prepare


@pytest.fixture(scope="session")
def live_server(mongodb_uri: str) -> Iterator[LiveServer]:
    """One real server for the whole session, on its own database: two worker processes
    behind one port (``serve --workers 2``), so every black-box test also checks that
    nothing that matters lives in one process's memory."""
    server = LiveServer(mongodb_uri, f"live_{uuid.uuid4().hex[:8]}", args=["--workers", "2"])
    try:
        yield server
    finally:
        server.stop()
