"""HL7 v2 message -> planned FHIR writes, one mapper module per message family.

Supported (message code ^ trigger event): ADT^A01-A08, A11-A14, A28, A31, A40;
ORU^R01; VXU^V04; RDE^O11; OMP^O09; ORM^O01; OML^O21. Anything else is rejected with
:class:`UnsupportedMessage` (answered AR).
"""

from __future__ import annotations

from collections.abc import Callable

from ..message import V2Message
from ..tables import Tables
from .adt import ADT_EVENTS, map_adt
from .context import MappingContext, MappingError, UnsupportedMessage, Write
from .immunization import map_vaccinations
from .orders import map_orders
from .pharmacy import map_pharmacy_orders
from .results import map_results

__all__ = ["map_message", "MappingContext", "MappingError", "UnsupportedMessage", "Write",
           "SUPPORTED"]

Mapper = Callable[[MappingContext, str], None]

SUPPORTED: dict[str, tuple[Mapper, frozenset[str]]] = {
    "ADT": (map_adt, ADT_EVENTS),
    "ORU": (map_results, frozenset({"R01"})),
    "VXU": (map_vaccinations, frozenset({"V04"})),
    "RDE": (map_pharmacy_orders, frozenset({"O11"})),
    "OMP": (map_pharmacy_orders, frozenset({"O09"})),
    "ORM": (map_orders, frozenset({"O01"})),
    "OML": (map_orders, frozenset({"O21"})),
}


def map_message(message: V2Message, tables: Tables, message_key: str) -> MappingContext:
    """Map ``message``; the returned context holds the writes in the order planned."""
    code, event = message.event_type.split("^")
    if not code:
        raise UnsupportedMessage("MSH-9 (message type) is empty", "200")
    if code not in SUPPORTED:
        raise UnsupportedMessage(f"Message type {code} is not supported (supported: "
                                 f"{', '.join(sorted(SUPPORTED))})", "200")
    mapper, events = SUPPORTED[code]
    if event not in events:
        raise UnsupportedMessage(f"{code}^{event or '(no event)'} is not supported "
                                 f"(supported events: {', '.join(sorted(events))})", "201")
    ctx = MappingContext(message, tables, message_key)
    mapper(ctx, event)
    return ctx
