"""Access control by construction: one :class:`AccessPolicy` per request decides what the
caller may see and do, and the storage layer applies it to every read and write.

See :mod:`.policy` for the guarantee, :mod:`.token` for SMART scopes, :mod:`.consent`
for the patients' Consents, :mod:`.request` for how a request's policy is built and
:mod:`.middleware` for where (and for the audit trail).
"""

from .audit_events import AccessRecord, Decided, audit_events
from .consent import ConsentSource, ConsentView
from .policy import SYSTEM, AccessPolicy, Hints, RequestPolicy, not_known
from .request import AccessService, policy_of

__all__ = ["AccessPolicy", "RequestPolicy", "SYSTEM", "Hints", "not_known", "AccessService",
           "policy_of", "ConsentSource", "ConsentView", "AccessRecord", "Decided",
           "audit_events"]
