"""Links between the entries of a transaction (R4 bundle.html#references, http.html#trules).

A transaction names its new resources by ``fullUrl`` (``urn:uuid:``, ``urn:oid:`` or an
absolute URL) and points at them from ``Reference.reference``, from ``url`` elements such as
``Attachment.url``, and from ``href``/``src`` in the narrative. Once the server has chosen
the ids, every such link is replaced by the resource's local reference ``Type/id``. Relative
references are resolved against the base of the referring entry's ``fullUrl``.
Conditional references (``Patient?identifier=...``) are found here and replaced with what
the search found.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..errors import InvalidRequest

__all__ = ["ReferenceMap", "rewrite_references", "conditional_references"]

ReferenceMap = dict[str, str]
_CONDITIONAL = re.compile(r"^([A-Z][A-Za-z]+)\?(.*)$")
_RESTFUL = re.compile(r"^(?P<base>https?://.+)/(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})"
                      r"(?:/_history/[A-Za-z0-9\-.]{1,64})?$")
_RELATIVE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]+)?$")
_NARRATIVE_LINK = re.compile(r'(\b(?:href|src)\s*=\s*")([^"]*)(")')


def _is_placeholder(value: str) -> bool:
    return value.startswith(("urn:uuid:", "urn:oid:"))


def _restful_base(full_url: str | None) -> str | None:
    """The server base of a RESTful fullUrl (``http://x/fhir/Patient/1`` -> ``http://x/fhir``)."""
    match = _RESTFUL.match(full_url or "")
    return match.group("base") if match else None


def conditional_references(resource: Any) -> set[tuple[str, str]]:
    """Every ``(type, query)`` of a conditional ``Reference.reference`` in the resource."""
    found: set[tuple[str, str]] = set()

    def visit(key: str, value: str) -> str:
        match = _CONDITIONAL.match(value) if key == "reference" else None
        if match:
            found.add((match.group(1), match.group(2)))
        return value

    _walk(resource, visit)
    return found


def rewrite_references(
    resource: dict[str, Any],
    full_url: str | None,
    links: ReferenceMap,
    conditional: dict[tuple[str, str], str],
) -> dict[str, Any]:
    """A copy of ``resource`` with every link to a Bundle entry replaced by ``Type/id``.

    ``links`` maps fullUrls to local references, ``conditional`` maps conditional
    references to the local reference their search found. A ``urn:uuid:``/``urn:oid:``
    reference to no entry of the Bundle is an error: it could never be resolved.
    """
    base = _restful_base(full_url)

    def visit(key: str, value: str) -> str:
        if key == "div":
            return _NARRATIVE_LINK.sub(lambda m: m.group(1) + _link(m.group(2)) + m.group(3),
                                       value)
        if key == "url":
            return _link(value)
        match = _CONDITIONAL.match(value)
        if match:
            return conditional[(match.group(1), match.group(2))]
        target = _link(value)
        if target is value and _is_placeholder(value):
            raise InvalidRequest(f"Reference '{value[:120]}' names no entry of this Bundle "
                                 "(no entry has that fullUrl)")
        return target

    def _link(value: str) -> str:
        if value in links:
            return links[value]
        if base is not None and _RELATIVE.match(value):
            return links.get(f"{base}/{value}", value)
        return value

    return _walk(resource, visit)


def _walk(node: Any, visit: Callable[[str, str], str], key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _walk(v, visit, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(item, visit, key) for item in node]
    if isinstance(node, str) and key in ("reference", "url", "div"):
        return visit(key, node)
    return node
