"""Starting and stopping the server process with its embedded database.

``serve --workers N`` runs N server processes on one listening socket (uvicorn's process
supervisor): the parent owns the data dir's lock and the embedded database and hands its
address to the workers (with ``MONGODB_URI`` they all connect to it), and each worker is a
whole server, with nothing that matters kept in its memory (paging cursors, codes, jobs,
leases and caches live in MongoDB). The MLLP listener, when asked for, runs as one more
child process (``fhir-server hl7 listen``) on the same database.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import typing
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings
from .embedded_db import (
    EmbeddedDatabase,
    EmbeddedDatabaseError,
    attach_or_start,
    die_with,
    lock_holder,
    try_lock,
)
from .memory import release_free_memory
from .server_record import record_server

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

__all__ = ["run", "database_for", "worker_app", "WORKER_SETTINGS"]

log = logging.getLogger("fhir_server")
WORKER_SETTINGS = "FHIR_WORKER_SETTINGS"
STOP_LIMIT_SECONDS = 30.0  # the subscription workers' own stop takes at most 10 s each
_PR_SET_PDEATHSIG = 1


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


def database_for(settings: Settings, *, must_own: bool = False,
                 wait: bool = True) -> EmbeddedDatabase | None:
    """The embedded database for ``settings``, or None when MONGODB_URI is set; with
    ``wait=False`` possibly still starting (:meth:`EmbeddedDatabase.wait_until_ready`)."""
    if settings.mongodb_uri:
        return None
    database = attach_or_start(settings.data_dir, must_own=must_own, wait=wait)
    settings.mongodb_uri = database.uri
    return database


def _worker_settings(settings: Settings) -> str:
    fields = dataclasses.asdict(settings)  # nested settings (health_id) become dicts
    fields["data_dir"] = str(settings.data_dir)
    fields["mllp_port"] = None  # the listener is a process of its own
    return json.dumps(fields, default=sorted)  # sets as lists


def _settings_from(text: str) -> Settings:
    """The parent's :class:`Settings` from :func:`_worker_settings`: paths and nested
    settings rebuilt from the field types."""
    fields = json.loads(text)
    types = typing.get_type_hints(Settings)
    for name, value in fields.items():
        kind = types[name]
        if kind is Path:
            fields[name] = Path(value)
        elif dataclasses.is_dataclass(kind) and isinstance(value, dict):
            fields[name] = kind(**value)
        elif typing.get_origin(kind) is frozenset:
            fields[name] = frozenset(value)
    return Settings(**fields)


def worker_app() -> Starlette:
    """The application of one ``serve --workers N`` worker: the parent's settings (with
    its database's address), and SIGTERM when the parent dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not Linux
        pass
    from .rest.app import create_app

    return create_app(_settings_from(os.environ[WORKER_SETTINGS]))


def _mllp_listener(settings: Settings) -> subprocess.Popen:
    """``fhir-server hl7 listen`` on the server's database, dying with this process."""
    command = [sys.executable, "-m", "fhir_server.cli", "hl7", "listen",
               "--host", settings.host, "--port", str(settings.mllp_port),
               "--data-dir", str(settings.data_dir)]
    environment = {**os.environ, "MONGODB_URI": settings.mongodb_uri or ""}
    return subprocess.Popen(command, env=environment, stdin=subprocess.DEVNULL,
                            preexec_fn=die_with(os.getpid()))


def _serve_workers(settings: Settings, config: uvicorn.Config) -> int:
    from uvicorn.supervisors import Multiprocess

    os.environ[WORKER_SETTINGS] = _worker_settings(settings)
    listener = _mllp_listener(settings) if settings.mllp_port else None
    try:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    finally:
        if listener is not None:
            listener.terminate()
            try:
                listener.wait(timeout=10)
            except subprocess.TimeoutExpired:
                listener.kill()
    return 0


def _bounded_server(config: uvicorn.Config, give_up: typing.Callable[[], None]
                    ) -> uvicorn.Server:
    """uvicorn's server, whose stop on SIGTERM/SIGINT cannot hang: uvicorn looks at the
    signal only once the application's startup is over (which may wait minutes for another
    process's seeding, or forever for a database that stopped answering) and then waits
    for the application's shutdown without a limit. A signal during startup ends the
    process at once, one during shutdown after :data:`STOP_LIMIT_SECONDS`: ``give_up``
    runs (it stops the embedded database) and the process exits with code 1. Nothing is
    lost by that: every write is a transaction, and an interrupted seeding (it runs in the
    background, :mod:`fhir_server.shipped_seeding`) is resumed by the next process (its
    lease names this process, which is then gone)."""
    import threading

    import uvicorn

    class BoundedServer(uvicorn.Server):
        _timer: threading.Timer | None = None

        async def startup(self, sockets: typing.Any = None) -> None:
            await super().startup(sockets=sockets)
            release_free_memory()

        def handle_exit(self, sig: int, frame: typing.Any) -> None:
            super().handle_exit(sig, frame)
            if self._timer is None:
                limit = STOP_LIMIT_SECONDS if self.started else 0.0
                self._timer = threading.Timer(limit, self._give_up)
                self._timer.daemon = True
                self._timer.start()

        def _give_up(self) -> None:
            if self.started:
                log.error("the server did not stop within %.0f s of the signal; exiting",
                          STOP_LIMIT_SECONDS)
            else:
                log.warning("stopped during startup")
            try:
                give_up()
            finally:
                os._exit(1)

    return BoundedServer(config)


def run(settings: Settings, workers: int = 1) -> int:
    """Serve until SIGINT/SIGTERM, in ``workers`` processes; the embedded database (no
    MONGODB_URI) lives exactly as long as this call, also when startup fails. Returns the
    process exit code.

    The database process is started first and the server's modules are imported while it
    starts (each takes one to two seconds, on two cores at once)."""
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
            database = database_for(settings, must_own=True, wait=False)
            assert database is not None
        import uvicorn

        from .rest.app import create_app
        from .rest.timeouts import HeadTimeoutProtocol
        from .webapp import app_url

        if database is not None:
            database.wait_until_ready()
            log.info("embedded database at %s (files in %s)", database.uri,
                     settings.data_dir.resolve() / "db")
        log.info("FHIR base %s", settings.fhir_base)
        log.info("web app %s", app_url(settings))
        if workers > 1:
            return _serve_workers(settings, uvicorn.Config(
                "fhir_server.server:worker_app", factory=True, workers=workers,
                host=settings.host, port=settings.port, log_level="info", access_log=False,
                lifespan="on", http=HeadTimeoutProtocol))
        app = create_app(settings)
        config = uvicorn.Config(app, host=settings.host, port=settings.port,
                                log_level="info", access_log=False, lifespan="on",
                                http=HeadTimeoutProtocol)
        server = _bounded_server(config, database.stop if database else lambda: None)
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
