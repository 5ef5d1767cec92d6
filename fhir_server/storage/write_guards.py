"""Write guards: rules every write of a resource type obeys, run inside the write's own
MongoDB transaction by :class:`~.resources.Resources` (create, update, update-as-create,
bulk create, delete), whichever path the write came by (REST, Bundle, ``$operation``,
``fhir-server load``, the HL7 v2 feed).

A guard sees the version being replaced (``old``, None for a create) and the one about to
be stored (``new``, None for a delete); it returns the version to store (it may complete
it, e.g. issue an identifier) or raises a :class:`~fhir_server.errors.FhirError`, which
aborts the transaction: nothing of the write is stored.
"""

from __future__ import annotations

from typing import Any, Protocol

from pymongo.asynchronous.client_session import AsyncClientSession

__all__ = ["WriteGuard"]


class WriteGuard(Protocol):
    """One rule on writes of ``resource_types``."""

    resource_types: frozenset[str]

    async def before_write(self, resource_type: str, rid: str, old: dict[str, Any] | None,
                           new: dict[str, Any] | None, session: AsyncClientSession
                           ) -> dict[str, Any] | None:
        """The version to store (``new`` or a completed copy); raise to refuse."""
