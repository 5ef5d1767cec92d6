"""Configuration tables of the v2-to-FHIR mapping: data files, overridable per deployment.

The defaults live in ``importers/hl7v2/tables/``:

* ``conceptmaps/*.csv``: the HL7 V2-to-FHIR IG vocabulary ConceptMap sheets (v2 table code
  -> FHIR code), unchanged; ``supplements.json`` adds rows the IG leaves without a target
* ``coding-systems.json``: v2 coding system names (CWE.3) -> FHIR code system URIs
* ``identifier-systems.json``: assigning authorities -> ``Identifier.system`` URIs
* ``units.csv`` (v2 unit -> UCUM) and ``ucum-common-units.csv`` (units known to be UCUM)
* ``settings.json``: the time zone assumed for timestamps without an offset

A deployment points ``FHIR_HL7_CONFIG`` at a JSON file with any of the keys ``timezone``,
``coding_systems``, ``identifier_systems`` (``by_authority``, ``by_universal_id_type``,
``by_type``, ``default``), ``concept_maps`` (map name -> v2 code -> {code, system, display})
and ``units`` (v2 unit -> UCUM code); its entries win over the defaults.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["Concept", "Tables", "load_tables", "CONFIG_ENV"]

CONFIG_ENV = "FHIR_HL7_CONFIG"
TABLES = Path(__file__).parent
V2_TABLE = re.compile(r"^HL7\s?(\d{4})$", re.IGNORECASE)


@dataclass(frozen=True)
class Concept:
    code: str
    system: str | None
    display: str | None = None

    def coding(self) -> dict[str, str]:
        coding = {"system": self.system, "code": self.code, "display": self.display}
        return {k: v for k, v in coding.items() if v}


@dataclass
class Tables:
    """Everything the mapping looks up, after deployment overrides."""

    timezone: ZoneInfo
    coding_systems: dict[str, str]
    identifier_systems: dict[str, Any]
    concept_maps: dict[str, dict[str, Concept]]
    units: dict[str, Concept]
    ucum_codes: frozenset[str]
    source: str = "defaults"
    _upper_coding_systems: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._upper_coding_systems = {k.upper(): v for k, v in self.coding_systems.items()}

    def concept(self, map_name: str, code: str) -> Concept | None:
        """The FHIR concept the IG ConceptMap ``map_name`` gives v2 ``code``, or None."""
        table = self.concept_maps.get(map_name, {})
        return table.get(code) or table.get(code.upper())

    def coding_system(self, name: str) -> str | None:
        """The FHIR URI of a v2 coding system name (``LN``, ``HL70001``, ...), or None."""
        if not name:
            return None
        found = self.coding_systems.get(name) or self._upper_coding_systems.get(name.upper())
        if found:
            return found
        table = V2_TABLE.match(name.strip())
        if table:
            return f"http://terminology.hl7.org/CodeSystem/v2-{table.group(1)}"
        if re.fullmatch(r"\d+(\.\d+)+", name):
            return f"urn:oid:{name}"
        return None

    def identifier_system(self, namespace: str, universal_id: str, id_type: str,
                          identifier_type: str = "") -> str | None:
        """``Identifier.system`` for an assigning authority (HD) and identifier type."""
        config = self.identifier_systems
        for key in (namespace, universal_id):
            if key and key in config.get("by_authority", {}):
                return config["by_authority"][key]
        if universal_id:
            template = config.get("by_universal_id_type", {}).get(id_type.upper())
            if template:
                return template.format(id=universal_id)
            if re.fullmatch(r"\d+(\.\d+)+", universal_id):
                return f"urn:oid:{universal_id}"
        if not (namespace or universal_id) and identifier_type:
            return config.get("by_type", {}).get(identifier_type)
        default = config.get("default")
        if default and (namespace or universal_id):
            return default.format(namespace=namespace or universal_id)
        return None

    def ucum(self, unit: str) -> Concept | None:
        """The UCUM unit for a v2 unit string, when it is one or the table knows it."""
        if not unit:
            return None
        mapped = self.units.get(unit) or self.units.get(unit.lower())
        if mapped:
            return mapped
        if unit in self.ucum_codes:
            return Concept(unit, "http://unitsofmeasure.org", unit)
        return None


def _read_concept_map(path: Path) -> dict[str, Concept]:
    """One IG ConceptMap sheet: header row 2 names the FHIR Code / Display / Code System."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[1]
    code_at = header.index("Code", 1)
    system_at = len(header) - 1 - header[::-1].index("Code System")
    display_at = header.index("Display") if "Display" in header else None
    table: dict[str, Concept] = {}
    for row in rows[2:]:
        row = row + [""] * (len(header) - len(row))
        v2_code, code, system = row[0].strip(), row[code_at].strip(), row[system_at].strip()
        if not v2_code or not code or not system:
            continue
        display = (row[display_at].strip() if display_at is not None else "") or \
            row[code_at + 1].strip()
        table.setdefault(v2_code, Concept(code, system, display or None))
    return table


def _concepts(entries: dict[str, dict[str, str]]) -> dict[str, Concept]:
    return {code: Concept(e["code"], e.get("system"), e.get("display"))
            for code, e in entries.items() if not code.startswith("_")}


def _read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def _json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _build(override: dict[str, Any], source: str) -> Tables:
    maps = {p.stem: _read_concept_map(p) for p in sorted((TABLES / "conceptmaps").glob("*.csv"))}
    for layer in (_json(TABLES / "supplements.json"), override.get("concept_maps", {})):
        for name, entries in layer.items():
            maps.setdefault(name, {}).update(_concepts(entries))
    units = {row[0].lower(): Concept(row[1], "http://unitsofmeasure.org", row[2] or row[1])
             for row in _read_csv(TABLES / "units.csv")}
    units.update({k.lower(): Concept(v, "http://unitsofmeasure.org", v)
                  for k, v in override.get("units", {}).items()})
    settings = _merge(_json(TABLES / "settings.json"), override)
    return Tables(
        timezone=ZoneInfo(settings.get("timezone") or "UTC"),
        coding_systems=_merge(_json(TABLES / "coding-systems.json"),
                              override.get("coding_systems", {})),
        identifier_systems=_merge(_json(TABLES / "identifier-systems.json"),
                                  override.get("identifier_systems", {})),
        concept_maps=maps,
        units=units,
        ucum_codes=frozenset(row[0] for row in _read_csv(TABLES / "ucum-common-units.csv")),
        source=source,
    )


@lru_cache(maxsize=8)
def _cached(path: str, mtime: float) -> Tables:
    override = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    return _build(override, path or "defaults")


def load_tables(config_path: str | None = None) -> Tables:
    """The tables, with the deployment file (argument or ``FHIR_HL7_CONFIG``) applied.

    Re-read when the file changes, so a configuration fix applies to the next message.
    """
    path = config_path if config_path is not None else os.environ.get(CONFIG_ENV, "")
    mtime = Path(path).stat().st_mtime if path else 0.0
    return _cached(path, mtime)
