"""Where rest-hook notifications may go, checked when a Subscription is written and again
on every connection (so a name that later resolves elsewhere, DNS rebinding, cannot
reach the server's own network).

* ``https`` only; ``http`` only to a loopback address while the server itself listens
  only on loopback (development and tests, like ``--auth off``);
* the address must be public (globally routable): loopback only while the server listens
  on loopback, private, link-local, shared, reserved and multicast addresses never, unless
  ``FHIR_SUBSCRIPTION_ALLOWED_NETWORKS`` (comma-separated CIDRs, e.g.
  ``10.20.0.0/16,fd00::/8``) lists their network;
* every address a name resolves to must be allowed, and the connection goes to the
  checked address (TLS still verifies the name); redirects are never followed.

Backport IG, channels.md, "REST-Hook ... Security Notes".
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore

from ..config import Settings, is_loopback
from ..errors import BusinessRuleViolation

__all__ = ["EndpointPolicy", "GuardedBackend", "ALLOWED_NETWORKS"]

ALLOWED_NETWORKS = "FHIR_SUBSCRIPTION_ALLOWED_NETWORKS"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False)
                 for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class EndpointPolicy:
    server_on_loopback: bool
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def for_server(cls, settings: Settings) -> EndpointPolicy:
        return cls(is_loopback(settings.host),
                   _networks(os.environ.get(ALLOWED_NETWORKS, "")))

    def address_allowed(self, address: Address) -> bool:
        if any(address in network for network in self.allowed_networks):
            return True
        if address.is_loopback:
            return self.server_on_loopback
        return address.is_global and not address.is_multicast

    def check_url(self, url: str) -> None:
        """422 for an endpoint a notification may not go to (what can be told without
        resolving names)."""
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise BusinessRuleViolation(f"Endpoint '{url[:200]}' is not a URL") from None
        if parts.scheme not in ("https", "http") or not host:
            raise BusinessRuleViolation("A rest-hook endpoint is an https:// URL")
        if parts.username or parts.password:
            raise BusinessRuleViolation("A rest-hook endpoint may not carry credentials; "
                                        "send them in channel.header")
        literal = _literal(host)
        if parts.scheme == "http" and not (self.server_on_loopback and (
                host == "localhost" or (literal is not None and literal.is_loopback))):
            raise BusinessRuleViolation(
                "A rest-hook endpoint must be https (http only to a loopback address while "
                "the server listens on loopback)")
        if host == "localhost":
            literal = ipaddress.ip_address("127.0.0.1")
        if literal is not None and not self.address_allowed(literal):
            raise BusinessRuleViolation(
                f"Endpoint address {literal} is inside a private or reserved network; "
                f"{ALLOWED_NETWORKS} must list its network to allow it")


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses the policy allows."""

    def __init__(self, policy: EndpointPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def _addresses(self, host: str, port: int) -> list[str]:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM)
        found: list[str] = list(dict.fromkeys(str(info[4][0]) for info in infos))
        refused = [a for a in found if not self.policy.address_allowed(
            ipaddress.ip_address(a.split("%")[0]))]
        if not found or refused:
            raise httpcore.ConnectError(
                f"{host} resolves to {', '.join(refused) or 'nothing'}, where "
                "notifications may not go")
        return found

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        address = (await self._addresses(host, port))[0]
        return await self.inner.connect_tcp(address, port, timeout, local_address,
                                            socket_options)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("notifications never go to a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
