"""The server on its embedded database across restarts (issue 2, "Project and run"): every
acknowledged write survives SIGTERM, kill -9 of the server and kill -9 of both server and
database; an orphaned database or stale lock is handled; a second server on the same data
dir fails clearly; the database never outlives the server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fhir_server.config import Settings
from fhir_server.server import database_for

from ..conftest import free_port
from .helpers import patient
from .servers import EmbeddedServer, secantusd_pids, wait_until_gone

pytestmark = pytest.mark.slow


async def _write_workload(base: str) -> dict[str, dict | None]:
    """Creates, updates and deletes, some in parallel; what the server acknowledged:
    resource id -> last acknowledged content (None: deleted)."""
    acknowledged: dict[str, dict | None] = {}
    async with httpx.AsyncClient(base_url=base + "/", timeout=60) as http:
        created = await asyncio.gather(*(
            http.post("Patient", json=patient(f"Mother {i}")) for i in range(12)))
        for r in created:
            assert r.status_code == 201, r.text
            acknowledged[r.json()["id"]] = r.json()
        ids = list(acknowledged)
        updated = await asyncio.gather(*(
            http.put(f"Patient/{rid}", json={**acknowledged[rid], "gender": "other"})
            for rid in ids[:6]))
        for r in updated:
            assert r.status_code == 200, r.text
            acknowledged[r.json()["id"]] = r.json()
        for rid in ids[6:8]:
            assert (await http.delete(f"Patient/{rid}")).status_code == 200
            acknowledged[rid] = None
        r = await http.put("Patient/client-id", json=patient("Chosen", id="client-id"))
        assert r.status_code == 201
        acknowledged["client-id"] = r.json()
    return acknowledged


async def _assert_all_there(base: str, acknowledged: dict[str, dict | None]) -> None:
    async with httpx.AsyncClient(base_url=base + "/", timeout=60) as http:
        for rid, content in acknowledged.items():
            r = await http.get(f"Patient/{rid}")
            if content is None:
                assert r.status_code == 410, (rid, r.text)
            else:
                assert r.status_code == 200, (rid, r.text)
                assert r.json() == content
        history = await http.get("Patient/_history?_count=100")
        assert len(history.json()["entry"]) == 12 + 6 + 2 + 1


def _assert_database_stopped(data_dir: Path) -> None:
    assert wait_until_gone(data_dir) == [], "the embedded database outlived the server"
    assert not (data_dir / "embedded-db.json").exists()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_writes_survive_a_clean_restart(tmp_path, stop_signal):
    data_dir = tmp_path / "data"
    server = EmbeddedServer(data_dir, use_env=True)
    try:
        database_pid = server.database_pid()
        assert database_pid in secantusd_pids(data_dir)
        assert server.database_pid() != server.process.pid
        acknowledged = await _write_workload(server.base)
    finally:
        code = server.terminate(stop_signal)
    assert code == 0, server.output
    _assert_database_stopped(data_dir)
    again = EmbeddedServer(data_dir)
    try:
        await _assert_all_there(again.base, acknowledged)
    finally:
        assert again.terminate() == 0
    _assert_database_stopped(data_dir)


async def test_writes_survive_kill_9_of_the_server(tmp_path):
    data_dir = tmp_path / "data"
    server = EmbeddedServer(data_dir)
    try:
        acknowledged = await _write_workload(server.base)
    finally:
        server.kill()
    assert wait_until_gone(data_dir) == [], "the embedded database outlived a killed server"
    assert (data_dir / "server.lock").exists() and (data_dir / "embedded-db.json").exists()
    again = EmbeddedServer(data_dir)
    try:
        await _assert_all_there(again.base, acknowledged)
    finally:
        assert again.terminate() == 0
    _assert_database_stopped(data_dir)


async def test_writes_survive_kill_9_of_server_and_database(tmp_path):
    data_dir = tmp_path / "data"
    server = EmbeddedServer(data_dir)
    try:
        acknowledged = await _write_workload(server.base)
        database_pid = server.database_pid()
    finally:
        os.kill(database_pid, signal.SIGKILL)
        server.kill()
    assert wait_until_gone(data_dir) == []
    again = EmbeddedServer(data_dir)
    try:
        await _assert_all_there(again.base, acknowledged)
    finally:
        assert again.terminate() == 0


async def test_an_orphaned_database_is_stopped_and_its_data_kept(tmp_path):
    """A database left running by an owner that died without stopping it (its state file
    still names it and holds no lock): the next server stops it and starts its own."""
    data_dir = tmp_path / "data"
    server = EmbeddedServer(data_dir)
    try:
        acknowledged = await _write_workload(server.base)
    finally:
        assert server.terminate() == 0
    port = free_port()
    secantusd = Path(sys.executable).parent / "secantusd-py"
    orphan = subprocess.Popen(
        [str(secantusd), "--host", "127.0.0.1", "--port", str(port),
         "--storage-path", str(data_dir / "db"), "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
        (data_dir / "embedded-db.json").write_text(json.dumps(
            {"owner_pid": 999999, "pid": orphan.pid, "uri": uri}))
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                await asyncio.sleep(0.1)
        again = EmbeddedServer(data_dir)
        try:
            assert orphan.wait(timeout=30) is not None
            assert again.database_pid() != orphan.pid
            await _assert_all_there(again.base, acknowledged)
        finally:
            assert again.terminate() == 0
    finally:
        if orphan.poll() is None:
            orphan.kill()
            orphan.wait()
    _assert_database_stopped(data_dir)


async def test_a_second_server_on_the_same_data_dir_fails_clearly(tmp_path):
    data_dir = tmp_path / "data"
    first = EmbeddedServer(data_dir)
    try:
        second = EmbeddedServer(data_dir, wait=False)
        assert second.wait_exit(timeout=60) == 1
        assert "already serving the data dir" in second.output
        assert str(data_dir.resolve()) in second.output
        assert httpx.get(f"{first.base}/metadata", timeout=10).status_code == 200
        assert len(secantusd_pids(data_dir)) == 1
    finally:
        assert first.terminate() == 0
    _assert_database_stopped(data_dir)


async def test_commands_attach_to_the_running_servers_database(tmp_path):
    """Other ``fhir-server`` commands on the same data dir use the server's database
    (``server.database_for``), and start it themselves when no server runs."""
    data_dir = tmp_path / "data"
    server = EmbeddedServer(data_dir)
    try:
        async with httpx.AsyncClient(base_url=server.base + "/") as http:
            await http.put("Patient/shared", json=patient(id="shared"))
        settings = Settings(data_dir=data_dir)
        attached = database_for(settings)
        assert attached is not None and not attached.owned
        assert settings.mongodb_uri == attached.uri
        assert secantusd_pids(data_dir) == [server.database_pid()]
        attached.stop()
        assert secantusd_pids(data_dir) == [server.database_pid()]
    finally:
        assert server.terminate() == 0
    _assert_database_stopped(data_dir)
    settings = Settings(data_dir=data_dir)
    own = database_for(settings)
    assert own is not None and own.owned
    try:
        from pymongo import MongoClient

        with MongoClient(own.uri) as client:
            assert client["fhir"]["Patient"].find_one({"_id": "shared"}) is not None
    finally:
        own.stop()
    _assert_database_stopped(data_dir)


async def test_the_database_is_stopped_when_startup_fails(tmp_path):
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = EmbeddedServer(data_dir, port=taken.getsockname()[1], wait=False)
        try:
            assert server.wait_exit(timeout=90) != 0
        finally:
            server.kill()  # a server that did not exit is not left behind
    _assert_database_stopped(data_dir)


def test_a_database_hung_in_its_shutdown_is_killed(tmp_path):
    """SecantusDB's SIGTERM handler can deadlock; a stop must not wait for it forever.
    A stopped (SIGSTOP) process ignores SIGTERM just as a deadlocked one does."""
    from fhir_server.embedded_db import STOP_GRACE_SECONDS, EmbeddedDatabase, try_lock

    data_dir = tmp_path / "data"
    lock = try_lock(data_dir / "embedded-db.lock")
    assert lock is not None
    database = EmbeddedDatabase.start(data_dir, lock)
    assert database.process is not None
    os.kill(database.process.pid, signal.SIGSTOP)
    started = time.monotonic()
    database.stop()
    assert time.monotonic() - started < STOP_GRACE_SECONDS + 10
    assert database.process.poll() is not None
    assert secantusd_pids(data_dir) == []


async def test_a_restart_stops_a_hung_predecessor(tmp_path):
    """A database of this data dir that hangs (and is not named in the state file) is
    found by its command line and stopped before the new server starts its own."""
    data_dir = tmp_path / "data"
    server = EmbeddedServer(data_dir)
    try:
        acknowledged = await _write_workload(server.base)
    finally:
        assert server.terminate() == 0
    secantusd = Path(sys.executable).parent / "secantusd-py"
    hung = subprocess.Popen(
        [str(secantusd), "--host", "127.0.0.1", "--port", str(free_port()),
         "--storage-path", str((data_dir / "db").resolve()), "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        os.kill(hung.pid, signal.SIGSTOP)
        again = EmbeddedServer(data_dir)
        try:
            assert hung.wait(timeout=30) == -signal.SIGKILL
            await _assert_all_there(again.base, acknowledged)
        finally:
            assert again.terminate() == 0
    finally:
        if hung.poll() is None:
            hung.kill()
            hung.wait()
    _assert_database_stopped(data_dir)
