"""Patient identity: the deployment's health ID and R4 Patient ``$match`` scoring.

Pure functions over FHIR JSON (dicts): nothing here reads storage, so the HTTP operation,
HL7 v2 feeds and loaders share one definition of "the same person". See docs/identity.md.
"""

from .blocking import CandidateSearch, candidate_searches
from .check_digits import (
                           CHECK_DIGIT_ALGORITHMS,
                           check_digit,
                           has_valid_check_digit,
                           luhn_check_digit,
                           verhoeff_check_digit,
)
from .features import FEATURE_LEVELS, compare_features
from .health_id import (
                           HealthIdConfig,
                           HealthIdError,
                           format_health_id,
                           is_valid_health_id,
                           issue_health_id,
                           normalise_health_id,
                           patient_health_ids,
                           validate_health_id,
)
from .mothers import MOTHER_RELATIONSHIPS, mother_identifiers
from .names import compare_tokens, fold, phonetic_key
from .rules import GRADES, MatchRules, default_rules
from .scoring import (
                           MATCH_GRADE_EXTENSION,
                           MATCH_GRADE_SYSTEM,
                           MatchResult,
                           rank_candidates,
                           score_candidate,
)

__all__ = [
    "CHECK_DIGIT_ALGORITHMS", "FEATURE_LEVELS", "GRADES", "MATCH_GRADE_EXTENSION",
    "MATCH_GRADE_SYSTEM", "MOTHER_RELATIONSHIPS", "CandidateSearch", "HealthIdConfig",
    "HealthIdError", "MatchResult", "MatchRules", "candidate_searches", "check_digit",
    "compare_features", "compare_tokens", "default_rules", "fold", "format_health_id",
    "has_valid_check_digit", "is_valid_health_id", "issue_health_id", "luhn_check_digit",
    "mother_identifiers", "normalise_health_id", "patient_health_ids", "phonetic_key",
    "rank_candidates", "score_candidate", "validate_health_id", "verhoeff_check_digit",
]
