"""What the HL7 v2 feed keeps besides FHIR resources, and the store it keeps it in.

* stored messages: one record per stored message, keyed by the message key (a hash of the
  sender MSH-3/MSH-4 and MSH-10), with the ACK that was sent, the Provenance and the
  resources written. A message seen again gets that ACK back and changes nothing.
* dead letters: every message that failed (AR or AE), with its text, the error and the
  number of attempts; ``status`` is ``open`` until a replay (or a resend) stores it.

:class:`FeedStore` is what the importer needs from the server; the server's storage layer
implements it (``fhir_server.storage.hl7_feed``), writing resources as the server itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from .patients import PatientResolution

__all__ = ["DeadLetter", "FeedStore", "message_key", "raw_key"]

T = TypeVar("T")


def message_key(sender: str, control_id: str) -> str:
    """The identity of a message: who sent it (MSH-3, MSH-4) and its control id (MSH-10)."""
    return hashlib.sha256(f"{sender}\x00{control_id}".encode()).hexdigest()[:40]


def raw_key(text: str) -> str:
    """The identity of text that is not a readable message: a hash of the text."""
    return "raw-" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:36]


@dataclass
class DeadLetter:
    key: str
    text: str
    ack_code: str
    error_code: str
    error: str
    location: str = ""
    sender: str = ""
    control_id: str = ""
    event: str = ""
    source: str = ""
    truncated: bool = False
    status: str = "open"  # "held": waiting for a patient identity review (patients.py)




class FeedStore(Protocol):
    """Where a feed's messages and resources go (``session``: the transaction's).
    ``retryable``: the exceptions that mean "not stored now, send it again"."""

    retryable: tuple[type[Exception], ...]

    async def ensure_indexes(self) -> None: ...

    async def in_transaction(self, work: Callable[[Any], Awaitable[T]]) -> T: ...

    async def current(self, resource_type: str, rid: str, session: Any
                      ) -> tuple[int, dict[str, Any]] | None:
        """(version, resource) of a stored resource, None when absent or deleted."""

    async def write(self, resource: dict[str, Any], session: Any) -> int:
        """Store a resource with its own id (update or create); its new version."""

    async def message(self, key: str, session: Any = None) -> dict[str, Any] | None: ...

    async def record_message(self, record: dict[str, Any], session: Any) -> None: ...

    async def record_dead_letter(self, letter: DeadLetter, moment: datetime) -> None: ...

    async def resolve_dead_letter(self, key: str, moment: datetime,
                                  session: Any = None) -> None: ...

    async def dead_letters(self, status: str | None = "open", limit: int = 0,
                           keys: list[str] | None = None) -> list[dict[str, Any]]: ...

    async def resolve_patient(self, patient: dict[str, Any], *,
                              message_key: str) -> PatientResolution:
        """Which stored Patient the message's mapped ``patient`` is (see patients.py)."""
