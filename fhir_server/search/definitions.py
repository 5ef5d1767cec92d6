"""SearchParameter definitions: the official R4 set plus custom SearchParameter resources.

The official definitions ship in ``r4/search-parameters.json.gz`` (HL7 FHIR 4.0.1, CC0).
A :class:`Registry` answers which parameters a resource type has (its own and those based
on ``Resource``/``DomainResource``), with their compiled extractors and type handlers.
https://hl7.org/fhir/R4/searchparameter.html
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from profiles.definitions import resource_types

from ..errors import InvalidResource
from .elements import root_context
from .parameters import ParameterType
from .parameters.composite import Component, CompositeParameter
from .parameters.date import DateParameter
from .parameters.near import NEAR_URL, NearParameter
from .parameters.number import NumberParameter
from .parameters.phone import PHONE_URL, PhoneParameter
from .parameters.phonetic import PHONETIC_URL, PhoneticParameter
from .parameters.quantity import QuantityParameter
from .parameters.reference import ReferenceParameter
from .parameters.string import StringParameter
from .parameters.text import ContentParameter, NarrativeParameter
from .parameters.token import TokenParameter
from .parameters.uri import UriParameter
from .paths import Extractor, Node, check_syntax, compile_expression, compile_relative

__all__ = ["SearchParameter", "Registry", "official_parameters", "parameter_from_resource",
           "SUPPORTED_TYPES"]

R4_FILE = Path(__file__).with_name("r4") / "search-parameters.json.gz"
SERVER_FILE = Path(__file__).with_name("r4") / "server-parameters.json"
_GENERIC_BASES = ("Resource", "DomainResource")
_NOT_DOMAIN = frozenset({"Bundle", "Binary", "Parameters"})
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
_TYPES: dict[str, ParameterType] = {
    "string": StringParameter(), "token": TokenParameter(), "reference": ReferenceParameter(),
    "date": DateParameter(), "number": NumberParameter(), "quantity": QuantityParameter(),
    "uri": UriParameter(),
}
SUPPORTED_TYPES = frozenset({*_TYPES, "composite"})
# _text and _content have no expression: their handlers read the whole resource. They are
# typed "special" (as R5 types them; R4 says "string"), which also keeps them out of _sort.
_FULL_TEXT: dict[str, ParameterType] = {
    "http://hl7.org/fhir/SearchParameter/DomainResource-text": NarrativeParameter(),
    "http://hl7.org/fhir/SearchParameter/Resource-content": ContentParameter(),
}
_UNINDEXED = frozenset({"_id"})  # answered from the document's own _id
# Official parameters with a handler of their own (docs/identity.md: patient matching;
# docs/scheduling.md: Location near, of type "special").
_OWN_HANDLERS: dict[str, ParameterType] = {PHONETIC_URL: PhoneticParameter(),
                                           PHONE_URL: PhoneParameter(),
                                           NEAR_URL: NearParameter()}


@dataclass(frozen=True)
class SearchParameter:
    url: str
    code: str
    type: str
    base: tuple[str, ...]
    expression: str | None
    target: tuple[str, ...] = ()
    components: tuple[tuple[str, str], ...] = ()  # (definition url, expression)
    description: str = field(default="", repr=False)
    custom: bool = False

    @property
    def supported(self) -> bool:
        return (self.url in _FULL_TEXT or self.url in _OWN_HANDLERS
                or (self.type in SUPPORTED_TYPES and bool(self.expression)))

    def applies_to(self, resource_type: str) -> bool:
        if resource_type in self.base:
            return True
        if "Resource" in self.base:
            return True
        return "DomainResource" in self.base and resource_type not in _NOT_DOMAIN


def parameter_from_resource(resource: dict[str, Any], custom: bool = False) -> SearchParameter:
    """A definition from a SearchParameter resource (raises InvalidResource if unusable)."""
    code, kind = resource.get("code"), resource.get("type")
    if not isinstance(code, str) or not _CODE.match(code):
        raise InvalidResource(f"SearchParameter code '{str(code)[:64]}' is not a valid name")
    if kind not in SUPPORTED_TYPES:
        raise InvalidResource(f"SearchParameter '{code}' has unsupported type '{kind}'")
    base = tuple(b for b in resource.get("base", []) if isinstance(b, str))
    unknown = [b for b in base if b not in resource_types() and b not in _GENERIC_BASES]
    if not base or unknown:
        raise InvalidResource(f"SearchParameter '{code}' has unknown base {unknown or base}")
    expression = resource.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise InvalidResource(f"SearchParameter '{code}' has no expression")
    components = tuple(
        (c.get("definition", ""), c.get("expression", ""))
        for c in resource.get("component", []) if isinstance(c, dict)
    )
    return SearchParameter(
        url=resource.get("url") or f"urn:custom:{code}", code=code, type=kind, base=base,
        expression=expression, target=tuple(resource.get("target", [])),
        components=components, description=resource.get("description", ""), custom=custom,
    )


@cache
@cache
def search_parameter_resources() -> tuple[dict[str, Any], ...]:
    """The SearchParameter resources in force before any custom one: the official R4 set
    and this server's own (``r4/server-parameters.json``: Binary ``securitycontext``)."""
    with gzip.open(R4_FILE, "rb") as handle:
        official = orjson.loads(handle.read())["entry"]
    own = orjson.loads(SERVER_FILE.read_bytes())["entry"]
    return tuple(entry["resource"] for entry in [*official, *own])


