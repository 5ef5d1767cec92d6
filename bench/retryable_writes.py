"""What retryable writes cost on the embedded database, as writes accumulate.

    .venv/bin/python -m bench.retryable_writes [--writes 12000] [--phases 4]

Starts an embedded database (SecantusDB) in a temporary data dir and times one-document
``update_one`` calls outside a transaction, with ``retryWrites`` on and then off, each on a
database of its own, in phases so the growth shows. SecantusDB 0.7 keeps a record of every
retryable write for 30 minutes and scans them all on every write (past 10,000 it sorts
them), which is why the server's address for its embedded database turns them off
(``fhir_server/embedded_db.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from pymongo import AsyncMongoClient

from bench.embedded import temporary_database


async def _phases(retry_writes: bool, writes: int, phases: int) -> list[float]:
    """Milliseconds per write in each phase."""
    with temporary_database("bench-retryable-") as database:
        # The embedded database's own address already says retryWrites=false: the
        # keyword decides here.
        client = AsyncMongoClient(database.uri, retryWrites=retry_writes)
        collection = client.bench.counter
        await collection.insert_one({"_id": 1, "n": 0})
        per_phase = writes // phases
        figures = []
        for _ in range(phases):
            started = time.perf_counter()
            for _ in range(per_phase):
                await collection.update_one({"_id": 1}, {"$inc": {"n": 1}})
            figures.append((time.perf_counter() - started) / per_phase * 1000)
        await client.close()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=12000)
    parser.add_argument("--phases", type=int, default=4)
    arguments = parser.parse_args()
    per_phase = arguments.writes // arguments.phases
    results = {retry: asyncio.run(_phases(retry, arguments.writes, arguments.phases))
               for retry in (True, False)}
    print(f"{'writes':>14} | retryWrites on (ms) | off (ms) | on/off")
    for phase, (on, off) in enumerate(zip(results[True], results[False], strict=True)):
        span = f"{phase * per_phase}-{(phase + 1) * per_phase}"
        print(f"{span:>14} | {on:19.2f} | {off:8.2f} | {on / off:6.2f}")


if __name__ == "__main__":
    main()
