"""The embedded database: a SecantusDB server (``secantusd-py``) run as a child process.

SecantusDB speaks the MongoDB wire protocol over WiredTiger. It is GPL-2.0, so it is only
ever run as a separate program and reached over the wire, never imported. It runs with
``--sync-on-commit``: without it, a write acknowledged with ``j: true`` can be lost when
the database process is killed (tests/rest/test_restart.py shows it).

The database is a child of the process that starts it, in its own process group, and is
sent SIGKILL when that process dies (Linux ``PR_SET_PDEATHSIG``; note that the signal
follows the *thread* that started it, so start it from the main thread). SIGKILL, not
SIGTERM: SecantusDB 0.7.0b3's SIGTERM handler can deadlock (it sets an ``Event`` the main
thread waits on under the same lock), and with ``--sync-on-commit`` a killed database
loses no acknowledged write. A normal stop sends SIGTERM for a clean close and escalates to
SIGKILL after :data:`STOP_GRACE_SECONDS`, so no stop can hang; a restart stops whatever
database process still runs on the data dir, hung or not.

Files under the data dir:

* ``db/``               the WiredTiger home of the database
* ``embedded-db.lock``  held (``flock``) by the process that owns the running database
* ``embedded-db.json``  the owner's pid, the database pid and its ``mongodb://`` address,
  so other ``fhir-server`` commands on the same data dir connect to it
* ``embedded-db.log``   the database's own log
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

__all__ = ["EmbeddedDatabase", "EmbeddedDatabaseError", "attach_or_start", "die_with"]

_PR_SET_PDEATHSIG = 1
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 5.0


class EmbeddedDatabaseError(RuntimeError):
    pass


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def die_with(parent: int):
    """What runs in the child before exec: its own process group, and SIGKILL (a signal
    no handler can catch or hang in) when ``parent`` dies, also if it already has."""

    def prepare() -> None:
        os.setsid()
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:  # not Linux: the process group and shutdown hooks still apply
            pass
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return prepare


def _secantusd_executable() -> str:
    beside_python = Path(sys.executable).parent / "secantusd-py"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("secantusd-py")
    if not found:
        raise EmbeddedDatabaseError(
            "secantusd-py not found: install the embedded database with "
            "`pip install 'mch-fhir-server[embedded]'` or set MONGODB_URI"
        )
    return found


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_secantusd(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"secantusd" in cmdline


def _answers(uri: str, timeout_ms: int = 500) -> bool:
    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=timeout_ms)
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


@dataclass
class EmbeddedDatabase:
    """A running embedded database, owned by this process or by another one."""

    data_dir: Path
    uri: str
    owned: bool
    process: subprocess.Popen | None = None
    lock_fd: int | None = None

    @property
    def state_file(self) -> Path:
        return self.data_dir / "embedded-db.json"

    @classmethod
    def start(cls, data_dir: Path, lock_fd: int, *, wait: bool = True) -> EmbeddedDatabase:
        """Start the database; the caller holds the owner lock (``lock_fd``). With
        ``wait=False`` it returns while the database still starts (a few seconds: the
        caller may do its own startup meanwhile), and :meth:`wait_until_ready` follows."""
        storage = data_dir / "db"
        storage.mkdir(parents=True, exist_ok=True)
        _stop_leftovers(data_dir)
        port = _free_loopback_port()
        # No retryable writes: SecantusDB 0.7 keeps a record of each one for 30 minutes and
        # scans them all (past 10,000, sorts them) on every write, so a non-transactional
        # write slowed from 2 to 12 ms over 12,000 writes; what they protect against (a
        # failover between a write and its answer) cannot happen to one process on loopback.
        uri = f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false"
        log = open(data_dir / "embedded-db.log", "ab")
        command = [
            _secantusd_executable(),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--storage-path", str(storage),
            "--log-level", "WARNING",
            "--sync-on-commit",  # an acknowledged (j: true) write survives a crash
        ]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with(os.getpid()),
            close_fds=True,
        )
        log.close()
        database = cls(data_dir, uri, owned=True, process=process, lock_fd=lock_fd)
        if wait:
            database.wait_until_ready()
        return database

    def wait_until_ready(self) -> None:
        """Until the database this process started answers (then its address is recorded
        for the other commands on the data dir); stopped when it does not."""
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        assert self.process is not None
        self.state_file.write_text(
            json.dumps({"owner_pid": os.getpid(), "pid": self.process.pid, "uri": self.uri})
        )

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedDatabaseError(
                    f"the embedded database exited with code {self.process.returncode} "
                    f"during startup; see {self.data_dir / 'embedded-db.log'}:\n"
                    + _log_tail(self.data_dir / "embedded-db.log")
                )
            if _answers(self.uri, timeout_ms=300):
                return
            time.sleep(0.1)
        raise EmbeddedDatabaseError(
            f"the embedded database did not answer within {STARTUP_TIMEOUT_SECONDS:.0f} s"
        )

    def stop(self) -> None:
        """Stop the database if this process owns it, and release the owner lock."""
        if self.owned and self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:  # hung in its own SIGTERM handler
                self.process.kill()
                self.process.wait()
        if self.owned:
            self.state_file.unlink(missing_ok=True)
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def database_pids(data_dir: Path) -> list[int]:
    """Running embedded database processes whose files are in ``data_dir`` (found by
    their command line, so one that never wrote the state file is found too)."""
    storage = str((data_dir / "db").resolve()).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"secantusd" in a for a in arguments) and storage in arguments:
            found.append(int(entry.name))
    return found


def _stop_leftovers(data_dir: Path) -> None:
    """A database left behind by an owner killed with SIGKILL, or hung in its own
    shutdown: stop it (SIGTERM, then SIGKILL after a bounded wait) before restarting."""
    state_file = data_dir / "embedded-db.json"
    try:
        recorded = {int(json.loads(state_file.read_text()).get("pid", 0))}
    except (OSError, ValueError, AttributeError):
        recorded = set()
    pids = {p for p in recorded if p and _pid_alive(p) and _is_secantusd(p)}
    pids |= set(database_pids(data_dir))
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while any(_is_secantusd(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in pids:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while any(_is_secantusd(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    state_file.unlink(missing_ok=True)


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def try_lock(path: Path) -> int | None:
    """Take an exclusive ``flock`` on ``path``; None when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def lock_holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"


def attach_or_start(data_dir: Path, *, must_own: bool = False,
                    wait: bool = True) -> EmbeddedDatabase:
    """Connect to the data dir's running embedded database, or start it (with
    ``wait=False``: see :meth:`EmbeddedDatabase.start`).

    ``must_own`` (the server) refuses to share a database another command started.
    """
    data_dir = data_dir.resolve()
    lock_path = data_dir / "embedded-db.lock"
    lock_fd = try_lock(lock_path)
    if lock_fd is not None:
        return EmbeddedDatabase.start(data_dir, lock_fd, wait=wait)
    if must_own:
        raise EmbeddedDatabaseError(
            f"the embedded database in {data_dir} is in use by another fhir-server "
            f"command (pid {lock_holder(lock_path)}); wait for it to finish or stop it"
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    state_file = data_dir / "embedded-db.json"
    while time.monotonic() < deadline:  # the owner may still be starting it
        try:
            uri = json.loads(state_file.read_text())["uri"]
        except (OSError, ValueError, KeyError):
            uri = None
        if uri and _answers(uri):
            return EmbeddedDatabase(data_dir, uri, owned=False)
        time.sleep(0.2)
    raise EmbeddedDatabaseError(
        f"the embedded database in {data_dir} is locked by pid {lock_holder(lock_path)} "
        "but does not answer"
    )
