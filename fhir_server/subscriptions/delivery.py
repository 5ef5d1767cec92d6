"""Rest-hook delivery (Backport IG channels.md, "REST-Hook"): a worker in every server
process claims subscriptions with work due, one lease each, and POSTs their
notifications in event order.

* **handshake** first, for a ``requested`` subscription; a 2xx makes it ``active``;
* **events** from the last delivered number on, up to ``maxCount`` events per
  notification (1 by default), each shown through the owner's access policy as it is
  now (:mod:`.owner`); the delivered number is recorded after every 2xx, so a
  subscription moves to another process (lease expiry) or survives a restart without
  losing or repeating an event (a process killed in the middle of a POST may repeat that
  one notification: same event number, which is what numbering is for);
* **heartbeat** when nothing was sent for ``heartbeatPeriod`` seconds;
* **retries with backoff** on failure (anything but a 2xx within ``timeout``): 1, 2, 4,
  ... seconds, at most :data:`MAX_BACKOFF`; after :data:`ERROR_AFTER` failures in a row
  the status is ``error`` (still retried), and ``active`` again after a success.

Connections go through :class:`.endpoints.GuardedBackend`: only to addresses the endpoint
policy allows, redirects never followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from datetime import timedelta
from typing import Any

import httpcore
import orjson

from .. import clock
from ..storage.subscription_state import LIVE, NEVER
from .endpoints import EndpointPolicy, GuardedBackend
from .notifications import notification
from .owner import owner_policy, shown_events
from .pacing import Pace
from .registration import MAX_TIMEOUT

__all__ = ["RestHookDelivery", "LEASE", "MAX_BACKOFF", "ERROR_AFTER"]

log = logging.getLogger("fhir_server.subscriptions")
LEASE = timedelta(seconds=MAX_TIMEOUT + 15)  # outlives the longest POST
MAX_BACKOFF = timedelta(minutes=5)
ERROR_AFTER = 3
WINDOW = 50  # events read (and decided on) at once
MAX_PARALLEL = 20
STOP_SECONDS = 10.0


def backoff(failures: int) -> timedelta:
    return min(timedelta(seconds=2 ** max(failures - 1, 0)), MAX_BACKOFF)


class Failed(Exception):
    pass


class RestHookDelivery:
    def __init__(self, services: Any, worker: str, endpoints: EndpointPolicy) -> None:
        self.services = services
        self.worker = worker
        self.endpoints = endpoints
        self.states = services.storage.subscriptions
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(), max_connections=MAX_PARALLEL,
            keepalive_expiry=30, network_backend=GuardedBackend(endpoints))
        self.active: dict[str, asyncio.Task[None]] = {}
        self.stopping = False

    async def loop(self) -> None:
        pace = Pace()
        while not self.stopping:
            claimed = None
            try:
                if len(self.active) < MAX_PARALLEL:
                    claimed = await self.states.claim_rest_hook(self.worker, LEASE,
                                                                list(self.active))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("claiming rest-hook deliveries failed")
            if claimed is not None:
                sid = claimed["_id"]
                self.active[sid] = asyncio.create_task(self._run(claimed),
                                                       name=f"rest-hook-{sid}")
            await pace.wait(claimed is not None)

    async def stop(self) -> None:
        """Let the notifications being sent finish (each records its progress and gives
        its lease back), then close the connections."""
        self.stopping = True
        if self.active:
            await asyncio.wait(list(self.active.values()), timeout=STOP_SECONDS)
        for task in list(self.active.values()):
            task.cancel()
        with contextlib.suppress(Exception):
            await self.pool.aclose()

    async def _run(self, state: dict[str, Any]) -> None:
        sid = state["_id"]
        try:
            await self.deliver(state)
        except Exception:
            log.exception("delivering Subscription/%s failed", sid)
            await self.states.release(sid, self.worker, {}, state["events"])
        finally:
            self.active.pop(sid, None)

    async def deliver(self, state: dict[str, Any]) -> None:
        sid = state["_id"]
        try:
            current: dict[str, Any] | None = state
            if not state["handshake"]:
                await self.post(state, notification(self.services.base, state, "handshake",
                                                    []))
                current = await self._progress(state, {"handshake": True})
            while current is not None and current["status"] in LIVE and (
                    current["delivered"] < current["events"]) and not self.stopping:
                current = await self.send_events(current)
            if current is not None and self._heartbeat_due(current) and not self.stopping:
                await self.post(current, notification(self.services.base, current,
                                                      "heartbeat", []))
                current = await self._progress(current, {})
        except Failed as failure:
            await self._failed(state if current is None else current, str(failure))
            return
        if current is not None:
            heartbeat = current["channel"].get("heartbeat")
            due = current["last_sent"] + timedelta(seconds=heartbeat) if heartbeat else NEVER
            await self.states.release(sid, self.worker, {"due": due}, current["events"])

    def _heartbeat_due(self, state: dict[str, Any]) -> bool:
        heartbeat = state["channel"].get("heartbeat")
        return bool(heartbeat) and state["status"] in LIVE and (
            state["last_sent"] + timedelta(seconds=heartbeat) <= clock.now())

    async def send_events(self, state: dict[str, Any]) -> dict[str, Any] | None:
        """Send the next :data:`WINDOW` events, ``maxCount`` per notification, each
        recorded as delivered once the endpoint accepted it; the state after them (None:
        the lease was lost)."""
        first = state["delivered"] + 1
        last = min(state["events"], state["delivered"] + WINDOW)
        events = await self.services.storage.subscription_events.between(state["_id"], first,
                                                                          last)
        if not events:  # all of them expired undelivered (docs/subscriptions.md: retention)
            return await self.states.renew(state["_id"], self.worker, LEASE, {"delivered": last})
        shown = await shown_events(self.services, owner_policy(self.services, state),
                                   events, state["channel"]["content"])
        size = state["channel"]["max_count"]
        current: dict[str, Any] | None = state
        for start in range(0, len(shown), size):
            if current is None or self.stopping:
                break
            part = shown[start:start + size]
            await self.post(current, notification(self.services.base, current,
                                                   "event-notification", part))
            current = await self._progress(current, {"delivered": part[-1].event["n"]})
        return current

    async def _progress(self, state: dict[str, Any], changes: dict[str, Any]
                        ) -> dict[str, Any] | None:
        """Record a successful POST (and renew the lease)."""
        changes = {**changes, "last_sent": clock.now(), "failures": 0, "error": None}
        if state["status"] in ("requested", "error"):
            changes.update(status="active", sync=True)
        return await self.states.renew(state["_id"], self.worker, LEASE, changes)

    async def _failed(self, state: dict[str, Any], error: str) -> None:
        failures = state.get("failures", 0) + 1
        log.info("Subscription/%s: notification failed (%d in a row): %s", state["_id"],
                 failures, error)
        changes: dict[str, Any] = {"failures": failures, "error": error[:300],
                                   "next_attempt": clock.now() + backoff(failures),
                                   "due": clock.now()}
        if failures >= ERROR_AFTER and state["status"] != "error":
            changes.update(status="error", sync=True)
        await self.states.release(state["_id"], self.worker, changes, state["events"])

    async def post(self, state: dict[str, Any], bundle: dict[str, Any]) -> None:
        """POST a notification; :class:`Failed` unless the endpoint answers 2xx."""
        channel = state["channel"]
        endpoint = channel["endpoint"]
        try:
            self.endpoints.check_url(endpoint)
        except Exception as error:
            raise Failed(f"endpoint refused: {error}") from None
        headers = [("Content-Type", channel["mime"]), ("Accept", "*/*"),
                   *((name, value) for name, value in channel["headers"])]
        timeout = float(channel["timeout"])
        try:
            response = await self.pool.request(
                "POST", endpoint, headers=headers, content=orjson.dumps(bundle),
                extensions={"timeout": {"connect": timeout, "read": timeout,
                                        "write": timeout, "pool": timeout}})
        except httpcore.TimeoutException:
            raise Failed(f"no answer within {timeout:.0f} s") from None
        except (httpcore.NetworkError, httpcore.ProtocolError,
                httpcore.UnsupportedProtocol) as error:
            raise Failed(f"could not connect: {error}") from None
        if not 200 <= response.status < 300:
            raise Failed(f"the endpoint answered {response.status}")
