"""Who may introspect which token (issue 12; RFC 7662 sections 2.1-2.2): a registered
resource server any token, another confidential client only its own, a caller vouched for
by a bearer token only its client's; anything else is ``{"active": false}``, exactly as
an unknown token."""

from __future__ import annotations

import pytest

from fhir_server.auth.registry import RegistryError

from .conftest import bearer, code_for, exchange, register

INACTIVE = {"active": False}


@pytest.fixture
async def user_tokens(http, auth, people, app_client) -> dict:
    """The app's token response for alice (access and refresh token)."""
    code, verifier = await code_for(http)
    return (await exchange(http, code, verifier)).json()


async def backend_token(http, auth, client_id: str, secret: str) -> str:
    await register(auth, client_id, "confidential-symmetric", "system/*.rs", secret=secret)
    response = await http.post("/auth/token", data={
        "grant_type": "client_credentials", "scope": "system/Patient.rs"},
        auth=(client_id, secret))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


async def introspect(http, token: str, **how) -> dict:
    response = await http.post("/auth/introspect", data={"token": token}, **how)
    assert response.status_code == 200, response.text
    return response.json()


async def test_another_client_learns_nothing(http, auth, user_tokens):
    own = await backend_token(http, auth, "lab", "lab-secret")
    for token in (user_tokens["access_token"], user_tokens["refresh_token"]):
        assert await introspect(http, token, auth=("lab", "lab-secret")) == INACTIVE
    assert await introspect(http, "made-up", auth=("lab", "lab-secret")) == INACTIVE
    mine = await introspect(http, own, auth=("lab", "lab-secret"))
    assert mine["active"] is True and mine["client_id"] == "lab"


async def test_a_registered_resource_server_sees_every_token(http, auth, user_tokens):
    await register(auth, "gateway", "confidential-symmetric", "system/*.rs",
                   secret="gw-secret", resource_server=True)
    access = await introspect(http, user_tokens["access_token"], auth=("gateway", "gw-secret"))
    assert access["active"] is True and access["client_id"] == "app"
    assert access["patient"] == "p1" and access["scope"] == user_tokens["scope"]
    refresh = await introspect(http, user_tokens["refresh_token"],
                               auth=("gateway", "gw-secret"))
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"


async def test_a_bearer_token_vouches_for_its_own_client_only(http, auth, user_tokens):
    app_bearer = bearer(user_tokens["access_token"])
    own = await introspect(http, user_tokens["refresh_token"], headers=app_bearer)
    assert own["active"] is True and own["client_id"] == "app"
    lab_token = await backend_token(http, auth, "lab", "lab-secret")
    assert await introspect(http, lab_token, headers=app_bearer) == INACTIVE
    assert await introspect(http, user_tokens["access_token"],
                            headers=bearer(lab_token)) == INACTIVE


async def test_resource_server_is_set_in_the_registry(auth):
    await register(auth, "api", "confidential-symmetric", "system/*.rs", secret="s")
    assert (await auth.registry.client("api")).resource_server is False
    await auth.registry.set_resource_server("api", True)
    assert (await auth.registry.client("api")).resource_server is True
    await auth.registry.set_resource_server("api", False)
    assert (await auth.registry.client("api")).resource_server is False
    await register(auth, "spa", "public", "patient/*.rs")
    with pytest.raises(RegistryError, match="public"):
        await auth.registry.set_resource_server("spa", True)
    with pytest.raises(RegistryError, match="public"):
        await register(auth, "spa2", "public", "patient/*.rs", resource_server=True)
    with pytest.raises(RegistryError, match="no client"):
        await auth.registry.set_resource_server("nobody", True)
