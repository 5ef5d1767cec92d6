"""Who asks, why, and to do what: the request side of a consent decision."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .codes import PARTICIPATION_TYPE, Code, any_match
from .provisions import ProvisionActor

__all__ = ["Actor", "AccessRequest", "READ_ACTIONS"]

READ_ACTIONS = frozenset({"access", "use"})


@dataclass(frozen=True)
class Actor:
    """The person or system asking, as consent rules can name it.

    ``references``: the fhirUser and its PractitionerRoles (or the Practitioner of a
    PractitionerRole); ``organizations``, ``care_teams``, ``groups``: what the actor is a
    member of (an Organization in a rule means its members); ``roles``: the codes of its
    PractitionerRoles; ``client``: the OAuth client.
    """

    references: frozenset[str] = frozenset()
    organizations: frozenset[str] = frozenset()
    care_teams: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    roles: frozenset[Code] = frozenset()
    client: str | None = None

    @property
    def identities(self) -> frozenset[str]:
        return self.references | self.organizations | self.care_teams | self.groups

    def is_named_by(self, actor: ProvisionActor) -> bool:
        """A rule's actor names this actor: by reference or membership, and, when the
        rule's role is a job role rather than a v3 participation, by holding that role."""
        if actor.reference not in self.identities:
            return False
        job_roles = {code for code in actor.role if code[0] != PARTICIPATION_TYPE}
        return not job_roles or any_match(job_roles, self.roles)


@dataclass(frozen=True)
class AccessRequest:
    """``purpose``: a v3 PurposeOfUse code; ``actions``: consentaction codes the
    interaction amounts to (a read is ``access`` and ``use``)."""

    actor: Actor
    at: datetime
    purpose: str = "TREAT"
    actions: frozenset[str] = field(default=READ_ACTIONS)
