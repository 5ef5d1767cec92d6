"""Patient consent: R4 privacy Consents decide who sees which of a patient's data.

Pure and storage-neutral: the server supplies the Consents, the actor (its roles and
memberships), where resources keep their patients, codes and dates
(a :class:`~consent.expressions.Matcher`), and gets back decisions with reasons
(:func:`decide`) or the condition a search must add (:func:`visible`, compiled with
:func:`to_filter`). See ``docs/consent.md``.
"""

from .codes import BREAK_GLASS_PURPOSES, purpose_codes
from .decision import DENY, MASK, PERMIT, Decision, Reason, decide, patient_view, visible
from .expressions import TRUE, Expression, Matcher, evaluate, to_filter
from .masking import MASKED_LABEL, mask
from .paths import PathMatcher
from .policy import OPT_IN, OPT_OUT, ConsentPolicy
from .provisions import ConsentRule, DataItem, consent_rule, relative_reference
from .request import READ_ACTIONS, AccessRequest, Actor

__all__ = [
    "AccessRequest", "Actor", "ConsentPolicy", "ConsentRule", "DataItem", "Decision",
    "Expression", "Reason", "Matcher", "PathMatcher", "BREAK_GLASS_PURPOSES",
    "DENY", "MASK", "PERMIT", "OPT_IN", "OPT_OUT", "READ_ACTIONS", "TRUE", "MASKED_LABEL",
    "consent_rule", "decide", "evaluate", "mask", "patient_view",
    "purpose_codes", "relative_reference", "to_filter", "visible",
]
