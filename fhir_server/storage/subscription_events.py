"""Subscription events, numbered per subscription without gaps (``subscription_events``).

An event is ``{_id: "<subscription>/<number, 12 digits>", sub, n, at, key, type, id,
vid, interaction, topic}``: the ``n``-th event of the subscription and the version
(``key``, a ``history`` ``_id``) that triggered it. Events are written only by the
dispatcher that holds the lease, in one transaction with the counters they advance and
the outbox entries they consume (:meth:`SubscriptionEvents.commit`); the transaction also
checks the lease, so a dispatcher that lost it (paused, then taken over) cannot number
anything, and two dispatchers can never hand out the same number.

Events expire: a TTL index on ``at`` (the triggering write's time) removes them after the
deployment's retention (:meth:`SubscriptionEvents.keep_for`), delivered or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid

from .. import clock
from .documents import write_options
from .subscription_outbox import OUTBOX
from .subscription_state import LEASES, STATES

__all__ = ["SubscriptionEvents", "EVENTS", "LeaseLost", "Numbered", "event_key"]

EVENTS = "subscription_events"
EXPIRY = "event_expiry"


class LeaseLost(RuntimeError):
    """The dispatcher lease or a counter changed under the dispatcher: nothing was
    written; look again."""


def event_key(sid: str, number: int) -> str:
    return f"{sid}/{number:012d}"


@dataclass
class Numbered:
    """A subscription's counter before and after a batch, and the batch's new events."""

    sid: str
    before: int
    events: list[dict[str, Any]]


class SubscriptionEvents:
    def __init__(self, db: AsyncDatabase) -> None:
        self._db = db
        self.events = db[EVENTS]

    async def ensure_collection(self) -> None:
        """Create the collection beforehand: it is written inside transactions only."""
        if EVENTS not in await self._db.list_collection_names():
            try:
                await self._db.create_collection(EVENTS)
            except CollectionInvalid:  # created meanwhile by another process
                pass

    async def keep_for(self, retention: timedelta | None) -> None:
        """Expire events ``retention`` after their write (None: keep them as long as their
        Subscription): creates, changes (``collMod``) or drops the TTL index."""
        indexes = {i["name"]: i async for i in await self.events.list_indexes()}
        current = indexes.get(EXPIRY)
        if retention is None:
            if current is not None:
                await self.events.drop_index(EXPIRY)
            return
        seconds = int(retention.total_seconds())
        if current is None:
            await self.events.create_index("at", expireAfterSeconds=seconds, name=EXPIRY)
        elif current.get("expireAfterSeconds") != seconds:
            await self._db.command("collMod", EVENTS, index={
                "name": EXPIRY, "expireAfterSeconds": seconds})

    async def commit(self, worker: str, numbered: list[Numbered], keys: list[str]) -> None:
        """Store a batch's events, advance the counters and delete the batch's outbox
        entries (``keys``), atomically; :class:`LeaseLost` (nothing written) when ``worker``
        no longer holds the dispatcher lease or a counter moved."""

        async def work(session: AsyncClientSession) -> None:
            now = clock.now()
            held = await self._db[LEASES].update_one(
                {"_id": "dispatcher", "worker": worker, "until": {"$gt": now}},
                {"$set": {"beat": now}}, session=session)
            if held.matched_count != 1:
                raise LeaseLost("the dispatcher lease is held by another process")
            documents = []
            for batch in numbered:
                after = batch.before + len(batch.events)
                moved = await self._db[STATES].update_one(
                    {"_id": batch.sid, "events": batch.before},
                    {"$set": {"events": after, "due": now}}, session=session)
                if moved.matched_count != 1:
                    raise LeaseLost(f"the counter of Subscription/{batch.sid} moved")
                documents.extend(batch.events)
            if documents:
                await self.events.insert_many(documents, session=session)
            if keys:
                await self._db[OUTBOX].delete_many({"_id": {"$in": keys}}, session=session)

        async with self._db.client.start_session() as session:
            await session.with_transaction(work, **write_options())

    async def between(self, sid: str, first: int, last: int) -> list[dict[str, Any]]:
        """The events numbered ``first`` to ``last`` (inclusive) of a subscription."""
        if last < first:
            return []
        cursor = self.events.find({"_id": {"$gte": event_key(sid, first),
                                           "$lte": event_key(sid, last)}}).sort("_id", 1)
        return await cursor.to_list()

    async def forget(self, sid: str, session: AsyncClientSession | None) -> None:
        """A deleted Subscription's events."""
        await self.events.delete_many({"_id": {"$gt": f"{sid}/", "$lt": f"{sid}0"}},
                                      session=session)
