"""Refresh tokens (issue 12): a refused refresh leaves the token usable (RFC 6749
section 6); tokens of one grant form a family, and a rotated-out token coming back revokes
the whole family, refresh and access tokens (OAuth 2.0 Security BCP, RFC 9700 section
4.14.2); so do revoking a refresh token (RFC 7009 section 2.1) and reusing the code."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from fhir_server.storage.auth_refresh import RefreshFamilies

from .conftest import bearer, code_for, exchange, register


@pytest.fixture
async def granted(http, auth, people, app_client) -> dict:
    """A token response for alice (patient p1) with a refresh token."""
    code, verifier = await code_for(http)
    body = (await exchange(http, code, verifier)).json()
    assert body["refresh_token"]
    return body


async def refresh(http, token: str, client_id: str = "app", **extra) -> object:
    return await http.post("/auth/token", data={
        "grant_type": "refresh_token", "refresh_token": token, "client_id": client_id,
        **extra})


async def reads(http, access_token: str) -> int:
    return (await http.get("/fhir/Patient/p1", headers=bearer(access_token))).status_code


async def test_refused_refresh_leaves_the_token_usable(http, auth, granted):
    wider = await refresh(http, granted["refresh_token"], scope="patient/*.cruds")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    await register(auth, "other-app", "public", "patient/*.rs offline_access")
    foreign = await refresh(http, granted["refresh_token"], client_id="other-app")
    assert foreign.status_code == 400 and foreign.json()["error"] == "invalid_grant"
    still = await refresh(http, granted["refresh_token"])
    assert still.status_code == 200, still.text
    assert still.json()["scope"] == granted["scope"]
    assert await reads(http, still.json()["access_token"]) == 200


async def test_reuse_of_a_rotated_token_revokes_the_family(http, granted):
    second = (await refresh(http, granted["refresh_token"])).json()
    third = (await refresh(http, second["refresh_token"])).json()
    assert len({granted["refresh_token"], second["refresh_token"],
                third["refresh_token"]}) == 3
    for body in (granted, second, third):
        assert await reads(http, body["access_token"]) == 200

    replayed = await refresh(http, second["refresh_token"])
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    assert "revoked" in replayed.json()["error_description"]
    current = await refresh(http, third["refresh_token"])
    assert current.status_code == 400 and current.json()["error"] == "invalid_grant"
    for body in (granted, second, third):
        assert await reads(http, body["access_token"]) == 401


async def test_a_family_is_its_own(http, granted):
    """Reuse in one grant does not touch another grant of the same user and app."""
    code, verifier = await code_for(http)
    other = (await exchange(http, code, verifier)).json()
    assert (await refresh(http, granted["refresh_token"])).status_code == 200
    assert (await refresh(http, granted["refresh_token"])).status_code == 400
    assert (await refresh(http, other["refresh_token"])).status_code == 200
    assert await reads(http, other["access_token"]) == 200


async def test_concurrent_uses_of_one_token_end_the_family(http, granted):
    """Of two uses racing, one rotates; the other finds the token rotated out, so the
    family (with the winner's new tokens) is revoked."""
    answers = await asyncio.gather(refresh(http, granted["refresh_token"]),
                                   refresh(http, granted["refresh_token"]))
    assert sorted(a.status_code for a in answers) == [200, 400]
    winner = next(a for a in answers if a.status_code == 200).json()
    assert (await refresh(http, winner["refresh_token"])).status_code == 400
    assert await reads(http, winner["access_token"]) == 401


async def test_revoking_a_refresh_token_revokes_its_grant(http, granted):
    second = (await refresh(http, granted["refresh_token"])).json()
    revoked = await http.post("/auth/revoke", data={"token": second["refresh_token"],
                                                    "client_id": "app"})
    assert revoked.status_code == 200
    assert (await refresh(http, second["refresh_token"])).status_code == 400
    assert await reads(http, second["access_token"]) == 401
    assert await reads(http, granted["access_token"]) == 401


async def test_revocation_by_another_client_changes_nothing(http, auth, granted):
    await register(auth, "other-app", "public", "patient/*.rs offline_access")
    answer = await http.post("/auth/revoke", data={"token": granted["refresh_token"],
                                                   "client_id": "other-app"})
    assert answer.status_code == 200
    assert (await refresh(http, granted["refresh_token"])).status_code == 200


async def test_code_reuse_revokes_what_its_refresh_tokens_gave(http, people, app_client):
    code, verifier = await code_for(http)
    first = (await exchange(http, code, verifier)).json()
    later = (await refresh(http, first["refresh_token"])).json()
    assert await reads(http, later["access_token"]) == 200
    again = await exchange(http, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert await reads(http, later["access_token"]) == 401
    assert (await refresh(http, later["refresh_token"])).status_code == 400


async def test_narrowing_to_no_refresh_scope_ends_the_family(http, granted):
    narrowed = await refresh(http, granted["refresh_token"], scope="patient/Patient.rs")
    assert narrowed.status_code == 200, narrowed.text
    body = narrowed.json()
    assert body["scope"] == "patient/Patient.rs" and "refresh_token" not in body
    assert (await refresh(http, granted["refresh_token"])).status_code == 400
    assert await reads(http, body["access_token"]) == 401


async def test_rotation_is_a_compare_and_set(mongo_client, database_name):
    """Storage: of two rotations of one current token, exactly one succeeds; a removed
    family cannot be rotated."""
    from datetime import timedelta

    from fhir_server import clock

    families = RefreshFamilies(mongo_client[database_name])
    try:
        await families.ensure_indexes()
        family = uuid.uuid4().hex
        await families.start(family, client_id="app", grant={"scope": "x"}, code=None,
                             token="t1", access={"jti": "a1", "exp": 0},
                             expires_at=clock.now() + timedelta(hours=1))
        results = await asyncio.gather(*(
            families.rotate(family, "t1", new=f"t2-{n}", grant={"scope": "x"},
                            access={"jti": f"a2-{n}", "exp": 0}) for n in range(4)))
        assert sorted(results) == [False, False, False, True]
        doc = await families.holding("t1")
        assert doc is not None and doc["current"] != "t1" and len(doc["tokens"]) == 2
        assert await families.holding(doc["current"]) == doc
        removed = await families.remove(family)
        assert removed is not None and len(removed["access"]) == 2
        assert not await families.rotate(family, doc["current"], new="t3",
                                         grant={"scope": "x"},
                                         access={"jti": "a3", "exp": 0})
        assert await families.holding("t1") is None
    finally:
        await mongo_client.drop_database(database_name)
