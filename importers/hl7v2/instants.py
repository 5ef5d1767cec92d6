"""When a message is stored: UTC instants at the millisecond MongoDB keeps."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["now", "to_instant"]


def now() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def to_instant(moment: datetime) -> str:
    """A FHIR instant, ``2026-11-22T15:00:00.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
