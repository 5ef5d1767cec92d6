"""Subscription notifications: latency from a write to its rest-hook delivery, and what
subscriptions cost write throughput.

    .venv/bin/python -m bench.subscriptions [--writes 300] [--rate 100] [--concurrency 8]
                                            [--max-count 1]

Starts a real ``fhir-server serve`` on loopback (embedded database in a temporary data
dir, or ``MONGODB_URI`` when set; ``--auth off``) and a loopback HTTP receiver for the
rest-hook channel.

* **throughput off / on**: ``--writes`` Observation creates, ``--concurrency`` at once,
  first with no Subscription, then with one ``observation-changed`` rest-hook
  Subscription (``id-only``, ``--max-count`` events per notification at most) being
  delivered meanwhile; the
  ratio is on/off, and how long until the last of those writes was delivered;
* **latency**: ``--writes`` creates sent open-loop at ``--rate`` per second (each in its
  own task, whatever the previous ones do); for each, the time from the version's
  ``meta.lastUpdated`` (stamped by the server just before the commit) to the arrival of
  the notification naming it at the receiver, p50 and p99. The achieved write rate is
  printed too: on a loaded machine the server may not keep up with ``--rate``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from statistics import quantiles

import httpx
import orjson

from bench.rest_crud import Server

TOPIC = "https://mch-fhir.org/fhir/SubscriptionTopic/observation-changed"
IG = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"


def observation(number: int) -> dict:
    return {"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": f"Patient/p{number % 50}"},
            "valueQuantity": {"value": 60 + number % 40, "unit": "/min",
                              "system": "http://unitsofmeasure.org", "code": "/min"}}


class Receiver:
    """Records when the notification of each focus id arrived (wall clock)."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.handshake = asyncio.Event()
        self.changed = asyncio.Event()
        self.port = 0

    async def start(self) -> None:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = next(int(line.split(":", 1)[1]) for line in head.split("\r\n")
                              if line.lower().startswith("content-length:"))
                bundle = orjson.loads(await reader.readexactly(length))
                now = time.time()
                status = bundle["entry"][0]["resource"]["parameter"]
                for parameter in status:
                    if parameter["name"] == "type" and parameter["valueCode"] == "handshake":
                        self.handshake.set()
                    if parameter["name"] == "notification-event":
                        for part in parameter["part"]:
                            if part["name"] == "focus":
                                rid = part["valueReference"]["reference"].rsplit("/", 1)[-1]
                                self.arrived.setdefault(rid, now)
                self.changed.set()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()  # the server went away, or the bench ends

    async def wait_for(self, ids: list[str], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not all(i in self.arrived for i in ids):
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), max(deadline - time.monotonic(), 0.1))


async def create(http: httpx.AsyncClient, base: str, number: int) -> tuple[str, float]:
    response = await http.post(f"{base}/Observation", json=observation(number))
    response.raise_for_status()
    body = response.json()
    return body["id"], datetime.fromisoformat(body["meta"]["lastUpdated"]).timestamp()


async def throughput(base: str, writes: int, concurrency: int) -> tuple[float, list[str]]:
    """Writes per second, and the ids written."""
    queue, ids = list(range(writes)), []

    async def worker(http: httpx.AsyncClient) -> None:
        while queue:
            ids.append((await create(http, base, queue.pop()))[0])

    async with httpx.AsyncClient(timeout=60) as http:
        start = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        return writes / (time.perf_counter() - start), ids


async def latency(base: str, receiver: Receiver, writes: int, rate: float
                  ) -> tuple[float, list[float]]:
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200)) as http:
        start = time.perf_counter()
        tasks = []
        for number in range(writes):
            delay = start + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(create(http, base, number)))
        written = await asyncio.gather(*tasks)
        achieved = writes / (time.perf_counter() - start)
    await receiver.wait_for([rid for rid, _ in written], seconds=600)
    return achieved, [receiver.arrived[rid] - stamped for rid, stamped in written]


async def run(writes: int, rate: float, concurrency: int, max_count: int,
              data_dir: Path) -> None:
    server = Server(data_dir, os.environ.get("MONGODB_URI"))
    try:
        print(f"server idle after {server.wait_idle():.0f} s")
        off, _ = await throughput(server.base, writes, concurrency)
        receiver = Receiver()
        await receiver.start()
        subscription = {
            "resourceType": "Subscription", "status": "requested", "reason": "bench",
            "criteria": TOPIC, "channel": {
                "type": "rest-hook", "endpoint": f"http://127.0.0.1:{receiver.port}/hook",
                "payload": "application/fhir+json",
                "extension": [{"url": IG + "backport-max-count", "valuePositiveInt": max_count}],
                "_payload": {"extension": [{"url": IG + "backport-payload-content",
                                            "valueCode": "id-only"}]}}}
        async with httpx.AsyncClient(timeout=60) as http:
            (await http.post(f"{server.base}/Subscription", json=subscription)
             ).raise_for_status()
        await asyncio.wait_for(receiver.handshake.wait(), 60)
        start = time.perf_counter()
        on, ids = await throughput(server.base, writes, concurrency)
        await receiver.wait_for(ids, seconds=600)  # no backlog into the latency run
        drained = time.perf_counter() - start
        achieved, delays = await latency(server.base, receiver, writes, rate)
        cuts = quantiles(delays, n=100)
        print(f"writes/s, concurrency {concurrency}: off {off:.1f}, on {on:.1f}, "
              f"on/off {on / off:.2f}; all {writes} delivered {drained:.1f} s after the "
              f"first write ({writes / drained:.1f} events/s)")
        print(f"latency at {rate:.0f} writes/s asked ({achieved:.1f} achieved), "
              f"{writes} writes: p50 {cuts[49] * 1000:.0f} ms, p99 {cuts[98] * 1000:.0f} ms, "
              f"max {max(delays) * 1000:.0f} ms")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--max-count", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-subscriptions-") as data_dir:
        asyncio.run(run(args.writes, args.rate, args.concurrency, args.max_count,
                        Path(data_dir)))


if __name__ == "__main__":
    main()
