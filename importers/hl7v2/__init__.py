"""HL7 v2 feed ingestion: MLLP listener, file import, v2-to-FHIR mapping, dead letters.

See docs/hl7v2.md. Public entry points: :class:`Ingestor` (one message -> ACK),
:class:`MllpServer` (the TCP listener), :func:`listening` (run it beside the REST server),
:func:`split_batch` (files of messages), :func:`load_tables` (configuration).
"""

from __future__ import annotations

from .ingest import DEFAULT_MAX_BYTES, Ingestor, Outcome
from .mllp import MllpServer
from .tables import CONFIG_ENV, load_tables

__all__ = ["Ingestor", "Outcome", "MllpServer", "load_tables", "CONFIG_ENV",
           "DEFAULT_MAX_BYTES"]
