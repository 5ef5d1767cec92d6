"""Rules the server applies inside the transaction of a client's write, after the new
version is stored and before it commits: a rule that fails aborts the write (nothing is
stored), and what a rule writes commits with it or not at all.

* ``Subscription``: registered for notifications, with its owner's access
  (:mod:`fhir_server.subscriptions.registration`);
* ``Appointment``: the Slots it books become busy, those it releases free, and a Slot
  cannot be booked twice (:mod:`fhir_server.scheduling.booking`).

The interactions (create, update, patch, delete, their conditional forms, Bundle
entries) call :func:`after_write`; the server's own loaders (``SystemWriter``) do not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pymongo.asynchronous.client_session import AsyncClientSession

if TYPE_CHECKING:
    from .interactions.caller import Caller
    from .storage import StoredResource

__all__ = ["after_write"]


async def after_write(caller: Caller, stored: StoredResource,
                      session: AsyncClientSession) -> None:
    """Apply the rules of ``stored``'s type (a deletion: ``stored.resource`` is None)."""
    if stored.resource_type == "Subscription":
        from .subscriptions.registration import register

        await register(caller, stored, session)
    elif stored.resource_type == "Appointment":
        from .scheduling.booking import hold_slots

        await hold_slots(caller, stored, session)
