"""The web app's SMART client, registered out of the box.

The app at ``/app`` is a public client (no secret; authorization code with PKCE S256,
SMART App Launch 2.x "App Launch", RFC 7636) named :data:`CLIENT_ID`, whose redirect URI
is the app's own page (``<server root>/app/``). Every server start registers it through
the authorization server's registry (MongoDB ``auth_clients``): inserting it when absent
(a duplicate key means another process or an earlier start did), else adding this
server's redirect URI with ``$addToSet``. Both steps are single atomic writes, so any
number of processes starting together on one database end with one client listing every
redirect URI they serve. A client of that id registered by an operator as a confidential
client is left alone (logged): the app then cannot sign in, as the operator chose.
"""

from __future__ import annotations

import logging

from ..auth.registry import Client, Registry, RegistryError

__all__ = ["CLIENT_ID", "SCOPE", "register_web_app", "redirect_uri"]

log = logging.getLogger("fhir_server")

CLIENT_ID = "mch-web-app"
NAME = "MCH web app"
# The most the app may be granted; a Patient user's ``user/`` grants are limited to her
# own compartment, a practitioner's are decided by the patients' Consents.
SCOPE = "openid fhirUser online_access user/*.rs user/Consent.cu"


def redirect_uri(issuer: str) -> str:
    """The app's page, which also receives the authorization response."""
    return f"{issuer.rstrip('/')}/app/"


async def register_web_app(registry: Registry, issuer: str) -> None:
    """Make sure :data:`CLIENT_ID` is registered with this server's redirect URI."""
    uri = redirect_uri(issuer)
    try:
        await registry.add_client(Client(CLIENT_ID, "public", SCOPE, [uri], name=NAME))
        log.info("registered the web app's SMART client '%s'", CLIENT_ID)
        return
    except RegistryError:
        pass
    existing = await registry.client(CLIENT_ID)
    if existing is None:  # removed meanwhile by an operator: as they chose
        return
    if not existing.public:
        log.warning("client '%s' is registered as a confidential client: the web app at "
                    "/app cannot sign in (remove it to have the app's client registered)",
                    CLIENT_ID)
        return
    await registry.records.add_redirect_uri(CLIENT_ID, uri)
