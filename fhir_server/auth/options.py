"""Authorization server settings (environment variables) and its public URLs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..config import Settings

__all__ = ["AuthOptions", "Endpoints"]


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _text(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name) or default


@dataclass(frozen=True)
class ExternalIssuer:
    """An OpenID Connect provider whose access tokens this server also accepts."""

    issuer: str
    jwks_url: str
    audience: str | None
    patient_claim: str
    fhir_user_claim: str
    scope_claim: str


@dataclass(frozen=True)
class AuthOptions:
    access_token_seconds: int = field(
        default_factory=lambda: _int("FHIR_AUTH_ACCESS_TOKEN_SECONDS", 3600))
    offline_refresh_seconds: int = field(
        default_factory=lambda: _int("FHIR_AUTH_OFFLINE_REFRESH_SECONDS", 90 * 86400))
    online_refresh_seconds: int = field(
        default_factory=lambda: _int("FHIR_AUTH_ONLINE_REFRESH_SECONDS", 12 * 3600))
    code_seconds: int = field(default_factory=lambda: _int("FHIR_AUTH_CODE_SECONDS", 60))
    login_seconds: int = field(default_factory=lambda: _int("FHIR_AUTH_LOGIN_SECONDS", 8 * 3600))
    pending_seconds: int = 900
    max_assertion_seconds: int = 300
    external: ExternalIssuer | None = field(default_factory=lambda: _external())


def _external() -> ExternalIssuer | None:
    issuer = _text("FHIR_AUTH_EXTERNAL_ISSUER")
    if not issuer:
        return None
    jwks_url = _text("FHIR_AUTH_EXTERNAL_JWKS_URL")
    if not jwks_url:
        raise ValueError("FHIR_AUTH_EXTERNAL_ISSUER needs FHIR_AUTH_EXTERNAL_JWKS_URL")
    return ExternalIssuer(
        issuer=issuer.rstrip("/"),
        jwks_url=jwks_url,
        audience=_text("FHIR_AUTH_EXTERNAL_AUDIENCE"),
        patient_claim=_text("FHIR_AUTH_EXTERNAL_PATIENT_CLAIM", "patient") or "patient",
        fhir_user_claim=_text("FHIR_AUTH_EXTERNAL_FHIR_USER_CLAIM", "fhirUser") or "fhirUser",
        scope_claim=_text("FHIR_AUTH_EXTERNAL_SCOPE_CLAIM", "scope") or "scope",
    )


@dataclass(frozen=True)
class Endpoints:
    """URLs of the authorization server: the FHIR base with ``/fhir`` replaced by ``/auth``.

    The issuer is the server root, so ``/.well-known/openid-configuration`` sits where
    OpenID Connect Discovery 1.0 section 4 expects it.
    """

    fhir_base: str

    @classmethod
    def of(cls, settings: Settings) -> Endpoints:
        return cls(settings.fhir_base.rstrip("/"))

    @property
    def issuer(self) -> str:
        base = self.fhir_base
        return base[: -len("/fhir")] if base.endswith("/fhir") else base

    @property
    def authorize(self) -> str:
        return f"{self.issuer}/auth/authorize"

    @property
    def token(self) -> str:
        return f"{self.issuer}/auth/token"

    @property
    def introspect(self) -> str:
        return f"{self.issuer}/auth/introspect"

    @property
    def revoke(self) -> str:
        return f"{self.issuer}/auth/revoke"

    @property
    def jwks(self) -> str:
        return f"{self.issuer}/auth/jwks"

    @property
    def secure(self) -> bool:
        return urlsplit(self.fhir_base).scheme == "https"

    @property
    def cookie_path(self) -> str:
        return (urlsplit(self.issuer).path or "") + "/auth/"
