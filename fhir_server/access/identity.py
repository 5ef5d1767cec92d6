"""Who is calling: the access context of an authenticated request.

Set by the authentication middleware, read by scope enforcement and by anyone deciding on
the actor (consent, audit). ``access_context(request)`` is None when ``--auth off``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from starlette.requests import Request

from .scopes import ScopeSet, parse_scopes

__all__ = ["AccessContext", "access_context", "ACCESS_KEY"]

ACCESS_KEY = "access"


@dataclass(frozen=True)
class AccessContext:
    """An access token's meaning.

    ``kind``: ``user`` (authorization code: an app acting for a logged-in person),
    ``backend`` (client_credentials), ``operator`` (``fhir-server token``) or ``external``
    (a token from a configured OpenID Connect issuer). ``purpose_of_use`` holds
    v3 PurposeOfUse codes (``ETREAT``, ``TREAT``, ...) asserted for the token.
    """

    client_id: str
    scopes: ScopeSet
    kind: str
    subject: str
    issuer: str
    expires_at: int
    fhir_user: str | None = None
    patient: str | None = None
    encounter: str | None = None
    purpose_of_use: tuple[str, ...] = ()
    token_id: str | None = None

    def to_document(self) -> dict[str, Any]:
        """The context as stored with work that runs later (an export job)."""
        return {**{k: v for k, v in asdict(self).items() if k != "scopes"},
                "scopes": str(self.scopes), "purpose_of_use": list(self.purpose_of_use)}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> AccessContext:
        return cls(**{**document, "scopes": parse_scopes(document["scopes"]),
                      "purpose_of_use": tuple(document.get("purpose_of_use") or ())})


def access_context(request: Request) -> AccessContext | None:
    return getattr(request.state, ACCESS_KEY, None)
