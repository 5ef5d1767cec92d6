"""The audit trail: an AuditEvent for every access decision, in a tamper-evident chain.

``append`` stores one event (see :mod:`.chain`), ``audit_event`` builds it from an
``AccessRecord`` (see :mod:`.events`), ``verify`` checks the whole chain
(``fhir-server audit verify``).
"""

from .chain import append, ensure_indexes, verify
from .events import AccessRecord, Decided, audit_event

__all__ = ["append", "verify", "ensure_indexes", "audit_event", "AccessRecord", "Decided"]
