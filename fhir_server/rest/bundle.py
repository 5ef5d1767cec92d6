"""``POST [base]`` with a Bundle: transaction and batch."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..errors import FhirError

__all__ = ["process"]


class NotImplementedYet(FhirError):
    status, code = 501, "not-supported"


async def process(request: Request) -> Response:
    raise NotImplementedYet("Transaction and batch Bundles are not supported yet")
