"""Server settings: command-line flags, each with an environment twin."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from .identity.health_id import HealthIdConfig

__all__ = ["Settings", "is_loopback"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {value!r}") from None


def _env_list(name: str) -> frozenset[str]:
    return frozenset(item.strip() for item in os.environ.get(name, "").split(",")
                     if item.strip())


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = field(default_factory=lambda: Path("data"))
    mongodb_uri: str | None = None
    database: str = "fhir"
    auth: str = "off"
    base_url: str | None = None
    max_body_bytes: int = field(default_factory=lambda: _env_int("FHIR_MAX_BODY_BYTES", 16 << 20))
    max_binary_bytes: int = field(
        default_factory=lambda: _env_int("FHIR_MAX_BINARY_BYTES", 256 << 20)
    )
    default_page_size: int = 20
    max_page_size: int = 1000
    max_bundle_entries: int = field(
        default_factory=lambda: _env_int("FHIR_MAX_BUNDLE_ENTRIES", 10_000)
    )
    lenient_search: bool = field(
        default_factory=lambda: os.environ.get("FHIR_SEARCH_HANDLING", "strict") == "lenient"
    )
    mllp_port: int | None = field(default_factory=lambda: _env_int("FHIR_MLLP_PORT", 0) or None)
    # the largest HL7 v2 message the MLLP listener of ``serve --mllp-port`` takes (4 MiB)
    hl7_max_bytes: int = field(default_factory=lambda: _env_int("FHIR_HL7_MAX_BYTES", 4 << 20))
    health_id: HealthIdConfig = field(default_factory=HealthIdConfig.from_environment)
    # Condition/$community-alert-scan: counts below this are shown as "<N" and never alert
    community_alert_min_cell: int = field(
        default_factory=lambda: _env_int("FHIR_COMMUNITY_ALERT_MIN_CELL", 5)
    )
    # practitioner roles (codes) that may run it without a token granted PUBHLTH
    public_health_roles: frozenset[str] = field(
        default_factory=lambda: _env_list("FHIR_PUBLIC_HEALTH_ROLES")
    )

    def __post_init__(self) -> None:
        if self.community_alert_min_cell < 1:
            raise ValueError("FHIR_COMMUNITY_ALERT_MIN_CELL must be at least 1, not "
                             f"{self.community_alert_min_cell}")

    @property
    def fhir_base(self) -> str:
        if self.base_url:
            return self.base_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/fhir"
