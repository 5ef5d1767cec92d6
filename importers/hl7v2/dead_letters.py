"""Replaying dead letters: each open one goes through ingestion again (after a
configuration fix, say); a success resolves it in the same transaction that stores it."""

from __future__ import annotations

from . import instants
from .ingest import Ingestor, Outcome

__all__ = ["replay_dead_letters"]


async def replay_dead_letters(ingestor: Ingestor, keys: list[str] | None = None,
                              status: str = "open") -> list[tuple[str, Outcome]]:
    """Replay the dead letters with ``status`` (``held``: those a patient review decided)
    (or those with ``keys``); (key, outcome) per letter."""
    results = []
    for letter in await ingestor.store.dead_letters(status, keys=keys):
        outcome = await ingestor.ingest(letter["text"], source=f"replay:{letter['_id']}")
        if outcome.code == "AA" and outcome.held is None:
            await ingestor.store.resolve_dead_letter(letter["_id"], instants.now())
        results.append((letter["_id"], outcome))
    return results
