"""Per-request access to the shared services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

if TYPE_CHECKING:
    from ..services import Services

__all__ = ["services_of"]


def services_of(request: Request) -> Services:
    return request.app.state.services
