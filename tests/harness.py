"""What the test run does with a hung test, a database that stopped answering and a failed
heartbeat (the hooks are imported by tests/conftest.py)."""

from __future__ import annotations

import asyncio
import faulthandler
import gc
import logging
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient, monitoring
from pymongo.errors import PyMongoError

__all__ = ["pytest_runtest_protocol", "session_database"]

# A test still running after this long has every thread's stack and every pending asyncio
# task's written to its stderr, shown with its failure when pytest-timeout fails it
# (pyproject: timeout), and the session database is asked whether it still answers: when
# it does not, its own stacks are added (py-spy) and the run stops after that test (every
# later test would wait on it too).
HANG_REPORT_SECONDS = 420
session_database: dict[str, Any] = {}  # uri, and pid when embedded (conftest)
_stopped_database: list[str] = []


def _report_hang(nodeid: str) -> None:
    stderr = sys.stderr
    stderr.write(f"\n==== {nodeid} still running after {HANG_REPORT_SECONDS} s ====\n")
    stderr.flush()
    faulthandler.dump_traceback(file=stderr, all_threads=True)
    tasks = [task for task in gc.get_objects()
             if isinstance(task, asyncio.Task) and not task.done()]
    for task in tasks:
        stderr.write(f"\n-- pending {task!r}\n")
        task.print_stack(file=stderr)
    if "uri" in session_database:
        stderr.write(_database_check() + "\n")
    stderr.write(f"==== end of report on {nodeid} ====\n")
    stderr.flush()


def _database_check() -> str:
    """Whether the session database answers a ping within 10 s; when it does not, what
    its process is doing."""
    client: MongoClient = MongoClient(session_database["uri"], serverSelectionTimeoutMS=10_000,
                                      socketTimeoutMS=10_000, connectTimeoutMS=10_000)
    try:
        client.admin.command("ping")
        return "the session database answers"
    except PyMongoError as error:
        _stopped_database.append(f"the session database stopped answering ({error})")
    finally:
        client.close()
    report = [_stopped_database[0]]
    pid = session_database.get("pid")
    if pid:
        status = Path(f"/proc/{pid}/status")
        report += [line for line in (status.read_text().splitlines() if status.exists()
                                     else ["(its process is gone)"])
                   if line.startswith(("State", "Threads", "VmRSS", "("))]
        py_spy = _py_spy()
        if py_spy and status.exists():
            dump = subprocess.run([py_spy, "dump", "--nonblocking", "--pid", str(pid)],
                                  capture_output=True, text=True, timeout=60)
            report.append(dump.stdout + dump.stderr)
    return "\n".join(report)


def _py_spy() -> str | None:
    """py-spy of the test venv (``make test`` runs ``.venv/bin/pytest`` without that
    directory on PATH), else one on PATH."""
    beside_python = Path(sys.executable).parent / "py-spy"
    return str(beside_python) if beside_python.exists() else shutil.which("py-spy")


class _HeartbeatFailures(monitoring.ServerHeartbeatListener):
    """A failed heartbeat makes PyMongo clear its pool and cancel the operations in
    flight (``_OperationCancelled``): logged, so the failing test's report says why."""

    def started(self, event: monitoring.ServerHeartbeatStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.ServerHeartbeatSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.ServerHeartbeatFailedEvent) -> None:
        logging.getLogger(__name__).warning(
            "heartbeat to %s failed after %.1f s (awaited: %s): %r", event.connection_id,
            event.duration, event.awaited, event.reply)


monitoring.register(_HeartbeatFailures())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    timer = threading.Timer(HANG_REPORT_SECONDS, _report_hang, args=(item.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if _stopped_database:
            item.session.shouldstop = _stopped_database[0]
