"""Reading what consent decisions need, fresh on every request (with the server's own
privileges: these reads decide access, they are not disclosed).

Consents are read per request (a new or revoked Consent takes effect on the next one),
through the ``consent_patient`` index: ``{resource.status, resource.patient.reference}``.
The actor's PractitionerRoles, CareTeams and Groups are read the same way, only when a
Consent names actors by membership or role.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from consent import Actor, ConsentRule, consent_rule, relative_reference
from consent.codes import codings
from consent.dates import period_holds

from .. import clock
from ..json_io import from_bson

__all__ = ["ConsentData", "forms"]


async def _ensure_indexes(db: AsyncDatabase) -> None:
    await db["Consent"].create_index(
        [("resource.status", 1), ("resource.patient.reference", 1)], name="consent_patient")
    await db["PractitionerRole"].create_index("resource.practitioner.reference",
                                              name="role_practitioner")
    await db["CareTeam"].create_index("resource.participant.member.reference",
                                      name="careteam_member")
    await db["Group"].create_index("resource.member.entity.reference", name="group_member")


def forms(references: Iterable[str], base: str) -> list[str]:
    """A reference as it may be stored: relative and absolute."""
    found: list[str] = []
    for reference in references:
        found += [reference, f"{base}/{reference}"]
    return found


async def _load_rules(db: AsyncDatabase, base: str, patients: set[str] | None
                     ) -> dict[str, list[ConsentRule]]:
    """The privacy Consents of these patients (of everyone when None), by patient id."""
    query: dict[str, Any] = {"resource.status": "active"}
    if patients is not None:
        query["resource.patient.reference"] = {
            "$in": forms((f"Patient/{p}" for p in sorted(patients)), base)}
    rules: dict[str, list[ConsentRule]] = {}
    async for doc in db["Consent"].find(query, {"resource": 1}):
        rule = consent_rule(from_bson(doc["resource"]), base)
        if rule is not None:
            rules.setdefault(rule.patient, []).append(rule)
    return rules


def _outgoing(node: Any, base: str) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference":
                reference = relative_reference(value, base)
                if reference is not None:
                    found.add(reference)
            else:
                found |= _outgoing(value, base)
    elif isinstance(node, list):
        for item in node:
            found |= _outgoing(item, base)
    return found


async def _load_related(db: AsyncDatabase, base: str, rules: Iterable[ConsentRule]
                       ) -> dict[str, frozenset[str]]:
    """For ``data.meaning = related``: each such reference -> what that resource refers to."""
    wanted: set[str] = set()
    pending = [rule.root for rule in rules]
    while pending:
        provision = pending.pop()
        wanted |= {item.reference for item in provision.data if item.meaning == "related"}
        pending.extend(provision.provisions)
    related: dict[str, frozenset[str]] = {}
    for reference in sorted(wanted):
        resource_type, _, rid = reference.partition("/")
        doc = await db[resource_type].find_one({"_id": rid}, {"resource": 1})
        related[reference] = frozenset(_outgoing(from_bson(doc["resource"]), base)
                                       if doc else ())
    return related


async def _roles(db: AsyncDatabase, base: str, fhir_user: str) -> list[dict[str, Any]]:
    if fhir_user.startswith("PractitionerRole/"):
        doc = await db["PractitionerRole"].find_one({"_id": fhir_user.split("/", 1)[1]})
        found = [doc] if doc else []
    elif fhir_user.startswith("Practitioner/"):
        found = await db["PractitionerRole"].find(
            {"resource.practitioner.reference": {"$in": forms([fhir_user], base)}}).to_list()
    else:
        return []
    now = clock.now()
    roles = [from_bson(doc["resource"]) for doc in found]
    return [r for r in roles if r.get("active", True) is not False
            and period_holds(r.get("period"), now)]


async def _teams(db: AsyncDatabase, wanted: list[str]) -> set[str]:
    return {f"CareTeam/{doc['_id']}" async for doc in db["CareTeam"].find(
        {"resource.participant.member.reference": {"$in": wanted},
         "resource.status": {"$nin": ["inactive", "entered-in-error"]}}, {"_id": 1})}


async def _groups(db: AsyncDatabase, base: str, wanted: list[str],
                  references: set[str]) -> set[str]:
    groups = set()
    async for doc in db["Group"].find({"resource.member.entity.reference": {"$in": wanted}},
                                      {"resource.member": 1}):
        members = from_bson(doc["resource"]).get("member") or []
        if any(relative_reference(m.get("entity"), base) in references
               and m.get("inactive") is not True for m in members if isinstance(m, dict)):
            groups.add(f"Group/{doc['_id']}")
    return groups


async def _memberships(db: AsyncDatabase, base: str, references: set[str]
                       ) -> tuple[set[str], set[str]]:
    """The actor's CareTeams and Groups (both queries at once)."""
    wanted = forms(sorted(references), base)
    teams, groups = await asyncio.gather(_teams(db, wanted),
                                         _groups(db, base, wanted, references))
    return teams, groups


async def _resolve_actor(db: AsyncDatabase, base: str, fhir_user: str | None,
                        client: str | None, *, memberships: bool) -> Actor:
    """The actor behind a token: with ``memberships``, its PractitionerRoles (and their
    Organizations and codes), CareTeams and Groups."""
    if fhir_user is None:
        return Actor(client=client)
    if not memberships:
        return Actor(frozenset({fhir_user}), client=client)
    references = {fhir_user}
    organizations: set[str] = set()
    roles = set()
    for role in await _roles(db, base, fhir_user):
        references.add(f"PractitionerRole/{role.get('id')}")
        for key in ("practitioner", "organization"):
            reference = relative_reference(role.get(key), base)
            if reference is not None:
                (organizations if key == "organization" else references).add(reference)
        roles |= codings(role.get("code") or [])
    teams, groups = await _memberships(db, base, references)
    return Actor(frozenset(references), frozenset(organizations), frozenset(teams),
                 frozenset(groups), frozenset(roles), client)


class ConsentData:
    """:class:`fhir_server.access.ConsentSource` over MongoDB."""

    def __init__(self, db: AsyncDatabase, base: str) -> None:
        self._db = db
        self.base = base

    async def ensure_indexes(self) -> None:
        await _ensure_indexes(self._db)

    async def rules(self, patients: set[str] | None) -> dict[str, list[ConsentRule]]:
        return await _load_rules(self._db, self.base, patients)

    async def related(self, rules: list[ConsentRule]) -> dict[str, frozenset[str]]:
        return await _load_related(self._db, self.base, rules)

    async def actor(self, fhir_user: str | None, client: str | None, *,
                    memberships: bool) -> Actor:
        return await _resolve_actor(self._db, self.base, fhir_user, client,
                                    memberships=memberships)
