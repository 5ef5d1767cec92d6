"""How long numbered subscription events are kept: ``FHIR_SUBSCRIPTION_EVENT_RETENTION_DAYS``
(default 30; ``0`` keeps them as long as their Subscription). Expiry is a TTL index in
MongoDB (``storage/subscription_events.py``), so every process and the database agree;
give every process the same setting."""

from __future__ import annotations

import os
from datetime import timedelta

__all__ = ["EVENT_RETENTION", "event_retention"]

EVENT_RETENTION = "FHIR_SUBSCRIPTION_EVENT_RETENTION_DAYS"
DEFAULT_DAYS = 30


def event_retention() -> timedelta | None:
    """The retention, None to keep events; ValueError for a setting that is not a
    non-negative whole number of days."""
    text = os.environ.get(EVENT_RETENTION, str(DEFAULT_DAYS)).strip()
    if not text.isdigit():
        raise ValueError(f"{EVENT_RETENTION} must be a whole number of days (0: keep "
                         f"events), not '{text[:40]}'")
    days = int(text)
    return timedelta(days=days) if days else None
