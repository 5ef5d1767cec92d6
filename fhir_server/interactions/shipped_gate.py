"""The shipped-content gate: requests that read or write the types the server ships
content of wait until that content is stored.

The server answers as soon as it has started; the shipped conformance content is stored in
the background (:mod:`fhir_server.storage.conformance_seed`). Until the database says the
current content version is stored, a request that could read or write a resource of a
shipped type (CodeSystem, ValueSet, ConceptMap, StructureDefinition, OperationDefinition,
SubscriptionTopic: whatever the content holds) waits for it, at most
``FHIR_SEED_WAIT_SECONDS``; past that it is answered 503 with ``Retry-After``
(https://hl7.org/fhir/R4/http.html#Status-Codes). So a client never finds the shipped
content half stored, and a client's write under a shipped id lands after the shipped
version, as a version of its own that seeding then leaves alone. Requests on other types
never wait.

:meth:`ShippedGate.touches` decides from what a request names: its type (type and
instance level), ``_type`` at system level (none: every type), the types an
``_include``, ``_revinclude``, chain or ``_has`` can reach, a Bundle's entries, and
``$export``. Once a process has seen the content stored it remembers that (it is final
for that content version); before that every gated request asks the database (one
``find_one``), polling while it waits.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from ..errors import ServiceUnavailable
from ..search.definitions import official_parameters
from ..storage.conformance_seed import seed_wait_seconds

__all__ = ["ShippedGate", "OPEN"]

_POLL_SECONDS = 0.1
_RETRY_AFTER = "5"
_LINK = re.compile(r"[:.,]")
_INCLUDES = ("_include", "_revinclude")


@cache
def _targets() -> dict[tuple[str, str], frozenset[str]]:
    """``(type, code) -> target types`` of the R4 reference search parameters."""
    found: dict[tuple[str, str], frozenset[str]] = {}
    for parameter in official_parameters():
        if parameter.type == "reference":
            for base in parameter.base:
                found[(base, parameter.code)] = frozenset(parameter.target)
    return found


class ShippedGate:
    """Admits a request once the shipped content of the types it names is stored.

    ``stored`` asks the database whether the current content version is stored; ``types``
    are the types of that content (empty: nothing is seeded, nothing waits)."""

    def __init__(self, types: Iterable[str], stored: Callable[[], Awaitable[bool]],
                 wait_seconds: float | None = None) -> None:
        self.types = frozenset(types)
        self._stored = stored
        self._done = not self.types
        self._asked: asyncio.Future[bool] | None = None
        self._asked_at = -math.inf
        self.wait_seconds = seed_wait_seconds() if wait_seconds is None else wait_seconds

    async def is_open(self) -> bool:
        """Whether the content is stored, asked of the database until it once was: at most
        once per poll interval however many requests wait (they share the answer)."""
        if self._done:
            return True
        if self._asked is None or (self._asked.done() and
                                   time.monotonic() - self._asked_at >= _POLL_SECONDS):
            self._asked_at = time.monotonic()
            self._asked = asyncio.ensure_future(self._stored())
        self._done = await asyncio.shield(self._asked)
        return self._done

    async def admit(self, resource_type: str | None, params: Iterable[tuple[str, str]] = (),
                    *, every_type: bool = False) -> None:
        """Return once the request may run: at once when it touches no shipped type
        (:meth:`touches`) or the content is stored, else when it is; raises
        :class:`ServiceUnavailable` (503) after ``wait_seconds``."""
        if self._done or not self.touches(resource_type, params, every_type=every_type):
            return
        await self.wait()

    async def admit_bundle(self, bundle: Any) -> None:
        """:meth:`admit` for a transaction or batch Bundle: the types of its entries (the
        request URL's type, else the resource's; a system-level entry counts as all)."""
        if self._done or not isinstance(bundle, dict):
            return
        for entry in bundle.get("entry") or []:
            if not isinstance(entry, dict):
                continue
            request = entry.get("request") if isinstance(entry.get("request"), dict) else {}
            url = request.get("url") if isinstance(request.get("url"), str) else ""
            path, _, query = url.partition("?")
            first = path.strip("/").split("/")[0] if path.strip("/") else None
            resource = entry.get("resource")
            kind = resource.get("resourceType") if isinstance(resource, dict) else None
            params = parse_qsl(query, keep_blank_values=True)
            if first is None and kind is None:  # a search or history of the whole server
                await self.admit(None, params, every_type=True)
            elif self.touches(first if first and not first.startswith("$") else kind,
                              params) or (kind is not None and kind in self.types):
                await self.wait()
            if self._done:
                return

    def touches(self, resource_type: str | None, params: Iterable[tuple[str, str]],
                *, every_type: bool = False) -> bool:
        """Whether a request on ``resource_type`` (None: system level) with ``params`` may
        read or write a resource of a shipped type. ``every_type``: a system-level
        request that, without ``_type``, covers every type (search, history, $export)."""
        if resource_type in self.types:
            return True
        params = list(params)
        if every_type and resource_type is None:
            listed = {t for key, value in params if key == "_type"
                      for t in value.split(",") if t}
            if not listed or listed & self.types:
                return True
        for key, value in params:
            if key.startswith(_INCLUDES):
                if self._include_reaches(resource_type, key, value):
                    return True
            elif key.startswith("_has:") or "." in key or ":" in key:
                if self._chain_reaches(resource_type, key):
                    return True
        return False

    def _include_reaches(self, resource_type: str | None, key: str, value: str) -> bool:
        """``Type:param[:target]`` (or ``*``): a shipped type named, or, for
        ``_include``, a reference parameter that can point at one (a ``_revinclude``
        returns its source type only)."""
        value = value.strip()
        parts = value.split(":")
        if set(parts) & self.types:
            return True
        if key.startswith("_revinclude") or len(parts) == 3:
            return False
        if value == "*":
            return resource_type is None or any(
                self._reaches(kind, code) for kind, code in _targets() if kind == resource_type)
        return len(parts) == 2 and self._reaches(parts[0], parts[1])

    def _chain_reaches(self, resource_type: str | None, key: str) -> bool:
        """A chain ``param[:Type].…`` or ``_has:Type:…``: a shipped type named, or a first
        link that can point at one."""
        links = _LINK.split(key)
        if set(links) & self.types:
            return True
        if key.startswith("_has:") or "." not in key or resource_type is None:
            return False
        return ":" not in key.split(".")[0] and self._reaches(resource_type, links[0])

    def _reaches(self, resource_type: str | None, code: str) -> bool:
        targets = _targets().get((resource_type or "", code))
        return targets is not None and bool(targets & self.types)

    async def wait(self) -> None:
        """Until the content is stored, polling the database; 503 after the bound."""
        deadline = time.monotonic() + self.wait_seconds
        while not await self.is_open():
            left = deadline - time.monotonic()
            if left <= 0 or math.isnan(left):
                raise ServiceUnavailable(
                    "The server is still storing its shipped conformance content "
                    "(CodeSystems, ValueSets, profiles...); try again shortly",
                    headers={"Retry-After": _RETRY_AFTER})
            await asyncio.sleep(min(_POLL_SECONDS, left))


async def _never() -> bool:
    return True


OPEN = ShippedGate((), _never)  # nothing seeded: nothing waits
