"""Discovery: ``.well-known/smart-configuration``, OpenID configuration, JWKS, and the
CapabilityStatement security section.

SMART App Launch 2.x "Conformance" (https://hl7.org/fhir/smart-app-launch/conformance.html),
OpenID Connect Discovery 1.0 section 3, and the SMART 1.0 ``oauth-uris`` extension that
SMART 1.0 clients read from ``CapabilityStatement.rest.security``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .client_auth import ASSERTION_ALGORITHMS
from .keys import SIGNING_ALGORITHM
from .oauth_http import auth_of, cors_headers
from .options import Endpoints
from .service import AuthService

__all__ = ["smart_configuration", "openid_configuration", "jwks", "capability_security",
           "CAPABILITIES"]

CAPABILITIES = [
    "launch-ehr", "launch-standalone", "authorize-post", "client-public",
    "client-confidential-symmetric", "client-confidential-asymmetric",
    "context-ehr-patient", "context-ehr-encounter", "context-standalone-patient",
    "permission-patient", "permission-user", "permission-v1", "permission-v2",
    "permission-offline", "permission-online", "sso-openid-connect",
]
_SCOPES = ["openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter",
           "offline_access", "online_access", "patient/*.rs", "patient/*.cruds",
           "user/*.rs", "user/*.cruds", "system/*.rs", "system/*.cruds",
           "patient/*.read", "patient/*.write", "patient/*.*", "user/*.read",
           "user/*.write", "user/*.*", "system/*.read", "system/*.write", "system/*.*"]
_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
_CAPABILITIES = "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities"


def _json(request: Request, body: dict[str, Any]) -> Response:
    headers = {"Cache-Control": "public, max-age=300", **cors_headers(request)}
    return JSONResponse(body, headers=headers)


def smart_configuration_of(endpoints: Endpoints) -> dict[str, Any]:
    return {
        "issuer": endpoints.issuer,
        "jwks_uri": endpoints.jwks,
        "authorization_endpoint": endpoints.authorize,
        "token_endpoint": endpoints.token,
        "introspection_endpoint": endpoints.introspect,
        "revocation_endpoint": endpoints.revoke,
        "grant_types_supported": ["authorization_code", "refresh_token",
                                  "client_credentials"],
        "token_endpoint_auth_methods_supported": _AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "scopes_supported": _SCOPES,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": CAPABILITIES,
    }


async def smart_configuration(request: Request) -> Response:
    auth: AuthService = auth_of(request)
    return _json(request, smart_configuration_of(auth.endpoints))


async def openid_configuration(request: Request) -> Response:
    endpoints: Endpoints = auth_of(request).endpoints
    return _json(request, {
        "issuer": endpoints.issuer,
        "authorization_endpoint": endpoints.authorize,
        "token_endpoint": endpoints.token,
        "jwks_uri": endpoints.jwks,
        "introspection_endpoint": endpoints.introspect,
        "revocation_endpoint": endpoints.revoke,
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [SIGNING_ALGORITHM],
        "scopes_supported": ["openid", "fhirUser", "profile", "offline_access"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce",
                             "fhirUser"],
        "grant_types_supported": ["authorization_code", "refresh_token",
                                  "client_credentials"],
        "token_endpoint_auth_methods_supported": _AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
    })


async def jwks(request: Request) -> Response:
    auth: AuthService = auth_of(request)
    return _json(request, await auth.keys.jwks())


def capability_security(request: Request, rest: dict[str, Any]) -> None:
    """The ``capability_hooks`` entry: SMART security service, both extension styles."""
    endpoints: Endpoints = auth_of(request).endpoints
    uris = [("authorize", endpoints.authorize), ("token", endpoints.token),
            ("introspect", endpoints.introspect), ("revoke", endpoints.revoke)]
    rest["security"] = {
        "cors": True,
        "service": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
            "code": "SMART-on-FHIR", "display": "SMART-on-FHIR"}],
            "text": "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)"}],
        "extension": [
            {"url": _OAUTH_URIS,
             "extension": [{"url": name, "valueUri": uri} for name, uri in uris]},
            *({"url": _CAPABILITIES, "valueCode": code} for code in CAPABILITIES),
        ],
        "description": "SMART App Launch 2.x and SMART Backend Services; discovery at "
                       f"{endpoints.fhir_base}/.well-known/smart-configuration",
    }
