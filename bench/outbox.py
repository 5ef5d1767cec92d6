"""The subscription outbox's database cost after a transaction: a write and its drain.

A real ``fhir-server serve`` (``FHIR_TERMINOLOGY_SEED=off``, no Subscription at all) on a
fresh database of one embedded SecantusDB (or ``MONGODB_URI``, then without database CPU)
receives the largest Synthea transaction Bundle (222 resources) ``--posts`` times. For
each POST: the database CPU (``/proc``) used during the request, then over the
``--window`` seconds after it, in which the server's subscription dispatcher takes the
transaction's versions out of the outbox, less the database's idle CPU over a window of
the same length measured before the first POST. The outbox must be empty at the end of
each window (checked, not assumed).

Command: ``.venv/bin/python -m bench.outbox --posts 3``
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import time
import uuid

import httpx

from fhir_server.database import connect

from .load import BUNDLES, _database_uri, _drop, _serve, cpu_seconds

BUNDLE = max(BUNDLES.glob("*/*.json"), key=lambda path: path.stat().st_size)


async def _pending(uri: str, database: str) -> int:
    """Versions still in the outbox: entries of ``subscription_outbox``, or history
    documents still marked (the design before issue 16)."""
    client = connect(uri)
    try:
        db = client[database]
        count = await db["subscription_outbox"].count_documents({})
        indexes = [i["name"] async for i in await db["history"].list_indexes()]
        if "outbox" in indexes:
            count += await db["history"].count_documents({"outbox": {"$exists": True}})
        return count
    finally:
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=3)
    parser.add_argument("--window", type=float, default=15.0)
    args = parser.parse_args()
    body = BUNDLE.read_bytes()
    uri, embedded = _database_uri()
    db_pid = embedded.process.pid if embedded is not None else None  # type: ignore[attr-defined]
    database = f"bench_{uuid.uuid4().hex[:8]}_outbox"
    process, base = _serve(uri, database)
    request: list[float] = []
    drain: list[float] = []
    try:
        with httpx.Client(timeout=600) as http:
            http.post(base, content=b'{"resourceType":"Bundle","type":"transaction"}',
                      headers={"Content-Type": "application/fhir+json"})  # warm up
            time.sleep(args.window)  # the dispatcher's start-up work, if any, is over
            before = cpu_seconds(db_pid)
            time.sleep(args.window)
            idle = cpu_seconds(db_pid) - before
            for _ in range(args.posts):
                before = cpu_seconds(db_pid)
                response = http.post(base, content=body,
                                     headers={"Content-Type": "application/fhir+json"})
                response.raise_for_status()
                posted = cpu_seconds(db_pid)
                time.sleep(args.window)
                drained = cpu_seconds(db_pid)
                left = asyncio.run(_pending(uri, database))
                if left:
                    raise RuntimeError(f"{left} versions still pending after {args.window} s")
                request.append(posted - before)
                drain.append(drained - posted - idle)
    finally:
        process.terminate()
        process.wait()
        asyncio.run(_drop(uri, database))
        if embedded is not None:
            embedded.stop()  # type: ignore[attr-defined]
            shutil.rmtree(embedded.data_dir, ignore_errors=True)  # type: ignore[attr-defined]
    entries = len(body.split(b'"request"')) - 1
    print(f"{BUNDLE.name}: {entries} entries, {args.posts} POSTs (medians), "
          f"idle database CPU {idle:.3f} s per {args.window:.0f} s")
    if embedded is None:
        print("database CPU not measured (MONGODB_URI)")
        return
    print(f"database CPU during the request:         {statistics.median(request):.2f} s "
          f"({', '.join(f'{v:.2f}' for v in request)})")
    print(f"database CPU of the outbox drain (- idle): {statistics.median(drain):.2f} s "
          f"({', '.join(f'{v:.2f}' for v in drain)})")


if __name__ == "__main__":
    main()
