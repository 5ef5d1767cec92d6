"""The ``phone`` search parameter (R4 ``individual-phone``, a token on
``telecom.where(system='phone')``), written any way.

Besides the number as written (``+91 98765 43210``), each phone is indexed by its last 10
digits (``9876543210``: an Indian mobile number without ``+91`` or a trunk ``0``, as
:func:`fhir_server.identity.contact.phone_numbers` compares them), so ``phone=9876543210``
finds every spelling. Searches are otherwise the token parameter's.
"""

from __future__ import annotations

import re
from typing import Any

from ..paths import Node
from . import IndexContext
from .token import TokenParameter

__all__ = ["PhoneParameter", "PHONE_URL"]

PHONE_URL = "http://hl7.org/fhir/SearchParameter/individual-phone"
_DIGITS, _SHORTEST = 10, 7


class PhoneParameter(TokenParameter):
    def entries(self, nodes: list[Node], context: IndexContext) -> list[dict[str, Any]]:
        entries = super().entries(nodes, context)
        written = {e["c"] for e in entries if isinstance(e.get("c"), str)}
        digits = {d[-_DIGITS:] for d in (re.sub(r"\D", "", c) for c in written)
                  if len(d) >= _SHORTEST}
        return entries + [{"c": d} for d in sorted(digits - written)]
