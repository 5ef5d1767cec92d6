"""Our stored resources against other converters' output for the same messages.

Each message with a ``<name>.expected.json.gz`` beside it (Microsoft FHIR-Converter, CDC
ReportStream) goes over a real MLLP socket; the clinically relevant facts of the expected
Bundle (identifiers, names, dates, codes, values, units, reference ranges, statuses; see
``facts.py``) must all be found in what we stored, except the deliberate differences below,
each a rule documented in docs/hl7v2.md ("Differences from other converters").
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fhir_server.access import SYSTEM
from importers.hl7v2.message import parse
from tests.conftest import database_of
from tests.hl7.conftest import DATA, ack_fields, exchange
from tests.hl7.facts import facts

PAIRS = sorted(DATA.rglob("*.expected.json.gz"))
_UNMAPPED_SEGMENTS = {"GT1", "IN1", "IN2", "DB1", "PDA", "ACC", "NK1"}
_IMMUNIZATION_OBX = {"64994-7", "30963-3", "69764-9", "29768-9", "29769-7"}


class Context:
    """The message and our stored resources, for the difference rules to look at."""

    def __init__(self, text: str, ours: list[dict[str, Any]]) -> None:
        self.message = parse(text)
        self.ours = ours
        self.tokens: dict[str, set[str]] = {}
        for segment in self.message.segments:
            words = re.split(r"[|^~&\\]", "|".join(segment.fields))
            self.tokens.setdefault(segment.name, set()).update(w.strip() for w in words)

    def only_in(self, value: str, names: set[str]) -> bool:
        """Whether ``value`` is written only in segments ``names`` of the message."""
        inside = any(value in self.tokens.get(n, ()) for n in names)
        elsewhere = any(value in words for n, words in self.tokens.items() if n not in names)
        return inside and not elsewhere

    def obx_codes(self, value_types: set[str] | None = None) -> set[str]:
        return {s.field(3)[1] for s in self.message.all("OBX")
                if value_types is None or s[2] in value_types}


def _codes_of(fact: tuple) -> set[str]:
    return set(fact[2]) if len(fact) > 2 and isinstance(fact[2], frozenset) else set()


def unmapped_segments(fact: tuple, ctx: Context) -> bool:
    """Guarantor (GT1), insured (IN1/IN2), disability (DB1), death (PDA), accident (ACC) and
    next-of-kin data are not merged into the Patient or turned into Observations/Conditions."""
    if fact[0] == "Patient" and fact[1] in ("identifier", "name", "address"):
        return ctx.only_in(str(fact[2]), _UNMAPPED_SEGMENTS)
    if fact[0] == "Observation":
        return not _codes_of(fact) & ctx.obx_codes()
    if fact[0] == "Condition":
        return all(ctx.only_in(code, _UNMAPPED_SEGMENTS) for code in _codes_of(fact))
    return False


def status_mapping(fact: tuple, ctx: Context) -> bool:
    """OBX-11 follows the IG ConceptMap (P -> preliminary, I -> registered, S ->
    preliminary, ...) where the other converter says ``unknown``."""
    if fact[:2] != ("Observation", "status") or fact[3] != "unknown":
        return False
    return any(s[11] and ctx.message and _codes_of(fact) & {s.field(3)[1]}
               for s in ctx.message.all("OBX"))


def immunization_fields(fact: tuple, ctx: Context) -> bool:
    """CDC IIS OBX (eligibility, funding, VIS) become Immunization fields, not
    Observations."""
    return fact[0] == "Observation" and bool(_codes_of(fact) & _IMMUNIZATION_OBX) and any(
        r["resourceType"] == "Immunization" and (r.get("programEligibility") or
                                                r.get("education") or r.get("fundingSource"))
        for r in ctx.ours)


def placer_group_number(fact: tuple, ctx: Context) -> bool:
    """ORC-4 (placer group number) is ServiceRequest.requisition, not a report identifier."""
    return fact[:2] == ("DiagnosticReport", "identifier") and any(
        r["resourceType"] == "ServiceRequest" and
        r.get("requisition", {}).get("value") == fact[2] for r in ctx.ours)


def pointer_results(fact: tuple, ctx: Context) -> bool:
    """OBX with RP/ED values (pointers, documents) are Observations with the text kept, not
    DiagnosticReports of their own."""
    if fact[0] != "DiagnosticReport":
        return False
    pointer_codes = ctx.obx_codes({"RP", "ED"})
    if fact[1] == "code":
        return bool(_codes_of(fact) & pointer_codes)
    reports = [r for r in ctx.ours if r["resourceType"] == "DiagnosticReport"]
    ours = {i.get("value") for r in reports for i in r.get("identifier", [])} | {
        r.get("status") for r in reports}
    return bool(pointer_codes) and fact[1] in ("identifier", "status") and fact[2] not in ours


def one_request_per_order(fact: tuple, ctx: Context) -> bool:
    """One MedicationRequest per RXE (intent ``order``), not one per RXO and RXE."""
    return fact[:2] == ("MedicationRequest", "intent")


def unknown_dose(fact: tuple, ctx: Context) -> bool:
    """RXA-6 ``999`` means 'amount unknown' (CDC IIS guide): no doseQuantity."""
    return fact[:2] == ("Immunization", "dose") and fact[2] == "999"


RULES: list[Callable[[tuple, Context], bool]] = [
    unmapped_segments, status_mapping, immunization_fields, placer_group_number,
    pointer_results, one_request_per_order, unknown_dose]


async def _stored(services, refs: list[str]) -> list[dict[str, Any]]:
    found = []
    for ref in refs:
        resource_type, rid, _, vid = ref.split("/")
        stored = await services.storage.resources.vread(SYSTEM, resource_type, rid, int(vid))
        found.append(stored.resource)
    return found


@pytest.mark.parametrize("expected", PAIRS, ids=lambda p: p.name.split(".")[0])
async def test_clinical_facts_match_other_converter(expected: Path, listener, services):
    message_path = expected.with_name(expected.name.replace(".expected.json.gz", ".hl7"))
    text = message_path.read_bytes()
    ack = await exchange(listener.port, text)
    assert ack_fields(ack)["MSA"][1] == "AA", ack
    record = await database_of(services)["hl7_messages"].find_one({})
    ours = await _stored(services, record["resources"])
    bundle = json.loads(gzip.decompress(expected.read_bytes()))
    theirs = [entry["resource"] for entry in bundle["entry"] if "resource" in entry]
    compared = {r["resourceType"] for r in ours}
    ctx = Context(text.decode("utf-8-sig"), ours)
    missing = facts(theirs, compared) - facts(ours, compared)
    unexplained = sorted((f for f in missing if not any(rule(f, ctx) for rule in RULES)),
                         key=repr)
    assert not unexplained, unexplained
    assert facts(theirs, compared), "nothing compared"
