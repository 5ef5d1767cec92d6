"""Instants as FHIR writes them, at the millisecond precision MongoDB stores."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["now", "to_instant"]


def now() -> datetime:
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def to_instant(moment: datetime) -> str:
    """``2026-11-22T15:00:00.123Z``"""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )
