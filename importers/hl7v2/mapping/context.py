"""What one message's mapping builds up: the planned writes, with deterministic ids.

Ids are UUID v5 of the resource type and business identifiers (or, for things without one,
the message key and segment), so the same message mapped twice yields the same resources
and a later message about the same patient or order reaches the same record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .. import composites, datatypes
from ..message import Segment, V2Message, Value
from ..tables import Tables

__all__ = ["MappingContext", "MappingError", "UnsupportedMessage", "Write", "resource_id"]

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:mch-fhir-server:hl7v2")
Amend = Callable[[dict[str, Any] | None, dict[str, Any]], dict[str, Any]]


class MappingError(ValueError):
    """A field the mapping cannot turn into FHIR; answered AE with ``location`` in ERR-2."""

    def __init__(self, text: str, location: str, code: str = "102") -> None:
        super().__init__(text)
        self.location = location
        self.code = code


class UnsupportedMessage(ValueError):
    """A message type or event this server does not take; answered AR (codes 200/201)."""

    def __init__(self, text: str, code: str = "200") -> None:
        super().__init__(text)
        self.code = code


def resource_id(resource_type: str, *keys: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join((resource_type, *keys))))


@dataclass
class Write:
    """One resource to store: ``replace`` it, create it ``if-absent``, or ``amend`` the
    stored version with a function (stored or None, mapped) -> resource to store."""

    resource: dict[str, Any]
    mode: str = "replace"
    amend: Amend | None = None
    source: str = ""

    @property
    def key(self) -> str:
        return f"{self.resource['resourceType']}/{self.resource['id']}"


@dataclass
class MappingContext:
    message: V2Message
    tables: Tables
    message_key: str
    writes: dict[str, Write] = field(default_factory=dict)
    patient: dict[str, str] | None = None
    encounter: dict[str, str] | None = None

    # -- planning writes ------------------------------------------------------------
    def add(self, resource_type: str, rid: str, body: dict[str, Any], *, mode: str = "replace",
            source: str = "", amend: Amend | None = None) -> dict[str, str]:
        """Plan a write; returns the reference to it. A later plan for the same id wins,
        except that an ``if-absent`` plan never replaces a fuller one."""
        resource = {"resourceType": resource_type, "id": rid,
                    **{k: v for k, v in body.items() if v not in (None, "", [], {})}}
        write = Write(resource, mode, amend, source)
        existing = self.writes.get(write.key)
        if existing is None or mode != "if-absent" or existing.mode == "if-absent":
            self.writes[write.key] = write
        return {"reference": write.key}

    def local_id(self, resource_type: str, segment: Segment, *extra: str) -> str:
        """An id for a resource without business identifier: message key + segment."""
        return resource_id(resource_type, self.message_key, segment.name,
                           str(segment.sequence), *extra)

    # -- reading fields -------------------------------------------------------------
    @contextmanager
    def at(self, segment: Segment, number: int, component: int | None = None) -> Iterator[None]:
        """Turn a datatype error inside the block into a MappingError naming the field."""
        try:
            yield
        except datatypes.DataTypeError as error:
            raise MappingError(f"{segment.field_name(number, component)}: {error}",
                               segment.location(number, component)) from None

    @staticmethod
    def _text(value: Value, component: int) -> str:
        """Component ``component`` of a field; a field without components is component 1."""
        if value.has_parts:
            return value.part(component).first_text
        return value.text if component == 1 else ""

    def date_time(self, segment: Segment, number: int, component: int = 1,
                  repetition: int = 0) -> str | None:
        with self.at(segment, number, component if component > 1 else None):
            text = self._text(segment.field(number, repetition), component)
            return datatypes.date_time(text, self.tables.timezone)

    def instant(self, segment: Segment, number: int) -> str | None:
        with self.at(segment, number):
            return datatypes.instant(segment[number], self.tables.timezone)

    def date(self, segment: Segment, number: int, component: int = 1) -> str | None:
        with self.at(segment, number, component if component > 1 else None):
            return datatypes.date(self._text(segment.field(number), component))

    def decimal(self, segment: Segment, number: int, component: int = 1):
        with self.at(segment, number, component if component > 1 else None):
            return datatypes.decimal(self._text(segment.field(number), component))

    def concept(self, segment: Segment, number: int) -> dict[str, Any] | None:
        return composites.codeable_concept(segment.field(number), self.tables)

    def concepts(self, segment: Segment, number: int) -> list[dict[str, Any]]:
        found = (composites.codeable_concept(v, self.tables) for v in segment.repetitions(number))
        return [c for c in found if c]

    def mapped(self, segment: Segment, number: int, map_name: str,
               v2_table: str) -> dict[str, Any] | None:
        return composites.mapped_code(segment.field(number), map_name, self.tables,
                                      f"http://terminology.hl7.org/CodeSystem/v2-{v2_table}")

    def code(self, map_name: str, code: str) -> str | None:
        """The FHIR code (a ``code`` element) the IG map gives ``code``, or None."""
        concept = self.tables.concept(map_name, code) if code else None
        return concept.code if concept else None

    def each(self, segment: Segment, number: int, convert: Callable[..., Any],
             *args: Any) -> list[Any]:
        with self.at(segment, number):
            found = (convert(v, self.tables, *args) for v in segment.repetitions(number))
            return [item for item in found if item]

    def require(self, segment: Segment, number: int, what: str) -> Value:
        value = segment.field(number)
        if not value:
            raise MappingError(f"{segment.field_name(number)} ({what}) is required but empty",
                               segment.location(number), "101")
        return value
