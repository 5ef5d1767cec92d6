"""``fhir-server clients|users|token|keys|launch``: administering SMART authorization.

Each command talks to the same database as the server (the data dir's embedded database,
started or attached to, or ``MONGODB_URI``), so it works while the server runs.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from ..config import Settings
from ..server_record import command_settings
from .on_database import database_options, run_on_database

__all__ = ["commands"]

T = TypeVar("T")


def _settings(data_dir: Path, mongodb_uri: str | None, base_url: str | None = None
              ) -> Settings:
    """The server's settings as far as authorization needs them: its database and base."""
    return replace(command_settings(data_dir, mongodb_uri, base_url), auth="smart")


def _no_writes(resource: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("the authorization commands read resources, never write them")


def _run(settings: Settings, work: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run ``work(auth_service, storage)`` against the server's database."""
    from ..auth.service import build_auth
    from ..storage import Storage

    async def with_auth(client: Any) -> T:
        storage = Storage.open(client[settings.database], _no_writes, settings.fhir_base)
        auth = build_auth(settings, storage.auth)
        await auth.ensure_indexes()
        return await work(auth, storage)

    return run_on_database(settings, with_auth)


def _fail(message: str) -> NoReturn:
    raise click.ClickException(message)


async def _must_exist(storage: Any, reference: str, option: str) -> None:
    """Fail unless ``reference`` (``Patient/123``) is a current resource in the database:
    a login or token must not stand for someone the server has no record of."""
    from ..access import SYSTEM
    from ..errors import Gone, NotFound

    resource_type, _, rid = reference.partition("/")
    try:
        await storage.resources.read(SYSTEM, resource_type, rid)
    except NotFound:
        _fail(f"{option} {reference} does not exist on this server; create the "
              f"{resource_type} first")
    except Gone:
        _fail(f"{option} {reference} was deleted")


@click.group()
def clients() -> None:
    """Register, list and remove SMART clients (apps and backend services)."""


def _client_kind(secret: str | None, jwks_url: str | None, jwks_file: Path | None,
                 public: bool) -> str:
    chosen = [x for x in (secret, jwks_url, jwks_file) if x] + ([True] if public else [])
    if len(chosen) != 1:
        _fail("give exactly one of --secret, --jwks-url, --jwks-file or --public")
    if public:
        return "public"
    return "confidential-symmetric" if secret else "confidential-asymmetric"


def _read_jwks(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    from joserfc.jwk import KeySet

    try:
        jwks = json.loads(path.read_text())
        KeySet.import_key_set(jwks)
    except (OSError, ValueError, TypeError, KeyError) as error:
        _fail(f"{path} is not a usable JWKS: {error}")
    if any("d" in key for key in jwks.get("keys", [])):
        _fail(f"{path} holds a private key; register the public keys only")
    return jwks


@clients.command("add")
@database_options
@click.option("--client-id", required=True)
@click.option("--secret", default=None, help="Confidential client with this secret.")
@click.option("--jwks-url", default=None, help="private_key_jwt: keys at this URL.")
@click.option("--jwks-file", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="private_key_jwt: these public keys (a JWKS JSON file).")
@click.option("--public", is_flag=True, help="Public client (browser, mobile): PKCE, no secret.")
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help="Allowed redirect URI (repeat for several).")
@click.option("--scope", required=True, help="The scopes the client may be granted.")
@click.option("--name", default=None, help="Name shown on the consent page.")
@click.option("--legacy-no-pkce", is_flag=True,
              help="SMART 1.0 confidential client that sends no PKCE.")
@click.option("--resource-server", is_flag=True,
              help="Confidential client that may introspect every token (others may "
                   "introspect only their own).")
def clients_add(data_dir: Path, mongodb_uri: str | None, client_id: str, secret: str | None,
                jwks_url: str | None, jwks_file: Path | None, public: bool,
                redirect_uris: tuple[str, ...], scope: str, name: str | None,
                legacy_no_pkce: bool, resource_server: bool) -> None:
    """Register a client."""
    from ..access.scopes import parse_scopes
    from ..auth.registry import Client, RegistryError, hash_secret

    kind = _client_kind(secret, jwks_url, jwks_file, public)
    if legacy_no_pkce and kind == "public":
        _fail("public clients always use PKCE")
    parsed = parse_scopes(scope)
    if not parsed.resources and not parsed.others:
        _fail("--scope is empty")
    client = Client(client_id, kind, str(parsed), list(redirect_uris),
                    hash_secret(secret) if secret else None, _read_jwks(jwks_file), jwks_url,
                    pkce=not legacy_no_pkce, name=name, resource_server=resource_server)

    async def work(auth: Any, storage: Any) -> None:
        await auth.registry.add_client(client)

    try:
        _run(_settings(data_dir, mongodb_uri), work)
    except RegistryError as error:
        _fail(str(error))
    click.echo(f"client {client_id} registered ({kind})")


@clients.command("list")
@database_options
def clients_list(data_dir: Path, mongodb_uri: str | None) -> None:
    """List registered clients (JSON lines; never secrets)."""

    async def work(auth: Any, storage: Any) -> list[Any]:
        return await auth.registry.list_clients()

    for client in _run(_settings(data_dir, mongodb_uri), work):
        click.echo(json.dumps(client.summary()))


@clients.command("set")
@database_options
@click.option("--client-id", required=True)
@click.option("--resource-server/--no-resource-server", default=None,
              help="Whether the client may introspect every token (RFC 7662), or only "
                   "the tokens issued to itself.")
def clients_set(data_dir: Path, mongodb_uri: str | None, client_id: str,
                resource_server: bool | None) -> None:
    """Change a registered client."""
    from ..auth.registry import RegistryError

    if resource_server is None:
        _fail("nothing to change: give --resource-server or --no-resource-server")

    async def work(auth: Any, storage: Any) -> None:
        await auth.registry.set_resource_server(client_id, resource_server)

    try:
        _run(_settings(data_dir, mongodb_uri), work)
    except RegistryError as error:
        _fail(str(error))
    click.echo(f"client {client_id} "
               f"{'is' if resource_server else 'is not'} a resource server")


@clients.command("remove")
@database_options
@click.option("--client-id", required=True)
def clients_remove(data_dir: Path, mongodb_uri: str | None, client_id: str) -> None:
    """Remove a client; its refresh tokens, and the access tokens they gave out, stop
    working."""

    async def work(auth: Any, storage: Any) -> bool:
        removed = await auth.registry.remove_client(client_id)
        await auth.refresh.revoke_of_client(client_id)
        return removed

    if not _run(_settings(data_dir, mongodb_uri), work):
        _fail(f"no client '{client_id}'")
    click.echo(f"client {client_id} removed")


@click.group()
def users() -> None:
    """People who sign in on the authorization page."""


@users.command("add")
@database_options
@click.option("--username", required=True)
@click.option("--password", envvar="FHIR_USER_PASSWORD", show_envvar=True, default=None,
              help="Asked for when omitted.")
@click.option("--fhir-user", required=True, help="Patient/123, Practitioner/abc, ...")
def users_add(data_dir: Path, mongodb_uri: str | None, username: str, password: str | None,
              fhir_user: str) -> None:
    """Add a user linked to the Patient or Practitioner they are (which must exist)."""
    from ..auth.registry import RegistryError, check_fhir_user

    try:
        check_fhir_user(fhir_user)
    except RegistryError as error:
        _fail(str(error))
    password = password or getpass.getpass("Password: ")
    if len(password) < 8:
        _fail("the password needs at least 8 characters")

    async def work(auth: Any, storage: Any) -> None:
        await _must_exist(storage, fhir_user, "--fhir-user")
        await auth.registry.add_user(username, password, fhir_user)

    try:
        _run(_settings(data_dir, mongodb_uri), work)
    except RegistryError as error:
        _fail(str(error))
    click.echo(f"user {username} added ({fhir_user})")


@click.command()
@database_options
@click.option("--client-id", required=True, help="A registered client the token is for.")
@click.option("--scope", required=True)
@click.option("--fhir-user", default=None)
@click.option("--patient", default=None, help="Patient id for patient/ scopes.")
@click.option("--purpose", "purposes", multiple=True,
              help="PurposeOfUse code (v3-ActReason), e.g. TREAT, ETREAT.")
@click.option("--ttl", default=300, show_default=True, type=click.IntRange(1, 86400))
@click.option("--base-url", envvar="FHIR_BASE_URL", show_envvar=True, default=None,
              help="The server's public FHIR base (token issuer and audience); by default "
                   "the one the data dir's server recorded.")
def token(data_dir: Path, mongodb_uri: str | None, client_id: str, scope: str,
          fhir_user: str | None, patient: str | None, purposes: tuple[str, ...], ttl: int,
          base_url: str | None) -> None:
    """Print an access token signed by the server's key (audited)."""
    from ..access.scopes import grant, parse_scopes
    from ..auth.registry import check_fhir_user

    async def work(auth: Any, storage: Any) -> str:
        client = await auth.registry.client(client_id)
        if client is None:
            _fail(f"no client '{client_id}'; register it with 'fhir-server clients add'")
        requested = parse_scopes(scope)
        granted = grant(requested, parse_scopes(client.scope), {"patient", "user", "system"})
        if str(granted) != str(requested):
            _fail(f"client '{client_id}' may not have: {scope} (registered: {client.scope})")
        if "patient" in granted.contexts() and not patient:
            _fail("patient/ scopes need --patient")
        if fhir_user:
            check_fhir_user(fhir_user)
            await _must_exist(storage, fhir_user, "--fhir-user")
        if patient:
            await _must_exist(storage, f"Patient/{patient}", "--patient")
        access_token, claims = await auth.tokens.access_token(
            client_id=client_id, scopes=granted, kind="operator",
            subject=fhir_user or client_id, lifetime=ttl, fhir_user=fhir_user,
            patient=patient, purpose_of_use=purposes)
        await _audit(auth, claims)
        return access_token

    click.echo(_run(_settings(data_dir, mongodb_uri, base_url), work))


async def _audit(auth: Any, claims: dict[str, Any]) -> None:
    from .. import clock

    record = {"at": clock.now(), "action": "token-issued", "by": getpass.getuser(),
              "host": socket.gethostname(), "pid": os.getpid(), "argv": sys.argv[1:2],
              **{k: claims.get(k) for k in ("jti", "client_id", "sub", "scope", "patient",
                                            "fhirUser", "purpose_of_use", "exp")}}
    await auth.storage.tokens.record_operator_token(record)


@click.group()
def keys() -> None:
    """The server's token signing keys."""


@keys.command("rotate")
@database_options
@click.option("--retire-after", default=None, type=int,
              help="Seconds the old key stays published (default: the access token "
                   "lifetime plus a minute).")
def keys_rotate(data_dir: Path, mongodb_uri: str | None, retire_after: int | None) -> None:
    """Sign with a new key from now on; the old one verifies until its tokens expire."""

    async def work(auth: Any, storage: Any) -> str:
        keep = retire_after if retire_after is not None else (
            max(auth.options.access_token_seconds, 86400) + 60)
        new = await auth.keys.store.rotate(keep)
        return new.kid

    click.echo(f"new signing key {_run(_settings(data_dir, mongodb_uri), work)}")


@keys.command("list")
@database_options
def keys_list(data_dir: Path, mongodb_uri: str | None) -> None:
    """Published keys, newest (the signing key) first."""

    async def work(auth: Any, storage: Any) -> list[Any]:
        return await auth.keys.store.load()

    for key in _run(_settings(data_dir, mongodb_uri), work):
        click.echo(json.dumps({"kid": key.kid, "created": key.created,
                               "retired": key.retired, "expires": key.expires}))


@click.command()
@database_options
@click.option("--patient", default=None)
@click.option("--encounter", default=None)
@click.option("--ttl", default=3600, show_default=True, type=click.IntRange(60, 86400))
def launch(data_dir: Path, mongodb_uri: str | None, patient: str | None,
           encounter: str | None, ttl: int) -> None:
    """Create an EHR launch context; prints the opaque ``launch`` value for the app."""
    if not patient and not encounter:
        _fail("give --patient and/or --encounter")

    async def work(auth: Any, storage: Any) -> str:
        return await auth.store.put_launch({"patient": patient, "encounter": encounter}, ttl)

    click.echo(_run(_settings(data_dir, mongodb_uri), work))


commands = [clients, users, token, keys, launch]
