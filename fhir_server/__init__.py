"""FHIR R4 health record server for maternal and child health, on MongoDB."""

__version__ = "0.1.0"
