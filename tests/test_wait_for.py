"""PyMongo's async client keeps its locks balanced on Python 3.11 (``fhir_server.wait_for``).

The test suite once hung with a client's topology lock taken by no task: on 3.11,
``asyncio.wait_for`` waits on a condition in a task of its own, so a waiter cancelled twice
leaves before that task has re-acquired the lock, releases a lock it does not hold, and the
task then takes the lock for good.
"""

from __future__ import annotations

import asyncio

from pymongo.lock import _async_cond_wait, _async_create_condition, _async_create_lock

import fhir_server.database  # noqa: F401  (installs the wait_for PyMongo uses)


async def test_a_condition_wait_cancelled_twice_leaves_the_lock_free() -> None:
    lock = _async_create_lock()
    condition = _async_create_condition(lock)
    waiting = asyncio.Event()

    async def waiter() -> None:
        async with condition:
            waiting.set()
            await _async_cond_wait(condition, 30)

    task = asyncio.create_task(waiter())
    await waiting.wait()
    await lock.acquire()  # someone else holds the lock while the waiter is cancelled
    task.cancel()  # the wait ends and must take the lock back before it leaves
    await asyncio.sleep(0)
    task.cancel()  # shutdown cancels again while it waits for the lock
    await asyncio.sleep(0)
    lock.release()  # raises "Lock is not acquired" when the waiter released it already
    done, _ = await asyncio.wait([task], timeout=5)
    assert done and task.cancelled()
    async with asyncio.timeout(5):
        async with lock:
            pass
    assert not lock.locked()


async def test_a_timed_out_condition_wait_holds_the_lock_again() -> None:
    lock = _async_create_lock()
    condition = _async_create_condition(lock)
    async with condition:
        assert await _async_cond_wait(condition, 0.01) is False
        assert lock.locked()
    assert not lock.locked()
