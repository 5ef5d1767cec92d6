"""The pregnancy summary: due date by documented dating rules, gestational age, trimester,
the WHO 2016 antenatal contacts, flags and outcome, from a patient's FHIR resources.

Pure and storage-neutral: ``pregnancy_summary`` takes one patient's resources (FHIR JSON:
the Observations with the codes of ``observation_code_tokens()``, and the Encounters,
Conditions and Procedures; see ``RESOURCE_TYPES``) and a date, and returns the summary of
the pregnancy of that date; ``summary_parameters`` turns it into the ``Parameters`` of
``$pregnancy-summary``. The rules and their sources are in docs/maternal-child.md
("Pregnancy summary").
"""

from .codes import observation_code_tokens, pregnancy_history_codes
from .contacts import CONTACT_WEEKS, AntenatalContact
from .dating import Dating, DatingEstimate, DatingMethod, choose_dating, redating_threshold
from .episodes import Pregnancy
from .flags import Flag
from .parameters import summary_parameters
from .records import Outcome, Visit
from .summary import PregnancySummary, pregnancy_summary, trimester

__all__ = [
    "pregnancy_summary",
    "summary_parameters",
    "observation_code_tokens",
    "pregnancy_history_codes",
    "RESOURCE_TYPES",
    "PregnancySummary",
    "Pregnancy",
    "AntenatalContact",
    "Visit",
    "Flag",
    "Outcome",
    "Dating",
    "DatingEstimate",
    "DatingMethod",
    "choose_dating",
    "redating_threshold",
    "trimester",
    "CONTACT_WEEKS",
]

# The resource types the summary reads; Observations can be limited to
# observation_code_tokens().
RESOURCE_TYPES = ("Observation", "Encounter", "Condition", "Procedure")
