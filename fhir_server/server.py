"""Starting and stopping the server process with its embedded database."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import uvicorn

from .config import Settings
from .embedded_db import (
    EmbeddedDatabase,
    EmbeddedDatabaseError,
    attach_or_start,
    lock_holder,
    try_lock,
)
from .rest.app import create_app
from .rest.timeouts import HeadTimeoutProtocol
from .server_record import record_server
from .webapp import app_url

__all__ = ["run", "database_for"]

log = logging.getLogger("fhir_server")


class ServerError(RuntimeError):
    pass


def _server_lock(data_dir: Path) -> int:
    path = data_dir.resolve() / "server.lock"
    fd = try_lock(path)
    if fd is None:
        raise ServerError(
            f"another fhir-server (pid {lock_holder(path)}) is already serving the data dir "
            f"{data_dir.resolve()}; stop it first or choose another --data-dir"
        )
    return fd


def database_for(settings: Settings, *, must_own: bool = False) -> EmbeddedDatabase | None:
    """The embedded database for ``settings``, or None when MONGODB_URI is set."""
    if settings.mongodb_uri:
        return None
    database = attach_or_start(settings.data_dir, must_own=must_own)
    settings.mongodb_uri = database.uri
    return database


def run(settings: Settings) -> int:
    """Serve until SIGINT/SIGTERM; the embedded database (no MONGODB_URI) lives exactly as
    long as this call, also when startup fails. Returns the process exit code."""
    lock_fd: int | None = None
    database = None

    def _terminate(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, _terminate)
        if not settings.mongodb_uri:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            lock_fd = _server_lock(settings.data_dir)
            record_server(settings)
            database = database_for(settings, must_own=True)
            assert database is not None
            log.info("embedded database at %s (files in %s)", database.uri,
                     settings.data_dir.resolve() / "db")
        app = create_app(settings)
        log.info("FHIR base %s", settings.fhir_base)
        log.info("web app %s", app_url(settings))
        config = uvicorn.Config(app, host=settings.host, port=settings.port,
                                log_level="info", access_log=False, lifespan="on",
                                http=HeadTimeoutProtocol)
        server = uvicorn.Server(config)
        server.run()
        return 0 if server.started else 1
    except (ServerError, EmbeddedDatabaseError) as error:
        log.error("%s", error)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if database is not None:
            database.stop()
        if lock_fd is not None:
            os.close(lock_fd)
