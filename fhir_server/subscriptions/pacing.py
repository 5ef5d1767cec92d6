"""How often the subscription loops look for work: at once while there is some, then less
and less often (:data:`FASTEST` doubling up to :data:`SLOWEST`) while there is none, and
at once again when this process's dispatcher numbered events (a process-local wake-up:
only a hint, every loop also finds its work by looking in MongoDB)."""

from __future__ import annotations

import asyncio

__all__ = ["Pace", "ring"]

FASTEST = 0.02
SLOWEST = 0.5
_bells: set[asyncio.Event] = set()


def ring() -> None:
    """Wake every loop of this process that waits (new events were numbered)."""
    for bell in list(_bells):
        bell.set()


class Pace:
    def __init__(self, slowest: float = SLOWEST) -> None:
        self.slowest = slowest
        self.idle = FASTEST
        self.bell = asyncio.Event()

    async def wait(self, worked: bool) -> None:
        """After a round: go on at once when it found work, else wait (rung or not)."""
        if worked:
            self.idle = FASTEST
            await asyncio.sleep(0)
            return
        _bells.add(self.bell)
        waiter = asyncio.ensure_future(self.bell.wait())
        try:  # asyncio.wait, not wait_for: on 3.11 wait_for can swallow a cancellation
            await asyncio.wait({waiter}, timeout=self.idle)
        finally:
            waiter.cancel()
            _bells.discard(self.bell)
        if self.bell.is_set():
            self.bell.clear()
            self.idle = FASTEST
        else:
            self.idle = min(self.idle * 2, self.slowest)
