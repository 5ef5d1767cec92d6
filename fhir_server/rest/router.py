"""Routing a request under the FHIR base to its interaction.

The FHIR URL space is small but irregular (``$operations``, ``_history``, compartments),
so paths are split into segments and matched here, in one readable table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response

from profiles.definitions import resource_types

from ..access import policy_of
from ..access.interactions import interaction_of
from ..errors import InvalidRequest, MethodNotAllowed, NotFound
from ..export import PATHS as EXPORT_PATHS
from ..export import dispatch as export_dispatch
from . import binary, bundle, capability, history, operations, patch, read, search, write
from .compartments import compartment_types
from .context import services_of

__all__ = ["dispatch"]

Handler = Callable[..., Awaitable[Response]]


def _known_type(name: str) -> str:
    if name not in resource_types():
        raise NotFound(f"Unknown resource type '{name[:80]}'")
    return name


def _allow(method: str, table: dict[str, Handler], what: str) -> Handler:
    handler = table.get(method)
    if handler is None:
        raise MethodNotAllowed(
            f"{method} is not supported on {what}; allowed: {', '.join(sorted(table))}",
            headers={"Allow": ", ".join(sorted(table))},
        )
    return handler


def _named_type(method: str, segments: list[str]) -> tuple[str | None, bool] | None:
    """For the shipped-content gate: the type a request names (None at system level),
    and whether it covers every type unless ``_type`` says otherwise; None for
    ``/metadata`` and a Bundle (:func:`bundle.process` looks at its entries)."""
    if not segments:
        return None if method == "POST" else (None, True)
    first = segments[0]
    if first == "metadata":
        return None
    if first.startswith("$") or first in ("_history", "_search"):
        return None, True
    if len(segments) == 3 and not segments[2].startswith(("$", "_")):  # a compartment
        return (None if segments[2] == "*" else segments[2]), False
    return first, False


async def dispatch(request: Request, path: str) -> Response:
    segments = [unquote(s) for s in path.split("/") if s]
    method = request.method
    if method == "HEAD":
        method = "GET"
    if segments and segments[0] in EXPORT_PATHS:
        return await export_dispatch(request, method, segments)
    interaction, resource_type = interaction_of(method, segments)
    policy = policy_of(request)
    listed = [t for v in request.query_params.getlist("_type") for t in v.split(",") if t]
    if interaction == "search" and resource_type is None and listed:
        for listed_type in listed:  # GET /?_type=A,B: the scopes of A and B are enough
            policy.check_interaction("search", listed_type)
    else:
        policy.check_interaction(interaction, resource_type)
    if (named := _named_type(method, segments)) is not None:
        await services_of(request).shipped.admit(
            named[0], request.query_params.multi_items(), every_type=named[1])
    n = len(segments)
    if n == 0:
        if method == "POST":
            return await bundle.process(request, dispatch)
        return await _allow(method, {"GET": search.search, "POST": bundle.process},
                            "the base")(request)
    first = segments[0]
    if first.startswith("$"):
        return await operations.invoke(request, first[1:], None, None)
    if n == 1 and first == "metadata":
        return await _allow(method, {"GET": capability.metadata}, "metadata")(request)
    if n == 1 and first == "_history":
        return await _allow(method, {"GET": history.history}, "_history")(request)
    if n == 1 and first == "_search":
        return await _allow(method, {"GET": search.search, "POST": search.search_post},
                            "_search")(request)
    resource_type = _known_type(first)
    if resource_type == "Binary" and binary.handles(method, segments):
        return await binary.dispatch(request, segments)
    if n == 1:
        handler = _allow(method, {
            "GET": search.search, "POST": write.create, "PUT": write.conditional_update,
            "DELETE": write.conditional_delete, "PATCH": patch.conditional_patch,
        }, resource_type)
        return await handler(request, resource_type)
    second = segments[1]
    if n == 2 and second == "_history":
        return await _allow(method, {"GET": history.history}, "type history")(
            request, resource_type)
    if n == 2 and second == "_search":
        handler = _allow(method, {"GET": search.search, "POST": search.search_post},
                         "_search")
        return await handler(request, resource_type)
    if second.startswith("$"):
        if n != 2:
            raise NotFound(f"Unknown path '/{path}'")
        return await operations.invoke(request, second[1:], resource_type, None)
    rid = second
    if n == 2:
        handler = _allow(method, {
            "GET": read.read, "PUT": write.update, "PATCH": patch.patch,
            "DELETE": write.delete,
        }, f"{resource_type}/{rid}")
        return await handler(request, resource_type, rid)
    third = segments[2]
    if third == "_history":
        if n == 3:
            return await _allow(method, {"GET": history.history}, "instance history")(
                request, resource_type, rid)
        if n == 4:
            return await _allow(method, {"GET": read.vread}, "a version")(
                request, resource_type, rid, segments[3])
    if n == 3 and third.startswith("$"):
        return await operations.invoke(request, third[1:], resource_type, rid)
    if n == 3 and resource_type in compartment_types() and (
        third in resource_types() or third == "*"
    ):
        handler = _allow(method, {"GET": search.search}, "a compartment")
        target = None if third == "*" else third
        return await handler(request, target, compartment=(resource_type, rid))
    if n == 3:
        raise NotFound(f"Unknown path '/{path[:200]}'")
    raise InvalidRequest(f"Unknown path '/{path[:200]}'")
