"""What SMART authorization costs per request: verifying a bearer token (RS256 signature
and the revocation lookup), issuing one, and building a patient-context search filter.

Run: ``.venv/bin/python -m bench.auth --rounds 500`` (embedded database, or MONGODB_URI).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from fhir_server.access.scopes import parse_scopes
from fhir_server.access.token import TokenRules
from fhir_server.auth.service import build_auth
from fhir_server.config import Settings
from fhir_server.database import connect
from fhir_server.embedded_db import EmbeddedDatabase, try_lock


async def _time(label: str, rounds: int, work: Callable[[], Awaitable[object]]) -> None:
    for _ in range(min(20, rounds)):
        await work()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        await work()
    wall = (time.perf_counter() - wall) / rounds * 1000
    cpu = (time.process_time() - cpu) / rounds * 1000
    print(f"| {label} | {wall:.2f} ms | {cpu:.2f} ms |")


async def _run(uri: str, rounds: int) -> None:
    client = connect(uri)
    name = f"bench_auth_{uuid.uuid4().hex[:8]}"
    try:
        settings = Settings(database=name, mongodb_uri=uri, auth="smart",
                            base_url="http://bench/fhir")
        auth = build_auth(settings, client[name])
        await auth.ensure_indexes()
        scopes = parse_scopes("patient/*.rs launch/patient")
        token, _ = await auth.tokens.access_token(client_id="app", scopes=scopes, kind="user",
                                                  subject="s", lifetime=600, patient="p1")
        context = await auth.tokens.verify(token)
        print("| step | wall clock | CPU |\n|---|---|---|")
        await _time("verify a bearer token (signature, claims, revocation lookup)", rounds,
                    lambda: auth.tokens.verify(token))
        await _time("revocation lookup alone (one indexed find_one)", rounds,
                    lambda: auth.tokens.revoked.find_one({"_id": "none"}))
        await _time("issue an access token (RS256)", rounds,
                    lambda: auth.tokens.access_token(client_id="app", scopes=scopes,
                                                     kind="user", subject="s", lifetime=600,
                                                     patient="p1"))
        rules = TokenRules(context, settings.fhir_base, _no_queries)
        await _time("patient-context search filter", rounds,
                    lambda: rules.filter("Observation"))
    finally:
        await client.drop_database(name)
        await client.close()


async def _no_queries(resource_type: str, params: list) -> dict:
    raise AssertionError("no v2 query scope here")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=500)
    rounds = parser.parse_args().rounds
    uri = os.environ.get("MONGODB_URI")
    database = None
    if not uri:
        directory = Path(tempfile.mkdtemp(prefix="bench-auth-"))
        database = EmbeddedDatabase.start(directory, try_lock(directory / "embedded-db.lock"))
        uri = database.uri
    try:
        asyncio.run(_run(uri, rounds))
    finally:
        if database is not None:
            database.stop()


if __name__ == "__main__":
    main()
