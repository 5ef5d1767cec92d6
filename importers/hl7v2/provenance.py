"""The record of where resources came from: the raw message as a Binary and a Provenance
(FHIR R4 Provenance, https://hl7.org/fhir/R4/provenance.html) per message.

The Binary keeps the message text exactly as received (``contentType``
``x-application/hl7-v2+er7``); the Provenance targets every resource the message wrote (at
the version written), names the sender as author, records MSH-10 and links the Binary as the
``source`` entity.
"""

from __future__ import annotations

import base64
from typing import Any

from .mapping.context import resource_id
from .message import V2Message

__all__ = ["raw_binary", "message_provenance", "HL7_V2_MEDIA_TYPE"]

HL7_V2_MEDIA_TYPE = "x-application/hl7-v2+er7"
_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"


def raw_binary(message_key: str, text: str) -> dict[str, Any]:
    return {"resourceType": "Binary", "id": resource_id("Binary", message_key),
            "contentType": HL7_V2_MEDIA_TYPE,
            "data": base64.b64encode(text.encode("utf-8")).decode("ascii")}


def _sender(message: V2Message) -> str:
    application, facility = message.msh.field(3)[1], message.msh.field(4)[1]
    return " at ".join(p for p in (application, facility) if p) or "unknown sender"


def message_provenance(message: V2Message, message_key: str, targets: list[str],
                       binary_id: str, recorded: str, occurred: str | None) -> dict[str, Any]:
    """The Provenance of one message; ``targets`` are versioned references."""
    event = message.event_type.split("^")[1]
    provenance: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": resource_id("Provenance", message_key),
        "target": [{"reference": t} for t in targets],
        "recorded": recorded,
        "agent": [{
            "type": {"coding": [{"system": _PARTICIPANT, "code": "author",
                                 "display": "Author"}]},
            "who": {"display": _sender(message)},
        }],
        "entity": [{
            "role": "source",
            "what": {"reference": f"Binary/{binary_id}",
                     "identifier": {"value": message.control_id},
                     "display": f"HL7 v2 {message.event_type} message {message.control_id}"},
        }],
    }
    if occurred:
        provenance["occurredDateTime"] = occurred
    if event:
        provenance["activity"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/v2-0003", "code": event}]}
    return provenance
