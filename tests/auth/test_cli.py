"""``fhir-server clients|users|token|keys|launch`` against the database a server uses."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner
from joserfc.jwk import RSAKey

from fhir_server.cli import main

from .conftest import BASE, bearer, code_for, exchange, patient, put


@pytest.fixture
def cli(smart_settings, tmp_path):
    env = {"MONGODB_URI": smart_settings.mongodb_uri, "FHIR_DATABASE": smart_settings.database,
           "FHIR_BASE_URL": BASE, "FHIR_DATA_DIR": str(tmp_path)}

    async def run(*args: str):
        result = await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)
        return result

    return run


async def test_clients_users_and_operator_tokens(cli, http, auth, repository, smart_db,
                                                tmp_path):
    await put(repository, patient("p1"))
    await put(repository, patient("p2"))
    added = await cli("clients", "add", "--client-id", "ops", "--secret", "ops-secret-1",
                      "--scope", "system/*.rs patient/*.rs", "--name", "Operations")
    assert added.exit_code == 0, added.output
    again = await cli("clients", "add", "--client-id", "ops", "--public", "--scope", "x")
    assert again.exit_code != 0 and "already exists" in again.output
    both = await cli("clients", "add", "--client-id", "two", "--public", "--secret", "s",
                     "--scope", "patient/*.rs")
    assert both.exit_code != 0 and "exactly one" in both.output

    key = RSAKey.generate_key(2048, auto_kid=True)
    public = tmp_path / "public.json"
    public.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    private = tmp_path / "private.json"
    private.write_text(json.dumps({"keys": [key.as_dict(private=True)]}))
    leaked = await cli("clients", "add", "--client-id", "svc", "--jwks-file", str(private),
                       "--scope", "system/*.rs")
    assert leaked.exit_code != 0 and "private key" in leaked.output
    assert (await cli("clients", "add", "--client-id", "svc", "--jwks-file", str(public),
                      "--scope", "system/*.rs")).exit_code == 0

    listed = await cli("clients", "list")
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(r["client_id"], r["kind"]) for r in rows] == [
        ("mch-web-app", "public"),  # the web app's, registered at startup
        ("ops", "confidential-symmetric"), ("svc", "confidential-asymmetric")]
    assert "secret" not in listed.output.replace("confidential-symmetric", "")

    user = await cli("users", "add", "--username", "alice", "--password", "long-password",
                     "--fhir-user", "Patient/p1")
    assert user.exit_code == 0, user.output
    bad = await cli("users", "add", "--username", "bob", "--password", "long-password",
                    "--fhir-user", "Organization/1")
    assert bad.exit_code != 0
    assert await auth.registry.authenticate_user("alice", "long-password") is not None

    issued = await cli("token", "--client-id", "ops", "--scope", "patient/*.rs",
                       "--patient", "p1", "--purpose", "ETREAT", "--ttl", "120")
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip()
    assert (await http.get("/fhir/Patient/p1", headers=bearer(token))).status_code == 200
    assert (await http.get("/fhir/Patient/p2", headers=bearer(token))).status_code == 404
    context = await auth.tokens.verify(token)
    assert context.kind == "operator" and context.purpose_of_use == ("ETREAT",)
    audit = await smart_db["auth_audit"].find_one({"jti": context.token_id})
    assert audit["action"] == "token-issued" and audit["patient"] == "p1"

    escalated = await cli("token", "--client-id", "ops", "--scope", "system/*.cruds")
    assert escalated.exit_code != 0 and "may not have" in escalated.output
    no_patient = await cli("token", "--client-id", "ops", "--scope", "patient/*.rs")
    assert no_patient.exit_code != 0

    removed = await cli("clients", "remove", "--client-id", "svc")
    assert removed.exit_code == 0
    assert await auth.registry.client("svc") is None

    launch = await cli("launch", "--patient", "p1")
    assert await auth.store.launch(launch.output.strip()) == {"patient": "p1",
                                                              "encounter": None}


async def test_key_rotation_keeps_old_tokens_valid(cli, http, auth, repository):
    await put(repository, patient("p1"))
    assert (await cli("clients", "add", "--client-id", "ops", "--secret", "ops-secret-1",
                      "--scope", "system/*.rs")).exit_code == 0
    old = (await cli("token", "--client-id", "ops", "--scope", "system/*.rs")).output.strip()
    before = (await http.get("/auth/jwks")).json()["keys"]
    rotated = await cli("keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    new_kid = rotated.output.split()[-1]
    new = (await cli("token", "--client-id", "ops", "--scope", "system/*.rs")).output.strip()
    for token in (old, new):
        assert (await http.get("/fhir/Patient/p1", headers=bearer(token))).status_code == 200
    listed = [json.loads(line) for line in (await cli("keys", "list")).output.splitlines()]
    assert [k["kid"] for k in listed] == [new_kid, before[0]["kid"]]
    assert listed[1]["retired"] is not None and listed[0]["retired"] is None
    await auth.keys.keys(refresh=True)
    published = {k["kid"] for k in (await http.get("/auth/jwks")).json()["keys"]}
    assert published == {new_kid, before[0]["kid"]}


async def test_users_and_tokens_only_for_people_the_server_has(cli, auth, repository,
                                                               smart_db):
    """Issue 15: ``users add`` linked a login to ``Patient/does-not-exist``."""
    await put(repository, patient("p1"))
    await put(repository, {"resourceType": "Practitioner", "id": "mw-7"})
    await put(repository, patient("gone"))
    await repository.delete("Patient", "gone")
    for reference, reason in (("Patient/does-not-exist", "does not exist"),
                              ("Practitioner/p1", "does not exist"),
                              ("Patient/gone", "was deleted")):
        refused = await cli("users", "add", "--username", "ghost", "--password",
                            "long-password", "--fhir-user", reference)
        assert refused.exit_code == 1, refused.output
        assert f"--fhir-user {reference} {reason}" in refused.output
    assert await smart_db["auth_users"].count_documents({}) == 0
    for reference in ("Patient/p1", "Practitioner/mw-7"):
        added = await cli("users", "add", "--username", reference.split("/")[1],
                          "--password", "long-password", "--fhir-user", reference)
        assert added.exit_code == 0, added.output
    assert await smart_db["auth_users"].count_documents({}) == 2

    assert (await cli("clients", "add", "--client-id", "ops", "--secret", "ops-secret-1",
                      "--scope", "patient/*.rs user/*.rs")).exit_code == 0
    nobody = await cli("token", "--client-id", "ops", "--scope", "patient/*.rs",
                       "--patient", "nobody")
    assert nobody.exit_code == 1 and "--patient Patient/nobody does not exist" in nobody.output
    ghost = await cli("token", "--client-id", "ops", "--scope", "user/*.rs",
                      "--fhir-user", "Practitioner/ghost")
    assert ghost.exit_code == 1 and "does not exist" in ghost.output
    assert await smart_db["auth_audit"].count_documents({}) == 0


async def test_resource_servers_are_registered_and_changed(cli, auth):
    """Issue 12: only a registered resource server introspects other clients' tokens."""
    added = await cli("clients", "add", "--client-id", "gateway", "--secret", "gw-secret-1",
                      "--scope", "system/*.rs", "--resource-server")
    assert added.exit_code == 0, added.output
    assert (await auth.registry.client("gateway")).resource_server is True
    assert (await cli("clients", "add", "--client-id", "api", "--secret", "api-secret-1",
                      "--scope", "system/*.rs")).exit_code == 0
    rows = {r["client_id"]: r for r in map(json.loads, (await cli("clients", "list"))
                                           .output.splitlines())}
    assert rows["gateway"]["resource_server"] is True
    assert rows["api"]["resource_server"] is False

    changed = await cli("clients", "set", "--client-id", "api", "--resource-server")
    assert changed.exit_code == 0 and "is a resource server" in changed.output
    assert (await auth.registry.client("api")).resource_server is True
    back = await cli("clients", "set", "--client-id", "gateway", "--no-resource-server")
    assert back.exit_code == 0 and "is not a resource server" in back.output
    assert (await auth.registry.client("gateway")).resource_server is False

    nothing = await cli("clients", "set", "--client-id", "api")
    assert nothing.exit_code != 0 and "nothing to change" in nothing.output
    unknown = await cli("clients", "set", "--client-id", "nobody", "--resource-server")
    assert unknown.exit_code != 0 and "no client 'nobody'" in unknown.output
    public = await cli("clients", "add", "--client-id", "spa", "--public", "--scope",
                       "patient/*.rs", "--resource-server")
    assert public.exit_code != 0 and "public client cannot be a resource server" in (
        public.output)


async def test_removing_a_client_ends_its_grants(cli, http, auth, people, app_client):
    code, verifier = await code_for(http)
    body = (await exchange(http, code, verifier)).json()
    assert (await http.get("/fhir/Patient/p1",
                           headers=bearer(body["access_token"]))).status_code == 200
    assert (await cli("clients", "remove", "--client-id", "app")).exit_code == 0
    assert (await http.get("/fhir/Patient/p1",
                           headers=bearer(body["access_token"]))).status_code == 401
    assert await auth.refresh.find(body["refresh_token"]) is None
