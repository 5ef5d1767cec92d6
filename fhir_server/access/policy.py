"""The access policy: one object per request that decides what the caller may see and do.

Built once per request (:func:`fhir_server.access.request.policy_for`) from the access
token, the actor's roles and organizations, the purpose of use and the patients'
Consents, and handed to the storage layer, the only code that reads resources. Every
storage read takes a policy, so a new operation or read path cannot forget it:

* :meth:`AccessPolicy.filter`: the condition ANDed into every query on a collection
  (searches, includes, chains, ``_has``, counts, conditional matches, ``$everything``,
  exports, history), so hidden resources are never matched, counted or paged;
* :meth:`AccessPolicy.reveal`: the decision on one resource read by id (read, vread,
  history, the current version a write replaces): None when hidden, which the storage
  layer answers exactly as it answers a resource that does not exist;
* :meth:`AccessPolicy.disclose`: every resource on its way out of storage, masked where
  a Consent masks it (before ``_elements``/``_summary`` subsetting, which therefore
  cannot undo it), labelled under break-glass;
* :meth:`AccessPolicy.check_write`: what may be created, replaced or deleted.

The access log (AuditEvent) is read by whom it concerns: the patient (her compartment),
a privacy officer (a role in ``FHIR_CONSENT_EXPLAIN_ROLES``) and the server's operators.
To anyone else it is empty, whatever their scopes: an event names what was asked for and
what a Consent decided, which would tell hidden resources from absent ones.

:class:`AccessPolicy` itself is the unrestricted policy of the server's own work
(``--auth off``, the command line, the HL7 v2 importer, terminology seeding), always
named explicitly as :data:`SYSTEM`. :class:`RequestPolicy` is a token's, with Consents.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from consent import mask
from consent.codes import ACT_REASON
from consent.expressions import MATCH_NOTHING

from ..errors import Forbidden, NotFound
from .audit_events import Decided
from .compartment import referenced_patients
from .consent import ConsentView
from .token import TokenRules

__all__ = ["AccessPolicy", "RequestPolicy", "SYSTEM", "BREAK_GLASS_LABEL", "not_known",
           "Hints"]

BREAK_GLASS_LABEL = {"system": ACT_REASON, "code": "BTG", "display": "break the glass"}
# A Binary whose securityContext is another resource (a DocumentReference, say) has that
# resource's access: a restricted caller reads it through a read (which checks that
# resource too), never finds it by searching.
BINARY_OF_PATIENTS_ONLY = {"search.securitycontext.r": {"$not": {"$regex": "^(?!Patient/)"}}}


def not_known(resource_type: str, rid: str) -> NotFound:
    """The one answer for a resource that does not exist or may not be seen."""
    return NotFound(f"Resource {resource_type}/{rid} is not known")


@dataclass(frozen=True)
class Hints:
    """What a query itself says about its results, from the parsed search: ``patients``,
    the patients whose compartment every result is in (None: anyone's); ``content``,
    whether it tests resource content (then masked resources must not match)."""

    patients: frozenset[str] | None = None
    content: bool = True


class AccessPolicy:
    """The unrestricted policy: the server's own work, and every request with
    ``--auth off``."""

    restricted = False
    hints = Hints()

    def check_interaction(self, interaction: str, resource_type: str | None) -> None:
        """Refuse (401/403) an interaction before any handler runs."""

    def narrowed(self, hints: Hints) -> AccessPolicy:
        """This policy for one query whose results ``hints`` describes."""
        return self

    async def filter(self, resource_type: str) -> dict[str, Any] | None:
        """The condition every query on ``resource_type`` is ANDed with; None: none."""
        return None

    async def read_filter(self, resource_type: str) -> dict[str, Any] | None:
        """The condition a read by id is ANDed with (the grants that need the database:
        v2 query restrictions); :meth:`reveal` decides the rest on the resource."""
        return None

    async def reveal(self, resource: dict[str, Any]) -> dict[str, Any] | None:
        """One resource read by id as the caller may see it; None when hidden."""
        return resource

    async def disclose(self, resource: dict[str, Any]) -> dict[str, Any]:
        """A resource found through :meth:`filter`, as the caller may see it."""
        return resource

    async def check_write(self, resource_type: str, old: dict[str, Any] | None,
                          new: dict[str, Any] | None) -> None:
        """Refuse a write: NotFound when ``old`` is hidden, Forbidden otherwise."""

    def note_query(self, what: str) -> None:
        """Record a query for the audit trail."""

    @property
    def touched(self) -> set[str]:
        """The patients whose data this request read or wrote."""
        return set()

    @property
    def decisions(self) -> list[Decided]:
        return []

    def owner(self) -> dict[str, Any]:
        """Who owns what this request starts (export jobs)."""
        return {"client_id": "anonymous"}


SYSTEM = AccessPolicy()


@dataclass
class _Shared:
    """What the narrowed copies of one request's policy share."""

    touched: set[str] = field(default_factory=set)
    queries: list[tuple[str, bool]] = field(default_factory=list)


@dataclass
class RequestPolicy(AccessPolicy):
    """An access token's grants and the patients' Consents, for one request."""

    token: TokenRules
    consent: ConsentView | None
    base: str
    hints: Hints = Hints()
    shared: _Shared = field(default_factory=_Shared)
    _filters: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    restricted = True

    def check_interaction(self, interaction: str, resource_type: str | None) -> None:
        self.token.check_interaction(interaction, resource_type)

    def narrowed(self, hints: Hints) -> RequestPolicy:
        if hints.patients:
            self.shared.touched |= hints.patients
        return replace(self, hints=hints, _filters={})

    def _patients(self, resource_type: str) -> frozenset[str] | None:
        if self.hints.patients is not None:
            return self.hints.patients
        limit = self.token.patient_limit(resource_type)
        return None if limit is None else frozenset({limit})

    async def _reads_access_log(self) -> bool:
        """Whether the caller may read AuditEvents (within its other grants)."""
        context = self.token.context
        if context.kind == "operator" or self.token.patient_limit("AuditEvent"):
            return True
        if self.consent is None or not self.consent.policy.explain_roles:
            return False
        actor = await self.consent.actor(memberships=True)
        return bool({code for _, code in actor.roles} & self.consent.policy.explain_roles)

    async def filter(self, resource_type: str) -> dict[str, Any] | None:
        if resource_type in self._filters:
            return self._filters[resource_type]
        if resource_type == "AuditEvent" and not await self._reads_access_log():
            self._filters[resource_type] = MATCH_NOTHING
            return MATCH_NOTHING
        parts = [await self.token.filter(resource_type)]
        if resource_type == "Binary":
            parts.append(BINARY_OF_PATIENTS_ONLY)
        if self.consent is not None:
            parts.append(await self.consent.filter(
                resource_type, self._patients(resource_type), self.hints.content))
        kept = [p for p in parts if p is not None]
        if MATCH_NOTHING in kept:
            found: dict[str, Any] | None = MATCH_NOTHING
        elif not kept:
            found = None
        else:
            found = kept[0] if len(kept) == 1 else {"$and": kept}
        self._filters[resource_type] = found
        return found

    async def read_filter(self, resource_type: str) -> dict[str, Any] | None:
        return await self.token.filter(resource_type, "r")

    async def reveal(self, resource: dict[str, Any]) -> dict[str, Any] | None:
        """Grants in memory (a v2 query grant is checked by the storage layer in the
        query it reads with), then the patients' Consents."""
        if self.token.visible(resource, "r") is False:
            return None
        if resource.get("resourceType") == "AuditEvent" and not await self._reads_access_log():
            return None
        if self.consent is not None:
            decision = await self.consent.decide(resource)
            if self.consent.denied(decision):
                return None
        return await self.disclose(resource)

    async def disclose(self, resource: dict[str, Any]) -> dict[str, Any]:
        patients = referenced_patients(resource, self.base)
        self.shared.touched |= patients
        if self.consent is None:
            return resource
        if self.consent.override:
            meta = dict(resource.get("meta") or {})
            labels = [x for x in meta.get("security") or [] if x != BREAK_GLASS_LABEL]
            return {**resource, "meta": {**meta, "security": [*labels, BREAK_GLASS_LABEL]}}
        if await self.consent.masked(resource):
            return mask(resource)
        return resource

    async def check_write(self, resource_type: str, old: dict[str, Any] | None,
                          new: dict[str, Any] | None) -> None:
        if old is not None:
            self.shared.touched |= referenced_patients(old, self.base)
            permission = "u" if new is not None else "d"
            if self.token.visible(old, permission) is not True:
                raise not_known(resource_type, str(old.get("id")))
            if self.consent is not None:
                decision = await self.consent.decide(old)
                if self.consent.denied(decision):
                    raise not_known(resource_type, str(old.get("id")))
                if decision.outcome == "mask" and not self.consent.override:
                    raise Forbidden(f"{resource_type}/{old.get('id')} is masked for you by "
                                    "the patient's Consent: it cannot be changed")
        if new is not None:
            self.shared.touched |= referenced_patients(new, self.base)
            self.token.check_write(resource_type, new)

    def note_query(self, what: str) -> None:
        self.shared.queries.append((what, self.consent is not None))

    @property
    def touched(self) -> set[str]:
        return self.shared.touched

    @property
    def decisions(self) -> list[Decided]:
        return [] if self.consent is None else self.consent.decisions

    def owner(self) -> dict[str, Any]:
        context = self.token.context
        return {"client_id": context.client_id, "subject": context.subject,
                "patient": context.patient, "fhir_user": context.fhir_user,
                "token_id": context.token_id, "kind": context.kind,
                "purpose": self.consent.purpose if self.consent else None}
