"""SMART Backend Services: client_credentials with a private_key_jwt assertion
(https://hl7.org/fhir/smart-app-launch/backend-services.html), RS384 and ES384, keys
registered inline or at a JWKS URL, with the negative cases the spec requires."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from .conftest import BASE, ROOT, TOKEN_URL, assertion, bearer, register

GRANT = {"grant_type": "client_credentials", "scope": "system/Patient.rs system/Observation.rs",
         "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}


def generate(alg: str):
    if alg == "RS384":
        return RSAKey.generate_key(2048, parameters={"alg": alg}, auto_kid=True)
    return ECKey.generate_key("P-384", parameters={"alg": alg}, auto_kid=True)


async def backend(auth, alg: str, client_id: str = "backend", **extra):
    key = generate(alg)
    jwks = extra.pop("jwks", {"keys": [key.as_dict(private=False)]})
    await register(auth, client_id, "confidential-asymmetric",
                   "system/*.rs system/Observation.c", jwks=jwks, redirect_uris=[], **extra)
    return key


async def token_for(http, key, alg: str, client_id: str = "backend", **overrides):
    form = {**GRANT, "client_assertion": assertion(key, client_id, alg), **overrides}
    return await http.post("/auth/token", data=form)


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
async def test_backend_token_reads_data(http, auth, repository, alg):
    await repository.update({"resourceType": "Patient", "id": "p1"}, "p1")
    key = await backend(auth, alg)
    response = await token_for(http, key, alg)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "system/Patient.rs system/Observation.rs"
    assert 0 < body["expires_in"] <= 3600
    assert "refresh_token" not in body
    read = await http.get("/fhir/Patient/p1", headers=bearer(body["access_token"]))
    assert read.status_code == 200 and read.json()["id"] == "p1"
    write = await http.post("/fhir/Patient", json={"resourceType": "Patient"},
                            headers=bearer(body["access_token"]))
    assert write.status_code == 403
    assert write.json()["resourceType"] == "OperationOutcome"


async def test_granted_scope_is_narrowed_to_registration(http, auth):
    key = await backend(auth, "RS384")
    response = await token_for(http, key, "RS384",
                               scope="system/*.cruds system/Observation.cruds patient/*.rs")
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "system/*.rs system/Observation.crs"


async def test_scope_escalation_is_refused(http, auth):
    key = await backend(auth, "RS384")
    response = await token_for(http, key, "RS384", scope="system/Patient.d user/*.cruds")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


async def test_replayed_jti_is_refused(http, auth):
    key = await backend(auth, "ES384")
    signed = assertion(key, "backend", "ES384", jti="once-only")
    first = await http.post("/auth/token", data={**GRANT, "client_assertion": signed})
    assert first.status_code == 200
    again = await http.post("/auth/token", data={
        **GRANT, "client_assertion": assertion(key, "backend", "ES384", jti="once-only")})
    assert again.status_code == 401
    assert again.json()["error"] == "invalid_client"
    assert "jti" in again.json()["error_description"]


@pytest.mark.parametrize("case, make", [
    ("wrong aud", lambda key: assertion(key, "backend", "RS384", aud=f"{ROOT}/other")),
    ("fhir base as aud", lambda key: assertion(key, "backend", "RS384", aud=BASE)),
    ("exp too far ahead", lambda key: assertion(key, "backend", "RS384", exp_in=3600)),
    ("expired", lambda key: assertion(key, "backend", "RS384", exp_in=-120)),
    ("unknown kid", lambda key: assertion(key, "backend", "RS384", kid="nope")),
    ("other key", lambda key: assertion(generate("RS384"), "backend", "RS384", kid=None)),
    ("tampered", lambda key: _tamper(assertion(key, "backend", "RS384"))),
    ("RS256", lambda key: jwt.encode({"alg": "RS256", "kid": key.kid},
                                     {"iss": "backend", "sub": "backend", "aud": TOKEN_URL,
                                      "exp": int(time.time()) + 60, "jti": "x"},
                                     _without_alg(key))),
    ("unregistered issuer", lambda key: assertion(key, "someone-else", "RS384")),
    ("not a JWT", lambda key: "not-a-jwt"),
])
async def test_bad_assertions_are_invalid_client(http, auth, case, make):
    key = await backend(auth, "RS384")
    response = await http.post("/auth/token", data={**GRANT, "client_assertion": make(key)})
    assert response.status_code == 401, (case, response.text)
    assert response.json()["error"] == "invalid_client", case
    assert response.json()["error_description"]


def _without_alg(key: RSAKey) -> RSAKey:
    return RSAKey.import_key({k: v for k, v in key.as_dict(private=True).items() if k != "alg"})


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    import base64

    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = claims["iss"] = "backend"
    claims["exp"] += 60
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return ".".join([header, forged, signature])


async def test_public_and_secret_clients(http, auth):
    await register(auth, "spa", "public", "system/*.rs")
    public = await http.post("/auth/token", data={"grant_type": "client_credentials",
                                                  "client_id": "spa", "scope": "system/*.rs"})
    assert public.status_code == 400
    assert public.json()["error"] == "unauthorized_client"
    await register(auth, "svc", "confidential-symmetric", "system/*.rs", secret="s3cret-value")
    wrong = await http.post("/auth/token", data={"grant_type": "client_credentials",
                                                 "scope": "system/*.rs"},
                            auth=("svc", "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    right = await http.post("/auth/token", data={"grant_type": "client_credentials",
                                                 "scope": "system/*.rs"},
                            auth=("svc", "s3cret-value"))
    assert right.status_code == 200, right.text


async def test_unsupported_grant_and_bad_forms(http, auth):
    key = await backend(auth, "RS384")
    response = await token_for(http, key, "RS384", grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    as_json = await http.post("/auth/token", json=GRANT)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"


class _JwksServer:
    def __init__(self, jwks: dict) -> None:
        body = json.dumps(jwks).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


async def test_keys_from_a_jwks_url(http, auth):
    key = generate("ES384")
    server = _JwksServer({"keys": [key.as_dict(private=False)]})
    try:
        await register(auth, "remote", "confidential-asymmetric", "system/*.rs",
                       jwks_url=server.url, redirect_uris=[])
        response = await http.post("/auth/token", data={
            **GRANT, "client_assertion": assertion(key, "remote", "ES384")})
        assert response.status_code == 200, response.text
        jku = jwt.encode({"alg": "ES384", "kid": key.kid, "jku": "https://evil.example/k"},
                         {"iss": "remote", "sub": "remote", "aud": TOKEN_URL,
                          "exp": int(time.time()) + 60, "jti": "j2"}, key,
                         algorithms=["ES384"])
        refused = await http.post("/auth/token", data={**GRANT, "client_assertion": jku})
        assert refused.status_code == 401
    finally:
        server.close()
    assert KeySet.import_key_set({"keys": [key.as_dict(private=False)]})
