"""Vaccines and the antigens they contain, and the codes that name them.

A vaccine type (``pentavalent``, ``opv``, ``mr``, ...) contains one or more antigens
(``diphtheria``, ``polio``, ``measles``, ...); an antigen is the target disease of an
``ImmunizationRecommendation`` (https://hl7.org/fhir/R4/immunizationrecommendation.html).
Administered vaccines are recognised by CVX code (http://hl7.org/fhir/sid/cvx) or by the
project's local code system for the names India's UIP uses. Data: ``data/vaccines.json``,
sources in ``data/SOURCES.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["Antigen", "VaccineType", "VaccineCatalog", "vaccine_catalog", "CVX", "UIP_VACCINE",
           "SNOMED"]

CVX = "http://hl7.org/fhir/sid/cvx"
UIP_VACCINE = "https://mch-fhir.org/fhir/CodeSystem/uip-vaccine"
SNOMED = "http://snomed.info/sct"


@dataclass(frozen=True)
class Antigen:
    """A target disease: local id, SNOMED CT code and display."""

    id: str
    snomed: str
    display: str


@dataclass(frozen=True)
class VaccineType:
    """A kind of vaccine; ``cvx[0]`` and ``uip[0]`` are the codes a recommendation uses."""

    id: str
    display: str
    antigens: frozenset[str]
    cvx: tuple[str, ...]
    uip: tuple[str, ...]


class VaccineCatalog:
    """Antigens, vaccine types and the code → vaccine type index."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.antigens = {key: Antigen(key, value["snomed"], value["display"])
                         for key, value in data["antigens"].items()}
        self.vaccines = {
            key: VaccineType(key, value["display"], frozenset(value["antigens"]),
                             tuple(value["cvx"]), tuple(value.get("uip", ())))
            for key, value in data["vaccines"].items()}
        self.cvx_display: dict[str, str] = dict(data["cvx_display"])
        self.uip_display: dict[str, str] = dict(data["uip_codes"])
        self._by_code: dict[tuple[str, str], VaccineType] = {}
        for vaccine in self.vaccines.values():
            unknown = vaccine.antigens - self.antigens.keys()
            if unknown:
                raise ValueError(f"Vaccine '{vaccine.id}' names unknown antigens {sorted(unknown)}")
            for code in vaccine.cvx:
                self._by_code[(CVX, code)] = vaccine
            for code in vaccine.uip:
                self._by_code[(UIP_VACCINE, code)] = vaccine

    def vaccine_for(self, codings: Iterable[tuple[str, str]]) -> VaccineType | None:
        """The vaccine type of the first ``(system, code)`` pair the catalog knows."""
        for system, code in codings:
            vaccine = self._by_code.get((system, code))
            if vaccine is not None:
                return vaccine
        return None

    def codings(self, vaccine: VaccineType, *, with_uip: bool) -> list[dict[str, str]]:
        """FHIR ``Coding``s for a vaccine type: its CVX code, then its UIP name if asked."""
        codings = []
        if vaccine.cvx:
            code = vaccine.cvx[0]
            codings.append({"system": CVX, "code": code, "display": self.cvx_display[code]})
        if with_uip and vaccine.uip:
            code = vaccine.uip[0]
            codings.append({"system": UIP_VACCINE, "code": code,
                            "display": self.uip_display[code]})
        return codings


@cache
def vaccine_catalog() -> VaccineCatalog:
    """The catalog shipped in ``data/vaccines.json``."""
    text = resources.files(__package__).joinpath("data", "vaccines.json").read_text("utf-8")
    return VaccineCatalog(json.loads(text))
