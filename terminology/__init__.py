"""Terminology: code systems, value sets and the checks that use them.

The validator talks to terminology only through :class:`TerminologyService`;
:class:`LocalTerminology` answers from the R4 content shipped in ``r4/``.
"""

from .local import LocalTerminology, shipped_terminology
from .service import TerminologyService, ValueSetExpansion

__all__ = ["TerminologyService", "ValueSetExpansion", "LocalTerminology", "shipped_terminology"]
