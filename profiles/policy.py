"""Which profiles a deployment requires, and what an unknown claimed profile means.

Configuration (see ``docs/profiles.md``):

* ``FHIR_REQUIRED_PROFILES``: ``Type=url[,url...]`` pairs separated by ``;`` (every
  resource of that type must conform to each listed profile), or
* ``FHIR_PROFILE_CONFIG``: a JSON file ``{"required": {"Type": ["url", ...]},
  "unknownProfile": "error" | "warning"}``;
* ``FHIR_UNKNOWN_PROFILE``: ``warning`` (default, as HAPI FHIR: a resource claiming a
  profile the server does not know is accepted, with a warning issue) or ``error``
  (rejected).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import orjson

__all__ = ["ProfilePolicy", "PolicyError", "parse_required"]

_SEVERITIES = ("error", "warning")


class PolicyError(ValueError):
    """The profile configuration is malformed."""


@dataclass(frozen=True)
class ProfilePolicy:
    required: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unknown_profile: str = "warning"

    def __post_init__(self) -> None:
        if self.unknown_profile not in _SEVERITIES:
            raise PolicyError(f"unknown profile handling must be one of {_SEVERITIES}, not "
                              f"'{self.unknown_profile}'")

    def required_for(self, resource_type: str) -> list[str]:
        return list(self.required.get(resource_type, ()))

    @classmethod
    def from_environment(cls) -> ProfilePolicy:
        required: dict[str, tuple[str, ...]] = {}
        unknown = "warning"
        config = os.environ.get("FHIR_PROFILE_CONFIG")
        if config:
            try:
                data = orjson.loads(Path(config).read_bytes())
            except (OSError, orjson.JSONDecodeError) as error:
                raise PolicyError(f"cannot read FHIR_PROFILE_CONFIG {config}: {error}") from None
            required = {str(k): tuple(v) for k, v in data.get("required", {}).items()}
            unknown = data.get("unknownProfile", unknown)
        required.update(parse_required(os.environ.get("FHIR_REQUIRED_PROFILES", "")))
        return cls(required, os.environ.get("FHIR_UNKNOWN_PROFILE", unknown))


def parse_required(text: str) -> dict[str, tuple[str, ...]]:
    """``Observation=url1,url2;Patient=url3`` as ``{"Observation": (url1, url2), ...}``."""
    required: dict[str, tuple[str, ...]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        resource_type, equals, urls = part.partition("=")
        if not equals or not resource_type.strip():
            raise PolicyError(f"FHIR_REQUIRED_PROFILES: expected Type=url[,url], got '{part}'")
        required[resource_type.strip()] = tuple(u.strip() for u in urls.split(",") if u.strip())
    return required
