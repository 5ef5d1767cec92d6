"""Importers: turn data from other systems (HL7 v2 feeds, files) into FHIR resources."""
