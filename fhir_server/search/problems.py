"""The 400s of search: unknown parameters and modifiers, named with the valid choices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InvalidRequest, Issue

if TYPE_CHECKING:
    from .definitions import Registry, SearchParameter

__all__ = ["UnknownParameter", "unknown_parameter", "unknown_modifier"]


class UnknownParameter(InvalidRequest):
    """A parameter or modifier this server does not know (ignored in lenient handling)."""


def unknown_parameter(resource_type: str, name: str, registry: Registry) -> UnknownParameter:
    valid = sorted(code for code, p in registry.parameters(resource_type).items() if p.supported)
    message = (f"Unknown or unsupported search parameter '{name[:100]}' for resource type "
               f"{resource_type}. Valid parameters: {', '.join(valid)}")
    return UnknownParameter(message, [Issue("error", "not-supported", message, (name[:100],))])


def unknown_modifier(parameter: SearchParameter, modifier: str, valid: list[str]
                     ) -> UnknownParameter:
    message = (f"Unknown or unsupported modifier ':{modifier[:60]}' on search parameter "
               f"'{parameter.code}' ({parameter.type}). Valid modifiers: "
               f"{', '.join(sorted(valid)) or 'none'}")
    return UnknownParameter(message, [Issue("error", "not-supported", message,
                                            (f"{parameter.code}:{modifier[:60]}",))])
