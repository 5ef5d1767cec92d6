"""What the server keeps about each Subscription besides the resource itself, in
``subscription_state``: its registered configuration and owner (the access context of
who wrote it, as export jobs keep theirs), the server's status, the event counter, how
far delivery got, and who delivers it now (a lease).

One document per Subscription (``_id`` = the Subscription's id), written in the same
transaction as the Subscription version it registers. Any server process can answer
for it; delivery leases make exactly one process deliver a subscription at a time, in
event order, and expire when that process dies.

Also here: the dispatcher's lease (``subscription_leases``) and the websocket binding
tokens of ``$get-ws-binding-token`` (``subscription_ws_tokens``, removed by a TTL index
when they expire; only a digest of each token is stored).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from .. import clock

__all__ = ["SubscriptionStates", "STATES", "LIVE", "NEVER", "token_digest"]

STATES = "subscription_state"
LEASES = "subscription_leases"
TOKENS = "subscription_ws_tokens"
LIVE = ("requested", "active", "error")  # statuses that still number events
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SubscriptionStates:
    def __init__(self, db: AsyncDatabase) -> None:
        self.states = db[STATES]
        self.leases = db[LEASES]
        self.tokens = db[TOKENS]

    async def ensure_indexes(self) -> None:
        await self.states.create_index([("channel.type", ASCENDING), ("due", ASCENDING)],
                                       name="delivery_due")
        await self.tokens.create_index("expires", expireAfterSeconds=0, name="token_expiry")
        # the dispatcher lease exists from start-up on (free), so taking it never inserts
        await self.leases.update_one({"_id": "dispatcher"}, {"$setOnInsert": {
            "worker": None, "until": datetime(1970, 1, 1, tzinfo=UTC)}}, upsert=True)

    # -- registration (inside the Subscription write's transaction) ----------------------
    async def register(self, state: dict[str, Any], session: AsyncClientSession | None,
                       *, restart: bool) -> None:
        """Store a Subscription's registration; its counters survive re-registration.
        ``restart``: the channel changed, so a rest-hook handshakes again."""
        now = clock.now()
        changes: dict[str, Any] = {**state, "due": now, "next_attempt": now,
                                   "failures": 0, "error": None}
        if restart:
            changes["handshake"] = False
        await self.states.update_one(
            {"_id": state["_id"]},
            {"$set": changes,
             "$setOnInsert": {k: v for k, v in {
                 "events": 0, "delivered": 0, "created": now, "handshake": False,
                 "last_sent": now, "lease": {"worker": None, "until": now},
                 "ws": {"worker": None, "until": now}}.items() if k not in changes}},
            upsert=True, session=session)

    async def forget(self, sid: str, session: AsyncClientSession | None) -> None:
        await self.states.delete_one({"_id": sid}, session=session)

    async def get(self, sid: str) -> dict[str, Any] | None:
        return await self.states.find_one({"_id": sid})

    async def get_many(self, ids: list[str]) -> list[dict[str, Any]]:
        return await self.states.find({"_id": {"$in": ids}}).to_list()

    async def live(self) -> list[dict[str, Any]]:
        """Subscriptions that number events (requested, active or in error)."""
        return await self.states.find({"status": {"$in": list(LIVE)}}).to_list()

    async def unsynced(self, limit: int) -> list[dict[str, Any]]:
        """Subscriptions whose resource does not yet show the server's status."""
        return await self.states.find({"sync": True}).limit(limit).to_list()

    async def synced(self, sid: str, status: str) -> None:
        await self.states.update_one({"_id": sid, "status": status},
                                     {"$set": {"sync": False}})

    async def end(self, sid: str) -> None:
        """A Subscription past its ``end``: off."""
        await self.states.update_one({"_id": sid}, {"$set": {"status": "off", "sync": True}})

    # -- rest-hook delivery leases -------------------------------------------------------
    async def claim_rest_hook(self, worker: str, lease: timedelta,
                              skip: list[str]) -> dict[str, Any] | None:
        """A rest-hook subscription with work due (events, handshake, heartbeat) that no
        live process delivers, now leased to ``worker``."""
        now = clock.now()
        return await self.states.find_one_and_update(
            {"channel.type": "rest-hook", "due": {"$lte": now},
             "status": {"$in": list(LIVE)}, "next_attempt": {"$lte": now},
             "lease.until": {"$lte": now}, "_id": {"$nin": skip}},
            {"$set": {"lease": {"worker": worker, "until": now + lease}}},
            sort=[("due", ASCENDING)], return_document=ReturnDocument.AFTER)

    async def renew(self, sid: str, worker: str, lease: timedelta,
                    changes: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Renew a lease and record progress; None when the lease was lost."""
        now = clock.now()
        return await self.states.find_one_and_update(
            {"_id": sid, "lease.worker": worker, "lease.until": {"$gt": now}},
            {"$set": {**(changes or {}), "lease.until": now + lease}},
            return_document=ReturnDocument.AFTER)

    async def release(self, sid: str, worker: str, changes: dict[str, Any],
                      events_seen: int) -> None:
        """Give a lease back with the state to keep (``due``: when to look again). When
        events were numbered since the deliverer last looked (``events_seen``), ``due``
        stays as the dispatcher set it."""
        free = {"lease": {"worker": None, "until": clock.now()}}
        kept = await self.states.update_one(
            {"_id": sid, "lease.worker": worker, "events": events_seen},
            {"$set": {**changes, **free}})
        if kept.matched_count == 0:
            changes = {k: v for k, v in changes.items() if k != "due"}
            await self.states.update_one({"_id": sid, "lease.worker": worker},
                                         {"$set": {**changes, **free}})

    # -- websocket bindings --------------------------------------------------------------
    async def bind_websocket(self, sid: str, connection: str, lease: timedelta, *,
                             force: bool = False) -> dict[str, Any] | None:
        """``connection`` now delivers ``sid``: when no other connection holds it (or its
        lease ran out), or always with ``force`` (the newest binding wins). The state,
        or None when it is held elsewhere or not a live websocket subscription."""
        now = clock.now()
        query: dict[str, Any] = {"_id": sid, "channel.type": "websocket",
                                 "status": {"$in": list(LIVE)}}
        if not force:
            query["$or"] = [{"ws.worker": {"$in": [None, connection]}},
                            {"ws.until": {"$lte": now}}]
        return await self.states.find_one_and_update(
            query, {"$set": {"ws": {"worker": connection, "until": now + lease}}},
            return_document=ReturnDocument.AFTER)

    async def renew_websocket(self, sids: list[str], connection: str,
                              lease: timedelta) -> None:
        # One update per subscription, never a multi-document update: SecantusDB 0.7 holds
        # the collection lock while a multi-update retries a write conflict, and the
        # dispatcher's transaction on the same state then waits for that lock (deadlock).
        until = clock.now() + lease
        for sid in sids:
            await self.states.update_one({"_id": sid, "ws.worker": connection},
                                         {"$set": {"ws.until": until}})

    async def websocket_sent(self, sid: str, connection: str, delivered: int,
                             last: int) -> bool:
        """Record events up to ``last`` sent on ``connection``; False when another
        binding took the subscription over."""
        result = await self.states.update_one(
            {"_id": sid, "ws.worker": connection, "delivered": delivered},
            {"$set": {"delivered": last, "last_sent": clock.now()}})
        return result.matched_count == 1

    async def unbind_websocket(self, sid: str, connection: str) -> None:
        await self.states.update_one({"_id": sid, "ws.worker": connection},
                                     {"$set": {"ws": {"worker": None,
                                                      "until": clock.now()}}})

    # -- the dispatcher's lease ----------------------------------------------------------
    async def lead(self, worker: str, lease: timedelta) -> bool:
        """Take or renew the dispatcher lease; False while another live process holds
        it."""
        now = clock.now()
        mine = {"worker": worker, "until": now + lease}
        taken = await self.leases.update_one(
            {"_id": "dispatcher", "$or": [{"worker": worker}, {"until": {"$lte": now}}]},
            {"$set": mine})
        if taken.matched_count == 1:
            return True
        try:
            await self.leases.insert_one({"_id": "dispatcher", **mine})
        except DuplicateKeyError:
            return False
        return True

    async def step_down(self, worker: str) -> None:
        await self.leases.update_one({"_id": "dispatcher", "worker": worker},
                                     {"$set": {"until": clock.now()}})

    # -- websocket binding tokens --------------------------------------------------------
    async def issue_token(self, token: str, subscriptions: list[str], expires: datetime,
                          owner: dict[str, Any]) -> None:
        await self.tokens.insert_one({"_id": token_digest(token),
                                      "subscriptions": subscriptions, "expires": expires,
                                      "owner": owner})

    async def redeem_token(self, token: str) -> list[str] | None:
        """The subscriptions a token binds, None when it is unknown or expired."""
        found = await self.tokens.find_one({"_id": token_digest(token),
                                            "expires": {"$gt": clock.now()}})
        return None if found is None else list(found["subscriptions"])
