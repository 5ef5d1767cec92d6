"""Conditional request headers: If-Match, If-None-Match, If-Modified-Since."""

from __future__ import annotations

import re
from email.utils import format_datetime, parsedate_to_datetime

from starlette.requests import Request

from ..errors import InvalidRequest, NotModified
from ..storage import StoredResource

__all__ = ["if_match_version", "check_read_preconditions"]

_ETAG = re.compile(r'^\s*(?:W/)?"?([0-9]{1,18})"?\s*$')


def parse_etag(value: str, header: str) -> int:
    match = _ETAG.match(value)
    if not match:
        raise InvalidRequest(f"{header} must be a version ETag such as W/\"3\", not '{value}'")
    return int(match.group(1))


def if_match_version(request: Request) -> int | None:
    value = request.headers.get("if-match")
    return None if value is None else parse_etag(value, "If-Match")


def check_read_preconditions(request: Request, stored: StoredResource) -> None:
    """Raise 304 Not Modified when the client's copy is current."""
    none_match = request.headers.get("if-none-match")
    if none_match is not None:
        tags = [t.strip() for t in none_match.split(",")]
        if "*" in tags or any(
            _ETAG.match(t) and int(_ETAG.match(t).group(1)) == stored.vid  # type: ignore[union-attr]
            for t in tags
        ):
            raise NotModified(headers={"ETag": stored.etag})
        return
    since = request.headers.get("if-modified-since")
    if since is not None:
        try:
            moment = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return  # RFC 9110: an invalid date is ignored
        if stored.last_updated.replace(microsecond=0) <= moment:
            raise NotModified(headers={
                "ETag": stored.etag,
                "Last-Modified": format_datetime(stored.last_updated, usegmt=True),
            })