def official_parameters() -> tuple[SearchParameter, ...]:
    result = []
    for resource in search_parameter_resources():
        result.append(SearchParameter(
            url=resource["url"], code=resource["code"],
            type="special" if resource["url"] in _FULL_TEXT else resource["type"],
            base=tuple(resource["base"]), expression=resource.get("expression"),
            target=tuple(resource.get("target", [])),
            components=tuple((c["definition"], c["expression"])
                             for c in resource.get("component", [])),
            description=resource.get("description", ""),
        ))
    return tuple(result)


def _whole_resource(resource_type: str) -> Extractor:
    context = root_context(resource_type)
    return lambda resource: [Node(resource, resource_type, context)]


class Registry:
    """The parameters in force: official ones, overridden or extended by custom ones."""

    def __init__(self, custom: tuple[SearchParameter, ...] = ()) -> None:
        self.custom = custom
        self._all = official_parameters() + custom
        self._by_url = {p.url: p for p in self._all}
        self._by_type: dict[str, dict[str, SearchParameter]] = {}
        self._extractors: dict[tuple[str, str], Extractor] = {}
        self._handlers: dict[tuple[str, str], ParameterType] = {}
        self._indexed: dict[str, list[SearchParameter]] = {}

    def parameters(self, resource_type: str) -> dict[str, SearchParameter]:
        """Every parameter of a type, by code (unsupported ones included)."""
        found = self._by_type.get(resource_type)
        if found is None:
            found = {}
            for parameter in self._all:
                if parameter.applies_to(resource_type):
                    found[parameter.code] = parameter
            self._by_type[resource_type] = found
        return found

    def get(self, resource_type: str, code: str) -> SearchParameter | None:
        return self.parameters(resource_type).get(code)

    def extractor(self, resource_type: str, parameter: SearchParameter) -> Extractor:
        key = (resource_type, parameter.code)
        extractor = self._extractors.get(key)
        if extractor is None:
            if parameter.url in _FULL_TEXT:
                extractor = _whole_resource(resource_type)
            else:
                extractor = compile_expression(resource_type, parameter.expression or "")
            self._extractors[key] = extractor
        return extractor

    def handler(self, resource_type: str, parameter: SearchParameter) -> ParameterType:
        if parameter.url in _FULL_TEXT:
            return _FULL_TEXT[parameter.url]
        if parameter.url in _OWN_HANDLERS:
            return _OWN_HANDLERS[parameter.url]
        if parameter.type != "composite":
            return _TYPES[parameter.type]
        key = (resource_type, parameter.code)
        handler = self._handlers.get(key)
        if handler is None:
            components = []
            for definition, expression in parameter.components:
                component = self._by_url.get(definition)
                if component is None or component.type not in _TYPES:
                    raise InvalidResource(
                        f"Composite parameter '{parameter.code}' refers to unknown or "
                        f"unsupported component '{definition}'")
                components.append(Component(_TYPES[component.type],
                                            compile_relative(resource_type, expression),
                                            component))
            handler = CompositeParameter(components)
            self._handlers[key] = handler
        return handler

    def check(self, parameter: SearchParameter) -> None:
        """Raise InvalidResource when a parameter's expression or components are unusable."""
        types = [b for b in parameter.base if b in resource_types()] or ["Patient"]
        for resource_type in types:
            try:
                check_syntax(parameter.expression or "")
                compile_expression(resource_type, parameter.expression or "")
            except Exception as error:  # fhirpathpy raises plain Exceptions
                raise InvalidResource(f"SearchParameter '{parameter.code}' expression is "
                                      f"not valid FHIRPath: {error}") from None
            self.handler(resource_type, parameter)

    def indexed(self, resource_type: str) -> list[SearchParameter]:
        """The parameters whose values are extracted into a resource's index."""
        found = self._indexed.get(resource_type)
        if found is None:
            found = [p for p in self.parameters(resource_type).values()
                     if p.supported and p.code not in _UNINDEXED]
            self._indexed[resource_type] = found
        return found
