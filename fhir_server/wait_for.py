"""``asyncio.wait_for`` as Python 3.12 builds it, for PyMongo's async client on Python 3.11.

On Python 3.11 ``asyncio.wait_for`` runs its awaitable in a task of its own and, when a
timeout or a cancellation meets the awaitable finishing in the same turn of the event
loop, can lose what the awaitable did (CPython gh-86296; 3.12 rebuilt ``wait_for`` on
``asyncio.timeout``, and the fix was not backported). PyMongo's async client waits on its
topology and connection pool conditions through it (``pymongo.lock._async_cond_wait``):
there, what gets lost is a re-acquired lock, which then stays held by no task, and every
later operation of that client (server selection, monitoring, the pool) waits for it
forever. A busy event loop makes the meeting likely; the test suite hit it (a worker's
client hung with the topology lock taken, six waiters and no holder).

:func:`install` gives ``pymongo.lock`` this module's :func:`wait_for`, which awaits in the
calling task under ``asyncio.timeout``, so a timeout can only cancel the wait itself and
the lock is released by the code that holds it. The server's own timed waits use
``asyncio.timeout`` directly.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["install", "wait_for"]

T = TypeVar("T")


async def wait_for(awaitable: Awaitable[T], timeout: float | None) -> T:
    """Await ``awaitable`` in this task; ``TimeoutError`` after ``timeout`` seconds."""
    if timeout is None:
        return await awaitable
    async with asyncio.timeout(timeout):
        return await awaitable


def install() -> None:
    """Replace PyMongo's ``wait_for`` on Python versions whose own one loses results."""
    if sys.version_info < (3, 12):
        import pymongo.lock

        pymongo.lock.wait_for = wait_for  # type: ignore[attr-defined]
