"""Growth assessment by the WHO Child Growth Standards 2006, the WHO Growth Reference 2007 and
INTERGROWTH-21st: z-scores, percentiles, WHO's implausible-value flags and classifications.

Pure and storage-neutral: ``assess`` takes the child's sex, birth date, gestational age at
birth and measurements and returns one ``IndicatorResult`` per indicator. See
``docs/maternal-child.md`` (Growth) for the rules and the tables' origin.
"""

from .assessment import IndicatorResult, assess
from .classification import CLASSIFICATIONS, Classification
from .coverage import age_range_gap
from .errors import GrowthInputError, UnitMismatchError
from .indicators import INDICATORS, STANDARDS
from .measurements import KINDS, POSITIONS, Measurement
from .units import to_body_mass_index, to_centimetres, to_kilograms

__all__ = [
    "assess",
    "age_range_gap",
    "Measurement",
    "IndicatorResult",
    "Classification",
    "GrowthInputError",
    "UnitMismatchError",
    "INDICATORS",
    "STANDARDS",
    "CLASSIFICATIONS",
    "KINDS",
    "POSITIONS",
    "to_kilograms",
    "to_centimetres",
    "to_body_mass_index",
]
