"""SMART discovery (App Launch 2.x "Conformance"), OpenID configuration, JWKS, and the
CapabilityStatement security section with the SMART 1.0 ``oauth-uris`` extension."""

from __future__ import annotations

from .conftest import BASE, ROOT

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


async def test_smart_configuration_at_root_and_under_the_base(http):
    first = await http.get("/.well-known/smart-configuration")
    second = await http.get("/fhir/.well-known/smart-configuration")
    assert first.status_code == second.status_code == 200
    config = first.json()
    assert config == second.json()
    assert config["authorization_endpoint"] == f"{ROOT}/auth/authorize"
    assert config["token_endpoint"] == f"{ROOT}/auth/token"
    for name in ("introspection_endpoint", "revocation_endpoint", "jwks_uri",
                 "scopes_supported", "grant_types_supported"):
        assert config[name]
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert {"authorization_code", "client_credentials", "refresh_token"} <= set(
        config["grant_types_supported"])
    assert {"launch-ehr", "launch-standalone", "client-public",
            "client-confidential-symmetric", "client-confidential-asymmetric",
            "context-ehr-patient", "context-standalone-patient", "permission-patient",
            "permission-user", "permission-v1", "permission-v2", "sso-openid-connect",
            "permission-offline", "authorize-post"} <= set(config["capabilities"])
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]


async def test_discovery_needs_no_token_and_allows_cors(http):
    response = await http.get("/.well-known/smart-configuration",
                              headers={"Origin": "https://app.example.org"})
    assert response.headers["access-control-allow-origin"] == "https://app.example.org"
    metadata = await http.get("/fhir/metadata", headers={"Origin": "https://app.example.org"})
    assert metadata.status_code == 200
    assert metadata.headers["access-control-allow-origin"] == "https://app.example.org"
    preflight = await http.options("/auth/token", headers={
        "Origin": "https://app.example.org", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]


async def test_openid_configuration_and_jwks(http):
    config = (await http.get("/.well-known/openid-configuration")).json()
    assert config["issuer"] == ROOT
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    jwks = (await http.get(config["jwks_uri"].removeprefix(ROOT))).json()
    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and "d" not in key


async def test_capability_statement_security(http):
    statement = (await http.get("/fhir/metadata")).json()
    security = statement["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    uris = next(e for e in security["extension"] if e["url"] == OAUTH_URIS)
    found = {e["url"]: e["valueUri"] for e in uris["extension"]}
    assert found["authorize"] == f"{ROOT}/auth/authorize"
    assert found["token"] == f"{ROOT}/auth/token"
    capabilities = {e["valueCode"] for e in security["extension"] if "valueCode" in e}
    assert "launch-standalone" in capabilities
    assert statement["implementation"]["url"] == BASE
