"""The dispatcher: one leased task, across all server processes on a database, that turns
committed versions into numbered subscription events.

Every server process runs :meth:`Dispatcher.loop`; the one holding the lease
``subscription_leases/dispatcher`` (renewed every :data:`RENEW_SECONDS`, taken over by
another process when it is not renewed for :data:`LEASE`: a dead process; a stopping
one hands it over at once) works, the others wait. A round reads the oldest pending
entries of the outbox (:mod:`fhir_server.storage.subscription_outbox`) and their
versions, decides which subscriptions each version notifies (:mod:`.matching`) and, in
one transaction that also checks the lease, stores the events numbered after each
subscription's counter, advances the counters and deletes the batch's outbox entries.
Numbers are therefore given after commit, in one place: no gaps, no duplicates, whatever
order concurrent writes committed in. The live subscriptions are read after the entries,
so every version committed after a Subscription's registration is matched against it.

The leader also brings Subscription resources in line with the server's status
(``requested`` -> ``active`` after a handshake, ``error``, ``off``) and switches off
subscriptions past their ``end``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from .. import clock
from ..access import SYSTEM
from ..errors import FhirError
from ..storage.subscription_events import LeaseLost, Numbered, event_key
from ..storage.subscription_outbox import Version
from .catalog import topics_of
from .matching import BatchMatcher
from .pacing import Pace, ring
from .topics import Topic

__all__ = ["Dispatcher", "LEASE", "BATCH"]

log = logging.getLogger("fhir_server.subscriptions")
LEASE = timedelta(seconds=10)
RENEW_SECONDS = 2.0  # the leader renews its lease, the others try to take it, this often
BATCH = 200
TOPICS_SECONDS = 5.0


def _event(state: dict[str, Any], number: int, version: Version) -> dict[str, Any]:
    return {"_id": event_key(state["_id"], number), "sub": state["_id"], "n": number,
            "at": version.moment, "key": version.key, "type": version.resource_type,
            "id": version.id, "vid": version.vid, "interaction": version.interaction,
            "topic": state["topic"]}


class Dispatcher:
    def __init__(self, services: Any, worker: str) -> None:
        self.services = services
        self.worker = worker
        self.storage = services.storage
        self._topics: dict[str, Topic] = {}
        self._topics_at = -TOPICS_SECONDS
        self._synced_at = -RENEW_SECONDS

    async def loop(self) -> None:
        pace = Pace()
        loop = asyncio.get_running_loop()
        leading, next_check = False, 0.0
        while True:
            worked = False
            try:
                if loop.time() >= next_check:
                    leading = await self.storage.subscriptions.lead(self.worker, LEASE)
                    next_check = loop.time() + RENEW_SECONDS
                if leading:
                    worked = await self.round()
                    if loop.time() >= self._synced_at + RENEW_SECONDS:
                        await self.sync_statuses()
                        self._synced_at = loop.time()
            except asyncio.CancelledError:
                raise
            except LeaseLost:
                worked, next_check = True, 0.0  # taken over, or the counters moved
            except Exception:
                log.exception("subscription dispatch round failed")
            await pace.wait(worked)

    async def stop(self) -> None:
        """Hand the lease over at once (shutdown)."""
        with contextlib.suppress(Exception):
            await self.storage.subscriptions.step_down(self.worker)

    async def topics(self) -> dict[str, Topic]:
        now = asyncio.get_running_loop().time()
        if now - self._topics_at >= TOPICS_SECONDS:
            self._topics = await topics_of(self.services)
            self._topics_at = now
        return self._topics

    async def round(self) -> bool:
        """Dispatch one batch; False when the outbox was empty. With no live subscription
        the batch's entries are only deleted: its versions are not read."""
        keys = await self.storage.outbox.pending(BATCH)
        if not keys:
            return False
        states = await self.live_states()  # after the entries (module docstring)
        numbered: list[Numbered] = []
        if states:
            found = await self.storage.outbox.versions(keys)
            versions = [found[key] for key in keys if key in found]
            topics = await self.topics()
            matcher = BatchMatcher(self.services, versions)
            await matcher.load_previous()
            for state in states:
                topic = topics.get(state["topic"])
                if topic is None:
                    continue
                notified = await matcher.notified(state, topic)
                if notified:
                    first = state["events"] + 1
                    numbered.append(Numbered(state["_id"], state["events"], [
                        _event(state, first + i, v) for i, v in enumerate(notified)]))
        await self.storage.subscription_events.commit(self.worker, numbered, keys)
        if numbered:
            ring()
        return True

    async def live_states(self) -> list[dict[str, Any]]:
        """Subscriptions that number events; those past their ``end`` are switched off."""
        now = clock.now()
        live = []
        for state in await self.storage.subscriptions.live():
            if state.get("end") is not None and state["end"] <= now:
                await self.storage.subscriptions.end(state["_id"])
            else:
                live.append(state)
        return sorted(live, key=lambda s: s["_id"])

    async def sync_statuses(self) -> None:
        """Write the server's status into Subscription resources that do not show it."""
        resources = self.storage.resources
        for state in await self.storage.subscriptions.unsynced(20):
            try:
                stored = await resources.read(SYSTEM, "Subscription", state["_id"])
            except FhirError:
                await self.storage.subscriptions.synced(state["_id"], state["status"])
                continue
            resource = dict(stored.resource or {})
            resource["status"] = state["status"]
            if state.get("error"):
                resource["error"] = state["error"]
            else:
                resource.pop("error", None)
            try:
                await resources.update(SYSTEM, resource, state["_id"], if_match=stored.vid)
            except FhirError:
                continue  # changed meanwhile: next round
            await self.storage.subscriptions.synced(state["_id"], state["status"])
