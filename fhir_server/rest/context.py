"""Per-request access to the shared services and the caller's access policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

from ..access import policy_of
from ..interactions import Caller

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["services_of", "caller_of"]


def services_of(request: Request) -> Services:
    return request.app.state.services


def caller_of(request: Request) -> Caller:
    """The interactions' caller: the services and the request's access policy."""
    return Caller(services_of(request), policy_of(request))
